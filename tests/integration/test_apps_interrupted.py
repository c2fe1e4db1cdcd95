"""Interrupted applies: abort during a sequenced group, and a conductor killed mid-apply.

The app is the example with one change: hello-web's pods select a node label nobody
has, so its helm --wait hangs while hello-config (before it, in the same sequenced
group) is already deployed and the workers group has not started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from sysinv_common.conf import Settings
from sysinv_common.db.base import utcnow
from sysinv_common.db.models import App
from sysinv_common.db.prepare import prepare_database
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from tests.integration.example_app import build_variant
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import make_settings, running_stack

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]


def helm_releases(
    helm: HelmBinary, kubeconfig: Path, home: Path, namespace: str
) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(helm.path), "--kubeconfig", str(kubeconfig), "list", "--deployed", "--failed",
         "--pending", "-n", namespace, "-o", "json"],
        env=helm.env(home), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return list(json.loads(out))


def wait_for(get: Any, predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {value}"
        time.sleep(0.3)


def test_abort_stops_the_running_chart_and_later_ones_never_start(
    kube_cluster: Any, helm4: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    ns = f"ab-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path, ns, stuck=True)
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    with running_stack(settings) as stack:
        c = stack.client
        assert c.post("/v1/apps", json=upload_body(bundle)).status_code == 200
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        assert (
            wait_for(get, lambda a: a["status"] != "uploading", 60, "upload")["status"]
            == "uploaded"
        )
        r = c.patch("/v1/apps/hello-app?directive=abort", json={"values": {}})
        assert r.status_code == 400 and "no operation is in progress" in r.text
        assert c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}}).status_code == 200
        wait_for(get, lambda a: "hello-web" in (a["progress"] or ""), 60, "hello-web to start")
        time.sleep(1)
        assert c.patch("/v1/apps/hello-app?directive=abort", json={"values": {}}).status_code == 200
        app = wait_for(get, lambda a: a["status"] != "applying", 60, "the abort")
        assert app["status"] == "apply-failed"
        assert app["progress"].startswith("operation aborted by request")
    releases = {
        r["name"]: r["status"] for r in helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns)
    }
    assert releases.get(f"hello-config-{ns}") == "deployed"
    # The interrupted first install is either gone or marked failed: never pending.
    assert releases.get(f"hello-web-{ns}", "failed") == "failed"
    assert not any(name.startswith("hello-worker") for name in releases)
    assert not [s for s in releases.values() if s.startswith("pending")]


def test_chart_never_ready_fails_the_apply(
    kube_cluster: Any, helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    ns = f"nr-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm, tmp_path, ns, stuck=True, web_timeout=6)
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    with running_stack(settings) as stack:
        c = stack.client
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        c.post("/v1/apps", json=upload_body(bundle))
        wait_for(get, lambda a: a["status"] == "uploaded", 60, "upload")
        c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        app = wait_for(get, lambda a: a["status"] != "applying", 120, "the apply to fail")
        assert app["status"] == "apply-failed"
        assert "hello-web" in app["progress"]
    releases = helm_releases(helm, kube_cluster.kubeconfig, helm_home, ns)
    assert not [r for r in releases if r["status"].startswith("pending")], releases
    assert not any(r["name"].startswith("hello-worker") for r in releases)


def conductor_env(settings: Settings, conductor_id: str) -> dict[str, str]:
    return dict(
        os.environ,
        SYSINV_STATE_DIR=str(settings.state_dir),
        SYSINV_DATABASE__URL=settings.database_url,
        SYSINV_MESSAGING__BROKER_URL=settings.messaging.broker_url,
        SYSINV_MESSAGING__QUEUE_PREFIX=settings.messaging.queue_prefix,
        SYSINV_KUBERNETES__KUBECONFIG=str(settings.kubernetes.kubeconfig),
        SYSINV_APPS__HELM_BINARY=settings.apps.helm_binary,
        SYSINV_APPS__LEASE_SECONDS="60",
        SYSINV_CONDUCTOR_ID=conductor_id,
    )


class Conductor:
    def __init__(self, settings: Settings, conductor_id: str, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("sysinv-conductor"))],
            env=conductor_env(settings, conductor_id),
            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


@pytest.fixture
def prod(tmp_path: Path, postgres_db_url: str, redis_url: str, kube_cluster: Any,
         helm4: HelmBinary) -> Iterator[Settings]:  # fmt: skip
    settings = make_settings(tmp_path / "state", postgres_db_url)
    settings.messaging.broker_url = redis_url
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    prepare_database(settings).dispose()
    yield settings


def test_conductor_killed_mid_apply(
    prod: Settings, kube_cluster: Any, helm4: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    ns = f"kill-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path, ns, stuck=True)
    conductors: list[Conductor] = []
    db = prepare_database(prod)
    celery = make_celery(prod.messaging)
    try:
        with TestClient(create_app(prod, db, celery=celery)) as c:
            a = Conductor(prod, "cond-a", tmp_path / "a.log")
            conductors.append(a)
            rpc = ConductorAPI(ConductorClient(celery, 5))
            wait_for(lambda: _ping(rpc), bool, 60, "conductor a")
            get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
            assert c.post("/v1/apps", json=upload_body(bundle)).status_code == 200
            wait_for(get, lambda x: x["status"] == "uploaded", 90, "upload")

            # A second, live conductor with an app of its own mid-operation: a restart of
            # cond-a must not touch it.
            with db.session() as s:
                s.add(
                    App(name="other", app_version="1", status="applying", active=False,
                        operation="apply", lease_holder="cond-b",
                        lease_expires_at=utcnow() + timedelta(hours=1))
                )  # fmt: skip

            assert (
                c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}}).status_code
                == 200
            )
            wait_for(get, lambda x: "hello-web" in (x["progress"] or ""), 60, "hello-web to start")
            time.sleep(1)
            a.kill()
            pending = wait_for(
                lambda: helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns),
                lambda rs: any(r["status"].startswith("pending") for r in rs), 10,
                "the interrupted release to show as pending",
            )  # fmt: skip
            assert pending
            assert get()["status"] == "applying"

            a2 = Conductor(prod, "cond-a", tmp_path / "a2.log")
            conductors.append(a2)
            app = wait_for(get, lambda x: x["status"] != "applying", 60, "recovery")
            assert (app["status"], app["progress"]) == (
                "apply-failed", "operation aborted: conductor restarted",
            )  # fmt: skip
            assert c.get("/v1/apps/other").json()["status"] == "applying"
            wait_for(
                lambda: helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns),
                lambda rs: not any(r["status"].startswith("pending") for r in rs), 90,
                "no pending release",
            )  # fmt: skip

            # Without the node selector problem the next apply succeeds: label a node so
            # hello-web's pods can be scheduled.
            kube_cluster.core_v1().patch_node(
                "worker-1", {"metadata": {"labels": {"sysinv-test/never": "true"}}}
            )
            try:
                assert (
                    c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}}).status_code
                    == 200
                )
                app = wait_for(get, lambda x: x["status"] != "applying", 180, "the new apply")
                assert app["status"] == "applied", app
            finally:
                kube_cluster.core_v1().patch_node(
                    "worker-1", {"metadata": {"labels": {"sysinv-test/never": None}}}
                )
                c.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
                wait_for(get, lambda x: x["status"] != "removing", 120, "remove")
    finally:
        for cond in conductors:
            cond.kill(signal.SIGTERM)
        db.dispose()


def _ping(rpc: ConductorAPI) -> bool:
    try:
        return bool(rpc.ping())
    except Exception:
        return False
