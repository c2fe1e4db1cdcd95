"""The system row and the platform settings."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import BootstrapSettings
from sysinv_common.db.models import PlatformSettings, StorageBackend, System
from sysinv_common.errors import NotFound
from sysinv_common.version import SOFTWARE_VERSION

LOG = logging.getLogger(__name__)


def get_system(session: Session, ident: str | None = None) -> System:
    """The system row; with ``ident``, only if it matches its uuid, id or name."""
    system = session.scalars(select(System).order_by(System.id)).first()
    if system is None:
        raise NotFound("System not found: the database has not been bootstrapped")
    if ident is not None and ident not in (system.uuid, str(system.id), system.name):
        raise NotFound(f"System not found: {ident}")
    return system


def get_platform_settings(session: Session) -> PlatformSettings:
    settings = session.scalars(select(PlatformSettings).order_by(PlatformSettings.id)).first()
    if settings is None:
        raise NotFound("Platform settings not found: the database has not been bootstrapped")
    return settings


def host_config_inputs(
    session: Session,
) -> tuple[PlatformSettings, int | None, StorageBackend | None]:
    """What every host's configuration reads, in one statement: the platform settings, the
    active controller and the Ceph backend whose cluster sysinv formed (if any). A label
    write recomputes a host's configuration, so each statement saved here is one database
    round trip less per write."""
    active = select(System.active_controller_id).order_by(System.id).limit(1).scalar_subquery()
    row = session.execute(
        select(PlatformSettings, active, StorageBackend)
        .outerjoin(StorageBackend, StorageBackend.cluster.is_not(None))
        .order_by(PlatformSettings.id)
        .limit(1)
    ).first()
    if row is None:
        raise NotFound("Platform settings not found: the database has not been bootstrapped")
    return row[0], row[1], row[2]


def record_bootstrap(session: Session, boot: BootstrapSettings) -> bool:
    """Record the system row and platform settings once; later starts change nothing.

    Returns True when this call recorded them.
    """
    if session.scalars(select(System.id)).first() is not None:
        return False
    session.add(
        System(
            name=boot.system_name,
            system_type=boot.system_type.value,
            system_mode=boot.system_mode.value,
            region_name=boot.region_name,
            software_version=SOFTWARE_VERSION,
            description=boot.description,
            location=boot.location,
            contact=boot.contact,
            capabilities={},
        )
    )
    ceph = boot.external_ceph
    session.add(
        PlatformSettings(
            mgmt_subnet=str(boot.mgmt_subnet),
            cluster_host_subnet=str(boot.cluster_host_subnet),
            pod_subnet=str(boot.pod_subnet),
            service_subnet=str(boot.service_subnet),
            kubernetes_api_endpoint=boot.kubernetes_api_endpoint,
            registry_address=boot.registry.address,
            registry_ca_cert_file=boot.registry.ca_cert_file,
            registry_credentials_ref=boot.registry.credentials_ref,
            ceph_monitors=list(ceph.monitors) if ceph else [],
            ceph_fsid=ceph.fsid if ceph else None,
            ceph_keyring_path=ceph.keyring_path if ceph else None,
        )
    )
    session.flush()
    LOG.info(
        "recorded system %s (%s %s) from the bootstrap settings",
        boot.system_name,
        boot.system_type,
        boot.system_mode,
    )
    return True
