"""The host state machine on a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host
from sysinv_common.errors import InvalidState
from sysinv_common.states import host as states


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'hosts.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def add_host(db: Database, hostname: str = "worker-0") -> int:
    with db.session() as s:
        host = states.new_host(hostname=hostname, personality="worker")
        s.add(host)
        s.flush()
        return host.id


def row(db: Database, host_id: int) -> Host:
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        return host


def test_a_new_host_starts_locked_disabled_offline(db: Database) -> None:
    with db.session() as s:
        host = states.new_host(hostname="worker-0", personality="worker")
        s.add(host)
        s.flush()
        host_id = host.id
    h = row(db, host_id)
    assert (h.administrative, h.operational, h.availability) == ("locked", "disabled", "offline")
    assert (h.hostname, h.personality) == ("worker-0", "worker")


def test_a_new_host_state_is_not_the_callers_to_choose() -> None:
    with pytest.raises(TypeError, match="availability"):
        states.new_host(hostname="worker-0", availability="available")


@pytest.mark.parametrize("operation", sorted(states.MUST_BE_LOCKED))
def test_what_must_be_locked_is_refused_on_an_unlocked_host(operation: str) -> None:
    host = states.new_host(hostname="worker-0")
    states.require_locked(host, operation)
    host.administrative = "unlocked"  # a detached object: only the check is under test
    with pytest.raises(InvalidState, match=r"worker-0.*lock it first"):
        states.require_locked(host, operation)


def test_an_operation_missing_from_the_table_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        states.require_locked(states.new_host(hostname="worker-0"), "reinstall")


T0 = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def naive(t: datetime | None) -> datetime | None:
    # SQLite gives timestamps back without their zone; they were written in UTC.
    return t.replace(tzinfo=None) if t is not None else None


def test_reports_bring_a_host_online_and_enabled(db: Database) -> None:
    host_id = add_host(db)
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        assert states.mark_seen(s, host, T0)  # came back
        assert not states.mark_seen(s, host, T0 + timedelta(seconds=1))
    h = row(db, host_id)
    assert (h.availability, h.operational) == ("online", "disabled")
    assert naive(h.last_seen_at) == naive(T0 + timedelta(seconds=1))
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        states.transition(s, host, states.Action.UNLOCK)
        host.config_target = "t1"
        states.settle(s, host)
        assert (host.availability, host.operational) == ("available", "disabled")
        states.record_config_applied(s, host, "t0", None)  # an old target: ignored
        assert host.config_applied is None
        states.record_config_applied(s, host, "t1", "docker: failed")
        assert (host.config_applied, host.config_error) == (None, "docker: failed")
        states.record_config_applied(s, host, "t1", None)
    h = row(db, host_id)
    assert (h.availability, h.operational) == ("available", "enabled")
    assert (h.config_applied, h.config_error) == ("t1", None)


def test_silent_hosts_go_offline(db: Database) -> None:
    quiet, chatty = add_host(db, "worker-0"), add_host(db, "worker-1")
    with db.session() as s:
        for host_id, seen in ((quiet, T0), (chatty, T0 + timedelta(minutes=5))):
            host = s.get(Host, host_id)
            assert host is not None
            states.mark_seen(s, host, seen)
    with db.session() as s:
        sweep = states.mark_offline(s, T0 + timedelta(minutes=1))
    assert sweep == states.OfflineSweep(offline=["worker-0"], skipped=[])
    assert (row(db, quiet).availability, row(db, quiet).operational) == ("offline", "disabled")
    assert row(db, chatty).availability == "online"


def test_mark_offline_does_not_overwrite_a_heartbeat_that_landed_after_its_read(
    db: Database,
) -> None:
    host_id = add_host(db)
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        states.mark_seen(s, host, T0)
    # The sweep reads the host as silent since T0...
    sweep = db.sessionmaker()
    stale = sweep.get(Host, host_id)
    sweep.commit()  # (SQLite serializes transactions: the heartbeat must run between two)
    assert stale is not None and stale.availability == "online"
    # ...its agent reports meanwhile (a heartbeat that changes nothing but last_seen_at)...
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        assert not states.mark_seen(s, host, T0 + timedelta(minutes=5))
    # ...and the sweep's write, still expecting last_seen_at = T0, matches no row.
    assert not states.take_offline(sweep, stale)
    assert stale.availability == "online"  # refreshed: the heartbeat's write, not the sweep's
    sweep.commit()
    sweep.close()
    h = row(db, host_id)
    assert (h.availability, naive(h.last_seen_at)) == ("online", naive(T0 + timedelta(minutes=5)))


def test_a_report_that_lost_a_race_builds_on_the_newer_write(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[bool] = []
    compare_and_set = states._compare_and_set

    def recorded(*args: Any) -> bool:
        outcomes.append(compare_and_set(*args))
        return outcomes[-1]

    host_id = add_host(db)
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        states.mark_seen(s, host, T0)
    # The heartbeat reads the host online...
    beat = db.sessionmaker()
    stale = beat.get(Host, host_id)
    beat.commit()
    assert stale is not None and stale.availability == "online"
    # ...the audit takes it offline meanwhile...
    with db.session() as s:
        assert states.mark_offline(s, T0 + timedelta(minutes=1)).offline == ["worker-0"]
    # ...so the heartbeat's first compare-and-set fails; recomputed, the host came back.
    monkeypatch.setattr(states, "_compare_and_set", recorded)
    assert states.mark_seen(beat, stale, T0 + timedelta(minutes=2))
    assert outcomes == [False, True]
    beat.commit()
    beat.close()
    h = row(db, host_id)
    assert (h.availability, naive(h.last_seen_at)) == ("online", naive(T0 + timedelta(minutes=2)))


def test_a_host_that_keeps_changing_is_refused_rather_than_overwritten(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_id = add_host(db)
    monkeypatch.setattr(states, "_compare_and_set", lambda *args: False)  # always lost
    with db.session() as s, pytest.raises(InvalidState, match="kept changing state"):
        host = s.get(Host, host_id)
        assert host is not None
        states.mark_seen(s, host, T0)
    assert row(db, host_id).availability == "offline"


def test_settle_corrects_a_row_newer_than_its_caller_read(db: Database) -> None:
    # A report enabled the host after this caller read it; the caller then moves the
    # target on, which must disable it again, though its own (stale) copy says disabled.
    host_id = add_host(db)
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        states.transition(s, host, states.Action.UNLOCK)
        states.mark_seen(s, host, T0)
        host.config_target = "t1"
        states.settle(s, host)
    caller = db.sessionmaker()
    stale = caller.get(Host, host_id)
    caller.commit()
    assert stale is not None and stale.operational == "disabled"
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        states.record_config_applied(s, host, "t1", None)
        assert host.operational == "enabled"
    stale.config_target = "t2"
    states.settle(caller, stale)
    caller.commit()
    caller.close()
    h = row(db, host_id)
    assert (h.config_target, h.config_applied, h.operational) == ("t2", "t1", "disabled")
