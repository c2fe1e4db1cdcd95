"""application-update: to a new version, and a failing one rolled back to the old."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.api.test_hosts import fault
from tests.integration.example_app import build_variant
from tests.integration.test_apps_interrupted import helm_releases, wait_for
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import make_settings, running_stack

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]


def test_update_and_rollback(
    kube_cluster: Any, helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    helm4 = helm  # both majors run this test
    ns = f"up-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    core = kube_cluster.core_v1()
    cm = f"hello-config-{ns}-settings"
    with running_stack(settings) as stack:
        c = stack.client
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        v1 = build_variant(helm4, tmp_path, ns, "1.0-1", "first")
        r = c.post("/v1/apps/update", json=upload_body(v1))
        assert r.status_code == 400 and "application hello-app not found" in fault(r)
        c.post("/v1/apps", json=upload_body(v1))
        wait_for(get, lambda a: a["status"] == "uploaded", 60, "upload")
        v2 = build_variant(helm4, tmp_path, ns, "1.0-2", "second")
        r = c.post("/v1/apps/update", json=upload_body(v2))
        assert r.status_code == 400 and "current status is uploaded" in fault(r)
        c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        wait_for(get, lambda a: a["status"] == "applied", 120, "apply")
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "first"
        r = c.post("/v1/apps/update", json=upload_body(v1))
        assert r.status_code == 400 and "already at version 1.0-1" in fault(r)

        r = c.post("/v1/apps/update", json=upload_body(v2))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "updating"
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "update")
        assert (app["status"], app["app_version"], app["progress"]) == (
            "applied",
            "1.0-2",
            "completed",
        )
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "second"
        assert not (settings.apps_dir / "hello-app" / "1.0-1").exists()

        v3 = build_variant(helm4, tmp_path, ns, "1.0-3", "third", stuck=True, web_timeout=8)
        assert c.post("/v1/apps/update", json=upload_body(v3)).status_code == 200
        app = wait_for(get, lambda a: a["status"] != "updating", 180, "failed update")
        assert app["status"] == "update-failed", app
        assert app["app_version"] == "1.0-2"
        assert (
            "update to 1.0-3 failed" in app["progress"]
            and "rolled back to 1.0-2" in app["progress"]
        )
        assert "hello-web" in app["progress"]
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "second"
        web = client.AppsV1Api(kube_cluster.api_client()).read_namespaced_deployment(
            f"hello-web-{ns}", ns
        )
        assert not web.spec.template.spec.node_selector
        statuses = [
            r["status"] for r in helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns)
        ]
        assert statuses and all(s == "deployed" for s in statuses), statuses
        assert not (settings.apps_dir / "hello-app" / "1.0-3").exists()

        c.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
        wait_for(get, lambda a: a["status"] != "removing", 120, "remove")


def test_update_keeps_user_overrides_only_when_asked(
    kube_cluster: Any, helm4: HelmBinary, tmp_path: Path
) -> None:
    ns = f"uo-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    core = kube_cluster.core_v1()
    cm = f"hello-config-{ns}-settings"
    chart = {"name": "hello-config", "namespace": ns}
    with running_stack(settings) as stack:
        c = stack.client
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        c.post("/v1/apps", json=upload_body(build_variant(helm4, tmp_path, ns, "1.0-1", "first")))
        wait_for(get, lambda a: a["status"] == "uploaded", 60, "upload")
        r = c.patch("/v1/helm_charts/hello-app", params=chart, json={
            "flags": {"reuse_values": False, "reset_values": True},
            "values": {"files": [], "set": ["settings.greeting=mine"]}, "attributes": {},
        })  # fmt: skip
        assert r.status_code == 200, r.text
        c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        wait_for(get, lambda a: a["status"] == "applied", 120, "apply")
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "mine"

        v2 = build_variant(helm4, tmp_path, ns, "1.0-2", "second")
        body = {**upload_body(v2), "reuse_user_overrides": "maybe"}
        r = c.post("/v1/apps/update", json=body)
        assert r.status_code == 400 and "reuse_user_overrides" in fault(r)
        assert get()["status"] == "applied"
        worker = {"name": "hello-worker", "namespace": ns}
        off = {"flags": {}, "values": {}, "attributes": {"enabled": "false"}}
        assert c.patch("/v1/helm_charts/hello-app", params=worker, json=off).status_code == 200
        # Without the flag the new bundle's metadata decides: the example keeps them.
        r = c.post("/v1/apps/update", json=upload_body(v2))
        assert r.status_code == 200, r.text
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "update")
        assert (app["status"], app["app_version"]) == ("applied", "1.0-2"), app
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "mine"
        shown = c.get("/v1/helm_charts/hello-app", params=chart).json()
        assert "mine" in shown["user_overrides"]
        # Its metadata does not keep chart attributes: every chart is enabled again.
        listed = c.get("/v1/helm_charts/", params={"app_name": "hello-app"}).json()["charts"]
        assert all(ch["enabled"] == [True] for ch in listed), listed

        # The request's flag wins over the metadata (the client sends "false" as text).
        v3 = build_variant(helm4, tmp_path, ns, "1.0-3", "third")
        r = c.post("/v1/apps/update", json={**upload_body(v3), "reuse_user_overrides": "false"})
        assert r.status_code == 200, r.text
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "update")
        assert (app["status"], app["app_version"]) == ("applied", "1.0-3"), app
        assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "third"
        assert c.get("/v1/helm_charts/hello-app", params=chart).json()["user_overrides"] is None

        # --reuse-attributes true keeps the chart attributes although the metadata does
        # not (application-update sends it as text, like the other flag).
        assert c.patch("/v1/helm_charts/hello-app", params=worker, json=off).status_code == 200
        v4 = build_variant(helm4, tmp_path, ns, "1.0-4", "fourth")
        r = c.post("/v1/apps/update", json={**upload_body(v4), "reuse_attributes": "true"})
        assert r.status_code == 200, r.text
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "update")
        assert (app["status"], app["app_version"]) == ("applied", "1.0-4"), app
        listed = c.get("/v1/helm_charts/", params={"app_name": "hello-app"}).json()["charts"]
        enabled = {ch["name"]: ch["enabled"] for ch in listed}
        assert enabled.pop("hello-worker") == [False], listed
        assert all(e == [True] for e in enabled.values()), listed
        # And "false" drops them although a bundle's maintain_attributes would keep them.
        v5 = build_variant(helm4, tmp_path, ns, "1.0-5", metadata={"maintain_attributes": True})
        r = c.post("/v1/apps/update", json={**upload_body(v5), "reuse_attributes": "false"})
        assert r.status_code == 200, r.text
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "update")
        assert (app["status"], app["app_version"]) == ("applied", "1.0-5"), app
        listed = c.get("/v1/helm_charts/", params={"app_name": "hello-app"}).json()["charts"]
        assert all(ch["enabled"] == [True] for ch in listed), listed
