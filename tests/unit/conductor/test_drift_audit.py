"""The drift audit's round on a real database: what it records, keeps and forgets, and
the alarm that follows (the comparison against a live cluster is
tests/integration/test_apps_drift.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sysinv_common import alarms
from sysinv_common.conf import load_settings
from sysinv_common.db.models import Alarm, App, AppDrift, AppRelease
from sysinv_common.db.prepare import prepare_database
from sysinv_common.db.queries.drift import drift_of
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.drift import record
from sysinv_conductor.drift.audit import DriftAuditor
from sysinv_conductor.drift.finder import ObjectDrift
from sysinv_conductor.flows import alarms as alarm_flows
from tests.unit.conductor.conftest import write_kubeconfig

T0 = datetime(2031, 5, 1, 12, 0, 0, tzinfo=UTC)
WEB = ObjectDrift("web", "web", "apps/v1", "Deployment", "ns", "web", "changed",
                  ("spec.replicas",))  # fmt: skip
CFG = ObjectDrift("cfg", "cfg", "v1", "ConfigMap", "ns", "cfg", "deleted")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ConductorContext]:
    settings = load_settings(state_dir=tmp_path / "state")
    # A cluster nobody serves and a helm that does not exist: nothing can be compared.
    settings.kubernetes.kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig"))
    settings.apps.helm_binary = str(tmp_path / "no-helm")
    settings.apps.drift_audit_interval = 60
    context = ConductorContext.build(settings, prepare_database(settings))
    yield context
    context.db.engine.dispose()


def add_app(ctx: ConductorContext, name: str, status: str) -> int:
    with ctx.db.session() as s:
        app = App(name=name, app_version="1", status=status)
        s.add(app)
        s.flush()
        s.add(AppRelease(app_id=app.id, chart_name="web", release="web", namespace="ns",
                         revision=1, status="deployed"))  # fmt: skip
        return app.id


def active(ctx: ConductorContext, name: str) -> list[str]:
    with ctx.db.session() as s:
        return [a.alarm_id for a in s.scalars(select(Alarm).where(
            Alarm.entity_instance_id == alarms.app_entity(name)))]  # fmt: skip


def test_each_object_keeps_when_it_was_first_seen(ctx: ConductorContext) -> None:
    app_id = add_app(ctx, "a", "applied")
    later = T0 + timedelta(minutes=5)
    with ctx.db.session() as s:
        record.store(s, app_id, [WEB], T0)
    with ctx.db.session() as s:
        entries = record.store(s, app_id, [WEB, CFG], later)
    assert {e["name"]: e["since"] for e in entries} == {
        "web": T0.isoformat(), "cfg": later.isoformat()}  # fmt: skip
    with ctx.db.session() as s:
        shown = drift_of(s, app_id)
        assert shown is not None
        assert shown["drifted"] is True
        assert shown["since"] == T0.isoformat()  # in UTC, with its offset
        assert shown["objects"][0]["fields"] == ["spec.replicas"]
        # Gone once repaired: since goes with it.
        record.store(s, app_id, [], later)
    with ctx.db.session() as s:
        shown = drift_of(s, app_id)
        assert shown is not None and shown["drifted"] is False and shown["since"] is None
        record.forget(s, [app_id])
    with ctx.db.session() as s:
        assert drift_of(s, app_id) is None


def test_a_round_that_cannot_compare_keeps_the_last_finding_and_says_why(
    ctx: ConductorContext,
) -> None:
    app_id = add_app(ctx, "a", "applied")
    with ctx.db.session() as s:
        record.store(s, app_id, [WEB], T0)
        alarm_flows.app_drift(s, "a", ["Deployment/ns/web: spec.replicas"])
    found = DriftAuditor(ctx).run(T0 + timedelta(minutes=5))
    assert found == {}  # nothing compared: nothing newer to record
    with ctx.db.session() as s:
        row = s.get(AppDrift, app_id)
        assert row is not None
        assert row.error is not None and row.error.startswith("not audited: ")
        assert [o["name"] for o in json.loads(row.objects)] == ["web"]
    assert active(ctx, "a") == [alarms.APP_DRIFT]  # the drift was not seen to go


def test_an_app_audited_within_half_an_interval_is_left_to_the_next_round(
    ctx: ConductorContext,
) -> None:
    app_id = add_app(ctx, "a", "applied")
    with ctx.db.session() as s:
        record.store(s, app_id, [], T0)
    DriftAuditor(ctx).run(T0 + timedelta(seconds=20))  # another conductor just did it
    with ctx.db.session() as s:
        row = s.get(AppDrift, app_id)
        assert row is not None and row.error is None
        assert row.checked_at.replace(tzinfo=UTC) == T0


def test_an_app_no_longer_applied_loses_its_drift_and_its_alarm(ctx: ConductorContext) -> None:
    removed = add_app(ctx, "removed", "uploaded")
    applying = add_app(ctx, "busy", "applying")
    with ctx.db.session() as s:
        for app_id, name in ((removed, "removed"), (applying, "busy")):
            record.store(s, app_id, [CFG], T0)
            alarm_flows.app_drift(s, name, ["ConfigMap/ns/cfg deleted"])
    DriftAuditor(ctx).run(T0 + timedelta(minutes=5))
    with ctx.db.session() as s:
        assert drift_of(s, removed) is None
        # A running apply decides: its drift stays until the audit after it.
        assert drift_of(s, applying) is not None
    assert active(ctx, "removed") == []
    assert active(ctx, "busy") == [alarms.APP_DRIFT]
