"""The system object (``/v1/isystems``) and the platform settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import PlatformSettings, System


class SystemOut(BaseModel):
    """sysinv's system object: every key of it (null where this service has no such
    thing); the platform's facts in ``capabilities`` and again at the top level."""

    model_config = ConfigDict(extra="allow")

    uuid: str
    name: str
    system_type: str = Field(description="All-in-one or Standard")
    system_mode: str = Field(description="simplex, duplex or duplex-direct")
    region_name: str | None
    software_version: str | None
    description: str | None
    location: str | None
    contact: str | None
    capabilities: dict[str, Any]
    timezone: str | None
    latitude: str | None
    longitude: str | None
    distributed_cloud_role: str | None
    security_feature: str | None
    https_enabled: bool
    sdn_enabled: bool
    shared_services: str
    service_project_name: str | None
    vswitch_type: str
    created_at: str | None
    updated_at: str | None
    links: list[dict[str, str]]


class SystemList(BaseModel):
    isystems: list[SystemOut]


#: What StarlingX reports inside ``capabilities``, where its client reads these (and only
#: there), as this platform has them: no SDN controller, no vswitch, no services shared
#: with another region, and an API served over plain HTTP (TLS, when wanted, is a proxy's
#: job in front of sysinv-api). They are facts of the platform, not settings.
PLATFORM_CAPABILITIES: dict[str, Any] = {
    "sdn_enabled": False,
    "https_enabled": False,
    "vswitch_type": "none",
    "shared_services": "[]",
    "region_config": False,
}


def system_out(system: System) -> dict[str, Any]:
    return {
        "uuid": system.uuid,
        "name": system.name,
        "system_type": system.system_type,
        "system_mode": system.system_mode,
        "region_name": system.region_name,
        "software_version": system.software_version,
        "description": system.description,
        "location": system.location,
        "contact": system.contact,
        "capabilities": {**(system.capabilities or {}), **PLATFORM_CAPABILITIES},
        "timezone": system.timezone,
        "latitude": system.latitude,
        "longitude": system.longitude,
        "distributed_cloud_role": None,
        "security_feature": None,
        # Top-level copies, for callers that read them here.
        "https_enabled": PLATFORM_CAPABILITIES["https_enabled"],
        "sdn_enabled": PLATFORM_CAPABILITIES["sdn_enabled"],
        "shared_services": PLATFORM_CAPABILITIES["shared_services"],
        "service_project_name": None,
        "vswitch_type": PLATFORM_CAPABILITIES["vswitch_type"],
        "created_at": iso(system.created_at),
        "updated_at": iso(system.updated_at),
        "links": [{"rel": "self", "href": f"/v1/isystems/{system.uuid}"}],
    }


def platform_out(ps: PlatformSettings) -> dict[str, Any]:
    return {
        "networks": {
            "mgmt_subnet": ps.mgmt_subnet,
            "cluster_host_subnet": ps.cluster_host_subnet,
            "pod_subnet": ps.pod_subnet,
            "service_subnet": ps.service_subnet,
        },
        "kubernetes_api_endpoint": ps.kubernetes_api_endpoint,
        "registry": {
            "address": ps.registry_address,
            "ca_cert_file": ps.registry_ca_cert_file,
            # Only the reference: the credentials themselves never leave the store.
            "credentials_ref": ps.registry_credentials_ref,
        },
        "external_ceph": (
            {
                "monitors": ps.ceph_monitors,
                "fsid": ps.ceph_fsid,
                "keyring_path": ps.ceph_keyring_path,
            }
            if ps.ceph_monitors
            else None
        ),
        "created_at": iso(ps.created_at),
    }


class PlatformNetworks(BaseModel):
    mgmt_subnet: str | None
    cluster_host_subnet: str | None
    pod_subnet: str | None
    service_subnet: str | None


class PlatformRegistry(BaseModel):
    address: str | None
    ca_cert_file: str | None
    credentials_ref: str | None = Field(description="a reference; never the credentials")


class PlatformCeph(BaseModel):
    monitors: Any
    fsid: str | None
    keyring_path: str | None


class PlatformOut(BaseModel):
    """The platform settings recorded at bootstrap."""

    networks: PlatformNetworks
    kubernetes_api_endpoint: str | None
    registry: PlatformRegistry
    external_ceph: PlatformCeph | None
    created_at: str | None


class CertificateList(BaseModel):
    """``certificate-list``: always empty (sysinv installs no certificates)."""

    certificates: list[dict[str, Any]]
