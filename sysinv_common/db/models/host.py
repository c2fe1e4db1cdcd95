"""Hosts and their labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sysinv_common.db.base import Base, TimestampMixin, UuidMixin


class Host(UuidMixin, TimestampMixin, Base):
    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    personality: Mapped[str | None] = mapped_column(String(32))
    subfunctions: Mapped[str | None] = mapped_column(String(255))
    administrative: Mapped[str] = mapped_column(String(32))
    operational: Mapped[str] = mapped_column(String(32))
    availability: Mapped[str] = mapped_column(String(32))
    mgmt_mac: Mapped[str | None] = mapped_column(String(17), unique=True)
    mgmt_ip: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Optional provisioning facts sysinv's host-add accepts; kept as given.
    bm_ip: Mapped[str | None] = mapped_column(String(64))
    bm_type: Mapped[str | None] = mapped_column(String(32))
    bm_username: Mapped[str | None] = mapped_column(String(255))
    boot_device: Mapped[str | None] = mapped_column(String(255))
    rootfs_device: Mapped[str | None] = mapped_column(String(255))
    install_output: Mapped[str | None] = mapped_column(String(32))
    console: Mapped[str | None] = mapped_column(String(255))
    hw_settle: Mapped[str | None] = mapped_column(String(16))
    clock_synchronization: Mapped[str | None] = mapped_column(String(16))
    # What the agent reported (issue: node agents) and the configuration it applied.
    inventory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config_target: Mapped[str | None] = mapped_column(String(36))
    config_applied: Mapped[str | None] = mapped_column(String(36))
    # sha256 of the desired configuration behind config_target: a new target only on change.
    config_digest: Mapped[str | None] = mapped_column(String(64))
    #: When config_target was last given: the grace of the out-of-date alarm runs from it.
    config_target_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the agent's last apply of config_target failed; None when it did not.
    config_error: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last result of syncing this host to its Kubernetes Node, as an operator reads it.
    kube_node: Mapped[str | None] = mapped_column(Text)

    labels: Mapped[list[Label]] = relationship(
        back_populates="host",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Label.label_key",
    )


class Label(UuidMixin, TimestampMixin, Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("host_id", "label_key", name="uq_labels_host_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    label_key: Mapped[str] = mapped_column(String(317))
    label_value: Mapped[str] = mapped_column(String(63))

    host: Mapped[Host] = relationship(back_populates="labels")
