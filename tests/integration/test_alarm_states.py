"""Alarm writes on SQLite and PostgreSQL: one row per alarm and entity however often and
however concurrently it is raised, events only for what changed, clears, retention."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sysinv_common import alarms
from sysinv_common.db import migrate
from sysinv_common.db.base import utcnow
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.errors import NotFound
from sysinv_common.states import alarm as states


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_db_url"))
    else:
        url = f"sqlite:///{tmp_path / 'alarms.db'}"
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.session() as s:
        for model in (AlarmDelivery, AlarmSubscription, Alarm, EventLog):
            s.query(model).delete()
    yield database
    database.dispose()


def count(db: Database, model: type[Alarm] | type[EventLog] | type[AlarmDelivery]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_raising_twice_updates_and_logs_only_changes(db: Database) -> None:
    with db.session() as s:
        first = states.raise_alarm(s, alarms.host_offline("worker-0", 90))
        assert first is not None
        uuid = first.uuid
    with db.session() as s:
        assert states.raise_alarm(s, alarms.host_offline("worker-0", 90)) is None
    with db.session() as s:
        again = states.raise_alarm(s, alarms.host_offline("worker-0", 120))
        assert again is not None and again.uuid == uuid
        assert "120 seconds" in again.reason_text
    assert count(db, Alarm) == 1
    with db.session() as s:
        states_logged = [e.state for e in s.scalars(select(EventLog).order_by(EventLog.id))]
    assert states_logged == ["set", "set"]


def test_clear_removes_the_row_and_logs_the_clear(db: Database) -> None:
    with db.session() as s:
        states.raise_alarm(s, alarms.app_failed("apply", "hello-app", "chart web: boom"))
    with db.session() as s:
        cleared = states.clear_alarm(s, alarms.APP_APPLY_FAILED, "k8s_application=hello-app")
        assert cleared is not None
    with db.session() as s:
        assert states.clear_alarm(s, alarms.APP_APPLY_FAILED, "k8s_application=hello-app") is None
    assert count(db, Alarm) == 0
    with db.session() as s:
        last = s.scalars(select(EventLog).order_by(EventLog.id.desc())).first()
        assert last is not None and last.state == "clear"
        assert last.event_log_id == "750.002" and "chart web" in last.reason_text


def test_delete_by_uuid_is_a_clear_and_unknown_is_not_found(db: Database) -> None:
    with db.session() as s:
        alarm = states.raise_alarm(s, alarms.host_offline("worker-1", 90))
        assert alarm is not None
        uuid = alarm.uuid
    with db.session() as s:
        assert states.delete_alarm(s, uuid)["alarm_id"] == "200.004"
    with db.session() as s, pytest.raises(NotFound):
        states.delete_alarm(s, uuid)
    assert count(db, Alarm) == 0


def test_event_log_keeps_the_newest_rows(db: Database) -> None:
    with db.session() as s:
        for n in range(7):
            states.log_event(s, alarms.host_offline(f"h{n}", n))
    with db.session() as s:
        assert states.trim_event_log(s, 3) == 4
    with db.session() as s:
        left = [e.entity_instance_id for e in s.scalars(select(EventLog).order_by(EventLog.id))]
    assert left == ["host=h4", "host=h5", "host=h6"]


def test_each_event_is_queued_for_each_subscription(db: Database) -> None:
    with db.session() as s:
        states.add_subscription(s, "http://127.0.0.1:1/a", "x")
        states.add_subscription(s, "http://127.0.0.1:1/b", "y")
    with db.session() as s:
        states.raise_alarm(s, alarms.host_offline("worker-0", 90))
        states.clear_alarm(s, alarms.HOST_FAILED, "host=worker-0")
    with db.session() as s:
        rows = s.scalars(select(AlarmDelivery).order_by(AlarmDelivery.id)).all()
        assert [r.payload["event"] for r in rows] == ["raise", "raise", "clear", "clear"]
        first = rows[0].id
    now = utcnow()
    with db.session() as s:
        taken = states.claim_due(s, now, timedelta(seconds=60))
        assert len(taken) == 4
        assert states.claim_due(s, now, timedelta(seconds=60)) == []  # held
    with db.session() as s:
        assert states.attempt_failed(s, first, "refused", now, 2, 1.0) == "pending"
        assert states.attempt_failed(s, first, "refused", now, 2, 1.0) == "dead"
        row = s.get(AlarmDelivery, first)
        assert row is not None and row.attempts == 2 and row.last_error == "refused"
        for other in taken[1:]:
            states.delivered(s, other, now)
    with db.session() as s:  # delivered ones go once old enough; the dead letter stays
        assert states.forget_delivered(s, now - timedelta(seconds=1)) == 0
        assert states.forget_delivered(s, now + timedelta(seconds=1)) == 3
        assert [d.status for d in s.scalars(select(AlarmDelivery))] == ["dead"]


@pytest.mark.postgres
def test_concurrent_raisers_leave_one_row(postgres_db_url: str) -> None:
    database = Database(postgres_db_url)
    migrate.upgrade(database.engine)
    with database.session() as s:
        s.query(Alarm).delete()
        s.query(EventLog).delete()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def raiser(n: int) -> None:
        try:
            start.wait()
            for _ in range(5):
                with database.session() as s:
                    states.raise_alarm(s, alarms.config_out_of_date("worker-0", f"t{n}", None))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=raiser, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with database.session() as s:
            rows = s.scalars(select(Alarm)).all()
            assert [(r.alarm_id, r.entity_instance_id) for r in rows] == [
                ("250.001", "host=worker-0")
            ]
    finally:
        database.dispose()
