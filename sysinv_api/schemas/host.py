"""Host and label objects on the wire, with the keys of sysinv's own objects.

Every key of sysinv's host object is present in every host response, null where
unknown: StarlingX's client fails on a missing key in tables and some detail views.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import Host, Label
from sysinv_common.states.host import controller_role

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
    """sysinv's host object, every key of it (null where this service has no such
    thing), plus ``kube_node`` (how the Node sync went) and the agent's ``inventory``."""

    model_config = ConfigDict(extra="allow")

    id: int
    uuid: str
    hostname: str
    personality: str | None = Field(description="controller, worker or storage")
    subfunctions: str | None
    subfunction_oper: str
    subfunction_avail: str
    administrative: str = Field(description="locked or unlocked")
    operational: str = Field(description="enabled or disabled")
    availability: str = Field(description="online, offline, available, ...")
    invprovision: str = Field(description="provisioned once it has a personality")
    task: str | None
    action: str
    ihost_action: str | None
    vim_progress_status: str | None
    inv_state: str | None = Field(description="inventoried once its agent reported")
    mgmt_mac: str | None
    mgmt_ip: str | None
    serialid: str | None
    bm_ip: str | None
    bm_type: str | None
    bm_username: str | None
    capabilities: dict[str, Any]
    location: dict[str, Any] = Field(description='{"locn": "..."}')
    config_applied: str | None = Field(description="the configuration its agent applied")
    config_target: str | None = Field(description="the configuration it should have")
    config_status: str | None = Field(description='"Config out-of-date" while they differ')
    uptime: int
    reserved: bool
    reboot_needed: bool
    ttys_dcd: bool
    vsc_controllers: str | None
    created_at: str | None
    updated_at: str | None
    boot_device: str | None
    rootfs_device: str | None
    hw_settle: str | None
    install_output: str | None
    console: str | None
    tboot: str | None
    install_state: str | None
    install_state_info: str | None
    peers: Any
    peer_id: int | None
    mtce_info: str | None
    clock_synchronization: str | None
    device_image_update: str | None
    apparmor: str | None
    sw_version: str | None
    max_cpu_mhz_configured: str | None
    min_cpu_mhz_allowed: str | None
    max_cpu_mhz_allowed: str | None
    cstates_available: str | None
    iscsi_initiator_name: str | None
    nvme_host_id: str | None
    nvme_host_nqn: str | None
    isystem_uuid: str | None
    inventory: dict[str, Any] = Field(description="what the host's agent reported")
    last_seen_at: str | None = Field(description="the agent's last report")
    kube_node: str | None = Field(description="how the sync of its Kubernetes Node went")
    links: list[dict[str, str]]


class HostList(BaseModel):
    ihosts: list[HostOut]
    next: str | None = Field(
        None,
        description=(
            "The URL of the next page (same sort, limit and the last uuid of this page as "
            "marker); absent on the last page and without limit."
        ),
    )


#: What host_out reads: the ORM object, or a row of its columns (queries.hosts.host_row).
HostLike = Host | Row[Any]


def config_status(host: HostLike) -> str | None:
    if host.config_target and host.config_target != host.config_applied:
        if host.config_error:
            return f"{CONFIG_OUT_OF_DATE} (apply failed: {host.config_error})"
        return CONFIG_OUT_OF_DATE
    return None


def host_out(
    host: HostLike, system_uuid: str | None, sw_version: str | None,
    active_controller_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``active_controller_id``: the system's; a controller's capabilities then say, as
    StarlingX's do, ``Personality: Controller-Active`` or ``Controller-Standby``."""
    subfunctions = host.subfunctions or host.personality
    capabilities = dict(host.capabilities or {})
    role = controller_role(host.personality, host.id, active_controller_id)
    if role is not None:
        capabilities["Personality"] = role
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
        "capabilities": capabilities,
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


class BulkExport(BaseModel):
    """``host-bulk-export``: the hosts file."""

    content: str = Field(description="XML, as host-bulk-add reads it")


class BulkAddResult(BaseModel):
    """``host-bulk-add``: sysinv's answer, status 200 even when no host was added."""

    success: str = Field(description="the hosts added, by hostname")
    error: str = Field(description="why each other host was not added")
