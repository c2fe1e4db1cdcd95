"""Build the plugins' read-only ``ModelSnapshot`` from the database, once per generation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from helm_overrides.snapshot import CephView, HostView, ModelSnapshot
from sysinv_common.db.models import Host, StorageBackend
from sysinv_common.db.queries.system import get_platform_settings, get_system
from sysinv_common.states.storage_backend import CEPH_BACKENDS, BackendState


def _ceph_view(s: Session) -> CephView | None:
    """The Ceph backend, once it is configured: until then the Ceph charts are refused."""
    backend = s.scalars(
        select(StorageBackend).where(
            StorageBackend.backend.in_(CEPH_BACKENDS),
            StorageBackend.state == BackendState.CONFIGURED,
        )
    ).first()
    if backend is None:
        return None
    return CephView(
        monitors=tuple(str(m) for m in backend.monitors),
        fsid=backend.fsid,
        replication=backend.replication or 1,
        min_replication=backend.min_replication or 1,
    )


def build_snapshot(s: Session) -> ModelSnapshot:
    system = get_system(s)
    platform = get_platform_settings(s)
    hosts = s.scalars(select(Host).options(selectinload(Host.labels)).order_by(Host.hostname))
    ceph = _ceph_view(s)
    return ModelSnapshot(
        system_name=system.name,
        system_type=system.system_type,
        system_mode=system.system_mode,
        region_name=system.region_name,
        hosts=tuple(
            HostView(
                hostname=h.hostname,
                personality=h.personality,
                administrative=h.administrative,
                operational=h.operational,
                availability=h.availability,
                mgmt_ip=h.mgmt_ip,
                labels={lb.label_key: lb.label_value for lb in h.labels},
            )
            for h in hosts
        ),
        registry_address=platform.registry_address,
        kubernetes_api_endpoint=platform.kubernetes_api_endpoint,
        mgmt_subnet=platform.mgmt_subnet,
        cluster_host_subnet=platform.cluster_host_subnet,
        pod_subnet=platform.pod_subnet,
        service_subnet=platform.service_subnet,
        ceph=ceph,
    )
