"""Pools: created for an application, with replication from the number of storage hosts.

StarlingX's rule: one host keeps one copy; two keep two and stay writable with one; three
or more keep three and stay writable with two. PG autoscaling is on, so the pools need no
``pg_num`` of their own beyond a small start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sysinv_common.errors import SysinvError
from sysinv_conductor.ceph.client import ENOENT, CephClient, CephCommandFailed

LOG = logging.getLogger(__name__)

#: PGs a new pool starts with; the autoscaler grows them with the data.
INITIAL_PG_NUM = 8


@dataclass(frozen=True)
class Replication:
    size: int
    min_size: int


def replication_for(storage_hosts: int) -> Replication:
    """The replication of pools on ``storage_hosts`` hosts with OSDs (at least one)."""
    if storage_hosts <= 1:
        return Replication(size=1, min_size=1)
    if storage_hosts == 2:
        return Replication(size=2, min_size=1)
    return Replication(size=3, min_size=2)


#: The applications Ceph's manager tags its own pool with.
MANAGER_APPLICATIONS = {"mgr", "mgr_devicehealth"}


@dataclass(frozen=True)
class PoolInfo:
    name: str
    size: int
    min_size: int
    pg_autoscale_mode: str
    applications: tuple[str, ...]


def ensure_pool(ceph: CephClient, name: str, replication: Replication, application: str) -> bool:
    """Make ``name`` exist with ``replication``, tagged ``application``, autoscaled.
    Idempotent; True when the pool was created by this call."""
    created = name not in list_pools(ceph)
    if created:
        ceph.command("osd pool create", pool=name, pg_num=INITIAL_PG_NUM)
    set_replication(ceph, name, replication)
    ceph.command("osd pool set", pool=name, var="pg_autoscale_mode", val="on")
    ceph.command("osd pool application enable", pool=name, app=application)
    return created


def set_replication(ceph: CephClient, name: str, replication: Replication) -> bool:
    """Pool ``name`` at ``replication``; True when it was not already."""
    # min_size first when shrinking and size first when growing: min_size may never
    # exceed size. A size of one needs Ceph's explicit consent.
    current = pool_info(ceph, name)
    order = ["min_size", "size"] if replication.size < current.size else ["size", "min_size"]
    changed = False
    for var in order:
        value = getattr(replication, var)
        if getattr(current, var) == value:
            continue
        extra: dict[str, Any] = {"yes_i_really_mean_it": True} if value == 1 else {}
        ceph.command("osd pool set", pool=name, var=var, val=str(value), **extra)
        changed = True
    return changed


def follow(ceph: CephClient, names: Iterable[str], replication: Replication) -> list[str]:
    """Those of pools ``names`` that exist at ``replication``; the ones changed."""
    present = set(list_pools(ceph))
    return [n for n in names if n in present and set_replication(ceph, n, replication)]


def manager_pools(ceph: CephClient) -> list[str]:
    """The manager's own pool (``.mgr``; ``device_health_metrics`` before Ceph 17), by the
    application it is tagged with."""
    return [n for n in list_pools(ceph)
            if set(pool_info(ceph, n).applications) & MANAGER_APPLICATIONS]  # fmt: skip


def allow_one_copy(ceph: CephClient) -> None:
    """Let the monitors of a cluster sysinv formed take pools of one copy, and not warn
    of it: sysinv chose one because one host holds OSDs. A cluster formed on one host has
    this in its ``ceph.conf``; one that shrank to one host (a storage host deleted) gets
    it here, at run time, without a restart of its monitors. Never asked of a cluster
    sysinv did not form: its monitors' safety settings are its operator's."""
    for option in (("mon_allow_pool_size_one", "true"),
                   ("mon_warn_on_pool_no_redundancy", "false")):  # fmt: skip
        ceph.command("config set", who="mon", name=option[0], value=option[1])


def set_daemon_defaults(ceph: CephClient, replication: Replication) -> None:
    """The monitors and the active manager of a cluster sysinv formed run with
    ``replication`` as their default pool size from now on; one that does not answer keeps
    the old one until it restarts (a warning names it).

    Their ``ceph.conf`` says the size they started with, and a file outranks the
    monitors' configuration database, so only a daemon's own running setting changes it
    before a restart. The manager checks ``TOO_FEW_OSDS`` against it; the monitors give
    it to pools created without a size."""
    daemons: list[tuple[Literal["mon", "mgr"], str]] = [
        ("mon", str(m["name"])) for m in ceph.command("mon dump").get("mons", [])
    ]
    manager = (ceph.command("mgr dump") or {}).get("active_name")
    if manager:
        daemons.append(("mgr", str(manager)))
    for daemon, name in daemons:
        try:
            for var, value in (("osd_pool_default_size", replication.size),
                               ("osd_pool_default_min_size", replication.min_size)):  # fmt: skip
                ceph.tell(daemon, name, "config set", var=var, val=[str(value)])
        except SysinvError as exc:
            LOG.warning("Ceph %s.%s keeps its default pool size: %s", daemon, name, exc.message)


def pool_info(ceph: CephClient, name: str) -> PoolInfo:
    info = ceph.command("osd pool get", pool=name, var="all")
    apps = ceph.command("osd pool application get", pool=name) or {}
    return PoolInfo(
        name=name,
        size=int(info["size"]),
        min_size=int(info["min_size"]),
        pg_autoscale_mode=str(info.get("pg_autoscale_mode", "")),
        applications=tuple(sorted(apps)),
    )


def list_pools(ceph: CephClient) -> list[str]:
    return [str(p) for p in ceph.command("osd pool ls") or []]


#: Objects rbd keeps in every pool it has used, images or not: a pool holding only these
#: holds no one's data.
RBD_POOL_METADATA = frozenset(
    {"rbd_directory", "rbd_info", "rbd_trash", "rbd_children", "rbd_mirroring", "rbd_namespace"}
)


def holds_data(ceph: CephClient, name: str) -> bool:
    """True when ``name`` has any object beyond rbd's own bookkeeping (an image, a
    trashed image, a plain object). The objects are listed from the OSDs: the pool's
    statistics lag behind writes by seconds, so they cannot say a pool is empty."""
    with ceph.ioctx(name) as io:
        return any(obj.key not in RBD_POOL_METADATA for obj in io.list_objects())


def delete_pool(ceph: CephClient, name: str) -> None:
    """Delete ``name`` and everything in it; a pool already gone is fine."""
    try:
        ceph.command("osd pool delete", pool=name, pool2=name, yes_i_really_really_mean_it=True)
    except CephCommandFailed as exc:
        if exc.errno != ENOENT:
            raise
