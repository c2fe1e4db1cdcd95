"""kube-apiserver authenticates Keystone tokens through sysinv's TokenReview webhook.

The webhook is served exactly as production serves it: by the ``sysinv-api`` process, over
TLS with a certificate from the cluster's CA, on the port the test cluster's
kube-apiserver was started to ask (``--authentication-token-webhook-config-file``, v1
reviews, answers cached 2 s). Clients present Keystone tokens as bearer tokens, the way
``kubectl`` does with a token in its kubeconfig.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from kubernetes import client

from sysinv_api.webhook import EXTRA, KeystoneTokens, create_webhook_app
from sysinv_common.conf.keystone import KeystoneSettings
from tests.servers.keystone import OPERATORS_GROUP, KeystoneCredential, KeystoneServer
from tests.servers.kube import APISERVER_TOKEN_CACHE_TTL, WEBHOOK_CACHE_TTL, KubeCluster
from tests.servers.ports import free_port, port_open
from tests.servers.procs import ManagedProcess

pytestmark = [pytest.mark.kube, pytest.mark.keystone]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def webhook(
    kube_cluster: KubeCluster, keystone: KeystoneServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagedProcess]:
    """``sysinv-api`` serving the webhook on the port kube-apiserver asks."""
    tmp = tmp_path_factory.mktemp("webhook")
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYSINV_")}
    env.update(
        SYSINV_STATE_DIR=str(tmp),
        SYSINV_DATABASE__URL=f"sqlite:///{tmp / 'sysinv.db'}",
        SYSINV_MESSAGING__BROKER_URL="memory://",
        SYSINV_API__PORT=str(api_port),
        SYSINV_API__AUTH="keystone",
        SYSINV_API__WEBHOOK_PORT=str(kube_cluster.webhook_port),
        SYSINV_API__WEBHOOK_CERT_FILE=str(kube_cluster.webhook_cert_file),
        SYSINV_API__WEBHOOK_KEY_FILE=str(kube_cluster.webhook_key_file),
        SYSINV_KEYSTONE__AUTH_URL=keystone.url,
        SYSINV_KEYSTONE__USERNAME=keystone.service.username,
        SYSINV_KEYSTONE__PASSWORD=keystone.service.password,
        SYSINV_KEYSTONE__PROJECT_NAME=keystone.service.project_name,
    )
    upgrade = subprocess.run(
        [str(BIN / "sysinv"), "db", "upgrade"], env=env, cwd=tmp, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    proc = ManagedProcess("sysinv-api", [str(BIN / "sysinv-api")], tmp / "sysinv-api.log",
                          env=env, cwd=tmp)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (port_open(api_port) and port_open(kube_cluster.webhook_port)):
            proc.check_alive()
            assert time.monotonic() < deadline, f"sysinv-api did not listen:\n{proc.log_tail()}"
            time.sleep(0.1)
        yield proc
    finally:
        proc.stop()


def identity(keystone: KeystoneServer, token: str) -> dict[str, Any]:
    """Keystone's own view of ``token`` (validated with the admin's token)."""
    resp = httpx.get(
        f"{keystone.url}/auth/tokens",
        headers={"X-Auth-Token": keystone.token(keystone.admin), "X-Subject-Token": token},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()["token"]
    return body


def whoami(kube: KubeCluster, token: str) -> Any:
    """What ``kubectl auth whoami`` asks: POST a SelfSubjectReview."""
    api = client.AuthenticationV1Api(kube.token_client(token))
    review = api.create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    return review.status.user_info


def _tls(kube: KubeCluster) -> ssl.SSLContext:
    # Only the cluster CA, the platform CA that signed the webhook's certificate.
    return ssl.create_default_context(cafile=str(kube.webhook_ca_file))


def review(kube: KubeCluster, token: str, version: str = "authentication.k8s.io/v1") -> Any:
    """The webhook's answer to a TokenReview posted to it directly, as kube-apiserver does."""
    body = {"apiVersion": version, "kind": "TokenReview", "spec": {"token": token}}
    r = httpx.post(kube.webhook_url, json=body, verify=_tls(kube), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("who", ["reader", "other"])
def test_whoami_is_the_keystone_identity_mapped_like_k8s_keystone_auth(
    webhook: ManagedProcess, kube_cluster: KubeCluster, keystone: KeystoneServer, who: str
) -> None:
    cred: KeystoneCredential = getattr(keystone, who)
    token = keystone.token(cred)
    known = identity(keystone, token)
    project = known["project"]

    user = whoami(kube_cluster, token)

    assert user.username == cred.username
    assert user.uid == known["user"]["id"]
    keystone_groups = [OPERATORS_GROUP] if cred is keystone.reader else []
    # kube-apiserver adds system:authenticated to whatever the webhook answered.
    assert user.groups == [project["id"], *keystone_groups, "system:authenticated"]
    extra = {k: v for k, v in (user.extra or {}).items() if k.startswith(EXTRA)}
    assert extra == {
        f"{EXTRA}roles": sorted(r["name"] for r in known["roles"]),
        f"{EXTRA}project/id": [project["id"]],
        f"{EXTRA}project/name": [cred.project_name],
        f"{EXTRA}user/domain/id": ["default"],
        f"{EXTRA}user/domain/name": ["Default"],
    }
    if cred is keystone.reader:
        assert extra[f"{EXTRA}roles"] == ["reader"]


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except client.ApiException as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still {exc.status} after {timeout:.0f} s") from exc
        time.sleep(0.2)


def test_rbac_binds_a_keystone_project_to_one_namespace(
    webhook: ManagedProcess, kube_cluster: KubeCluster, keystone: KeystoneServer
) -> None:
    token = keystone.token(keystone.reader)
    project_id = identity(keystone, token)["project"]["id"]
    admin = kube_cluster.core_v1()
    rbac = client.RbacAuthorizationV1Api(kube_cluster.api_client())
    allowed, denied = (f"ks-{tag}-{uuid.uuid4().hex[:6]}" for tag in ("view", "none"))
    for ns in (allowed, denied):
        admin.create_namespace({"metadata": {"name": ns}})
    try:
        rbac.create_namespaced_role_binding(allowed, {
            "metadata": {"name": "demo-project-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": project_id}],
        })  # fmt: skip
        admin.create_namespaced_config_map(
            allowed, {"metadata": {"name": "visible"}, "data": {"k": "v"}}
        )
        reader = client.CoreV1Api(kube_cluster.token_client(token))

        # The binding reaches the authorizer through its informer: a moment, not more.
        pods = _until(lambda: reader.list_namespaced_pod(allowed), 10, "list pods")
        assert pods.items == []
        maps = reader.list_namespaced_config_map(allowed)
        assert "visible" in [m.metadata.name for m in maps.items]

        refusals: list[Callable[[], Any]] = [
            lambda: reader.list_namespaced_pod(denied),
            lambda: reader.list_namespaced_config_map(denied),
            # view does not let it write where it reads, either.
            lambda: reader.create_namespaced_config_map(allowed, {"metadata": {"name": "x"}}),
        ]
        for call in refusals:
            with pytest.raises(client.ApiException) as refused:
                call()
            assert refused.value.status == 403, refused.value.body
            assert "reader-user" in refused.value.body  # forbidden as the Keystone user
    finally:
        for ns in (allowed, denied):
            admin.delete_namespace(ns)


