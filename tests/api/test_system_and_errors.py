"""The system object, platform settings and the error format of every failure."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from tests.api.test_hosts import fault
from tests.stack import Stack


def test_system_show_and_modify(api: Stack) -> None:
    r = api.client.get("/v1/isystems")
    assert r.status_code == 200
    (system,) = r.json()["isystems"]
    assert system["system_type"] == "All-in-one"
    assert system["system_mode"] == "simplex"
    ops = [
        {"op": "replace", "path": "/description", "value": "lab"},
        {"op": "replace", "path": "/contact", "value": "ops@example.com"},
    ]
    r = api.client.patch(f"/v1/isystems/{system['uuid']}", json=ops)
    assert r.status_code == 200
    assert (r.json()["description"], r.json()["contact"]) == ("lab", "ops@example.com")
    r = api.client.patch(
        f"/v1/isystems/{system['uuid']}",
        json=[{"op": "replace", "path": "/system_type", "value": "x"}],
    )
    assert r.status_code == 400
    assert "cannot be changed" in fault(r)
    r = api.client.patch(
        f"/v1/isystems/{system['uuid']}", json=[{"op": "replace", "path": "/name", "value": " "}]
    )
    assert r.status_code == 400


def test_platform_settings_are_read_only(api: Stack) -> None:
    r = api.client.get("/v1/platform_settings")
    assert r.status_code == 200
    assert r.json()["networks"]["pod_subnet"] == "172.16.0.0/16"
    r = api.client.patch("/v1/platform_settings", json=[])
    assert r.status_code == 405
    assert "not allowed" in fault(r)


def test_framework_errors_use_sysinv_format(api: Stack) -> None:
    r = api.client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert "Resource not found" in fault(r)
    r = api.client.post(
        "/v1/ihosts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "not valid JSON" in fault(r)
    r = api.client.post("/v1/ihosts")
    assert r.status_code == 400
    assert "body is required" in fault(r)


def test_trailing_slash_answers_without_redirect(api: Stack) -> None:
    r = api.client.get("/v1/ihosts/", follow_redirects=False)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "ihosts" in r.json()


def test_openapi_and_docs(api: Stack) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/v1/ihosts" in spec["paths"] and "/v1/labels/{host_ident}" in spec["paths"]
    assert api.client.get("/docs").status_code == 200
    json.dumps(spec)


def test_a_body_over_max_request_bytes_is_413_while_it_arrives(api: Stack) -> None:
    settings = api.settings.model_copy(deep=True)
    settings.api.max_request_bytes = limit = 4096
    small = TestClient(create_app(settings, api.db, celery=api.conductor.app))
    big = b"x" * (limit + 1)
    r = small.post("/v1/apps", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "larger than the limit of 4096 bytes" in fault(r)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(0, 3 * limit, 1000):
            yield b"x" * 1000

    r = small.post("/v1/apps", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "api.max_request_bytes" in fault(r)
    assert small.get("/v1/apps").json() == {"apps": []}
