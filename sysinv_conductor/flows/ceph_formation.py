"""The platform-managed Ceph cluster sysinv forms on the platform's own hosts.

``storage-backend-add ceph`` (with no ``ceph.monitors`` setting naming a running cluster)
decides the cluster once and keeps it on the backend row:

- the fsid, generated at add;
- the monitors: the controllers (at most two, by hostname: controller-0, and controller-1
  on a two-controller system) with a management address, each at that address on
  ``ceph.mon_v2_port``/``ceph.mon_port``; each also runs a manager. Two monitors need each
  other for a quorum (docs/storage.md says what that means);
- one OSD per storage host: the controllers of an all-in-one system, the ``storage`` hosts
  of a standard one. A storage host added later gets its OSD at the next Ceph audit; a
  deleted one's OSDs leave the cluster (``release_host``, then the audit purges them). A
  monitor host's delete is refused: monitors are never moved;
- the cephx keys ``mon.``, ``client.admin`` and each ``osd.N``, generated here and kept
  Fernet-encrypted (the conductor's secrets key) in ``cluster_keys``.

Each host's configuration then carries only what it needs: a monitor host gets the monitor
keyring, a host with OSDs its OSDs' keys, both the admin keyring (the manager's key and
``ceph osd new`` are made with it); any other host gets the cluster's monitors and no key.
The pools' replication follows the number of hosts with an OSD; the public network is the
platform's management network.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemType
from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.db.models import Host, StorageBackend, System
from sysinv_common.db.queries.system import get_platform_settings
from sysinv_common.errors import InvalidInput, InvalidState, SysinvError
from sysinv_common.nodeconfig import CephConfig, CephDaemons, CephMonitor, CephOsd
from sysinv_common.states.host import Personality
from sysinv_conductor.ceph import pools
from sysinv_conductor.ceph.client import CephTarget

#: At most this many monitors: controller-0 and controller-1.
MAX_MONITORS = 2
ADMIN = "client.admin"
#: ``ceph.conf`` options of every formed cluster (``ceph.daemon_options`` may override):
#: deleting the backend deletes its pool when it holds no data, which Ceph refuses unless
#: the monitors allow pool deletion.
DAEMON_OPTIONS = {"mon allow pool delete": "true"}
MON = "mon."


def gen_key() -> str:
    """A new cephx secret, as ``ceph-authtool --gen-print-key`` makes it: the key header
    (type 1 = AES, creation time, length) and 16 random bytes, base64."""
    return base64.b64encode(
        struct.pack("<hiih", 1, int(time.time()), 0, 16) + os.urandom(16)
    ).decode()


def is_formed(row: StorageBackend) -> bool:
    """The backend's cluster is one sysinv formed (not external, not named by settings)."""
    return row.cluster is not None


def storage_hosts(s: Session) -> list[Host]:
    """The hosts that hold a formed cluster's OSDs, oldest first."""
    system = s.scalars(select(System)).first()
    aio = system is None or system.system_type == SystemType.ALL_IN_ONE
    personality = Personality.CONTROLLER if aio else Personality.STORAGE
    return list(s.scalars(select(Host).where(Host.personality == personality).order_by(Host.id)))


def new_cluster(s: Session, settings: CephClientSettings, fernet: Fernet) -> dict[str, Any]:
    """The fields of a new formed backend row: fsid, monitors (``host:port``, as clients
    and charts are given them), members and encrypted keys. ``InvalidInput`` when there is
    no controller with a management address, or no storage host."""
    controllers = s.scalars(
        select(Host)
        .where(Host.personality == Personality.CONTROLLER, Host.mgmt_ip.is_not(None))
        .order_by(Host.hostname)
    ).all()[:MAX_MONITORS]
    if not controllers:
        raise InvalidInput(
            "The platform's Ceph cluster needs a controller with a management address for "
            "its monitor: add controller-0 (mgmt_ip) first"
        )
    monitors: list[dict[str, Any]] = [
        {"name": h.hostname, "host_id": h.id, "ip": h.mgmt_ip} for h in controllers
    ]
    keys = {MON: gen_key(), ADMIN: gen_key()}
    cluster: dict[str, Any] = {"monitors": monitors, "osds": []}
    cluster = _with_osds(cluster, keys, storage_hosts(s))
    if not cluster["osds"]:
        raise InvalidInput(
            "The platform's Ceph cluster needs a storage host for its OSDs: the controllers "
            "of an all-in-one system, storage hosts otherwise"
        )
    return {
        "fsid": str(uuid.uuid4()),
        "monitors": [_v1(m["ip"], settings) for m in monitors],
        "cluster": cluster,
        "cluster_keys": _seal(fernet, keys),
    }


