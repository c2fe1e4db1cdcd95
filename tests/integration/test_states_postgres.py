"""State writes on PostgreSQL: host writes racing for real, and what differs from SQLite.

SQLite cannot show the host race (every transaction there starts with BEGIN IMMEDIATE, so
the sweep's read already holds the write lock); PostgreSQL's READ COMMITTED lets the
heartbeat commit between the sweep's read and its write, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import App, Host
from sysinv_common.errors import Conflict
from sysinv_common.states import app as app_states
from sysinv_common.states import host as states

pytestmark = pytest.mark.postgres

T0 = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def db(postgres_db_url: str) -> Iterator[Database]:
    database = Database(postgres_db_url)
    migrate.upgrade(database.engine)
    with database.session() as s:
        s.query(Host).delete()
        s.query(App).delete()
    yield database
    database.dispose()


def test_a_heartbeat_between_the_sweeps_read_and_write_wins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as s:
        host = states.new_host(hostname="worker-0", personality="worker")
        s.add(host)
        states.mark_seen(s, host, T0)
        host_id = host.id
    take_offline = states.take_offline

    def heartbeat_then_take_offline(session: object, stale: Host) -> bool:
        # The sweep has read the host (silent since T0); its agent reports now, committed.
        with db.session() as other:
            current = other.get(Host, host_id)
            assert current is not None
            states.mark_seen(other, current, T0 + timedelta(minutes=5))
        assert stale.last_seen_at == T0  # the sweep still holds what it read
        return take_offline(session, stale)  # type: ignore[arg-type]

    monkeypatch.setattr(states, "take_offline", heartbeat_then_take_offline)
    with db.session() as s:
        sweep = states.mark_offline(s, T0 + timedelta(minutes=1))
    assert sweep == states.OfflineSweep(offline=[], skipped=["worker-0"])
    with db.session() as s:
        h = s.get(Host, host_id)
        assert h is not None
        assert (h.availability, h.last_seen_at) == ("online", T0 + timedelta(minutes=5))


def test_without_a_heartbeat_the_sweep_takes_the_host_offline(db: Database) -> None:
    with db.session() as s:
        host = states.new_host(hostname="worker-1", personality="worker")
        s.add(host)
        states.mark_seen(s, host, T0)
    with db.session() as s:
        assert states.mark_offline(s, T0 + timedelta(minutes=1)).offline == ["worker-1"]


def test_a_duplicate_upload_leaves_the_transaction_usable(db: Database) -> None:
    # PostgreSQL aborts a transaction at its first error; the savepoint keeps it going.
    lease = timedelta(seconds=60)
    with db.session() as s:
        app_states.create_upload(s, "hello", "1.0", "a" * 64, "api:1", lease)
    with db.session() as s:
        with pytest.raises(Conflict, match="application hello already exists"):
            app_states.create_upload(s, "hello", "2.0", "b" * 64, "api:2", lease)
        other = app_states.create_upload(s, "other", "1.0", "c" * 64, "api:3", lease)
    with db.session() as s:
        assert app_states.finish(s, other.id, app_states.AppOperation.UPLOAD, "api:3", True, "ok")
    with db.session() as s:
        deleted = app_states.delete(s, "other", False)
        assert deleted.digests == ("c" * 64,)
        assert sorted(s.scalars(select(App.name)).all()) == ["hello"]
