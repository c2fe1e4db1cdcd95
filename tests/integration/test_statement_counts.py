"""The periodic audits and a platform-wide refresh cost a constant number of SQL
statements whatever the number of hosts (issue 23): counted on the engine, at 10 hosts
and at 200, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select, update

from sysinv_common.db.models import Alarm, Host, Label, PlatformSettings
from sysinv_common.db.prepare import prepare_database
from sysinv_common.states import host as host_states
from sysinv_conductor import periodic
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config
from sysinv_conductor.kube.nodes import AuditReach
from tests.stack import make_settings


class FakeNodes:
    """A cluster whose every Node is in line but one, which refuses its labels."""

    enabled = True

    def audit_labels(
        self, desired: dict[str, dict[str, str]], locked: set[str], reach: AuditReach
    ) -> list[Any]:
        reach.listed = True
        names = sorted(desired)
        reach.in_sync.update(names[1:])
        reach.failed[names[0]] = "refused"
        return []

    def node_exists(self, hostname: str) -> bool:
        return True


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@pytest.fixture(params=["sqlite", "postgres"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConductorContext]:
    url = request.getfixturevalue("postgres_db_url") if request.param == "postgres" else None
    settings = make_settings(tmp_path / "state", url)
    settings.fm.config_grace = 0  # hosts behind their target are alarmed at once
    db = prepare_database(settings)
    context = ConductorContext.build(settings, db)
    context.kube = FakeNodes()  # type: ignore[assignment]
    with db.session() as s:  # the module's PostgreSQL database is shared by both counts
        s.execute(delete(Alarm))
        s.execute(delete(Host))
    try:
        yield context
    finally:
        db.dispose()


def add_hosts(ctx: ConductorContext, start: int, stop: int) -> None:
    """Hosts with labels; every third one's agent went silent long ago."""
    long_ago = datetime.now(UTC) - timedelta(days=1)
    with ctx.db.session() as s:
        for i in range(start, stop):
            host = host_states.new_host(hostname=f"worker-{i:04d}", personality="worker")
            host.labels = [Label(label_key=f"k{j}", label_value=f"v{i}") for j in range(3)]
            if i % 3 == 0:
                host.last_seen_at = long_ago
                host.availability = "online"
            s.add(host)


def audits(ctx: ConductorContext) -> None:
    periodic.host_audit(ctx)
    periodic.label_audit(ctx)


def steady_audit(ctx: ConductorContext) -> int:
    """Statements of a whole host audit and label audit once the hosts settled."""
    audits(ctx)  # the hosts get their targets, go offline, are alarmed (200.004)
    audits(ctx)  # their targets are past the grace: alarmed (250.001)
    with counted(ctx.db.engine) as statements:
        audits(ctx)
    return len(statements)


def platform_refresh(ctx: ConductorContext, registry: str) -> int:
    """Statements of a refresh in which every host's configuration changed."""
    with ctx.db.session() as s:
        s.execute(update(PlatformSettings).values(registry_address=registry))
    with counted(ctx.db.engine) as statements:
        changed = host_config.refresh(ctx)
    with ctx.db.session() as s:
        assert len(changed) == len(s.scalars(select(Host.id)).all())
    return len(statements)


def test_audits_and_refresh_cost_the_same_statements_at_10_and_200_hosts(
    ctx: ConductorContext,
) -> None:
    counts: dict[int, tuple[int, int]] = {}
    size = 0
    for n in (10, 200):
        add_hosts(ctx, size, n)
        size = n
        counts[n] = (steady_audit(ctx), platform_refresh(ctx, f"registry-{n}.local:9001"))
    assert counts[10] == counts[200], counts
    with ctx.db.session() as s:  # the audit did its work: alarms raised for the silent hosts
        raised = s.scalars(select(Alarm.alarm_id)).all()
    assert raised.count("200.004") == len(range(0, 200, 3))


