"""Build the plugins' read-only ``ModelSnapshot`` from the database, once per generation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from helm_overrides.snapshot import CephView, HostView, ModelSnapshot
from sysinv_common.db.models import Host
from sysinv_common.db.queries.system import get_platform_settings, get_system


def build_snapshot(s: Session) -> ModelSnapshot:
    system = get_system(s)
    platform = get_platform_settings(s)
    hosts = s.scalars(select(Host).options(selectinload(Host.labels)).order_by(Host.hostname))
    ceph = (
        CephView(tuple(platform.ceph_monitors), platform.ceph_fsid)
        if platform.ceph_monitors
        else None
    )
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