def add_missing_osds(s: Session, row: StorageBackend, fernet: Fernet) -> list[str]:
    """Give each storage host without an OSD one (in the caller's transaction, the row
    read ``FOR UPDATE``); the hostnames that got one."""
    assert row.cluster is not None
    have = {o["host_id"] for o in row.cluster["osds"]}
    new_hosts = [h for h in storage_hosts(s) if h.id not in have]
    if not new_hosts:
        return []
    keys = _open(fernet, row)
    row.cluster = _with_osds(row.cluster, keys, new_hosts)
    row.cluster_keys = _seal(fernet, keys)
    return [h.hostname for h in new_hosts]


def release_host(s: Session, host: Host, fernet: Callable[[], Fernet]) -> list[int]:
    """In the transaction deleting ``host``: its OSDs of the formed cluster (if any) move
    to the ones ``leaving`` it, which the Ceph audit removes from the cluster
    (:func:`forget_leaving`), and their keys go; the ids moved. Refused
    (``InvalidState``), before anything changed, when the host runs a monitor
    (:func:`_keep_monitors`) or holds the cluster's last OSDs (its data would go with
    them). ``fernet`` gives the secrets key, asked only when the host has OSDs."""
    row = s.scalars(
        select(StorageBackend).where(StorageBackend.cluster.is_not(None)).with_for_update()
    ).first()
    if row is None or row.cluster is None:
        return []
    _keep_monitors(host, row)
    osds = row.cluster["osds"]
    gone = [o for o in osds if o["host_id"] == host.id]
    if not gone:
        return []
    if len(gone) == len(osds):
        raise InvalidState(
            f"Host {host.hostname} holds the last OSDs of the platform's Ceph cluster, "
            f"and its data with them: delete storage backend {row.name} first"
        )
    key = fernet()
    keys = _open(key, row)
    for o in gone:
        keys.pop(f"osd.{o['id']}", None)
    ids = [o["id"] for o in gone]
    row.cluster = {
        **row.cluster,
        "osds": [o for o in osds if o["host_id"] != host.id],
        "leaving": sorted({*row.cluster.get("leaving", []), *ids}),
    }
    row.cluster_keys = _seal(key, keys)
    return ids


def _keep_monitors(host: Host, row: StorageBackend) -> None:
    """Refuse (``InvalidState``) to let ``host`` go while it runs one of the cluster's
    monitors: they are decided once, at add, and none is ever removed, so its monitor would
    stay in the monmap; with one monitor the cluster's only one would go, with two the
    other alone is not a majority of the monmap and the cluster would stop serving."""
    assert row.cluster is not None
    monitors = row.cluster["monitors"]
    mine = [m["name"] for m in monitors if m["host_id"] == host.id]
    if not mine:
        return
    if len(monitors) == 1:
        why = "its only monitor"
    else:
        why = (f"monitor {mine[0]}, without which its other monitor is no majority and "
               "the cluster stops serving")  # fmt: skip
    raise InvalidState(
        f"Host {host.hostname} runs {why} of the platform's Ceph cluster; monitors are not "
        f"moved: delete storage backend {row.name} first"
    )


def leaving(row: StorageBackend) -> list[int]:
    """The OSD ids of deleted hosts still to be removed from the cluster."""
    return list(row.cluster.get("leaving", [])) if row.cluster is not None else []


def forget_leaving(row: StorageBackend, removed: list[int]) -> None:
    """``removed`` (OSD ids) are gone from the cluster: no longer leaving (the row read
    ``FOR UPDATE`` by the caller)."""
    if row.cluster is None:
        return
    still = [i for i in row.cluster.get("leaving", []) if i not in removed]
    row.cluster = {**row.cluster, "leaving": still}


def _with_osds(cluster: dict[str, Any], keys: dict[str, str], hosts: list[Host]) -> dict[str, Any]:
    osds = list(cluster["osds"])
    have = {o["host_id"] for o in osds}
    # An id still leaving the cluster is not given again until it is gone from it.
    taken = [o["id"] for o in osds] + list(cluster.get("leaving", []))
    next_id = max(taken, default=-1) + 1
    for host in hosts:
        if host.id in have:
            continue
        osds.append({"id": next_id, "uuid": str(uuid.uuid4()), "host_id": host.id})
        keys[f"osd.{next_id}"] = gen_key()
        next_id += 1
    return {**cluster, "osds": osds}


def _v1(ip: str, settings: CephClientSettings) -> str:
    return f"{_bracketed(ip)}:{settings.mon_port}"


