"""The audits' lease rules (sysinv_common.states.duties) on a real (SQLite) database, with
the clock given: who may take it, when, and what a swact does to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sysinv_common.conf.bootstrap import BootstrapSettings
from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import ConductorDuty
from sysinv_common.db.queries.system import get_system, record_bootstrap
from sysinv_common.states import duties
from sysinv_common.states import host as host_states

LEASE = timedelta(seconds=30)
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
A = duties.Conductor("conductor-a", "controller-0")
B = duties.Conductor("conductor-b", "controller-1")
A2 = duties.Conductor("conductor-a2", "controller-0")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'duties.db'}")
    migrate.upgrade(database.engine)
    with database.session() as s:
        record_bootstrap(s, BootstrapSettings())
    yield database
    database.dispose()


def claim(db: Database, me: duties.Conductor, at: datetime) -> bool:
    with db.session() as s:
        return duties.claim(s, duties.AUDITS, me, LEASE, at)


def make_active(db: Database, hostname: str | None) -> None:
    with db.session() as s:
        host_id = None
        if hostname is not None:
            host = host_states.new_host(hostname=hostname, personality="controller")
            s.add(host)
            s.flush()
            host_id = host.id
        get_system(s).active_controller_id = host_id


def test_without_an_active_controller_the_lease_decides(db: Database) -> None:
    assert claim(db, A, T0)  # the first one creates it
    assert not claim(db, B, T0 + timedelta(seconds=1))
    assert claim(db, A, T0 + timedelta(seconds=20))  # renewed: now until T0 + 50 s
    assert not claim(db, B, T0 + timedelta(seconds=49))
    assert claim(db, B, T0 + timedelta(seconds=50))  # expired: taken over
    assert not claim(db, A, T0 + timedelta(seconds=51))
    with db.session() as s:
        assert duties.lease_holder(s, duties.AUDITS) == ("conductor-b", "controller-1")


def test_the_active_controllers_conductor_takes_it_at_once(db: Database) -> None:
    assert claim(db, B, T0)
    make_active(db, "controller-0")
    assert claim(db, A, T0 + timedelta(seconds=1))  # long before B's lease expires
    # controller-1's conductor no longer renews it, and cannot take it back while held.
    assert not claim(db, B, T0 + timedelta(seconds=2))
    # A second conductor of the active controller follows the lease: it waits.
    assert not claim(db, A2, T0 + timedelta(seconds=3))
    assert claim(db, A2, T0 + timedelta(seconds=31))
    with db.session() as s:
        assert duties.lease_holder(s, duties.AUDITS) == ("conductor-a2", "controller-0")


def test_a_swact_hands_it_to_the_new_active_host(db: Database) -> None:
    make_active(db, "controller-0")
    assert claim(db, A, T0)
    # The swact's transaction: the other controller is active, the lease goes with it.
    make_active(db, "controller-1")
    with db.session() as s:
        duties.hand_over(s, duties.AUDITS, "controller-1", LEASE, T0 + timedelta(seconds=5))
        assert duties.lease_holder(s, duties.AUDITS) == (None, "controller-1")
    # The old holder lost it at once; its lease's remaining time does not count.
    assert not claim(db, A, T0 + timedelta(seconds=6))
    assert claim(db, B, T0 + timedelta(seconds=7))
    assert not claim(db, A, T0 + timedelta(seconds=8))


def test_a_handed_over_lease_nobody_takes_expires(db: Database) -> None:
    with db.session() as s:  # handed over before any conductor ever held it
        duties.hand_over(s, duties.AUDITS, "controller-1", LEASE, T0)
    assert not claim(db, A, T0 + timedelta(seconds=29))
    assert claim(db, A, T0 + timedelta(seconds=30))


def test_each_run_is_recorded_per_duty_and_conductor(db: Database) -> None:
    with db.session() as s:
        duties.record_run(s, "host-audit", A, T0)
        duties.record_run(s, "host-audit", A, T0 + timedelta(seconds=30))
        duties.record_run(s, "host-audit", B, T0 + timedelta(seconds=60))
    with db.session() as s:
        rows = {(r.holder, r.duty): r for r in s.scalars(select(ConductorDuty))}
        a = rows[("conductor-a", "host-audit")]
        assert (a.runs, a.host) == (2, "controller-0")
        assert duties.aware(a.first_run_at) == T0
        assert duties.aware(a.last_run_at) == T0 + timedelta(seconds=30)
        assert rows[("conductor-b", "host-audit")].runs == 1
