"""Fault management over the v1 API, as StarlingX's fm client calls it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, update

from sysinv_common import alarms
from sysinv_common.db.models import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.states import alarm as states
from tests.api.test_hosts import fault
from tests.servers import secrets_seen
from tests.stack import Stack

SECRET = "api-webhook-secret-55d0"
secrets_seen.remember(SECRET)


@pytest.fixture
def fm(api: Stack) -> Iterator[Stack]:
    with api.db.session() as s:
        for model in (AlarmDelivery, AlarmSubscription, Alarm, EventLog):
            s.execute(delete(model))
    yield api


def seed(stack: Stack) -> None:
    with stack.db.session() as s:
        states.raise_alarm(s, alarms.host_offline("controller-0", 90))
        states.raise_alarm(s, alarms.config_out_of_date("worker-0", "t1", None))
        states.raise_alarm(s, alarms.app_failed("apply", "hello-app", "chart web failed: x"))
        states.raise_alarm(s, alarms.app_running("apply", "other-app"))
        states.log_event(s, alarms.host_offline("worker-9", 1))


def ids(response: object) -> list[tuple[str, str]]:
    body = response.json()  # type: ignore[attr-defined]
    return sorted((a["alarm_id"], a["entity_instance_id"]) for a in body["alarms"])


def test_list_show_and_filters(fm: Stack) -> None:
    seed(fm)
    r = fm.client.get("/v1/alarms")
    assert r.status_code == 200
    assert ids(r) == [("200.004", "host=controller-0"), ("250.001", "host=worker-0"),
                      ("750.002", "k8s_application=hello-app"),
                      ("750.004", "k8s_application=other-app")]  # fmt: skip
    one = r.json()["alarms"][0]
    assert fm.client.get(f"/v1/alarms/{one['uuid']}").json() == one
    assert one["alarm_state"] == "set" and one["suppression_status"] == "unsuppressed"
    r = fm.client.get("/v1/alarms", params={"q.field": "alarm_id", "q.op": "eq",
                                            "q.value": "750.002", "q.type": ""})  # fmt: skip
    assert ids(r) == [("750.002", "k8s_application=hello-app")]
    assert "chart web" in r.json()["alarms"][0]["reason_text"]
    r = fm.client.get("/v1/alarms", params=[("q.field", "entity_type_id"), ("q.op", "eq"),
                                            ("q.value", "host"), ("q.field", "severity"),
                                            ("q.op", "eq"), ("q.value", "major")])  # fmt: skip
    assert ids(r) == [("250.001", "host=worker-0")]
    r = fm.client.get("/v1/alarms", params={"q.field": "entity_instance_id", "q.op": "eq",
                                            "q.value": "host=controller-0"})  # fmt: skip
    assert ids(r) == [("200.004", "host=controller-0")]
    assert len(fm.client.get("/v1/alarms?limit=2").json()["alarms"]) == 2


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("q.field=colour&q.op=eq&q.value=red", "Invalid query field: 'colour'"),
        ("q.field=alarm_id&q.op=ne&q.value=1", "Invalid query operator: 'ne'"),
        ("q.field=alarm_id&q.op=eq", "same number of times"),
        ("q.field=severity&q.op=eq&q.value=huge", "Invalid severity: 'huge'"),
        ("include_suppress=perhaps", "Invalid value for include_suppress"),
        ("limit=0", "limit"),
    ],
)
def test_bad_queries_are_400(fm: Stack, query: str, says: str) -> None:
    r = fm.client.get(f"/v1/alarms?{query}")
    assert r.status_code == 400
    assert says in fault(r)


def test_unknown_alarm_is_404(fm: Stack) -> None:
    r = fm.client.get("/v1/alarms/2f7b2b5e-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert fault(r) == "Alarm not found: 2f7b2b5e-0000-4000-8000-000000000000"
    r = fm.client.delete("/v1/alarms/2f7b2b5e-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert "Alarm not found" in fault(r)


def test_suppressed_alarms_only_when_asked(fm: Stack) -> None:
    seed(fm)
    with fm.db.session() as s:
        s.execute(update(Alarm).where(Alarm.alarm_id == "250.001")
                  .values(suppression_status="suppressed"))  # fmt: skip
    assert ("250.001", "host=worker-0") not in ids(fm.client.get("/v1/alarms"))
    r = fm.client.get("/v1/alarms?include_suppress=True")
    assert ("250.001", "host=worker-0") in ids(r)
    assert fm.client.get("/v1/alarms/summary").json()["major"] == 1
    assert fm.client.get("/v1/alarms/summary?include_suppress=True").json()["major"] == 2


def test_summary(fm: Stack) -> None:
    r = fm.client.get("/v1/alarms/summary")
    assert r.status_code == 200
    empty = r.json()
    assert (empty["critical"], empty["major"], empty["minor"], empty["warnings"]) == (0, 0, 0, 0)
    assert empty["status"] == "OK"
    system = fm.client.get("/v1/isystems").json()["isystems"][0]
    assert empty["system_uuid"] == system["uuid"]
    seed(fm)
    body = fm.client.get("/v1/alarms/summary").json()
    assert (body["critical"], body["major"], body["minor"], body["warnings"]) == (1, 2, 0, 1)
    assert body["status"] == "critical"


def test_delete_goes_through_the_conductor_and_logs_a_clear(fm: Stack) -> None:
    seed(fm)
    target = fm.client.get("/v1/alarms?q.field=alarm_id&q.op=eq&q.value=200.004").json()
    uuid = target["alarms"][0]["uuid"]
    assert fm.client.delete(f"/v1/alarms/{uuid}").status_code == 204
    assert fm.client.get(f"/v1/alarms/{uuid}").status_code == 404
    events = fm.client.get("/v1/event_log?alarms=True&limit=1").json()["event_log"]
    assert (events[0]["event_log_id"], events[0]["state"]) == ("200.004", "clear")


def test_event_log_filters(fm: Stack) -> None:
    seed(fm)
    everything = fm.client.get("/v1/event_log").json()["event_log"]
    assert len(everything) == 5
    assert everything[0]["state"] == "log"  # newest first
    only_logs = fm.client.get("/v1/event_log?logs=True").json()["event_log"]
    assert [(e["event_log_id"], e["entity_instance_id"]) for e in only_logs] == [
        ("200.004", "host=worker-9")
    ]
    only_alarms = fm.client.get("/v1/event_log?alarms=True").json()["event_log"]
    assert {e["state"] for e in only_alarms} == {"set"} and len(only_alarms) == 4
    assert len(fm.client.get("/v1/event_log?limit=2").json()["event_log"]) == 2
    r = fm.client.get("/v1/event_log", params={"q.field": "event_log_id", "q.op": "eq",
                                               "q.value": "250.001"})  # fmt: skip
    assert [e["entity_instance_id"] for e in r.json()["event_log"]] == ["host=worker-0"]
    one = only_logs[0]
    assert fm.client.get(f"/v1/event_log/{one['uuid']}").json() == one
    r = fm.client.get("/v1/event_log?q.field=start&q.op=eq&q.value=yesterday")
    assert r.status_code == 400 and "Invalid date 'yesterday'" in fault(r)
    r = fm.client.get("/v1/event_log?q.field=start&q.op=eq&q.value=2999-01-01T00:00:00")
    assert r.json()["event_log"] == []


def test_subscriptions_keep_their_secret(fm: Stack) -> None:
    r = fm.client.post("/v1/alarm_subscriptions",
                       json={"url": "http://127.0.0.1:9/hook", "secret": SECRET})  # fmt: skip
    assert r.status_code == 201, r.text
    sub = r.json()
    assert SECRET not in r.text and sub["url"] == "http://127.0.0.1:9/hook"
    listed = fm.client.get("/v1/alarm_subscriptions")
    assert SECRET not in listed.text
    assert [s["uuid"] for s in listed.json()["alarm_subscriptions"]] == [sub["uuid"]]
    shown = fm.client.get(f"/v1/alarm_subscriptions/{sub['uuid']}")
    assert "secret" not in shown.json()
    revealed = fm.client.get(f"/v1/alarm_subscriptions/{sub['uuid']}?show_secret=True")
    assert revealed.json()["secret"] == SECRET
    with fm.db.session() as s:  # encrypted at rest
        stored = s.query(AlarmSubscription).one()
        assert SECRET not in stored.secret_ciphertext
    assert fm.client.delete(f"/v1/alarm_subscriptions/{sub['uuid']}").status_code == 204
    r = fm.client.delete(f"/v1/alarm_subscriptions/{sub['uuid']}")
    assert r.status_code == 404 and "Alarm subscription not found" in fault(r)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"url": "ftp://x/y", "secret": "k"}, "Invalid url"),
        ({"url": "http://127.0.0.1:9/x", "secret": ""}, "secret"),
        ({"url": "http://127.0.0.1:9/x"}, "secret"),
    ],
)
def test_bad_subscriptions_are_400(fm: Stack, body: dict[str, str], says: str) -> None:
    r = fm.client.post("/v1/alarm_subscriptions", json=body)
    assert r.status_code == 400
    assert says in fault(r)


def test_openapi_documents_every_fm_operation(fm: Stack) -> None:
    spec = fm.client.get("/openapi.json").json()
    prefixes = ("/v1/alarms", "/v1/event_log", "/v1/alarm_subscriptions")
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith(prefixes)}
    assert set(paths) == {"/v1/alarms", "/v1/alarms/summary", "/v1/alarms/{uuid}",
                          "/v1/event_log", "/v1/event_log/{uuid}", "/v1/alarm_subscriptions",
                          "/v1/alarm_subscriptions/{uuid}"}  # fmt: skip
    for path, ops in paths.items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            errors = {c: r for c, r in op["responses"].items() if c.startswith(("4", "5"))}
            assert "403" in errors and "503" in errors, where
            for answer in errors.values():
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), where
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, where
            if ok != ["204"]:
                assert "schema" in op["responses"][ok[0]]["content"]["application/json"], where


def test_no_input_makes_an_fm_operation_fail_with_a_5xx(fm: Stack) -> None:
    """Every fm operation, reads included, fuzzed from its OpenAPI description."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    seed(fm)
    schema = schemathesis.openapi.from_asgi("/openapi.json", fm.client.app)
    prefixes = ("/v1/alarms", "/v1/event_log", "/v1/alarm_subscriptions")
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(prefixes):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            if response.status_code >= 400:
                fault(response)  # sysinv's error body, with a faultstring

        run()
        ran += 1
    assert ran == 10


def test_a_subscription_shows_its_failing_deliveries(fm: Stack) -> None:
    from tests.stack import wait_until

    # Nothing listens on the discard port: every attempt is refused.
    r = fm.client.post("/v1/alarm_subscriptions",
                       json={"url": "http://127.0.0.1:9/hook", "secret": SECRET})  # fmt: skip
    sub = r.json()["uuid"]
    assert (r.json()["pending"], r.json()["dead"], r.json()["last_error"]) == (0, 0, None)
    with fm.db.session() as s:
        states.raise_alarm(s, alarms.host_offline("worker-5", 90))

    def failed_once() -> dict[str, Any] | None:
        shown: dict[str, Any] = fm.client.get(f"/v1/alarm_subscriptions/{sub}").json()
        return shown if shown.get("last_error") else None

    shown = wait_until("the conductor's first attempt", failed_once, timeout=30)
    assert (shown["pending"], shown["dead"]) == (1, 0)
    assert "Connect" in shown["last_error"]
    (listed,) = fm.client.get("/v1/alarm_subscriptions").json()["alarm_subscriptions"]
    assert listed["pending"] == 1 and listed["last_error"] == shown["last_error"]
