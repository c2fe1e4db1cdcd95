"""Alarms, the event log and webhook deliveries: the only module that writes them.

A raise is one ``INSERT .. ON CONFLICT (alarm_id, entity_instance_id) DO UPDATE`` (the
dialect's own insert on PostgreSQL and SQLite), so that raising twice, or two conductors
raising at once, leaves one row; the update happens only when something an operator reads
changed, and only then is an event logged and a notification queued. A clear deletes the
row and logs the clear. Every logged raise and clear queues one delivery per webhook
subscription in the same transaction (an outbox): the conductor sends them later, at least
once, and a delivery that failed its last attempt stays as a dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sysinv_common.alarms import EventState, Fault, SuppressionStatus
from sysinv_common.db.base import new_uuid, utcnow
from sysinv_common.db.models import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.errors import NotFound

#: The fields of an alarm an operator reads; a raise changing none of them is no event.
_CONTENT = (
    "severity", "reason_text", "alarm_type", "probable_cause", "proposed_repair_action",
    "service_affecting", "suppression",
)  # fmt: skip

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def _insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(Alarm)
    if name == "sqlite":
        return sqlite.insert(Alarm)
    raise NotImplementedError(f"alarms on {name}")


def alarm_dict(alarm: Alarm) -> dict[str, Any]:
    """An alarm as the API and the webhooks show it (StarlingX's keys)."""
    return {
        "uuid": alarm.uuid,
        "alarm_id": alarm.alarm_id,
        "alarm_state": EventState.SET.value,
        "entity_type_id": alarm.entity_type_id,
        "entity_instance_id": alarm.entity_instance_id,
        "timestamp": _utc(alarm.timestamp).isoformat(),
        "severity": alarm.severity,
        "reason_text": alarm.reason_text,
        "alarm_type": alarm.alarm_type,
        "probable_cause": alarm.probable_cause,
        "proposed_repair_action": alarm.proposed_repair_action,
        "service_affecting": alarm.service_affecting,
        "suppression": alarm.suppression,
        "suppression_status": alarm.suppression_status,
        "mgmt_affecting": str(alarm.service_affecting),
        "degrade_affecting": "False",
    }


def _utc(when: datetime) -> datetime:
    """SQLite answers naive datetimes, which are UTC here."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def raise_alarm(session: Session, fault: Fault, now: datetime | None = None) -> Alarm | None:
    """Raise ``fault`` or update the raised one; the alarm if this was an event (new, or
    changed), None when the same alarm was already raised as is."""
    now = now or utcnow()
    values: dict[str, Any] = {
        "alarm_id": fault.alarm_id,
        "entity_type_id": fault.entity_type_id,
        "entity_instance_id": fault.entity_instance_id,
        "severity": fault.severity.value,
        "reason_text": fault.reason_text,
        "alarm_type": fault.alarm_type,
        "probable_cause": fault.probable_cause,
        "proposed_repair_action": fault.proposed_repair_action,
        "service_affecting": fault.service_affecting,
        "suppression": fault.suppression,
    }
    stmt = _insert(session).values(
        **values, uuid=new_uuid(), suppression_status=SuppressionStatus.UNSUPPRESSED.value,
        timestamp=now, created_at=now,
    )  # fmt: skip
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[Alarm.alarm_id, Alarm.entity_instance_id],
        set_={**{k: excluded[k] for k in _CONTENT}, "timestamp": now, "updated_at": now},
        where=or_(*(getattr(Alarm, k) != excluded[k] for k in _CONTENT)),
    ).returning(Alarm.id)
    alarm_pk = session.execute(stmt).scalar()
    if alarm_pk is None:
        return None  # raised already, unchanged
    alarm = session.execute(
        select(Alarm).where(Alarm.id == alarm_pk).execution_options(populate_existing=True)
    ).scalar_one()
    _log(session, alarm, EventState.SET, now)
    return alarm


def clear_alarm(
    session: Session, alarm_id: str, entity_instance_id: str, now: datetime | None = None
) -> Alarm | None:
    """Clear the alarm if it is raised; the cleared alarm, or None if none was."""
    alarm = session.scalars(
        select(Alarm).where(
            Alarm.alarm_id == alarm_id, Alarm.entity_instance_id == entity_instance_id
        )
    ).first()
    if alarm is None:
        return None
    return _clear(session, alarm, now or utcnow())


def _clear(session: Session, alarm: Alarm, now: datetime) -> Alarm | None:
    gone = session.execute(
        delete(Alarm).where(Alarm.id == alarm.id).execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return None  # cleared by another conductor meanwhile: it logged the clear
    _log(session, alarm, EventState.CLEAR, now)
    return alarm


def delete_alarm(session: Session, uuid: str) -> dict[str, Any]:
    """An operator deletes an alarm (``fm alarm-delete``): logged as a clear."""
    alarm = session.scalars(select(Alarm).where(Alarm.uuid == uuid)).first()
    if alarm is None or _clear(session, alarm, utcnow()) is None:
        raise NotFound(f"Alarm not found: {uuid}")
    return alarm_dict(alarm)


def raised(
    session: Session, alarm_ids: tuple[str, ...], entity_type_id: str
) -> set[tuple[str, str]]:
    """(alarm_id, entity_instance_id) of the raised alarms among ``alarm_ids``."""
    rows = session.execute(
        select(Alarm.alarm_id, Alarm.entity_instance_id).where(
            Alarm.alarm_id.in_(alarm_ids), Alarm.entity_type_id == entity_type_id
        )
    ).all()
    return {(r[0], r[1]) for r in rows}


def content(fault: Fault) -> tuple[Any, ...]:
    """What an operator reads of ``fault``, as :func:`raised_as` answers it for a row."""
    return (
        fault.severity.value, fault.reason_text, fault.alarm_type, fault.probable_cause,
        fault.proposed_repair_action, fault.service_affecting, fault.suppression,
    )  # fmt: skip


def raised_as(
    session: Session, alarm_ids: tuple[str, ...], entity_type_id: str
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The raised alarms among ``alarm_ids`` by (alarm_id, entity_instance_id), each with
    what an operator reads of it (:func:`content`): one statement, so that an audit
    raises only what is new or changed."""
    rows = session.execute(
        select(Alarm.alarm_id, Alarm.entity_instance_id, *(getattr(Alarm, k) for k in _CONTENT))
        .where(Alarm.alarm_id.in_(alarm_ids), Alarm.entity_type_id == entity_type_id)
    ).all()  # fmt: skip
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def _log(session: Session, alarm: Alarm, state: EventState, now: datetime) -> None:
    event = EventLog(
        uuid=new_uuid(), event_log_id=alarm.alarm_id, state=state.value,
        entity_type_id=alarm.entity_type_id, entity_instance_id=alarm.entity_instance_id,
        severity=alarm.severity, reason_text=alarm.reason_text,
        event_log_type=alarm.alarm_type, probable_cause=alarm.probable_cause,
        proposed_repair_action=alarm.proposed_repair_action,
        service_affecting=alarm.service_affecting, suppression=alarm.suppression,
        suppression_status=alarm.suppression_status, timestamp=now,
    )  # fmt: skip
    session.add(event)
    payload = {
        "event": "raise" if state is EventState.SET else "clear",
        "event_log_uuid": event.uuid,
        "timestamp": _utc(now).isoformat(),
        "alarm": {**alarm_dict(alarm), "alarm_state": state.value},
    }
    for sub_id in session.scalars(select(AlarmSubscription.id)).all():
        session.add(AlarmDelivery(subscription_id=sub_id, payload=payload, next_attempt_at=now))
    session.flush()


def log_event(session: Session, fault: Fault, now: datetime | None = None) -> EventLog:
    """A customer log: an event with no alarm behind it."""
    event = EventLog(
        uuid=new_uuid(), event_log_id=fault.alarm_id, state=EventState.LOG.value,
        entity_type_id=fault.entity_type_id, entity_instance_id=fault.entity_instance_id,
        severity=fault.severity.value, reason_text=fault.reason_text,
        event_log_type=fault.alarm_type, probable_cause=fault.probable_cause,
        proposed_repair_action=fault.proposed_repair_action,
        service_affecting=fault.service_affecting, suppression=fault.suppression,
        suppression_status=SuppressionStatus.UNSUPPRESSED.value, timestamp=now or utcnow(),
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def forget_delivered(session: Session, before: datetime) -> int:
    """Delivered deliveries older than ``before`` go; dead letters stay."""
    gone = session.execute(
        delete(AlarmDelivery)
        .where(AlarmDelivery.status == DELIVERED, AlarmDelivery.delivered_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]


def trim_event_log(session: Session, keep: int) -> int:
    """Delete all but the newest ``keep`` events; how many went."""
    boundary = session.scalar(
        select(EventLog.id).order_by(EventLog.id.desc()).offset(keep).limit(1)
    )
    if boundary is None:
        return 0
    gone = session.execute(
        delete(EventLog).where(EventLog.id <= boundary).execution_options(synchronize_session=False)
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]


# -- subscriptions and deliveries ----------------------------------------------------------


def add_subscription(session: Session, url: str, secret_ciphertext: str) -> AlarmSubscription:
    sub = AlarmSubscription(url=url, secret_ciphertext=secret_ciphertext)
    session.add(sub)
    session.flush()
    return sub


def delete_subscription(session: Session, uuid: str) -> None:
    sub = session.scalars(select(AlarmSubscription).where(AlarmSubscription.uuid == uuid)).first()
    if sub is None:
        raise NotFound(f"Alarm subscription not found: {uuid}")
    session.delete(sub)


def claim_due(session: Session, now: datetime, hold: timedelta, limit: int = 50) -> list[int]:
    """Pending deliveries whose time came, each held for ``hold`` by this caller (a
    compare-and-set on ``next_attempt_at``, so two conductors never both take one)."""
    due = session.execute(
        select(AlarmDelivery.id, AlarmDelivery.next_attempt_at)
        .where(AlarmDelivery.status == PENDING, AlarmDelivery.next_attempt_at <= now)
        .order_by(AlarmDelivery.id)
        .limit(limit)
    ).all()
    taken = []
    for delivery_id, when in due:
        won = session.execute(
            update(AlarmDelivery)
            .where(AlarmDelivery.id == delivery_id, AlarmDelivery.next_attempt_at == when,
                   AlarmDelivery.status == PENDING)
            .values(next_attempt_at=now + hold)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if won.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(delivery_id)
    return taken


def delivered(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(
        update(AlarmDelivery)
        .where(AlarmDelivery.id == delivery_id)
        .values(status=DELIVERED, attempts=AlarmDelivery.attempts + 1, delivered_at=now,
                last_error=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


def attempt_failed(
    session: Session, delivery_id: int, error: str, now: datetime, attempts: int,
    backoff: float,
) -> str:  # fmt: skip
    """Record a failed attempt; ``dead`` after ``attempts`` of them, else retried after
    ``backoff`` doubled for each attempt made. Answers the delivery's new status."""
    row = session.get(AlarmDelivery, delivery_id)
    if row is None:
        return DEAD  # its subscription was deleted meanwhile
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= attempts:
        row.status = DEAD
    else:
        row.next_attempt_at = now + timedelta(seconds=backoff * 2 ** (row.attempts - 1))
    return row.status
