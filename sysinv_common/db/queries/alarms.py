"""Reading alarms and the event log with the filters of StarlingX's fm API.

A filter is ``(field, op, value)`` as the fm client sends it (``q.field``, ``q.op``,
``q.value``); ``eq`` is the one operator, as in StarlingX. ``entity_instance_id`` matches
the given id and the ids under it (``host=controller-0`` also finds
``host=controller-0.port=eth0``); ``start`` and ``end`` bound the event log's timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from sysinv_common.alarms import EventState, Severity, SuppressionStatus
from sysinv_common.db.models import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.errors import InvalidInput, NotFound

ALARM_FIELDS = ("uuid", "alarm_id", "entity_type_id", "entity_instance_id", "severity",
                "alarm_type", "probable_cause", "suppression_status")  # fmt: skip
EVENT_FIELDS = ("uuid", "event_log_id", "entity_type_id", "entity_instance_id", "severity",
                "event_log_type", "probable_cause", "state", "start", "end")  # fmt: skip


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: str


def parse_filters(
    fields: list[str], ops: list[str], values: list[str], allowed: tuple[str, ...]
) -> list[Filter]:
    """The client's parallel ``q.field`` / ``q.op`` / ``q.value`` lists as filters."""
    if len(fields) != len(values) or (ops and len(ops) != len(fields)):
        raise InvalidInput(
            "Invalid query: q.field, q.op and q.value must be given the same number of times"
        )
    filters = []
    for i, name in enumerate(fields):
        op = ops[i] if ops else "eq"
        if name not in allowed:
            raise InvalidInput(f"Invalid query field: '{name}'; one of {', '.join(allowed)}")
        if op != "eq":
            raise InvalidInput(f"Invalid query operator: '{op}' (only eq is supported)")
        filters.append(Filter(name, op, values[i]))
    return filters


def _entity(column: Any, value: str) -> Any:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == value, column.like(f"{escaped}.%", escape="\\"))


def _time(name: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Invalid date '{value}' specified for {name}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _check_severity(value: str) -> None:
    if value not in {s.value for s in Severity}:
        raise InvalidInput(
            f"Invalid severity: '{value}'; one of {', '.join(s.value for s in Severity)}"
        )


def list_alarms(
    session: Session, filters: list[Filter], include_suppress: bool = False,
    limit: int | None = None,
) -> list[Alarm]:  # fmt: skip
    query: Select[tuple[Alarm]] = select(Alarm)
    for f in filters:
        if f.field == "severity":
            _check_severity(f.value)
        if f.field == "entity_instance_id":
            query = query.where(_entity(Alarm.entity_instance_id, f.value))
        else:
            query = query.where(getattr(Alarm, f.field) == f.value)
    if not include_suppress:
        query = query.where(Alarm.suppression_status != SuppressionStatus.SUPPRESSED.value)
    query = query.order_by(Alarm.timestamp.desc(), Alarm.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query).all())


def get_alarm(session: Session, uuid: str) -> Alarm:
    alarm = session.scalars(select(Alarm).where(Alarm.uuid == uuid)).first()
    if alarm is None:
        raise NotFound(f"Alarm not found: {uuid}")
    return alarm


def summary(session: Session, include_suppress: bool = False) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for alarm in list_alarms(session, [], include_suppress):
        if alarm.severity in counts:
            counts[alarm.severity] += 1
    return counts


def list_events(
    session: Session, filters: list[Filter], alarms: bool = False, logs: bool = False,
    include_suppress: bool = False, limit: int | None = None,
) -> list[EventLog]:  # fmt: skip
    """Newest first; ``alarms``: raises and clears only, ``logs``: customer logs only
    (both or neither: everything)."""
    query: Select[tuple[EventLog]] = select(EventLog)
    for f in filters:
        if f.field == "severity":
            _check_severity(f.value)
        if f.field == "entity_instance_id":
            query = query.where(_entity(EventLog.entity_instance_id, f.value))
        elif f.field == "start":
            query = query.where(EventLog.timestamp >= _time("start", f.value))
        elif f.field == "end":
            query = query.where(EventLog.timestamp <= _time("end", f.value))
        else:
            query = query.where(getattr(EventLog, f.field) == f.value)
    if alarms and not logs:
        query = query.where(EventLog.state != EventState.LOG.value)
    elif logs and not alarms:
        query = query.where(EventLog.state == EventState.LOG.value)
    if not include_suppress:
        query = query.where(EventLog.suppression_status != SuppressionStatus.SUPPRESSED.value)
    query = query.order_by(EventLog.timestamp.desc(), EventLog.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query).all())


def get_event(session: Session, uuid: str) -> EventLog:
    event = session.scalars(select(EventLog).where(EventLog.uuid == uuid)).first()
    if event is None:
        raise NotFound(f"Event log not found: {uuid}")
    return event


def list_subscriptions(session: Session) -> list[AlarmSubscription]:
    return list(session.scalars(select(AlarmSubscription).order_by(AlarmSubscription.id)).all())


@dataclass(frozen=True)
class DeliveryState:
    pending: int = 0
    dead: int = 0
    #: The error of the newest delivery that failed (pending again, or dead).
    last_error: str | None = None


def delivery_states(session: Session) -> dict[int, DeliveryState]:
    """By subscription id: its deliveries still to send, its dead letters, its last error."""
    counts: dict[int, dict[str, int]] = {}
    for sub_id, status, n in session.execute(
        select(AlarmDelivery.subscription_id, AlarmDelivery.status, func.count())
        .where(AlarmDelivery.status.in_(("pending", "dead")))
        .group_by(AlarmDelivery.subscription_id, AlarmDelivery.status)
    ).all():
        counts.setdefault(sub_id, {})[status] = int(n)
    errors: dict[int, str] = {}
    for sub_id, error in session.execute(
        select(AlarmDelivery.subscription_id, AlarmDelivery.last_error)
        .where(AlarmDelivery.last_error.is_not(None))
        .order_by(AlarmDelivery.id)
    ).all():
        errors[sub_id] = error  # the newest wins
    return {
        sub_id: DeliveryState(counts.get(sub_id, {}).get("pending", 0),
                              counts.get(sub_id, {}).get("dead", 0), errors.get(sub_id))
        for sub_id in counts.keys() | errors.keys()
    }  # fmt: skip


def get_subscription(session: Session, uuid: str) -> AlarmSubscription:
    sub = session.scalars(select(AlarmSubscription).where(AlarmSubscription.uuid == uuid)).first()
    if sub is None:
        raise NotFound(f"Alarm subscription not found: {uuid}")
    return sub
