"""Storage backends: add, modify and delete the Ceph backend, and read its health.

Configuring a backend (on add and on modify) connects to the cluster and makes what the
rbd-provisioner needs: the ``kube-rbd`` pool (replication from the number of storage hosts,
application ``rbd``, PG autoscaling), the ``client.kube`` key with ``profile rbd`` on that
pool only, and that key in a Kubernetes Secret in each namespace that uses the storage
class. The backend ends ``configured``, or ``failed`` with the reason and with everything
this configuration created removed again: a failure leaves nothing half-made.

A platform-managed backend either forms its cluster on the platform's hosts
(``ceph_formation``: the nodes' agents create the daemons, and the backend stays
``configuring`` until the cluster answers, which the Ceph audit watches) or, when the
``ceph.monitors`` setting names one, uses an already-running cluster and is configured at
once like an external one.

The state and its reason are written only through ``sysinv_common.states.storage_backend``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helm_overrides.openstack import ceph_storage as app_ceph_charts
from helm_overrides.platform import ceph as ceph_charts
from sysinv_common import alarms as fault_defs
from sysinv_common.db.models import App, AppChart, Host, StorageBackend
from sysinv_common.errors import Conflict, InvalidInput, InvalidState, NotFound, SysinvError
from sysinv_common.messaging.rpcapi import (
    CephHealth,
    Empty,
    StorageBackendAdd,
    StorageBackendModify,
    StorageBackendRow,
)
from sysinv_common.states import storage_backend as states
from sysinv_common.states.app import AppStatus
from sysinv_common.states.storage_backend import BackendState
from sysinv_common.storage_backends import DEFAULT_NAMES, row_out
from sysinv_conductor.ceph import keys, osds, pools, status
from sysinv_conductor.ceph.client import CephClient, CephTarget, connect
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import alarms, app_storage, ceph_formation, host_config
from sysinv_conductor.kube import ceph_secrets

LOG = logging.getLogger(__name__)

ENTITY = f"client.{ceph_charts.POOL_USER}"
#: Hosts whose disks a platform-managed cluster's OSDs are on.
STORAGE_PERSONALITIES = ("controller", "storage")
#: Charts that keep their data in the backend's pools: an applied app with one of them
#: enabled keeps the backend from being deleted (the OpenStack ones: ``app_storage``).
CEPH_CHARTS = ("rbd-provisioner", "ceph-pools-audit", *app_ceph_charts.CHARTS)


def _check_monitors(monitors: list[str]) -> list[str]:
    cleaned = [m.strip() for m in monitors if m.strip()]
    for m in cleaned:
        if any(c.isspace() or c == "," for c in m) or ":" not in m:
            raise InvalidInput(f"Invalid Ceph monitor '{m}': give host:port")
    return cleaned


def _check_external(monitors: list[str], keyring_path: str | None) -> None:
    if not monitors:
        raise InvalidInput("ceph-external needs monitors=host:port[,host:port...]")
    if not keyring_path or not Path(keyring_path).is_absolute():
        raise InvalidInput(
            "ceph-external needs keyring_path=/absolute/path of the cluster's client.admin "
            "keyring on the controllers (the key itself is never sent or stored)"
        )


def add(ctx: ConductorContext, request: StorageBackendAdd) -> StorageBackendRow:
    if request.backend not in states.CEPH_BACKENDS:
        raise InvalidInput(
            f"Unsupported storage backend '{request.backend}': "
            f"use {' or '.join(states.CEPH_BACKENDS)}"
        )
    monitors = _check_monitors(request.monitors)
    if request.backend == "ceph-external":
        _check_external(monitors, request.keyring_path)
    elif monitors or request.keyring_path or request.fsid:
        raise InvalidInput(
            "A platform-managed ceph backend takes its monitors and keyring from the "
            "platform: use ceph-external for another cluster"
        )
    form = request.backend == "ceph" and not ctx.settings.ceph.monitors
    with ctx.db.session() as s:
        fields: dict[str, Any] = {"monitors": monitors, "fsid": request.fsid}
        if form:
            fields = ceph_formation.new_cluster(s, ctx.settings.ceph, ctx.secrets.fernet)
        row = states.create(
            s,
            name=request.name or DEFAULT_NAMES[request.backend],
            backend=request.backend,
            services=request.services,
            keyring_path=request.keyring_path,
            **fields,
        )
        backend_id = row.id
    if form:
        # The nodes' agents create the daemons; the Ceph audit configures the backend
        # once the cluster answers.
        host_config.refresh(ctx)
        LOG.info("storage backend ceph: forming the platform's cluster %s", fields["fsid"])
        return _answer(ctx, backend_id)
    LOG.info("storage backend %s: configuring", request.backend)
    _configure(ctx, backend_id)
    return _answer(ctx, backend_id)


def modify(ctx: ConductorContext, request: StorageBackendModify) -> StorageBackendRow:
    """Change what may change and configure again (which also brings the replication in
    line with the storage hosts there are now)."""
    with ctx.db.session() as s:
        row = _find(s, request.uuid)
        changes: dict[str, Any] = {}
        if request.services is not None:
            changes["services"] = request.services
        # None: unchanged (every field travels, set or not).
        external = {a: getattr(request, a) for a in ("monitors", "fsid", "keyring_path")}
        external = {a: v for a, v in external.items() if v is not None}
        if external and row.backend != "ceph-external":
            raise InvalidInput("Only a ceph-external backend's monitors, fsid and keyring change")
        if "monitors" in external:
            external["monitors"] = _check_monitors(external["monitors"])
        if "fsid" in external and not external["fsid"].strip():
            external["fsid"] = None  # an empty fsid clears it: any cluster's is accepted
        changes.update(external)
        if not changes and row.state != BackendState.FAILED:
            # As StarlingX: a modify with nothing in it retries a failed backend only.
            raise InvalidInput("No changes to the existing backend settings were detected.")
        if row.backend == "ceph-external":
            _check_external(
                changes.get("monitors", list(row.monitors)),
                changes.get("keyring_path", row.keyring_path),
            )
        backend_id, formed = row.id, ceph_formation.is_formed(row)
        states.reconfigure(s, backend_id, **changes)
    if formed:
        host_config.refresh(ctx)
        _configure_formed(ctx, backend_id)
    else:
        _configure(ctx, backend_id)
    return _answer(ctx, backend_id)


def delete(ctx: ConductorContext, uuid: str) -> Empty:
    """Refused while an applied application uses the backend's pool; otherwise its
    Secrets and key go, and its pool too when nothing is stored in it."""
    with ctx.db.read_session() as s:
        row = _find(s, uuid)
        backend_id, name, state = row.id, row.name, row.state
        formed = ceph_formation.is_formed(row)
        try:
            target: CephTarget | None = _target(ctx, row)
        except InvalidInput:
            target = None  # a platform cluster never formed: nothing was made in it
        users = sorted(
            s.scalars(
                select(App.name)
                .join(AppChart, AppChart.app_id == App.id)
                .where(
                    App.status == AppStatus.APPLIED,
                    AppChart.chart_name.in_(CEPH_CHARTS),
                    AppChart.enabled.is_(True),
                )
                .distinct()
            )
        )
    if users:
        raise Conflict(
            f"Storage backend {name} is in use by applied application(s) {', '.join(users)}: "
            "remove them first"
        )
    if state == BackendState.CONFIGURING:
        raise Conflict(f"Storage backend {name} is being configured: try again when it is done")
    try:
        if target is not None:
            with connect(target, ctx.settings.ceph) as ceph:
                keys.delete_key(ceph, ENTITY)
                app_storage.forget(ceph, ctx.kube_api, ctx.settings.kubernetes.request_timeout)
                if ceph_charts.POOL in pools.list_pools(ceph) and not pools.holds_data(
                    ceph, ceph_charts.POOL
                ):
                    pools.delete_pool(ceph, ceph_charts.POOL)
    except SysinvError:
        # A backend that failed may have a cluster that is gone for good, or is another.
        if state != BackendState.FAILED:
            raise
        LOG.info("storage backend %s: its cluster cannot be reached; deleting the row", name)
    _delete_secrets(ctx)
    with ctx.db.session() as s:
        states.remove(s, backend_id)
    if formed:
        host_config.refresh(ctx)  # the hosts' configurations no longer name its daemons
    return Empty()


def audit_formation(ctx: ConductorContext) -> str | None:
    """For a cluster sysinv forms on the platform's hosts: storage hosts without an OSD
    get one (and their new configuration), deleted hosts' OSDs leave a ``configured``
    one (``_remove_osds``); while the backend is ``configuring`` it is
    configured once the cluster answers, or failed once ``ceph.form_timeout`` has passed.
    The backend's state afterwards; None when there is no formed cluster."""
    with ctx.db.session() as s:
        row = s.scalars(
            select(StorageBackend).where(StorageBackend.cluster.is_not(None)).with_for_update()
        ).first()
        if row is None:
            return None
        grown: list[str] = []
        if row.state != BackendState.FAILED:
            grown = ceph_formation.add_missing_osds(s, row, ctx.secrets.fernet)
        backend_id, state = row.id, row.state
        leaving = ceph_formation.leaving(row) if state == BackendState.CONFIGURED else []
        target = _target(ctx, row) if leaving else None
    if grown:
        LOG.info("storage backend: an OSD of the platform's cluster on %s", ", ".join(grown))
        host_config.refresh(ctx)
    if target is not None:
        _remove_osds(ctx, backend_id, target, leaving)
    if state == BackendState.CONFIGURING:
        try:
            _configure_formed(ctx, backend_id)
        except InvalidState as exc:  # a modify or delete came in between: theirs stands
            LOG.info("storage backend: %s", exc.message)
    with ctx.db.read_session() as s:
        now = s.get(StorageBackend, backend_id)
        return None if now is None else now.state


