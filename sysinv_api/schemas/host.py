"""Host and label objects on the wire, with the keys of sysinv's own objects.

Every key of sysinv's host object is present in every host response, null where
unknown: StarlingX's client fails on a missing key in tables and some detail views.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import Host, Label

CONFIG_OUT_OF_DATE = "Config out-of-date"


class LabelOut(BaseModel):
    uuid: str
    host_uuid: str
    label_key: str
    label_value: str


class LabelList(BaseModel):
    labels: list[LabelOut]


class LabelAssignOut(LabelList):
    kube_node: str | None = None


class HostOut(BaseModel):
    """sysinv's host object plus ``kube_node`` and the agent's inventory."""

    model_config = ConfigDict(extra="allow")

    id: int
    uuid: str
    hostname: str
    personality: str | None
    subfunctions: str | None
    administrative: str
    operational: str
    availability: str
    kube_node: str | None


class HostList(BaseModel):
    ihosts: list[HostOut]


def config_status(host: Host) -> str | None:
    if host.config_target and host.config_target != host.config_applied:
        if host.config_error:
            return f"{CONFIG_OUT_OF_DATE} (apply failed: {host.config_error})"
        return CONFIG_OUT_OF_DATE
    return None


def host_out(host: Host, system_uuid: str | None, sw_version: str | None) -> dict[str, Any]:
    subfunctions = host.subfunctions or host.personality
    return {
        "id": host.id,
        "uuid": host.uuid,
        "hostname": host.hostname,
        "personality": host.personality,
        "subfunctions": subfunctions,
        "subfunction_oper": host.operational,
        "subfunction_avail": host.availability,
        "administrative": host.administrative,
        "operational": host.operational,
        "availability": host.availability,
        "invprovision": "provisioned" if host.personality else "unprovisioned",
        "task": None,
        "action": "none",
        "ihost_action": None,
        "vim_progress_status": None,
        "inv_state": "inventoried" if host.inventory else None,
        "mgmt_mac": host.mgmt_mac,
        "mgmt_ip": host.mgmt_ip,
        "serialid": None,
        "bm_ip": host.bm_ip,
        "bm_type": host.bm_type,
        "bm_username": host.bm_username,
        "capabilities": host.capabilities or {},
        "location": host.location or {},
        "config_applied": host.config_applied,
        "config_target": host.config_target,
        "config_status": config_status(host),
        "uptime": 0,
        "reserved": False,
        "reboot_needed": False,
        "ttys_dcd": False,
        "vsc_controllers": None,
        "created_at": iso(host.created_at),
        "updated_at": iso(host.updated_at),
        "boot_device": host.boot_device,
        "rootfs_device": host.rootfs_device,
        "hw_settle": host.hw_settle,
        "install_output": host.install_output,
        "console": host.console,
        "tboot": None,
        "install_state": None,
        "install_state_info": None,
        "peers": None,
        "peer_id": None,
        "mtce_info": None,
        "clock_synchronization": host.clock_synchronization,
        "device_image_update": None,
        "apparmor": None,
        "sw_version": sw_version,
        "max_cpu_mhz_configured": None,
        "min_cpu_mhz_allowed": None,
        "max_cpu_mhz_allowed": None,
        "cstates_available": None,
        "iscsi_initiator_name": None,
        "nvme_host_id": None,
        "nvme_host_nqn": None,
        "isystem_uuid": system_uuid,
        "inventory": host.inventory or {},
        "last_seen_at": iso(host.last_seen_at),
        "kube_node": host.kube_node,
        "links": [{"rel": "self", "href": f"/v1/ihosts/{host.uuid}"}],
    }


def label_out(label: Label, host_uuid: str) -> dict[str, Any]:
    return {
        "uuid": label.uuid,
        "host_uuid": host_uuid,
        "label_key": label.label_key,
        "label_value": label.label_value,
    }
