"""Alarms, event log rows and alarm webhook subscriptions on the wire, with the keys of
StarlingX's fm REST API (``fm alarm-list``, ``fm event-list`` read them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from sysinv_api.schemas.common import iso
from sysinv_common.alarms import EventState
from sysinv_common.db.models import Alarm, AlarmSubscription, EventLog
from sysinv_common.db.queries.alarms import DeliveryState


class AlarmOut(BaseModel):
    uuid: str
    alarm_id: str = Field(description="StarlingX's structured id, e.g. 200.004.")
    alarm_state: str = Field(description="Always `set` for an active alarm.")
    entity_type_id: str
    entity_instance_id: str = Field(description="e.g. `host=controller-0`.")
    timestamp: str | None = Field(description="When it was last raised or changed (UTC).")
    severity: str = Field(description="critical, major, minor or warning.")
    reason_text: str
    alarm_type: str
    probable_cause: str
    proposed_repair_action: str
    service_affecting: bool
    suppression: bool = Field(description="Whether an operator may suppress it.")
    suppression_status: str = Field(description="suppressed or unsuppressed.")
    mgmt_affecting: str
    degrade_affecting: str


class AlarmList(BaseModel):
    alarms: list[AlarmOut]


class AlarmSummary(BaseModel):
    critical: int
    major: int
    minor: int
    warnings: int
    status: str = Field(description="OK, degraded (major or minor alarms) or critical.")
    system_uuid: str


class EventOut(BaseModel):
    uuid: str
    event_log_id: str
    state: str = Field(description="set (raised), clear (cleared) or log (a customer log).")
    entity_type_id: str
    entity_instance_id: str
    timestamp: str | None
    severity: str
    reason_text: str
    event_log_type: str
    probable_cause: str
    proposed_repair_action: str
    service_affecting: bool
    suppression: bool
    suppression_status: str


class EventList(BaseModel):
    event_log: list[EventOut]


class SubscriptionOut(BaseModel):
    uuid: str
    url: str
    created_at: str | None
    pending: int = Field(0, description="Events not delivered yet (being retried).")
    dead: int = Field(0, description="Events abandoned after their last attempt.")
    last_error: str | None = Field(None, description="Why the newest failed attempt failed.")


class SubscriptionShown(SubscriptionOut):
    secret: str | None = Field(
        None, description="Only when an admin asks for it (show_secret=true)."
    )


class SubscriptionList(BaseModel):
    alarm_subscriptions: list[SubscriptionOut]


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=2048, description="Where raise and clear events are POSTed (http or https)."
    )
    secret: str = Field(
        min_length=1,
        max_length=1024,
        description="Key of the X-Sysinv-Signature header: sha256=HMAC-SHA256(secret, body).",
    )


def alarm_out(a: Alarm) -> dict[str, Any]:
    return {
        "uuid": a.uuid, "alarm_id": a.alarm_id, "alarm_state": EventState.SET.value,
        "entity_type_id": a.entity_type_id, "entity_instance_id": a.entity_instance_id,
        "timestamp": iso(a.timestamp), "severity": a.severity, "reason_text": a.reason_text,
        "alarm_type": a.alarm_type, "probable_cause": a.probable_cause,
        "proposed_repair_action": a.proposed_repair_action,
        "service_affecting": a.service_affecting, "suppression": a.suppression,
        "suppression_status": a.suppression_status,
        "mgmt_affecting": str(a.service_affecting), "degrade_affecting": "False",
    }  # fmt: skip


def event_out(e: EventLog) -> dict[str, Any]:
    return {
        "uuid": e.uuid, "event_log_id": e.event_log_id, "state": e.state,
        "entity_type_id": e.entity_type_id, "entity_instance_id": e.entity_instance_id,
        "timestamp": iso(e.timestamp), "severity": e.severity, "reason_text": e.reason_text,
        "event_log_type": e.event_log_type, "probable_cause": e.probable_cause,
        "proposed_repair_action": e.proposed_repair_action,
        "service_affecting": e.service_affecting, "suppression": e.suppression,
        "suppression_status": e.suppression_status,
    }  # fmt: skip


def subscription_out(s: AlarmSubscription, state: DeliveryState | None = None) -> dict[str, Any]:
    state = state or DeliveryState()
    return {
        "uuid": s.uuid, "url": s.url, "created_at": iso(s.created_at),
        "pending": state.pending, "dead": state.dead, "last_error": state.last_error,
    }  # fmt: skip