def _remove_osds(ctx: ConductorContext, backend_id: int, target: CephTarget,
                 leaving: list[int]) -> None:  # fmt: skip
    """Deleted hosts' OSDs out of the formed cluster: each is marked out, and purged once
    it is down; one whose daemon still runs is tried again at the next audit."""
    try:
        with connect(target, ctx.settings.ceph) as ceph:
            removal = osds.remove(ceph, leaving)
    except SysinvError as exc:
        LOG.warning("storage backend: deleted hosts' OSDs not removed yet: %s", exc.message)
        return
    if removal.out_running:  # said once: at later audits they are out already
        LOG.info("storage backend: %s of deleted hosts out; purged once their daemons stop",
                 ", ".join(f"osd.{i}" for i in removal.out_running))  # fmt: skip
    if not removal.gone:
        return
    with ctx.db.session() as s:
        row = s.get(StorageBackend, backend_id, with_for_update=True)
        if row is not None:
            ceph_formation.forget_leaving(row, removal.gone)
    LOG.info("storage backend: %s removed from the platform's Ceph cluster",
             ", ".join(f"osd.{i}" for i in removal.gone))  # fmt: skip


def audit_health(ctx: ConductorContext) -> str | None:
    """Bring the configured backend's pool replication in line with the storage hosts
    there are now, and raise or clear the Ceph health alarm (800.001) from what the
    cluster says; its health (``unreachable`` when Ceph did not answer), None when there
    is no configured backend."""
    with ctx.db.read_session() as s:
        row = s.scalars(
            select(StorageBackend).where(StorageBackend.state == BackendState.CONFIGURED)
        ).first()
        if row is None or row.fsid is None:
            return None
        fsid, backend_id, external = row.fsid, row.id, row.backend == "ceph-external"
        formed = ceph_formation.is_formed(row)
        recorded = (row.replication, row.min_replication)
        target = _target(ctx, row)
        platform_hosts = _platform_storage_hosts(s, row)
    try:
        with connect(target, ctx.settings.ceph) as ceph:
            hosts = _crush_hosts(ceph) if external else platform_hosts
            wanted = pools.replication_for(hosts)
            if (wanted.size, wanted.min_size) != recorded:
                if formed:  # before the pools change: the daemons' defaults, and consent
                    pools.set_daemon_defaults(ceph, wanted)
                    if wanted.size == 1:  # to one copy when it shrank to one host
                        pools.allow_one_copy(ceph)
                pools.set_replication(ceph, ceph_charts.POOL, wanted)
                if formed:  # the cluster is sysinv's, the manager's pool too
                    _log_followed(pools.follow(ceph, pools.manager_pools(ceph), wanted), wanted)
                with ctx.db.session() as s:
                    states.record_replication(s, backend_id, wanted.size, wanted.min_size)
                LOG.info(
                    "storage backend: pool %s now size %d min_size %d (%d storage host(s))",
                    ceph_charts.POOL, wanted.size, wanted.min_size, hosts,
                )  # fmt: skip
            _log_followed(app_storage.follow_replication(ceph, wanted), wanted)
            got = status.cluster_status(ceph)
    except SysinvError as exc:
        alarms.raise_fault(ctx, fault_defs.ceph_health(fsid, "unreachable", exc.message))
        return "unreachable"
    if got.health == "HEALTH_OK":
        alarms.clear_fault(ctx, [fault_defs.CEPH_HEALTH], fault_defs.cluster_entity(fsid))
    else:
        details = "; ".join(f"{code}: {text}" for code, text in sorted(got.checks.items()))
        alarms.raise_fault(ctx, fault_defs.ceph_health(fsid, got.health, details))
    return got.health


