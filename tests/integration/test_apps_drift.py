"""Drift on the real cluster, with helm 3 and helm 4: a Deployment's replicas edited and a
ConfigMap deleted behind sysinv's back are reported on the app within an audit interval
(both named, the replicas field too) with alarm 750.100; a chart the app opts out of
(``behavior.drift_ignore_charts``) is not; a reapply repairs both and the next audit
clears the drift and the alarm."""

from __future__ import annotations

import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from sysinv_common.alarms import APP_DRIFT, app_entity
from tests.integration.example_app import build_example, build_variant
from tests.integration.test_alarms_e2e import active
from tests.integration.test_apps_lifecycle import upload_body
from tests.integration.test_armada_helm import Env, KubeOps
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done, wait_until

pytestmark = pytest.mark.kube

INTERVAL = 2.0
APP = "drift-app"


@pytest.fixture
def stack(kube_cluster: Any, helm: HelmBinary, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    settings.apps.drift_audit_interval = INTERVAL
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as s:
        yield s


def drift(stack: Stack) -> Any:
    r = stack.client.get(f"/v1/apps/{APP}")
    assert r.status_code == 200, r.text
    return r.json()["drift"]


def checked_after(stack: Stack, moment: float) -> Any:
    """The app's drift once an audit that started after ``moment`` recorded it."""

    def newer() -> Any:
        d = drift(stack)
        if d is None:
            return None
        checked = datetime.fromisoformat(d["checked_at"]).timestamp()
        return d if checked >= moment - 1 else None

    return wait_until("a newer drift audit", newer, timeout=60)


def test_drift_is_reported_alarmed_and_cleared_by_a_reapply(
    stack: Stack, kube_cluster: Any, helm: HelmBinary, tmp_path: Path
) -> None:
    ns = f"drift-{uuid.uuid4().hex[:6]}"
    opt_out = {"behavior": {"drift_ignore_charts": ["hello-worker-a"]}}
    bundle = build_variant(helm, tmp_path, ns, app_name=APP, metadata=opt_out)
    c = stack.client
    assert c.post("/v1/apps", json=upload_body(bundle)).status_code == 200
    assert wait_done(stack, APP)["status"] == "uploaded"
    assert drift(stack) is None  # not applied: nothing to audit
    assert c.patch(f"/v1/apps/{APP}?directive=apply", json={"values": {}}).status_code == 200
    assert wait_done(stack, APP)["status"] == "applied"

    # As deployed: audited, and nothing the cluster filled in or defaulted counts as drift.
    clean = wait_until("a first drift audit", lambda: drift(stack), timeout=60)
    assert clean["drifted"] is False and clean["objects"] == [], clean
    assert clean["error"] is None
    assert active(stack, APP_DRIFT, app_entity(APP)) is None

    apps_v1, core = client.AppsV1Api(kube_cluster.api_client()), kube_cluster.core_v1()
    deployments = {d.metadata.name: d for d in apps_v1.list_namespaced_deployment(ns).items}
    (web,) = [n for n in deployments if "web" in n]
    (worker_a,) = [n for n in deployments if "worker-a" in n]
    (settings_cm,) = [m.metadata.name for m in core.list_namespaced_config_map(ns).items
                      if m.metadata.name.endswith("-settings")]  # fmt: skip
    assert deployments[web].spec.replicas == 2
    edited_at = time.time()
    apps_v1.patch_namespaced_deployment(web, ns, {"spec": {"replicas": 4}})
    apps_v1.patch_namespaced_deployment(worker_a, ns, {"spec": {"replicas": 3}})
    core.delete_namespaced_config_map(settings_cm, ns)

    def drifted() -> Any:
        d = drift(stack)
        return d if d and d["drifted"] else None

    found = wait_until("drift reported", drifted, timeout=30)
    # Within one audit interval (plus the round that was running and its own time).
    assert time.time() - edited_at < 2 * INTERVAL + 10
    objects = {(o["kind"], o["name"]): o for o in found["objects"]}
    assert set(objects) == {("Deployment", web), ("ConfigMap", settings_cm)}, objects
    assert objects[("Deployment", web)]["state"] == "changed"
    assert objects[("Deployment", web)]["fields"] == ["spec.replicas"]
    assert objects[("Deployment", web)]["namespace"] == ns
    assert objects[("ConfigMap", settings_cm)]["state"] == "deleted"
    assert objects[("ConfigMap", settings_cm)]["chart"] == "hello-config"
    assert found["since"] is not None
    alarm = active(stack, APP_DRIFT, app_entity(APP))
    assert alarm is not None
    assert web in alarm["reason_text"] and settings_cm in alarm["reason_text"]
    assert worker_a not in alarm["reason_text"]

    # A later audit keeps "since" (drift is dated from when it was first seen).
    later = checked_after(stack, time.time() + 0.5)
    assert later["since"] == found["since"]
    assert {o["since"] for o in later["objects"]} == {o["since"] for o in found["objects"]}

    # The reapply repairs both; the next audit clears the drift and the alarm.
    assert c.patch(f"/v1/apps/{APP}?directive=apply", json={"values": {}}).status_code == 200
    assert wait_done(stack, APP)["status"] == "applied"
    assert apps_v1.read_namespaced_deployment(web, ns).spec.replicas == 2
    assert core.read_namespaced_config_map(settings_cm, ns).data
    after = checked_after(stack, time.time())
    assert after["drifted"] is False and after["objects"] == [], after
    assert after["since"] is None
    assert active(stack, APP_DRIFT, app_entity(APP)) is None

    # Removed: no drift to speak of any more.
    assert c.patch(f"/v1/apps/{APP}?directive=remove").status_code == 200
    assert wait_done(stack, APP)["status"] == "uploaded"
    wait_until("drift forgotten", lambda: drift(stack) is None, timeout=30)


def test_helm4_repairs_drift_of_a_release_helm3_installed(
    helm3: HelmBinary, helm4: HelmBinary, kube_cluster: Any, tmp_path: Path
) -> None:
    """A site moving from helm 3 to helm 4: its releases were applied client-side, and
    helm 4 refuses to force conflicts on those unless told to apply server-side. The
    deployer tells it, so a reapply with helm 4 repairs their drift too, and again once
    they are server-side."""
    env = Env(helm3, helm3.env(tmp_path / "h3"), kube_cluster.kubeconfig,
              charts_of(helm3, tmp_path), KubeOps(kube_cluster.api_client()),
              uuid.uuid4().hex[:6])  # fmt: skip
    plan = env.plan()
    assert env.deployer().apply(plan, lambda e: None, threading.Event()).ok
    (web,) = [c for c in plan.charts if c.chart.name == "hello-web"]
    (config,) = [c for c in plan.charts if c.chart.name == "hello-config"]
    apps_v1, core = client.AppsV1Api(kube_cluster.api_client()), kube_cluster.core_v1()
    helm4_env = Env(helm4, helm4.env(tmp_path / "h4"), env.kubeconfig, env.charts_dir, env.ops,
                    env.suffix)  # fmt: skip
    try:
        for _ in range(2):  # client-side (helm 3's) first, then server-side (helm 4's own)
            apps_v1.patch_namespaced_deployment(web.release, web.namespace,
                                                {"spec": {"replicas": 5}})  # fmt: skip
            core.delete_namespaced_config_map(f"{config.release}-settings", config.namespace)
            result = helm4_env.deployer().apply(plan, lambda e: None, threading.Event())
            assert result.ok, result.message
            deployment = apps_v1.read_namespaced_deployment(web.release, web.namespace)
            assert deployment.spec.replicas == 2
            assert core.read_namespaced_config_map(f"{config.release}-settings",
                                                   config.namespace).data  # fmt: skip
    finally:
        helm4_env.deployer().remove(plan, lambda e: None, threading.Event())
        for ns in {c.namespace for c in plan.charts}:
            core.delete_namespace(ns)


def charts_of(helm: HelmBinary, tmp: Path) -> Path:
    """The example's chart archives, as the tests of the helm deployer use them."""
    bundle = build_example(helm, tmp / "build")
    charts = tmp / "charts"
    charts.mkdir()
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("charts/"):
                data = tar.extractfile(member)
                assert data is not None
                (charts / Path(member.name).name).write_bytes(data.read())
    return charts
