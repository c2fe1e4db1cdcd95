"""Fault management: active alarms, the event log, webhook subscriptions and their
deliveries (an outbox: each raise or clear queues one row per subscription in the same
transaction, so that no event is lost between the database and the receiver)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base, UuidMixin, utcnow


class Alarm(UuidMixin, Base):
    """One active alarm: at most one row per (alarm_id, entity_instance_id)."""

    __tablename__ = "alarms"
    __table_args__ = (
        UniqueConstraint("alarm_id", "entity_instance_id", name="uq_alarms_alarm_id_entity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[str] = mapped_column(String(16))
    entity_type_id: Mapped[str] = mapped_column(String(255))
    entity_instance_id: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    reason_text: Mapped[str] = mapped_column(Text)
    alarm_type: Mapped[str] = mapped_column(String(64))
    probable_cause: Mapped[str] = mapped_column(String(64))
    proposed_repair_action: Mapped[str] = mapped_column(Text)
    service_affecting: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether an operator may suppress it; and whether it is suppressed now.
    suppression: Mapped[bool] = mapped_column(Boolean, default=True)
    suppression_status: Mapped[str] = mapped_column(String(16), default="unsuppressed")
    #: When the alarm was last raised or changed (StarlingX's timestamp).
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EventLog(UuidMixin, Base):
    """Every raise (``set``), clear (``clear``) and customer log (``log``)."""

    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_log_id: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16))
    entity_type_id: Mapped[str] = mapped_column(String(255))
    entity_instance_id: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    reason_text: Mapped[str] = mapped_column(Text)
    event_log_type: Mapped[str] = mapped_column(String(64))
    probable_cause: Mapped[str] = mapped_column(String(64))
    proposed_repair_action: Mapped[str] = mapped_column(Text)
    service_affecting: Mapped[bool] = mapped_column(Boolean, default=False)
    suppression: Mapped[bool] = mapped_column(Boolean, default=True)
    suppression_status: Mapped[str] = mapped_column(String(16), default="unsuppressed")
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlarmSubscription(UuidMixin, Base):
    """A webhook that receives every raise and clear, signed with its secret."""

    __tablename__ = "alarm_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    #: Fernet token of the secret (the conductor's secrets key), never the secret itself.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlarmDelivery(Base):
    """One event to send to one subscription; ``dead`` after the last failed attempt."""

    __tablename__ = "alarm_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alarm_subscriptions.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: pending, delivered or dead.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
