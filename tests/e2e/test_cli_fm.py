"""The ``fm`` console script against a live ``sysinv aio`` process."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
import yaml
from sqlalchemy import delete, update

from sysinv_common import alarms
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.states import alarm as states
from tests.e2e.conftest import BIN, Aio


def fm(aio: Aio, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SYSTEM_URL", "FM_URL")}
    result = subprocess.run(
        [str(BIN / "fm"), *args], env=dict(env, FM_URL=aio.url, OS_AUTH_TOKEN="unused"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"fm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


@pytest.fixture
def seeded(aio: Aio) -> Iterator[Database]:
    """The aio's own database with a few alarms raised as the conductor raises them."""
    db = Database(f"sqlite:///{aio.data_dir / 'sysinv.db'}")
    with db.session() as s:
        for model in (AlarmDelivery, AlarmSubscription, Alarm, EventLog):
            s.execute(delete(model))
        states.raise_alarm(s, alarms.host_offline("controller-1", 90))
        states.raise_alarm(s, alarms.app_failed("apply", "hello-app",
                                                "chart hello-web failed: replicas"))  # fmt: skip
        states.raise_alarm(s, alarms.app_running("update", "other-app"))
    yield db
    db.dispose()


def test_alarm_list_columns_query_and_formats(aio: Aio, seeded: Database) -> None:
    table = fm(aio, "alarm-list").stdout
    header = table.splitlines()[1]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Alarm ID", "Reason Text", "Entity ID", "Severity", "Time Stamp"]  # fmt: skip
    assert "200.004" in table and "750.002" in table and "UUID" not in table
    rows = json.loads(fm(aio, "alarm-list", "--uuid", "--format", "json").stdout)
    assert {r["alarm_id"] for r in rows} == {"200.004", "750.002", "750.005"}
    assert all(len(r["uuid"]) == 36 for r in rows)
    picked = yaml.safe_load(fm(aio, "alarm-list", "--query", "alarm_id=750.002",
                               "--format", "yaml").stdout)  # fmt: skip
    assert [(r["alarm_id"], r["entity_instance_id"]) for r in picked] == [
        ("750.002", "k8s_application=hello-app")]  # fmt: skip
    assert "hello-web" in picked[0]["reason_text"]
    value = fm(aio, "alarm-list", "-q", "entity_type_id=host;severity=critical",
               "--format", "value", "-c", "alarm_id").stdout  # fmt: skip
    assert value.split() == ["200.004"]
    bad = fm(aio, "alarm-list", "--query", "colour=red", check=False)
    assert bad.returncode == 1 and "Invalid query field: 'colour'" in bad.stderr
    bad = fm(aio, "alarm-list", "--query", "severity!=major", check=False)
    assert bad.returncode == 1 and "Invalid query operator: 'ne'" in bad.stderr


def test_suppressed_alarms_are_marked_and_hidden_unless_asked(aio: Aio, seeded: Database) -> None:
    with seeded.session() as s:
        s.execute(update(Alarm).where(Alarm.alarm_id == "750.005")
                  .values(suppression_status="suppressed"))  # fmt: skip
    assert "750.005" not in fm(aio, "alarm-list").stdout
    shown = fm(aio, "alarm-list", "--include_suppress").stdout
    assert "S(750.005)" in shown
    listed = json.loads(fm(aio, "alarm-list", "--include_suppress", "--format", "json").stdout)
    assert "750.005" in {r["alarm_id"] for r in listed}  # scripts get the id as it is


def test_alarm_show_summary_and_delete(aio: Aio, seeded: Database) -> None:
    (row,) = json.loads(fm(aio, "alarm-list", "--uuid", "-q", "alarm_id=200.004",
                           "--format", "json").stdout)  # fmt: skip
    shown = json.loads(fm(aio, "alarm-show", row["uuid"], "--format", "json").stdout)
    assert shown["entity_instance_id"] == "host=controller-1"
    assert shown["proposed_repair_action"] and shown["severity"] == "critical"
    summary = json.loads(fm(aio, "alarm-summary", "--format", "json").stdout)
    assert summary == [{"critical": 1, "major": 1, "minor": 0, "warnings": 1}]
    assert "Critical Alarms" in fm(aio, "alarm-summary").stdout
    fm(aio, "alarm-delete", row["uuid"])
    gone = fm(aio, "alarm-show", row["uuid"], check=False)
    assert gone.returncode == 1 and f"Alarm not found: {row['uuid']}" in gone.stderr
    events = json.loads(fm(aio, "event-list", "--alarms", "--limit", "1", "--uuid",
                           "--format", "json").stdout)  # fmt: skip
    assert [(e["event_log_id"], e["state"]) for e in events] == [("200.004", "clear")]
    shown_event = json.loads(fm(aio, "event-show", events[0]["uuid"], "--format", "json").stdout)
    assert shown_event["entity_instance_id"] == "host=controller-1"


def test_event_list(aio: Aio, seeded: Database) -> None:
    with seeded.session() as s:
        states.log_event(s, alarms.host_offline("worker-7", 1))
    table = fm(aio, "event-list").stdout
    header = table.splitlines()[1]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Time Stamp",
        "State",
        "Event Log ID",
        "Reason Text",
        "Entity Instance ID",
        "Severity",
    ]
    logs = json.loads(fm(aio, "event-list", "--logs", "--format", "json").stdout)
    assert [e["entity_instance_id"] for e in logs] == ["host=worker-7"]
    assert len(json.loads(fm(aio, "event-list", "--alarms", "--format", "json").stdout)) == 3
    assert len(json.loads(fm(aio, "event-list", "-l", "2", "--format", "json").stdout)) == 2


def test_subscriptions(aio: Aio, seeded: Database) -> None:
    added = json.loads(fm(aio, "alarm-subscription-add", "http://127.0.0.1:9/hook",
                          "--secret", "k3y", "--format", "json").stdout)  # fmt: skip
    assert added["url"] == "http://127.0.0.1:9/hook" and "secret" not in added
    listed = fm(aio, "alarm-subscription-list").stdout
    assert added["uuid"] in listed and "k3y" not in listed
    shown = json.loads(fm(aio, "alarm-subscription-show", added["uuid"], "--show-secret",
                          "--format", "json").stdout)  # fmt: skip
    assert shown["secret"] == "k3y"
    out = fm(aio, "alarm-subscription-delete", added["uuid"]).stdout
    assert f"Deleted alarm subscription {added['uuid']}" in out
    bad = fm(aio, "alarm-subscription-add", "ftp://x/y", "--secret", "k", check=False)
    assert bad.returncode == 1 and "Invalid url" in bad.stderr
    none = fm(aio, "alarm-subscription-add", "http://127.0.0.1:9/x", check=False)
    assert none.returncode == 1 and "A secret is needed" in none.stderr
