"""The one system row and the platform settings recorded at bootstrap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base, TimestampMixin, UuidMixin


class System(UuidMixin, TimestampMixin, Base):
    __tablename__ = "system"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    system_type: Mapped[str] = mapped_column(String(32))
    system_mode: Mapped[str] = mapped_column(String(32))
    region_name: Mapped[str] = mapped_column(String(255))
    software_version: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    # An IANA time zone name; latitude and longitude in decimal degrees, as given.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    latitude: Mapped[str | None] = mapped_column(String(64))
    longitude: Mapped[str | None] = mapped_column(String(64))
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The active controller (StarlingX's ``Controller-Active``); written only by
    #: ``sysinv_common.states.host``. NULL: none yet, or it was deleted.
    active_controller_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL")
    )


class PlatformSettings(TimestampMixin, Base):
    """Networks, registry, Kubernetes endpoint and external Ceph, as bootstrapped."""

    __tablename__ = "platform_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mgmt_subnet: Mapped[str] = mapped_column(String(64))
    cluster_host_subnet: Mapped[str] = mapped_column(String(64))
    pod_subnet: Mapped[str] = mapped_column(String(64))
    service_subnet: Mapped[str] = mapped_column(String(64))
    kubernetes_api_endpoint: Mapped[str | None] = mapped_column(String(255))
    registry_address: Mapped[str | None] = mapped_column(String(255))
    registry_ca_cert_file: Mapped[str | None] = mapped_column(String(1024))
    registry_credentials_ref: Mapped[str | None] = mapped_column(String(255))
    ceph_monitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    ceph_fsid: Mapped[str | None] = mapped_column(String(64))
    ceph_keyring_path: Mapped[str | None] = mapped_column(String(1024))
