"""The registry's token endpoint in the API: reached without a Keystone token, Basic
credentials checked against the real Keystone, refusals in Docker's and sysinv's shapes.

The registry accepting what it issues, with skopeo and docker as clients, is
tests/integration/test_registry_tokens.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from sysinv_api.registry_auth import BadCredentials, IdentityUnavailable, KeystoneCredentials
from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.messaging.app import make_celery
from tests.auth.test_api_auth import SPOOFED
from tests.servers import secrets_seen
from tests.servers.keystone import KeystoneCredential, KeystoneServer
from tests.servers.ports import free_port
from tests.stack import Stack, make_settings

pytestmark = pytest.mark.keystone
TOKEN = "/v1/registry/token"


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def login(cred: KeystoneCredential) -> dict[str, str]:
    return basic(cred.username, cred.password)


def access_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    secrets_seen.remember(token)
    assert response.json()["access_token"] == token
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    access: list[dict[str, Any]] = claims["access"]
    return access


def refusal(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errors"][0]["code"] == code
    message: str = json.loads(body["error_message"])["faultstring"]
    assert body["errors"][0]["message"] == message
    return message


def params(settings: Settings, *scopes: str) -> dict[str, Any]:
    return {"service": settings.registry.service, "scope": list(scopes)}


def test_no_keystone_token_is_needed_and_none_counts(
    secured: Stack, keystone: KeystoneServer, tokens: dict[str, str]
) -> None:
    asked = params(secured.settings, "repository:demo/a:pull,push")
    r = secured.client.get(TOKEN, params=asked, headers=login(keystone.reader))
    assert access_of(r) == [{"type": "repository", "name": "demo/a", "actions": ["pull"]}]
    # An admin's Keystone token is not a registry credential, nor are identity headers.
    for headers in ({"X-Auth-Token": tokens["admin"]}, SPOOFED, {}):
        r = secured.client.get(TOKEN, params=asked, headers=headers)
        assert "Authentication required" in refusal(r, 401, "UNAUTHORIZED")
        assert r.headers["www-authenticate"] == 'Basic realm="sysinv registry token"'
    for path in (TOKEN, TOKEN + "/"):
        r = secured.client.get(path, params=asked, headers={**login(keystone.reader), **SPOOFED})
        assert access_of(r) == [{"type": "repository", "name": "demo/a", "actions": ["pull"]}]
    # Every other route still wants a Keystone token.
    assert secured.client.get("/v1/ihosts", headers=login(keystone.admin)).status_code == 401


@pytest.mark.parametrize(
    ("who", "actions"),
    [("admin", ["pull", "push", "delete"]), ("reader", ["pull"]), ("other", ["pull"]),
     ("outsider", None)],
)  # fmt: skip
def test_each_role_gets_its_actions(
    secured: Stack, keystone: KeystoneServer, who: str, actions: list[str] | None
) -> None:
    cred: KeystoneCredential = getattr(keystone, who)
    r = secured.client.get(
        TOKEN,
        params=params(secured.settings, "repository:demo/b:pull,push,delete", "registry:catalog:*"),
        headers=login(cred),
    )
    expected = [{"type": "repository", "name": "demo/b", "actions": actions}] if actions else []
    if who == "admin":
        expected.append({"type": "registry", "name": "catalog", "actions": ["*"]})
    assert access_of(r) == expected
    claims = jwt.decode(r.json()["token"], options={"verify_signature": False})
    assert claims["sub"] == cred.username
    assert r.headers["cache-control"] == "no-store"


def test_bad_credentials_are_401_with_a_basic_challenge(
    secured: Stack, keystone: KeystoneServer
) -> None:
    asked = params(secured.settings, "repository:demo/c:pull")
    for headers in (
        basic(keystone.admin.username, keystone.admin.password + "x"),
        basic("no-such-user", keystone.admin.password),
        basic("", keystone.admin.password),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": f"Bearer {keystone.admin.password}"},
    ):
        r = secured.client.get(TOKEN, params=asked, headers=headers)
        refusal(r, 401, "UNAUTHORIZED")
        assert r.headers["www-authenticate"].startswith("Basic realm=")


def test_a_request_it_cannot_serve_is_400_naming_why(
    secured: Stack, keystone: KeystoneServer
) -> None:
    admin = login(keystone.admin)
    r = secured.client.get(TOKEN, params={"service": "elsewhere"}, headers=admin)
    assert "Unknown service 'elsewhere'" in refusal(r, 400, "INVALID_REQUEST")
    r = secured.client.get(TOKEN, params=params(secured.settings, "repository:UP:pull"),
                           headers=admin)  # fmt: skip
    assert "Invalid scope 'repository:UP:pull'" in refusal(r, 400, "INVALID_REQUEST")
    # No scope (docker login asks so): a token granting nothing.
    assert access_of(secured.client.get(TOKEN, headers=admin)) == []
    r = secured.client.post(TOKEN, headers=admin)
    assert r.status_code == 405


def test_keystone_unreachable_is_503_not_500(secured: Stack, keystone: KeystoneServer) -> None:
    settings = secured.settings.model_copy(deep=True)
    settings.keystone.auth_url = f"http://127.0.0.1:{free_port()}/v3"
    client = TestClient(create_app(settings, secured.db, celery=secured.conductor.app))
    r = client.get(TOKEN, params=params(settings), headers=login(keystone.admin))
    assert refusal(r, 503, "UNAVAILABLE") == "Keystone is unreachable; try again"


def test_a_key_file_others_may_read_is_503_and_logged(
    secured: Stack, keystone: KeystoneServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = secured.settings.model_copy(deep=True)
    settings.registry.signing_key_file = tmp_path / "open.key"
    settings.registry.certificate_file = tmp_path / "open.crt"
    client = TestClient(create_app(settings, secured.db, celery=secured.conductor.app))
    assert access_of(client.get(TOKEN, headers=login(keystone.reader))) == []
    (tmp_path / "open.key").chmod(0o644)
    client = TestClient(create_app(settings, secured.db, celery=secured.conductor.app))
    r = client.get(TOKEN, headers=login(keystone.reader))
    assert "signing key cannot be used" in refusal(r, 503, "UNAVAILABLE")
    assert "accessible to every user" in caplog.text


def test_accepted_credentials_are_remembered_never_a_wrong_password(
    secured: Stack, keystone: KeystoneServer
) -> None:
    settings = secured.settings
    checker = KeystoneCredentials(settings.keystone, settings.registry)
    reader = keystone.reader
    assert checker.roles_of(reader.username, reader.password) == {"reader"}
    with pytest.raises(BadCredentials):
        checker.roles_of(reader.username, reader.password + "x")
    # Keystone gone: the accepted pair is still known; anything else must ask Keystone.
    checker.auth_url = f"http://127.0.0.1:{free_port()}/v3"
    assert checker.roles_of(reader.username, reader.password) == {"reader"}
    with pytest.raises(IdentityUnavailable):
        checker.roles_of(reader.username, reader.password + "x")
    with pytest.raises(IdentityUnavailable):
        checker.roles_of(keystone.admin.username, keystone.admin.password)
    uncached = settings.registry.model_copy(update={"credential_cache_seconds": 0})
    checker = KeystoneCredentials(settings.keystone, uncached)
    assert checker.roles_of(reader.username, reader.password) == {"reader"}
    checker.auth_url = f"http://127.0.0.1:{free_port()}/v3"
    with pytest.raises(IdentityUnavailable):
        checker.roles_of(reader.username, reader.password)


def test_without_authentication_every_caller_gets_admin_tokens(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    client = TestClient(create_app(settings, db, celery=make_celery(settings.messaging)))
    r = client.get(TOKEN, params=params(settings, "repository:a/b:pull,push"))
    assert access_of(r) == [{"type": "repository", "name": "a/b", "actions": ["pull", "push"]}]
    assert jwt.decode(r.json()["token"], options={"verify_signature": False})["sub"] == "anonymous"
    db.dispose()


def test_any_query_or_authorization_header_is_answered_without_a_5xx(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    app_settings = make_settings(tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    client = TestClient(create_app(app_settings, db, celery=make_celery(app_settings.messaging)))
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80)
    scope_text = st.one_of(
        text, st.builds(lambda t, n, a: f"{t}:{n}:{a}", text, text, text),
        st.sampled_from(["repository:a:pull", "registry:catalog:*", "repository:a:"]),
    )  # fmt: skip
    header = st.one_of(
        st.none(), st.builds(lambda t: "Basic " + t, text),
        st.builds(lambda t: "Basic " + base64.b64encode(t.encode()).decode(), text),
    )  # fmt: skip

    @given(scopes=st.lists(scope_text, max_size=20), service=st.none() | text, auth=header)
    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(scopes: list[str], service: str | None, auth: str | None) -> None:
        query: dict[str, Any] = {"scope": scopes}
        if service is not None:
            query["service"] = service
        headers = {"Authorization": auth} if auth is not None and auth.isascii() else {}
        r = client.get(TOKEN, params=query, headers=headers)
        assert r.status_code in (200, 400), (scopes, service, auth, r.text[:300])

    run()
    db.dispose()
