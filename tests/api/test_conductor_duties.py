"""The periodic audits run in one conductor at a time, and follow host-swact.

Two real conductors (Celery workers and audit threads) on one database, each told it runs
on another controller; the proof is the database's own record of who ran each audit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common.db.engine import Database
from sysinv_common.db.models import ConductorDuty, ConductorLease
from sysinv_common.db.queries.system import get_system
from sysinv_common.messaging.app import make_celery
from sysinv_common.states import duties
from sysinv_conductor.service import ConductorService
from tests.api.test_controllers import enable, role, two_controllers
from tests.servers.postgres import PostgresServer
from tests.stack import Stack, make_settings, running_stack, wait_until

#: Short rounds and lease, so that a hand-over takes seconds, not minutes; the lease still
#: outlasts a busy shared test machine's pauses, as a real one outlasts a real machine's.
LEASE = 5.0
#: A window in which each quick audit runs several times.
WINDOW = 3.0
FAST: dict[str, Any] = {
    "conductor": {"duty_lease": LEASE},
    "fm": {"notify_interval": 0.2},
    "agent": {"audit_interval": 0.3},
    "kubernetes": {"label_audit_interval": 0.3},
    "apps": {"audit_interval": 0.3, "drift_audit_interval": 0},
    "ceph": {"audit_interval": 0.3},
}
#: The audits whose interval is short enough to have run in any few-second window.
QUICK = ("alarm-notify", "host-audit", "label-audit", "ceph-audit")


class Pair:
    """Conductor ``a`` (with the API) on controller-0, conductor ``b`` on controller-1."""

    def __init__(self, stack: Stack, b: ConductorService) -> None:
        self.stack, self.a, self.b = stack, stack.conductor, b

    def runs(self) -> dict[tuple[str, str], int]:
        """(conductor id, duty) -> runs recorded so far."""
        with self.stack.db.session() as s:
            rows = s.scalars(select(ConductorDuty)).all()
            return {(r.holder, r.duty): r.runs for r in rows}

    def first_run(self, holder: str) -> datetime | None:
        with self.stack.db.session() as s:
            first = s.scalars(
                select(ConductorDuty.first_run_at).where(ConductorDuty.holder == holder)
            ).all()
        return min((duties.aware(f) for f in first if f), default=None)  # type: ignore[type-var]

    def holder(self) -> str | None:
        with self.stack.db.session() as s:
            return duties.lease_holder(s, duties.AUDITS)[0]


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    if request.param == "postgres":  # a database of this test's own: postgres_db_url is
        postgres: PostgresServer = request.getfixturevalue("postgres_server")  # per module
        name, url = postgres.create_database()
        try:
            yield from _pair(tmp_path, url)
        finally:
            postgres.drop_database(name)
    else:
        yield from _pair(tmp_path, f"sqlite:///{tmp_path / 'a' / 'sysinv.db'}")


def _pair(tmp_path: Path, url: str) -> Iterator[Pair]:
    a = make_settings(tmp_path / "a", url, conductor_id="conductor-a", **FAST)
    a.conductor.host = "controller-0"
    b = make_settings(tmp_path / "b", url, conductor_id="conductor-b", **FAST)
    b.conductor.host = "controller-1"
    b.agent.master_key_file = a.agent_master_key_path  # every conductor shares it
    with running_stack(a) as stack:
        # conductor-a holds the lease before conductor-b exists: which one a test stops
        # is then known.
        wait_until("conductor-a holding the audits", lambda: Pair(stack, stack.conductor).holder())
        other = ConductorService(
            b, app=make_celery(b.messaging, name=f"test-b-{uuid.uuid4().hex[:6]}"),
            db=Database.from_settings(b),
        )  # fmt: skip
        other.start_in_thread()
        try:
            yield Pair(stack, other)
        finally:
            other.stop()
            other.ctx.db.dispose()


Runs = dict[tuple[str, str], int]


def grew(before: Runs, after: Runs, who: str) -> set[str]:
    """The duties ``who`` ran between the two snapshots."""
    return {
        duty
        for (holder, duty), n in after.items()
        if holder == who and n > before.get((holder, duty), 0)
    }


def watch(pair: Pair, seconds: float) -> tuple[Runs, Runs]:
    before = pair.runs()
    time.sleep(seconds)
    return before, pair.runs()


def test_audits_follow_the_active_controller_and_a_swact(pair: Pair) -> None:
    stack = pair.stack
    with stack.db.session() as s:
        get_system(s).system_mode = "duplex"
    c0, c1 = two_controllers(stack)
    enable(stack, "controller-1")
    assert role(stack, c0) == "Controller-Active"
    wait_until("controller-0's conductor holding the audits",
               lambda: pair.holder() == "conductor-a")  # fmt: skip

    # Only conductor-a audits: every quick audit ran there, none in conductor-b.
    before, after = watch(pair, WINDOW)
    assert grew(before, after, "conductor-a") >= set(QUICK)
    assert grew(before, after, "conductor-b") == set()

    started = time.monotonic()
    swact_at = datetime.now(UTC)
    r = stack.action(c0, "swact")
    assert r.status_code == 200, r.text
    assert role(stack, c1) == "Controller-Active"
    first = wait_until("conductor-b's first audit after the swact", lambda: {
        duty for (holder, duty), _ in pair.runs().items() if holder == "conductor-b"})  # fmt: skip
    took = time.monotonic() - started
    first_at = pair.first_run("conductor-b")
    assert first_at is not None and first_at >= swact_at
    print(f"\nswact time (host-swact call to the first audit by the new active conductor): "
          f"{took:.2f} s ({sorted(first)})")  # fmt: skip
    assert took < LEASE, "the new active conductor takes the audits at once, not on expiry"

    # From then on, only conductor-b audits.
    before, after = watch(pair, WINDOW)
    assert grew(before, after, "conductor-b") >= set(QUICK)
    assert grew(before, after, "conductor-a") == set()


def test_a_stopped_lease_holder_is_replaced_once_its_lease_expires(pair: Pair) -> None:
    # No controller at all, so none is active: the lease alone decides.
    before, after = watch(pair, WINDOW)
    assert pair.holder() == "conductor-a"
    assert grew(before, after, "conductor-a") >= set(QUICK)
    assert grew(before, after, "conductor-b") == set()

    pair.a.stop()
    time.sleep(0.5)  # a round under way when it was stopped ends
    with pair.stack.db.session() as s:
        lease = s.get(ConductorLease, duties.AUDITS)
        assert lease is not None and lease.holder == "conductor-a"
        expires = duties.aware(lease.expires_at)
    assert expires is not None
    wait_until("conductor-b taking the audits over", lambda: pair.holder() == "conductor-b",
               timeout=3 * LEASE)  # fmt: skip
    first_at = pair.first_run("conductor-b")
    assert first_at is not None and first_at >= expires, "taken before the lease expired"

    before, after = watch(pair, WINDOW)
    assert grew(before, after, "conductor-b") >= set(QUICK)
    assert grew(before, after, "conductor-a") == set()