def health(ctx: ConductorContext, uuid: str) -> CephHealth:
    with ctx.db.read_session() as s:
        target = _target(ctx, _find(s, uuid))
    with connect(target, ctx.settings.ceph) as ceph:
        got = status.cluster_status(ceph)
    return CephHealth(
        fsid=got.fsid, health=got.health, checks=got.checks, total_bytes=got.total_bytes,
        used_bytes=got.used_bytes, avail_bytes=got.avail_bytes, osds=got.osds,
        osds_up=got.osds_up,
    )  # fmt: skip


def ensure_app_storage(ctx: ConductorContext, charts: list[tuple[str, str]]) -> list[str]:
    """Before an application's charts run: the pools, users and Secrets its enabled
    ``(chart, namespace)`` pairs keep data with (``app_storage``), when a Ceph backend is
    configured; nothing without one (the charts then keep their own storage). One line
    per thing made or kept."""
    if not app_storage.uses_ceph(c for c, _ in charts):
        return []
    with ctx.db.read_session() as s:
        row = s.scalars(
            select(StorageBackend).where(StorageBackend.state == BackendState.CONFIGURED)
        ).first()
        if row is None:
            return []
        target = _target(ctx, row)
        replication = pools.Replication(row.replication or 1, row.min_replication or 1)
    with connect(target, ctx.settings.ceph) as ceph:
        return app_storage.ensure(
            ceph, ctx.kube_api, charts, replication, target.monitors,
            ctx.settings.kubernetes.request_timeout,
        )  # fmt: skip