def test_a_bad_token_is_401(webhook: ManagedProcess, kube_cluster: KubeCluster) -> None:
    for token in ("not-a-keystone-token", "gAAAAABnot-a-fernet-token"):
        with pytest.raises(client.ApiException) as refused:
            whoami(kube_cluster, token)
        assert refused.value.status == 401


def test_a_revoked_token_is_refused_once_kube_apiserver_forgets_it(
    webhook: ManagedProcess, kube_cluster: KubeCluster, keystone: KeystoneServer
) -> None:
    token = keystone.token(keystone.reader)  # its own: revoked here
    first = time.monotonic()  # kube-apiserver caches this authentication from now on
    assert whoami(kube_cluster, token).username == keystone.reader.username

    revoked = httpx.delete(
        f"{keystone.url}/auth/tokens",
        headers={"X-Auth-Token": keystone.token(keystone.admin), "X-Subject-Token": token},
        timeout=30,
    )
    assert revoked.status_code == 204, revoked.text
    since = time.monotonic()
    # The webhook keeps nothing: it refuses the token at once.
    assert review(kube_cluster, token)["status"]["authenticated"] is False
    # kube-apiserver answers from its cache until the cached authentication expires:
    # its own 10 s cache of successes, which the webhook's 2 s TTL does not shorten.
    cache = max(WEBHOOK_CACHE_TTL, APISERVER_TOKEN_CACHE_TTL)
    if time.monotonic() - first < cache - 2:
        assert whoami(kube_cluster, token).username == keystone.reader.username
    deadline = first + cache + 3.0  # and a little for the requests themselves
    while True:
        try:
            whoami(kube_cluster, token)
        except client.ApiException as exc:
            assert exc.status == 401, exc.body
            break
        assert time.monotonic() < deadline, (
            f"revoked token still accepted {time.monotonic() - first:.1f} s after it was "
            f"first authenticated; sysinv-api:\n{webhook.log_tail()}"
        )
        time.sleep(0.2)
    now = time.monotonic()
    print(f"revoked token refused {now - since:.1f} s after its revocation, "
          f"{now - first:.1f} s after kube-apiserver first authenticated it")  # fmt: skip