def test_a_refresh_that_lost_a_race_builds_on_the_newer_row(ctx: ConductorContext) -> None:
    """A host whose row changed between the refresh's read and its write: its new target
    is computed again from the row as it is now, not written over it."""
    add_hosts(ctx, 0, 3)
    host_config.refresh(ctx)
    with ctx.db.session() as s:
        s.execute(update(PlatformSettings).values(registry_address="other:9001"))
    raced: list[bool] = []
    original = host_states.give_targets

    def racing(s: Any, targets: Any, now: datetime) -> list[Host]:
        if not raced and targets:
            raced.append(True)
            # Another write lands behind the object's back (as another conductor's would).
            s.execute(update(Host).where(Host.id == targets[0].host.id)
                      .values(config_applied="applied-meanwhile")
                      .execution_options(synchronize_session=False))  # fmt: skip
        return original(s, targets, now)

    host_states.give_targets = racing  # type: ignore[assignment]
    try:
        changed = host_config.refresh(ctx)
    finally:
        host_states.give_targets = original
    assert len(changed) == 3
    with ctx.db.session() as s:
        hosts = s.scalars(select(Host).order_by(Host.id)).all()
        assert hosts[0].config_applied == "applied-meanwhile"
        assert all(h.config_target and h.config_digest for h in hosts)
        assert len({h.config_target for h in hosts}) == 3


class AppliedNodes(FakeNodes):
    def ensure_labels(self, hostname: str, desired: Any, cordon: bool = False) -> Any:
        from sysinv_conductor.kube.nodes import NodeSync, NodeSyncResult

        return NodeSyncResult(NodeSync.APPLIED, f"labels applied to node {hostname}")


def test_a_label_assign_is_one_transaction_of_six_statements(ctx: ConductorContext) -> None:
    """The host locked and read with its labels, the label written, the platform settings
    and docker parameters read, the new configuration target written: nothing read twice,
    no savepoint, no second transaction for the configuration (issue 23: 11 statements in
    3 transactions)."""
    from sysinv_conductor.flows import labels

    ctx.kube = AppliedNodes()  # type: ignore[assignment]
    add_hosts(ctx, 0, 2)
    with ctx.db.session() as s:
        host_id = s.scalars(select(Host.id).where(Host.hostname == "worker-0001")).one()
    labels.assign(ctx, host_id, {"first": "1"}, False)
    began: list[int] = []

    def begin(_conn: Any) -> None:
        began.append(1)

    event.listen(ctx.db.engine, "begin", begin)
    try:
        with counted(ctx.db.engine) as statements:
            answer = labels.assign(ctx, host_id, {"k0": "new", "second": "2"}, True)
    finally:
        event.remove(ctx.db.engine, "begin", begin)
    assert sorted((r.label_key, r.label_value) for r in answer.labels) == [
        ("k0", "new"), ("second", "2")]  # fmt: skip
    work = [s for s in statements if not s.startswith("BEGIN")]
    assert len(began) == 1, statements
    assert len(work) <= 7, work  # 6, and one more: the overwritten label's UPDATE
    with ctx.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == "worker-0001")).one()
        assert {lb.label_key: lb.label_value for lb in host.labels} == {
            "k0": "new", "k1": "v1", "k2": "v1", "first": "1", "second": "2"}  # fmt: skip
        assert host.config_target and host.config_digest


class RecordedAgents:
    def __init__(self) -> None:
        self.casts: list[str] = []

    def cast(self, hostname: str, task: Any, **payload: Any) -> None:
        self.casts.append(hostname)


def test_a_new_target_is_queued_only_for_hosts_whose_agent_reported(
    ctx: ConductorContext,
) -> None:
    """A host whose agent never reported gets its configuration in the answer to its
    registration; nothing piles up in its queue meanwhile."""
    agents = RecordedAgents()
    ctx.agents = agents  # type: ignore[assignment]
    add_hosts(ctx, 0, 2)  # worker-0000 reported once (long ago), worker-0001 never
    host_config.refresh(ctx)
    assert agents.casts == ["worker-0000"]
