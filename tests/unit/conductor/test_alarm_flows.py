"""Where the conductor raises and clears alarms, and how it delivers them to webhooks
(a real HTTP server on the loopback interface receives them)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common import alarms
from sysinv_common.conf import load_settings
from sysinv_common.db.models import Alarm, AlarmDelivery, EventLog, Host
from sysinv_common.db.prepare import prepare_database
from sysinv_common.errors import InvalidInput, NotFound
from sysinv_common.states import host as host_states
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import alarms as flows
from tests.servers import secrets_seen

SECRET = "unit-webhook-secret-91c2"
secrets_seen.remember(SECRET)
NOW = datetime(2031, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ConductorContext]:
    settings = load_settings(state_dir=tmp_path / "state")
    settings.fm.config_grace = 60
    settings.fm.webhook_backoff = 0.01
    settings.fm.webhook_attempts = 3
    context = ConductorContext.build(settings, prepare_database(settings))
    yield context
    context.db.engine.dispose()


def add_host(
    ctx: ConductorContext, hostname: str, seen: datetime | None = None, offline: bool = False,
    **fields: Any,
) -> None:  # fmt: skip
    """A host; ``seen``: its agent reported then (and it went offline since: ``offline``)."""
    with ctx.db.session() as s:
        host = host_states.new_host(hostname=hostname, personality="worker", **fields)
        s.add(host)
        s.flush()
        if seen is not None:
            host_states.mark_seen(s, host, seen)
            if offline:
                assert host_states.take_offline(s, host)


def raised(ctx: ConductorContext) -> dict[tuple[str, str], Alarm]:
    with ctx.db.session() as s:
        rows = s.scalars(select(Alarm)).all()
        s.expunge_all()
    return {(a.alarm_id, a.entity_instance_id): a for a in rows}


def test_host_audit_raises_offline_and_out_of_date_and_clears_them(ctx: ConductorContext) -> None:
    add_host(ctx, "worker-0", seen=NOW - timedelta(hours=1), offline=True)
    add_host(ctx, "worker-1")  # never had an agent: no alarm
    add_host(
        ctx,
        "worker-2",
        seen=NOW,
        config_target="t2",
        config_target_at=NOW - timedelta(seconds=61),
        config_error="docker: refused",
    )
    add_host(ctx, "worker-3", seen=NOW, config_target="t3",
             config_target_at=NOW - timedelta(seconds=30))  # within the grace  # fmt: skip
    flows.audit_hosts(ctx, NOW)
    found = raised(ctx)
    assert set(found) == {("200.004", "host=worker-0"), ("250.001", "host=worker-2")}
    offline = found[("200.004", "host=worker-0")]
    assert offline.severity == "critical" and offline.service_affecting
    assert "docker: refused" in found[("250.001", "host=worker-2")].reason_text

    flows.audit_hosts(ctx, NOW)  # nothing changed: no second row, no second event
    with ctx.db.session() as s:
        assert len(s.scalars(select(EventLog)).all()) == 2

    with ctx.db.session() as s:
        flows.host_back(s, "worker-0")
        host = s.scalars(select(Host).where(Host.hostname == "worker-2")).one()
        host.config_applied = "t2"
        host_states.mark_seen(s, s.scalars(select(Host).where(Host.hostname == "worker-0"))
                              .one(), NOW)  # fmt: skip
    assert set(raised(ctx)) == {("250.001", "host=worker-2")}
    flows.audit_hosts(ctx, NOW)
    assert raised(ctx) == {}
    with ctx.db.session() as s:
        events = [
            (e.event_log_id, e.state) for e in s.scalars(select(EventLog).order_by(EventLog.id))
        ]
    assert events == [("200.004", "set"), ("250.001", "set"), ("200.004", "clear"),
                      ("250.001", "clear")]  # fmt: skip


def test_alarms_of_a_deleted_host_are_cleared_by_the_audit(ctx: ConductorContext) -> None:
    flows.raise_fault(ctx, alarms.host_offline("gone-0", 90))
    flows.audit_hosts(ctx, NOW)
    assert raised(ctx) == {}


def test_the_event_log_is_trimmed_by_the_audit(ctx: ConductorContext) -> None:
    ctx.settings.fm.event_log_max_rows = 2
    for n in range(4):
        flows.raise_fault(ctx, alarms.host_offline(f"h{n}", 90))
    flows.audit_hosts(ctx, NOW)  # clears the four (no such hosts), then trims
    with ctx.db.session() as s:
        assert [e.state for e in s.scalars(select(EventLog))] == ["clear", "clear"]


def test_application_failure_names_the_chart_and_success_clears(ctx: ConductorContext) -> None:
    with ctx.db.session() as s:
        flows.app_started(s, "apply", "hello-app")
    assert set(raised(ctx)) == {("750.004", "k8s_application=hello-app")}
    with ctx.db.session() as s:
        flows.app_finished(s, "apply", "hello-app", False, "chart web failed: helm said no")
    found = raised(ctx)
    assert set(found) == {("750.002", "k8s_application=hello-app")}
    assert "chart web" in found[("750.002", "k8s_application=hello-app")].reason_text
    with ctx.db.session() as s:
        flows.app_started(s, "apply", "hello-app")
        flows.app_finished(s, "apply", "hello-app", True, "completed")
    assert raised(ctx) == {}
    with ctx.db.session() as s:
        flows.app_finished(s, "upload", "other-app", False, "bad bundle")
    assert set(raised(ctx)) == {("750.001", "k8s_application=other-app")}
    with ctx.db.session() as s:
        flows.app_deleted(s, "other-app")
    assert raised(ctx) == {}


def test_node_sync_raises_and_clears(ctx: ConductorContext) -> None:
    flows.node_sync(ctx, {"worker-1"}, {"worker-0": "Kubernetes refused to patch node: 403"})
    assert set(raised(ctx)) == {("850.100", "host=worker-0")}
    flows.node_sync(ctx, {"worker-0", "worker-1"}, {})
    assert raised(ctx) == {}


def test_delete_by_uuid(ctx: ConductorContext) -> None:
    flows.raise_fault(ctx, alarms.host_offline("worker-0", 90))
    (alarm,) = raised(ctx).values()
    flows.delete(ctx, alarm.uuid)
    assert raised(ctx) == {}
    with pytest.raises(NotFound):
        flows.delete(ctx, alarm.uuid)


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request; answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Sysinv-Signature"], expected)
    payload: dict[str, Any] = json.loads(body)
    assert headers["X-Sysinv-Event"] == payload["event"]
    return payload


def deliver_until(ctx: ConductorContext, done: Callable[[], bool]) -> None:
    for _ in range(200):
        flows.deliver_due(ctx)
        if done():
            return
        threading.Event().wait(0.02)
    raise AssertionError("deliveries did not end")


def test_webhook_receives_signed_raise_and_clear(ctx: ConductorContext, receiver: Receiver) -> None:
    sub = flows.subscribe(ctx, receiver.url, SECRET)
    with ctx.db.session() as s:  # stored encrypted, never as given
        stored = s.scalars(select(AlarmDelivery)).all()
        assert stored == []
    assert flows.subscription_secret(ctx, sub.uuid).secret == SECRET
    flows.raise_fault(ctx, alarms.host_offline("worker-0", 90))
    flows.clear_fault(ctx, [alarms.HOST_FAILED], "host=worker-0")
    deliver_until(ctx, lambda: len(receiver.received) == 2)
    payloads = [verify(SECRET, h, b) for h, b in receiver.received]
    assert [p["event"] for p in payloads] == ["raise", "clear"]
    assert {p["alarm"]["alarm_id"] for p in payloads} == {"200.004"}
    assert payloads[0]["alarm"]["entity_instance_id"] == "host=worker-0"
    for p in payloads:  # times in UTC, with their offset, on SQLite too
        assert datetime.fromisoformat(p["alarm"]["timestamp"]).utcoffset() == timedelta(0)
        assert datetime.fromisoformat(p["timestamp"]).utcoffset() == timedelta(0)
    with ctx.db.session() as s:
        assert {d.status for d in s.scalars(select(AlarmDelivery))} == {"delivered"}
    # A wrong secret does not verify.
    headers, body = receiver.received[0]
    with pytest.raises(AssertionError):
        verify("other", headers, body)


def test_failing_webhook_is_retried_then_dead_lettered(
    ctx: ConductorContext, receiver: Receiver
) -> None:
    flows.subscribe(ctx, receiver.url, "k")
    receiver.status = 500
    flows.raise_fault(ctx, alarms.host_offline("worker-0", 90))

    def dead() -> bool:
        with ctx.db.session() as s:
            return {d.status for d in s.scalars(select(AlarmDelivery))} == {"dead"}

    deliver_until(ctx, dead)
    assert len(receiver.received) == 3  # fm.webhook_attempts
    with ctx.db.session() as s:
        row = s.scalars(select(AlarmDelivery)).one()
        assert row.attempts == 3 and row.last_error == "RuntimeError: HTTP 500"


def test_a_receiver_that_recovers_gets_the_event_once_delivered(
    ctx: ConductorContext, receiver: Receiver
) -> None:
    ctx.settings.fm.webhook_attempts = 10
    flows.subscribe(ctx, receiver.url, "k")
    receiver.status = 503
    flows.raise_fault(ctx, alarms.host_offline("worker-0", 90))
    deliver_until(ctx, lambda: len(receiver.received) >= 2)
    receiver.status = 204
    deliver_until(ctx, lambda: receiver.received[-1] and _delivered(ctx))
    bodies = {b for _, b in receiver.received}
    assert len(bodies) == 1  # the same event each time, at least once


def _delivered(ctx: ConductorContext) -> bool:
    with ctx.db.session() as s:
        return {d.status for d in s.scalars(select(AlarmDelivery))} == {"delivered"}


@pytest.mark.parametrize("url", ["", "ftp://x/y", "http://", "not a url"])
def test_subscribe_refuses_a_bad_url(ctx: ConductorContext, url: str) -> None:
    with pytest.raises(InvalidInput):
        flows.subscribe(ctx, url, "k")


def test_subscribe_refuses_an_empty_secret(ctx: ConductorContext) -> None:
    with pytest.raises(InvalidInput):
        flows.subscribe(ctx, "http://127.0.0.1:1/x", "")


def test_operations_a_dead_conductor_left_raise_their_failure(ctx: ConductorContext) -> None:
    from sysinv_common.db.models import App
    from sysinv_conductor.flows import apps as app_flows

    past = datetime.now(UTC) - timedelta(minutes=5)
    with ctx.db.session() as s:
        s.add(App(name="left-app", app_version="1", status="applying", operation="apply",
                  lease_holder="dead-conductor", lease_expires_at=past))  # fmt: skip
    with ctx.db.session() as s:  # as its conductor did before it died
        flows.app_started(s, "apply", "left-app")
    assert app_flows.recover(ctx, at_start=False)
    found = raised(ctx)
    assert set(found) == {("750.002", "k8s_application=left-app")}
    assert "lease expired" in found[("750.002", "k8s_application=left-app")].reason_text


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://exa mple.com/", "http://" + "a" * 2100 + ".com/", "http://\x00/"]
)
def test_subscribe_refuses_what_is_no_url_with_a_400(ctx: ConductorContext, url: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid url"):
        flows.subscribe(ctx, url, "k")
