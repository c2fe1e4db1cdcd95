"""The application status machine on a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.db import migrate
from sysinv_common.db.base import utcnow
from sysinv_common.db.engine import Database
from sysinv_common.db.models import App, AppChart
from sysinv_common.errors import Conflict, InvalidInput, InvalidState
from sysinv_common.states import app as states
from sysinv_common.states.app import AppOperation, AppStatus

LEASE = timedelta(seconds=60)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'apps.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def make_app(db: Database, status: AppStatus, name: str = "hello") -> int:
    with db.session() as s:
        app = App(name=name, app_version="1.0", status=status.value)
        s.add(app)
        s.flush()
        return app.id


def status(db: Database, app_id: int) -> App:
    with db.session() as s:
        app = s.get(App, app_id)
        assert app is not None
        return app


def test_apply_cycle(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    with db.session() as s:
        states.start(s, s.get(App, app_id), AppOperation.APPLY, "c1", LEASE)  # type: ignore[arg-type]
    assert status(db, app_id).status == "applying"
    with db.session() as s:
        assert not states.finish(s, app_id, AppOperation.APPLY, "c2", True, "done")
    with db.session() as s:
        assert states.finish(s, app_id, AppOperation.APPLY, "c1", True, "completed")
    app = status(db, app_id)
    assert (app.status, app.active, app.lease_holder) == ("applied", True, None)


@pytest.mark.parametrize(
    ("initial", "op"),
    [
        (AppStatus.APPLYING, AppOperation.APPLY),
        (AppStatus.UPLOAD_FAILED, AppOperation.APPLY),
        (AppStatus.UPLOADED, AppOperation.REMOVE),
        (AppStatus.UPLOADED, AppOperation.UPDATE),
        (AppStatus.UPLOADING, AppOperation.APPLY),
    ],
)
def test_illegal_starts_are_refused(db: Database, initial: AppStatus, op: AppOperation) -> None:
    app_id = make_app(db, initial)
    with db.session() as s, pytest.raises(InvalidState, match=f"Application-{op} rejected"):
        states.start(s, s.get(App, app_id), op, "c1", LEASE)  # type: ignore[arg-type]
    assert status(db, app_id).status == initial


def test_compare_and_set_lets_one_of_two_win(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    # Both requests read the app as uploaded; only the first UPDATE still matches.
    s1 = db.sessionmaker()
    s2 = db.sessionmaker()
    a1 = s1.get(App, app_id)
    s1.commit()
    a2 = s2.get(App, app_id)
    s2.commit()
    assert a1 is not None and a2 is not None
    assert a1.status == a2.status == "uploaded"
    states.start(s1, a1, AppOperation.APPLY, "c1", LEASE)
    s1.commit()
    with pytest.raises(InvalidState, match="current status is applying"):
        states.start(s2, a2, AppOperation.APPLY, "c2", LEASE)
    s2.rollback()
    s1.close()
    s2.close()
    assert status(db, app_id).lease_holder == "c1"


def test_recovery_touches_only_expired_or_own_leases(db: Database) -> None:
    own = make_app(db, AppStatus.UPLOADED)
    with db.session() as s:
        other = App(name="other", app_version="1", status="uploaded")
        expired = App(name="expired", app_version="1", status="uploaded")
        s.add_all([other, expired])
        s.flush()
        ids = (other.id, expired.id)
    with db.session() as s:
        states.start(s, s.get(App, own), AppOperation.APPLY, "me", LEASE)  # type: ignore[arg-type]
        states.start(s, s.get(App, ids[0]), AppOperation.APPLY, "live", LEASE)  # type: ignore[arg-type]
        states.start(s, s.get(App, ids[1]), AppOperation.APPLY, "dead", LEASE)  # type: ignore[arg-type]
        s.get(App, ids[1]).lease_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    with db.session() as s:
        assert sorted(states.recover(s, "me")) == sorted([own, ids[1]])
    assert status(db, own).status == "apply-failed"
    assert status(db, own).progress == "operation aborted: conductor restarted"
    assert status(db, ids[0]).status == "applying"
    assert status(db, ids[1]).status == "apply-failed"


def test_the_audit_takes_only_expired_leases_and_embedded_start_takes_all(db: Database) -> None:
    live, dead = make_app(db, AppStatus.UPLOADED), make_app(db, AppStatus.UPLOADED, name="dead")
    with db.session() as s:
        states.start(s, s.get(App, live), AppOperation.APPLY, "live", LEASE)  # type: ignore[arg-type]
        states.start(s, s.get(App, dead), AppOperation.APPLY, "dead", LEASE)  # type: ignore[arg-type]
        s.get(App, dead).lease_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    with db.session() as s:
        assert states.recover(s, None) == [dead]
    assert status(db, dead).progress == "operation aborted: its conductor stopped (lease expired)"
    assert status(db, live).status == "applying"
    with db.session() as s:
        assert states.recover(s, "me", everything=True) == [live]
    assert status(db, live).status == "apply-failed"


def test_abort_only_while_running(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    with db.session() as s, pytest.raises(InvalidState, match="no operation is in progress"):
        states.request_abort(s, s.get(App, app_id))  # type: ignore[arg-type]
    with db.session() as s:
        states.start(s, s.get(App, app_id), AppOperation.APPLY, "c1", LEASE)  # type: ignore[arg-type]
    with db.session() as s:
        states.request_abort(s, s.get(App, app_id))  # type: ignore[arg-type]
    with db.session() as s:
        assert states.abort_requested(s, app_id)


def stale_copy(db: Database, app_id: int) -> tuple[Session, App]:
    """The app as a request read it, in a session whose transaction has ended since
    (SQLite serializes transactions: another one can only run in between)."""
    session = db.sessionmaker()
    app = session.get(App, app_id)
    session.commit()
    assert app is not None
    return session, app


def test_abort_refused_when_the_operation_ended_meanwhile(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    with db.session() as s:
        states.start(s, s.get(App, app_id), AppOperation.APPLY, "c1", LEASE)  # type: ignore[arg-type]
    session, stale = stale_copy(db, app_id)
    assert stale.status == "applying"
    with db.session() as s:
        assert states.finish(s, app_id, AppOperation.APPLY, "c1", True, "completed")
    with pytest.raises(
        InvalidState, match=r"no operation is in progress for hello \(status applied"
    ):
        states.request_abort(session, stale)
    session.close()
    assert not status(db, app_id).abort_requested


def test_abort_refused_when_another_operation_started_meanwhile(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    with db.session() as s:
        states.start(s, s.get(App, app_id), AppOperation.APPLY, "c1", LEASE)  # type: ignore[arg-type]
    session, stale = stale_copy(db, app_id)
    with db.session() as s:
        assert states.finish(s, app_id, AppOperation.APPLY, "c1", True, "completed")
        states.start(s, s.get(App, app_id), AppOperation.REMOVE, "c2", LEASE)  # type: ignore[arg-type]
    with pytest.raises(InvalidState, match="status of hello changed to removing meanwhile"):
        states.request_abort(session, stale)
    session.close()
    assert not status(db, app_id).abort_requested


def test_create_upload_starts_the_upload(db: Database) -> None:
    with db.session() as s:
        app = states.create_upload(s, "hello", "1.0", "d" * 64, "api:1", LEASE)
        app_id = app.id
    app = status(db, app_id)
    assert (app.name, app.app_version, app.status, app.operation) == (
        "hello", "1.0", "uploading", "upload",
    )  # fmt: skip
    assert app.lease_expires_at is not None and not app.active and not app.abort_requested
    with db.session() as s:
        assert states.claim(s, app_id, "api:1", "c1", LEASE)


def test_create_upload_refuses_a_duplicate_name(db: Database) -> None:
    app_id = make_app(db, AppStatus.APPLIED)
    with db.session() as s:
        with pytest.raises(Conflict, match="application hello already exists"):
            states.create_upload(s, "hello", "2.0", "d" * 64, "api:1", LEASE)
        # Refused inside a savepoint: the caller's transaction goes on.
        other = states.create_upload(s, "other", "1.0", "e" * 64, "api:2", LEASE)
    assert status(db, other.id).status == "uploading"
    assert status(db, app_id).app_version == "1.0"


def test_start_update_records_its_target_in_the_same_update(db: Database) -> None:
    app_id = make_app(db, AppStatus.APPLIED)
    with db.session() as s:
        app = s.get(App, app_id)
        assert app is not None
        states.start_update(s, app, "2.0", "f" * 64, "api:1", LEASE, True)
        assert (app.status, app.target_version) == ("updating", "2.0")
    app = status(db, app_id)
    assert (app.status, app.operation, app.lease_holder) == ("updating", "update", "api:1")
    assert (app.app_version, app.target_version, app.target_tarball_digest) == (
        "1.0", "2.0", "f" * 64,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("initial", "version", "error", "message"),
    [
        (AppStatus.APPLIED, "1.0", InvalidInput, "hello is already at version 1.0"),
        (AppStatus.UPLOADED, "2.0", InvalidState, "current status is uploaded"),
        (AppStatus.UPLOADED, "1.0", InvalidState, "current status is uploaded"),
    ],
)
def test_start_update_refusals(
    db: Database, initial: AppStatus, version: str, error: type[Exception], message: str
) -> None:
    app_id = make_app(db, initial)
    with db.session() as s, pytest.raises(error, match=f"Application-update rejected: .*{message}"):
        states.start_update(s, s.get(App, app_id), version, "f" * 64, "api:1", LEASE, None)  # type: ignore[arg-type]
    app = status(db, app_id)
    assert (app.status, app.target_version) == (initial, None)


def test_start_update_refused_when_an_update_completed_meanwhile(db: Database) -> None:
    app_id = make_app(db, AppStatus.APPLIED)
    session, stale = stale_copy(db, app_id)
    with db.session() as s:
        app = s.get(App, app_id)
        assert app is not None
        app.app_version = "2.0"  # another update, started and finished meanwhile
    with pytest.raises(InvalidInput, match=r"already at version 2\.0"):
        states.start_update(session, stale, "2.0", "f" * 64, "api:1", LEASE, None)
    session.close()
    assert (status(db, app_id).status, status(db, app_id).target_version) == ("applied", None)


def add_chart(db: Database, app_id: int) -> None:
    with db.session() as s:
        s.add(AppChart(app_id=app_id, chart_name="c", namespace="n", enabled=True))


@pytest.mark.parametrize(
    ("initial", "forced"),
    [(AppStatus.UPLOADED, False), (AppStatus.UPLOAD_FAILED, False), (AppStatus.APPLY_FAILED, True),
     (AppStatus.REMOVE_FAILED, True), (AppStatus.UPLOADED, True)],
)  # fmt: skip
def test_delete_removes_the_row_and_what_hangs_on_it(
    db: Database, initial: AppStatus, forced: bool
) -> None:
    app_id = make_app(db, initial)
    add_chart(db, app_id)
    with db.session() as s:
        app = s.get(App, app_id)
        assert app is not None
        app.tarball_digest, app.target_tarball_digest = "a" * 64, "b" * 64
    with db.session() as s:
        deleted = states.delete(s, "hello", forced)
    assert deleted == states.DeletedApp(app_id, "hello", "1.0", ("a" * 64, "b" * 64))
    with db.session() as s:
        assert s.get(App, app_id) is None
        assert s.scalars(select(AppChart)).all() == []


@pytest.mark.parametrize(
    ("initial", "forced", "hint"),
    [
        (AppStatus.APPLY_FAILED, False, "; use force"),
        (AppStatus.REMOVE_FAILED, False, "; use force"),
        (AppStatus.APPLIED, False, ""),
        (AppStatus.APPLIED, True, ""),
        (AppStatus.APPLYING, True, ""),
        (AppStatus.UPLOADING, True, ""),
        (AppStatus.UPDATING, False, ""),
    ],
)
def test_delete_refused_by_status(
    db: Database, initial: AppStatus, forced: bool, hint: str
) -> None:
    app_id = make_app(db, initial)
    expected = (
        "Application-delete rejected: operation is not allowed while the current "
        f"status is {initial}{hint}."
    )
    with db.session() as s, pytest.raises(InvalidState) as refused:
        states.delete(s, "hello", forced)
    assert refused.value.message == expected
    assert status(db, app_id).status == initial


def test_delete_of_an_unknown_app(db: Database) -> None:
    with db.session() as s, pytest.raises(InvalidInput) as refused:
        states.delete(s, "ghost", True)
    assert refused.value.message == "Application-delete rejected: application ghost not found."


def test_delete_keeps_the_session_consistent(db: Database) -> None:
    app_id = make_app(db, AppStatus.UPLOADED)
    with db.session() as s:
        app = s.get(App, app_id)
        assert app is not None
        states.delete(s, "hello", False)
        assert s.get(App, app_id) is None  # not served from the identity map
