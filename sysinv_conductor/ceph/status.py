"""The cluster's health and usage, as ``storage-backend-show`` reports them."""

from __future__ import annotations

from dataclasses import dataclass

from sysinv_conductor.ceph.client import CephClient


@dataclass(frozen=True)
class CephStatus:
    fsid: str
    #: HEALTH_OK, HEALTH_WARN or HEALTH_ERR.
    health: str
    #: The checks behind a health other than OK: code -> summary.
    checks: dict[str, str]
    total_bytes: int
    used_bytes: int
    avail_bytes: int
    osds: int
    osds_up: int


def cluster_status(ceph: CephClient) -> CephStatus:
    status = ceph.command("status")
    health = status["health"]
    checks = {
        str(code): str(check.get("summary", {}).get("message", ""))
        for code, check in (health.get("checks") or {}).items()
    }
    df = ceph.command("df")["stats"]
    osdmap = status.get("osdmap", {})
    osdmap = osdmap.get("osdmap", osdmap)  # nested one level deeper before Quincy
    return CephStatus(
        fsid=str(status["fsid"]),
        health=str(health["status"]),
        checks=checks,
        total_bytes=int(df["total_bytes"]),
        used_bytes=int(df["total_used_raw_bytes"]),
        avail_bytes=int(df["total_avail_bytes"]),
        osds=int(osdmap.get("num_osds", 0)),
        osds_up=int(osdmap.get("num_up_osds", 0)),
    )