def _log_followed(changed: list[str], wanted: pools.Replication) -> None:
    for pool in changed:
        LOG.info("storage backend: pool %s now size %d min_size %d",
                 pool, wanted.size, wanted.min_size)  # fmt: skip


# -- configuring ---------------------------------------------------------------------------


@dataclass
class _Made:
    """What one configuration created, to be removed again if it fails."""

    pool: bool = False
    key: bool = False
    secrets: list[str] = field(default_factory=list)


def _configure(ctx: ConductorContext, backend_id: int) -> None:
    made = _Made()
    try:
        with ctx.db.read_session() as s:
            row = s.get(StorageBackend, backend_id)
            if row is None:
                raise NotFound("Storage backend was deleted meanwhile")
            target = _target(ctx, row)
            external = row.backend == "ceph-external"
            platform_hosts = _platform_storage_hosts(s, row)
        with connect(target, ctx.settings.ceph) as ceph:
            try:
                hosts = _crush_hosts(ceph) if external else platform_hosts
                replication = pools.replication_for(hosts)
                made.pool = pools.ensure_pool(ceph, ceph_charts.POOL, replication, "rbd")
                made.key = keys.get_caps(ceph, ENTITY) is None
                key = keys.ensure_key(ceph, ENTITY, keys.rbd_caps(ceph_charts.POOL))
                timeout = ctx.settings.kubernetes.request_timeout
                for namespace in ceph_charts.SECRET_NAMESPACES:
                    if ceph_secrets.put_key_secret(
                        ctx.kube_api, namespace, ceph_charts.USER_SECRET_NAME, key, timeout
                    ):
                        made.secrets.append(namespace)
                fsid = ceph.fsid
            except Exception:
                _undo(ctx, ceph, made)
                raise
    except SysinvError as exc:
        _finish_failed(ctx, backend_id, exc.message)
        return
    except Exception as exc:  # a bug must not leave the backend configuring forever
        LOG.exception("storage backend configuration crashed")
        _finish_failed(ctx, backend_id, f"internal error: {type(exc).__name__}: {exc}")
        return
    with ctx.db.session() as s:
        states.transition(
            s, backend_id, BackendState.CONFIGURING, BackendState.CONFIGURED,
            fsid=fsid, replication=replication.size, min_replication=replication.min_size,
            # The monitors the charts are given: a platform cluster's come from settings.
            monitors=list(target.monitors),
        )  # fmt: skip
    LOG.info(
        "storage backend configured: pool %s size %d min_size %d on %d storage host(s)",
        ceph_charts.POOL, replication.size, replication.min_size, hosts,
    )  # fmt: skip