def test_v1beta1_review_gets_a_v1beta1_answer(
    webhook: ManagedProcess, kube_cluster: KubeCluster, keystone: KeystoneServer
) -> None:
    beta = "authentication.k8s.io/v1beta1"
    body = review(kube_cluster, keystone.token(keystone.other), beta)
    assert body["apiVersion"] == beta and body["kind"] == "TokenReview"
    assert body["status"]["authenticated"] is True
    assert body["status"]["user"]["username"] == keystone.other.username

    refused = review(kube_cluster, "bogus", beta)
    assert refused["apiVersion"] == beta
    assert refused["status"] == {
        "authenticated": False,
        "error": "the token is invalid, expired or revoked",
    }


def test_keystone_unreachable_is_a_refusal_with_a_reason_not_an_error() -> None:
    closed = free_port()
    assert not port_open(closed)
    settings = KeystoneSettings(
        auth_url=f"http://127.0.0.1:{closed}/v3", username="sysinv",
        password="unused", project_name="services", timeout=5,
    )  # fmt: skip
    with TestClient(create_webhook_app(KeystoneTokens(settings))) as http:
        for version in ("authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"):
            r = http.post("/webhook", json={
                "apiVersion": version, "kind": "TokenReview", "spec": {"token": "t"}})  # fmt: skip
            assert r.status_code == 200, r.text
            assert r.json() == {
                "apiVersion": version,
                "kind": "TokenReview",
                "status": {"authenticated": False, "error": "Keystone is unreachable"},
            }


def test_a_deeply_nested_body_is_a_refusal_not_an_error() -> None:
    settings = KeystoneSettings(
        auth_url="http://127.0.0.1:9/v3", username="sysinv", password="unused",
        project_name="services", timeout=5,
    )  # fmt: skip
    with TestClient(create_webhook_app(KeystoneTokens(settings))) as http:
        for body in ("[" * 100_000 + "]" * 100_000, b"\xff", "9" * 5000):
            r = http.post("/webhook", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text
            assert r.json()["status"] == {
                "authenticated": False,
                "error": "not a TokenReview of authentication.k8s.io",
            }
