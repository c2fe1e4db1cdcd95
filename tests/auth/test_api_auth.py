"""The API behind Keystone: who may read, who may write, and what never counts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from tests.api.test_hosts import fault
from tests.servers.ports import free_port
from tests.stack import Stack

SPOOFED = {
    "X-Roles": "admin",
    "X-Identity-Status": "Confirmed",
    "X-User-Id": "someone",
    "X-Project-Id": "admin",
    "X-Service-Roles": "admin",
}


def test_no_token_or_a_bad_one_is_401_naming_keystone(secured: Stack) -> None:
    for headers in ({}, {"X-Auth-Token": "gAAAAA-not-a-token"}, SPOOFED):
        r = secured.client.get("/v1/ihosts", headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "Keystone" in r.headers["www-authenticate"]
        assert "X-Auth-Token" in fault(r)


def test_version_documents_are_public(secured: Stack) -> None:
    assert secured.client.get("/").status_code == 200
    assert secured.client.get("/v1").status_code == 200


def test_the_api_documentation_and_its_assets_are_public(secured: Stack) -> None:
    for path in ("/openapi.json", "/docs", "/redoc", "/docs-assets/swagger-ui-bundle.js",
                 "/docs-assets/redoc.standalone.js"):  # fmt: skip
        assert secured.client.get(path).status_code == 200, path
    # Only the assets: the prefix opens nothing else.
    assert secured.client.get("/docs-assets/nothing.js").status_code == 404
    assert secured.client.get("/docs-assets/../v1/ihosts").status_code == 401
    assert secured.client.get("/v1/ihosts").status_code == 401


def test_admin_reads_and_writes(secured: Stack, tokens: dict[str, str]) -> None:
    admin = {"X-Auth-Token": tokens["admin"]}
    r = secured.client.post("/v1/ihosts", json={"hostname": "auth-w0", "personality": "worker"},
                            headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert secured.client.get("/v1/ihosts/auth-w0", headers=admin).status_code == 200
    assert secured.client.delete("/v1/ihosts/auth-w0", headers=admin).status_code == 204


def test_reader_only_reads(secured: Stack, tokens: dict[str, str]) -> None:
    reader = {"X-Auth-Token": tokens["reader"]}
    assert secured.client.get("/v1/ihosts", headers=reader).status_code == 200
    for method, url, body in (
        ("POST", "/v1/ihosts", {"hostname": "auth-r0"}),
        ("PATCH", "/v1/isystems/x", [{"op": "replace", "path": "/name", "value": "n"}]),
        ("DELETE", "/v1/apps/whatever", None),
    ):
        r = secured.client.request(method, url, json=body, headers=reader)
        assert r.status_code == 403, (method, url, r.text)
        assert "reader role may only read" in fault(r)
    # Identity headers sent by the client never add a role.
    r = secured.client.post(
        "/v1/ihosts", json={"hostname": "auth-r1"}, headers={**reader, **SPOOFED}
    )
    assert r.status_code == 403
    assert secured.client.get("/v1/ihosts/auth-r1", headers=reader).status_code == 404


def test_a_token_with_neither_role_is_403(secured: Stack, tokens: dict[str, str]) -> None:
    r = secured.client.get("/v1/ihosts", headers={"X-Auth-Token": tokens["outsider"]})
    assert r.status_code == 403
    assert "neither the admin nor the reader role" in fault(r)


@pytest.mark.parametrize("who", ["reader", "other", "outsider"])
def test_show_secrets_is_admin_only(secured: Stack, tokens: dict[str, str], who: str) -> None:
    r = secured.client.get(
        "/v1/helm_charts/hello-app",
        params={"name": "x", "namespace": "y", "show_secrets": "true"},
        headers={"X-Auth-Token": tokens[who]},
    )
    assert r.status_code == 403


def test_keystone_unreachable_is_503_not_500(secured: Stack) -> None:
    settings = secured.settings.model_copy(deep=True)
    settings.keystone.auth_url = f"http://127.0.0.1:{free_port()}/v3"
    client = TestClient(create_app(settings, secured.db, celery=secured.conductor.app))
    r = client.get("/v1/ihosts", headers={"X-Auth-Token": "gAAAAA-some-token"})
    assert r.status_code == 503, r.text
    assert "Keystone could not be reached" in fault(r)
