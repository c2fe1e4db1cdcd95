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
            "An already-running cluster to use as the platform-managed one (host:port of "
            "its monitors, with admin_keyring). Empty (the default): storage-backend-add "
            "ceph forms the cluster on the platform's hosts. An external cluster's monitors "
            "are given to storage-backend-add ceph-external instead."
        ),
    )
    admin_keyring: Path = Field(
        Path("/etc/ceph/ceph.client.admin.keyring"),
        description="With monitors: that cluster's client.admin keyring file (0600).",
    )
    mon_port: int = Field(
        6789, ge=1, le=65535,
        description="Formed cluster: the monitors' msgr v1 port on the controllers.",
    )  # fmt: skip
    mon_v2_port: int = Field(
        3300, ge=1, le=65535,
        description="Formed cluster: the monitors' msgr v2 port on the controllers.",
    )  # fmt: skip
    form_timeout: float = Field(
        1800.0,
        gt=0,
        description=(
            "Formed cluster: seconds a backend may stay configuring while its monitors do "
            "not answer; the Ceph audit then marks it failed with the reason."
        ),
    )
    objectstore: str = Field(
        "bluestore",
        pattern=r"^[a-z]+$",
        description="Formed cluster: the OSDs' object store (tests use memstore).",
    )
    daemon_options: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Formed cluster: extra ceph.conf [global] options given to every daemon host "
            "(memstore sizes, warning thresholds)."
        ),
    )
