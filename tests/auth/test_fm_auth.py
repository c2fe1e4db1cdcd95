"""Fault management behind Keystone: readers read alarms and the event log; deleting an
alarm, subscribing a webhook and reading its secret need admin."""

from __future__ import annotations

from tests.api.test_hosts import fault
from tests.servers import secrets_seen
from tests.stack import Stack

ADMIN_SECRET = "auth-webhook-secret-0b9e"
secrets_seen.remember(ADMIN_SECRET)


def test_reader_reads_alarms_but_changes_nothing(secured: Stack, tokens: dict[str, str]) -> None:
    reader = {"X-Auth-Token": tokens["reader"]}
    admin = {"X-Auth-Token": tokens["admin"]}
    for url in ("/v1/alarms", "/v1/alarms/summary", "/v1/event_log", "/v1/alarm_subscriptions"):
        r = secured.client.get(url, headers=reader)
        assert r.status_code == 200, (url, r.text)
    r = secured.client.delete("/v1/alarms/2f7b2b5e-0000-4000-8000-000000000000", headers=reader)
    assert r.status_code == 403 and "reader role may only read" in fault(r)
    r = secured.client.post("/v1/alarm_subscriptions", headers=reader,
                            json={"url": "http://127.0.0.1:9/x", "secret": "k"})  # fmt: skip
    assert r.status_code == 403

    body = {"url": "http://127.0.0.1:9/x", "secret": ADMIN_SECRET}
    r = secured.client.post("/v1/alarm_subscriptions", headers=admin, json=body)
    assert r.status_code == 201, r.text
    sub = r.json()["uuid"]
    try:
        r = secured.client.get(f"/v1/alarm_subscriptions/{sub}?show_secret=True", headers=reader)
        assert r.status_code == 403
        assert fault(r) == "Forbidden: only the admin role may read a webhook's secret"
        assert ADMIN_SECRET not in r.text
        r = secured.client.get(f"/v1/alarm_subscriptions/{sub}", headers=reader)
        assert r.status_code == 200 and "secret" not in r.json()
        r = secured.client.get(f"/v1/alarm_subscriptions/{sub}?show_secret=True", headers=admin)
        assert r.json()["secret"] == ADMIN_SECRET
    finally:
        secured.client.delete(f"/v1/alarm_subscriptions/{sub}", headers=admin)


def test_a_token_with_neither_role_reads_no_alarm(secured: Stack, tokens: dict[str, str]) -> None:
    r = secured.client.get("/v1/alarms", headers={"X-Auth-Token": tokens["outsider"]})
    assert r.status_code == 403
    r = secured.client.get("/v1/alarms")
    assert r.status_code == 401
