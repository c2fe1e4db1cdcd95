"""The conductor's Ceph client: timeouts, and where a platform-managed cluster is found."""

from pathlib import Path

from pydantic import BaseModel, Field


class CephClientSettings(BaseModel):
    connect_timeout: float = Field(
        10.0,
        gt=0,
        description=(
            "Conductor: seconds to reach and authenticate with a Ceph monitor (also "
            "client_mount_timeout). A wrong key looks like an unreachable monitor to the "
            "client, so both fail after this long."
        ),
    )
    op_timeout: float = Field(
        15.0,
        gt=0,
        description="Conductor: seconds one monitor command or OSD operation may take.",
    )
    audit_interval: float = Field(
        60.0,
        gt=0,
        description=(
            "Conductor: seconds between reads of the configured Ceph backend's health; "
            "anything but HEALTH_OK raises alarm 800.001, which HEALTH_OK clears."
        ),
    )
    monitors: list[str] = Field(
        default_factory=list,
        description=(
            "The platform-managed cluster's monitors (host:port), which the nodes' Ceph "
            "configuration runs; an external cluster's are given to storage-backend-add."
        ),
    )
    admin_keyring: Path = Field(
        Path("/etc/ceph/ceph.client.admin.keyring"),
        description="The platform-managed cluster's client.admin keyring file (0600).",
    )
