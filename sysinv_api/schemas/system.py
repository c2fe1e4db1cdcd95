"""The system object (``/v1/isystems``) and the platform settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import PlatformSettings, System


class SystemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    uuid: str
    name: str
    system_type: str
    system_mode: str


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
