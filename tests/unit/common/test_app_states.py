"""The application status machine on a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sysinv_common.db import migrate
from sysinv_common.db.base import utcnow
from sysinv_common.db.engine import Database
from sysinv_common.db.models import App
from sysinv_common.errors import InvalidState
from sysinv_common.states import app as states
from sysinv_common.states.app import AppOperation, AppStatus

LEASE = timedelta(seconds=60)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'apps.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def make_app(db: Database, status: AppStatus) -> int:
    with db.session() as s:
        app = App(name="hello", app_version="1.0", status=status.value)
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