def _configure_formed(ctx: ConductorContext, backend_id: int) -> None:
    """Configure a formed cluster's backend if its monitors answer now. Otherwise it stays
    ``configuring`` (the nodes may still be creating the daemons) until
    ``ceph.form_timeout`` has passed since it began; then it fails with the reason."""
    with ctx.db.read_session() as s:
        row = s.get(StorageBackend, backend_id)
        if row is None or row.state != BackendState.CONFIGURING:
            return
        target = _target(ctx, row)
        since = row.updated_at or row.created_at
    try:
        with connect(target, ctx.settings.ceph):
            pass
    except SysinvError as exc:
        limit = ctx.settings.ceph.form_timeout
        if since.tzinfo is None:  # SQLite keeps no zone; the value is UTC
            since = since.replace(tzinfo=UTC)
        waited = (datetime.now(UTC) - since).total_seconds()
        if waited < limit:
            LOG.info("storage backend: the platform's Ceph cluster does not answer yet "
                     "(%.0f s of %g s): %s", waited, limit, exc.message)  # fmt: skip
            return
        _finish_failed(ctx, backend_id,
                       f"the platform's Ceph cluster did not answer within {limit:g} s: "
                       f"{exc.message}")  # fmt: skip
        return
    _configure(ctx, backend_id)


def _finish_failed(ctx: ConductorContext, backend_id: int, reason: str) -> None:
    LOG.warning("storage backend configuration failed: %s", reason)
    with ctx.db.session() as s:
        states.transition(
            s, backend_id, BackendState.CONFIGURING, BackendState.FAILED, reason=reason
        )


def _undo(ctx: ConductorContext, ceph: CephClient, made: _Made) -> None:
    """Remove what this configuration made; each step on its own, so one that fails does
    not keep the others from running (and is logged, not raised over the first error)."""
    timeout = ctx.settings.kubernetes.request_timeout
    steps: list[tuple[str, Any]] = [
        (
            f"Secret {ns}/{ceph_charts.USER_SECRET_NAME}",
            lambda ns=ns: ceph_secrets.delete_secrets(
                ctx.kube_api, [ns], ceph_charts.USER_SECRET_NAME, timeout
            ),
        )
        for ns in made.secrets
    ]
    if made.key:
        steps.append((ENTITY, lambda: keys.delete_key(ceph, ENTITY)))
    if made.pool:
        steps.append(
            (f"pool {ceph_charts.POOL}", lambda: pools.delete_pool(ceph, ceph_charts.POOL))
        )
    for what, step in steps:
        try:
            step()
        except Exception as exc:
            LOG.warning("storage backend: %s could not be removed after a failure: %s", what, exc)


def _delete_secrets(ctx: ConductorContext) -> None:
    if ctx.kube_api is None:
        return
    ceph_secrets.delete_secrets(
        ctx.kube_api, ceph_charts.SECRET_NAMESPACES, ceph_charts.USER_SECRET_NAME,
        ctx.settings.kubernetes.request_timeout,
    )  # fmt: skip


# -- helpers -------------------------------------------------------------------------------


def _find(s: Session, uuid_or_name: str) -> StorageBackend:
    row = s.scalars(
        select(StorageBackend).where(
            (StorageBackend.uuid == uuid_or_name) | (StorageBackend.name == uuid_or_name)
        )
    ).first()
    if row is None:
        raise NotFound(f"Storage backend not found: {uuid_or_name}")
    return row


def _answer(ctx: ConductorContext, backend_id: int) -> StorageBackendRow:
    with ctx.db.read_session() as s:
        row = s.get(StorageBackend, backend_id)
        if row is None:
            raise NotFound("Storage backend was deleted meanwhile")
        return row_out(row)


def _target(ctx: ConductorContext, row: StorageBackend) -> CephTarget:
    if row.backend == "ceph-external":
        return CephTarget(
            monitors=tuple(str(m) for m in row.monitors),
            keyring_path=Path(row.keyring_path) if row.keyring_path else None,
            fsid=row.fsid,
        )
    if ceph_formation.is_formed(row):
        return ceph_formation.target(row, ctx.secrets.fernet)
    settings = ctx.settings.ceph
    if not settings.monitors:
        raise InvalidInput(
            "The platform-managed Ceph cluster has no monitors yet (setting ceph.monitors)"
        )
    return CephTarget(monitors=tuple(settings.monitors), keyring_path=settings.admin_keyring)


def _platform_storage_hosts(s: Session, row: StorageBackend) -> int:
    if ceph_formation.is_formed(row):
        return ceph_formation.osd_host_count(s, row)
    count = len(s.scalars(select(Host.id).where(Host.personality.in_(STORAGE_PERSONALITIES))).all())
    return max(1, count)


def _crush_hosts(ceph: CephClient) -> int:
    """Hosts of an external cluster's CRUSH map that hold at least one OSD."""
    tree = ceph.command("osd tree")
    hosts = [n for n in tree.get("nodes", []) if n.get("type") == "host" and n.get("children")]
    return max(1, len(hosts))