def _bracketed(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _seal(fernet: Fernet, keys: dict[str, str]) -> str:
    return fernet.encrypt(json.dumps(keys).encode()).decode()


def _open(fernet: Fernet, row: StorageBackend) -> dict[str, str]:
    if row.cluster_keys is None:
        raise SysinvError(f"Storage backend {row.name} has no cluster keys")
    try:
        keys: dict[str, str] = json.loads(fernet.decrypt(row.cluster_keys.encode()))
    except InvalidToken:
        raise SysinvError(
            f"The keys of storage backend {row.name} cannot be decrypted with the conductor's "
            "secrets key: was the key file replaced?"
        ) from None
    return keys


def target(row: StorageBackend, fernet: Fernet) -> CephTarget:
    """How the conductor reaches a formed cluster: its monitors, as ``client.admin``."""
    return CephTarget(
        monitors=tuple(str(m) for m in row.monitors), key=_open(fernet, row)[ADMIN], fsid=row.fsid
    )


def osd_host_count(s: Session, row: StorageBackend) -> int:
    """Hosts that still exist and hold an OSD of the formed cluster (at least one)."""
    assert row.cluster is not None
    ids = {o["host_id"] for o in row.cluster["osds"]}
    present = s.scalars(select(Host.id).where(Host.id.in_(ids))).all() if ids else []
    return max(1, len(present))


def admin_keyring(key: str) -> str:
    return (
        f'[{ADMIN}]\n\tkey = {key}\n\tcaps mds = "allow *"\n\tcaps mgr = "allow *"\n'
        '\tcaps mon = "allow *"\n\tcaps osd = "allow *"\n'
    )


@dataclass(frozen=True)
class Formed:
    """A formed cluster as the hosts' configurations need it, read (and its keys
    decrypted) once per refresh of them."""

    fsid: str
    monitors: list[CephMonitor]
    #: host id -> the name of the monitor it runs
    monitor_of: dict[int, str]
    mon_host: list[str]
    #: entity -> cephx key; kept out of repr, so a logged Formed shows none
    keys: dict[str, str] = field(repr=False)
    #: host id -> its OSDs
    osds_of: dict[int, list[CephOsd]]
    replication: pools.Replication
    public_network: str
    objectstore: str
    options: dict[str, str]

    def host_config(self, host_id: int) -> CephConfig:
        """What ``host_id`` gets: its daemons with their keys, or the client part only."""
        monitor = self.monitor_of.get(host_id)
        osds = self.osds_of.get(host_id, [])
        if monitor is None and not osds:
            return CephConfig(fsid=self.fsid, mon_host=self.mon_host)
        daemons = CephDaemons(
            monitors=self.monitors,
            monitor=monitor,
            mon_keyring=(
                f'[{MON}]\n\tkey = {self.keys[MON]}\n\tcaps mon = "allow *"\n'
                + admin_keyring(self.keys[ADMIN])
                if monitor is not None
                else None
            ),
            osds=osds,
            pool_size=self.replication.size,
            pool_min_size=self.replication.min_size,
            public_network=self.public_network,
            objectstore=self.objectstore,
            options=self.options,
        )
        return CephConfig(
            fsid=self.fsid, mon_host=self.mon_host, keyring=admin_keyring(self.keys[ADMIN]),
            daemons=daemons,
        )  # fmt: skip


def formed_from(
    s: Session, row: StorageBackend | None, fernet: Fernet, settings: CephClientSettings,
    public_network: str | None = None,
) -> Formed | None:  # fmt: skip
    """The formed cluster of backend ``row`` (read by the caller, with the platform
    settings: ``db.queries.system.host_config_inputs``); None when it has none.
    ``public_network``: the management network, when the caller has read it already."""
    if row is None or row.cluster is None or row.fsid is None:
        return None
    keys = _open(fernet, row)
    v2, v1 = settings.mon_v2_port, settings.mon_port
    monitors = [
        CephMonitor(
            name=m["name"],
            addr=f"[v2:{_bracketed(m['ip'])}:{v2},v1:{_bracketed(m['ip'])}:{v1}]",
        )
        for m in row.cluster["monitors"]
    ]
    osds_of: dict[int, list[CephOsd]] = {}
    for o in row.cluster["osds"]:
        osd = CephOsd(id=o["id"], uuid=o["uuid"], secret=keys[f"osd.{o['id']}"])
        osds_of.setdefault(o["host_id"], []).append(osd)
    return Formed(
        fsid=row.fsid,
        monitors=monitors,
        monitor_of={m["host_id"]: m["name"] for m in row.cluster["monitors"]},
        mon_host=[str(m) for m in row.monitors],
        keys=keys,
        osds_of=osds_of,
        replication=pools.replication_for(osd_host_count(s, row)),
        public_network=public_network or get_platform_settings(s).mgmt_subnet,
        objectstore=settings.objectstore,
        options={**DAEMON_OPTIONS, **settings.daemon_options},
    )
