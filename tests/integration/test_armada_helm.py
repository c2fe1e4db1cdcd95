"""HelmDeployer on the real control plane with the real helm 3 and helm 4 binaries.

The example application is built with examples/build_app.py; each test gives it its own
release prefix and namespaces (through Armada override documents) and deletes them after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from armada.deployers.helm import HelmDeployer
from armada.documents import apply_overrides, load_documents
from armada.events import Event
from armada.plan import Plan, build_plan
from tests.servers.helm import HelmBinary

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "examples" / "hello-app" / "hello-app-manifest.yaml"
CHARTS = ("hello-config", "hello-web", "hello-worker-a", "hello-worker-b")


class KubeOps:
    """ClusterOps through the Kubernetes API, as the conductor does it."""

    def __init__(self, api: Any) -> None:
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.created: list[str] = []

    def ensure_namespace(self, namespace: str) -> None:
        try:
            self.core.create_namespace(client.V1Namespace(metadata={"name": namespace}))
            self.created.append(namespace)
        except ApiException as exc:
            if exc.status != 409:  # already there is fine
                raise

    def delete_resources(self, namespace: str, kind: str, labels: Mapping[str, str]) -> None:
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        if kind == "job":
            self.batch.delete_collection_namespaced_job(
                namespace, label_selector=selector, propagation_policy="Background"
            )
        elif kind == "pod":
            self.core.delete_collection_namespaced_pod(namespace, label_selector=selector)
        else:
            raise ValueError(f"unsupported pre-delete type {kind}")


@dataclass
class Env:
    helm: HelmBinary
    helm_env: dict[str, str]
    kubeconfig: Path
    charts_dir: Path
    ops: KubeOps
    suffix: str

    def plan(self, extra: list[dict[str, Any]] | None = None) -> Plan:
        overrides: list[dict[str, Any]] = [
            {
                "schema": "armada/Manifest/v1",
                "metadata": {"name": "hello-app-manifest"},
                "data": {"release_prefix": f"t{self.suffix}"},
            }
        ]
        for name in CHARTS:
            ns = f"hw-{self.suffix}" if "worker" in name else f"h-{self.suffix}"
            overrides.append(
                {"schema": "armada/Chart/v1", "metadata": {"name": name}, "data": {"namespace": ns}}
            )
        text = apply_overrides(MANIFEST.read_text(), overrides + (extra or []))
        return build_plan(load_documents(text), self.charts_dir)

    def deployer(self) -> HelmDeployer:
        return HelmDeployer(
            self.helm.path, self.kubeconfig, self.ops, env=self.helm_env, concurrency=4
        )

    def helm_json(self, *args: str) -> Any:
        out = subprocess.run(
            [str(self.helm.path), *args, "-o", "json", "--kubeconfig", str(self.kubeconfig)],
            env=self.helm_env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return json.loads(out or "[]")

    def releases(self) -> dict[str, str]:
        # helm 4 lists every status by default and dropped helm 3's --all.
        every = ["-a"] if self.helm.major == 3 else []
        rows = self.helm_json("list", "-A", *every)
        return {r["name"]: r["status"] for r in rows if r["name"].startswith(f"t{self.suffix}-")}

    def pending(self) -> list[str]:
        # This test's releases only: another test's may be mid-upgrade at the same moment.
        rows = self.helm_json("list", "-A", "--pending")
        return [r["name"] for r in rows if r["name"].startswith(f"t{self.suffix}-")]


@pytest.fixture
def env(helm: HelmBinary, helm_home: Path, kube_cluster: Any, tmp_path: Path) -> Iterator[Env]:
    out = tmp_path / "build"
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "build_app.py"), "--helm", str(helm.path),
         "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    (bundle,) = out.glob("hello-app-*.tgz")
    charts_dir = tmp_path / "charts"
    charts_dir.mkdir()
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("charts/"):
                data = tar.extractfile(member)
                assert data is not None
                (charts_dir / Path(member.name).name).write_bytes(data.read())
    ops = KubeOps(kube_cluster.api_client())
    e = Env(helm, helm.env(helm_home), kube_cluster.kubeconfig, charts_dir, ops,
            uuid.uuid4().hex[:6])  # fmt: skip
    try:
        yield e
    finally:
        for name in e.releases():
            ns = f"hw-{e.suffix}" if "worker" in name else f"h-{e.suffix}"
            subprocess.run(
                [str(helm.path), "uninstall", name, "-n", ns, "--kubeconfig", str(e.kubeconfig)],
                env=e.helm_env, capture_output=True, check=False,
            )  # fmt: skip
        for ns in (f"h-{e.suffix}", f"hw-{e.suffix}"):
            try:
                ops.core.delete_namespace(ns)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def ready_pods(ops: KubeOps, namespace: str) -> tuple[int, int]:
    pods = ops.core.list_namespaced_pod(namespace).items
    ready = sum(
        1
        for p in pods
        if any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    )
    return ready, len(pods)


def never_ready(timeout: int) -> dict[str, Any]:
    """Override making hello-web unschedulable: no node has this label."""
    return {
        "schema": "armada/Chart/v1",
        "metadata": {"name": "hello-web"},
        "data": {"wait": {"timeout": timeout}, "values": {"nodeSelector": {"no-such": "node"}}},
    }


def test_apply_then_remove(env: Env) -> None:
    plan = env.plan()
    events: list[Event] = []
    result = env.deployer().apply(plan, events.append, threading.Event())
    assert result.ok, result.message
    expected = {pc.release: "deployed" for pc in plan.charts}
    assert env.releases() == expected
    assert all(o.revision == 1 and o.chart_version == "0.1.0" for o in result.outcomes)
    for ns in (f"h-{env.suffix}", f"hw-{env.suffix}"):
        ready, total = ready_pods(env.ops, ns)
        assert total > 0 and ready == total, (ns, ready, total)
    # per chart: queued, namespace, helm, done, in that order
    for name in CHARTS:
        assert [e.phase for e in events if e.chart == name] == [
            "queued",
            "namespace",
            "helm",
            "done",
        ]
    order = [(e.chart, e.phase) for e in events]
    # the sequenced group: hello-web starts only after hello-config is done
    assert order.index(("hello-config", "done")) < order.index(("hello-web", "helm"))
    assert order.index(("hello-web", "done")) < order.index(("hello-worker-a", "helm"))
    assert events[-1].chart == "" and events[-1].phase == "done"

    removed: list[Event] = []
    result = env.deployer().remove(plan, removed.append, threading.Event())
    assert result.ok, result.message
    assert env.releases() == {}
    assert [e.chart for e in removed if e.phase == "helm"] == list(reversed(CHARTS))
    assert [o.status for o in result.outcomes] == ["uninstalled"] * 4
    # Removing again is fine: missing releases count as uninstalled.
    assert env.deployer().remove(plan, lambda e: None, threading.Event()).ok


def test_chart_never_ready_fails_apply(env: Env) -> None:
    plan = env.plan([never_ready(10)])
    result = env.deployer().apply(plan, lambda e: None, threading.Event())
    assert not result.ok and not result.cancelled
    assert 'chart "hello-web"' in result.message
    statuses = {o.chart: o.status for o in result.outcomes}
    assert statuses == {
        "hello-config": "deployed",
        "hello-web": "failed",
        "hello-worker-a": "skipped",
        "hello-worker-b": "skipped",
    }
    assert env.pending() == []
    releases = env.releases()
    assert f"t{env.suffix}-worker-a" not in releases


def test_cancel_during_sequenced_group(env: Env) -> None:
    plan = env.plan([never_ready(300)])
    cancel = threading.Event()
    events: list[Event] = []

    def on_event(e: Event) -> None:
        events.append(e)
        if e.chart == "hello-web" and e.phase == "helm":
            threading.Timer(3, cancel.set).start()

    result = env.deployer().apply(plan, on_event, cancel)
    assert result.cancelled and not result.ok
    statuses = {o.chart: o.status for o in result.outcomes}
    assert statuses == {
        "hello-config": "deployed",
        "hello-web": "cancelled",
        "hello-worker-a": "cancelled",
        "hello-worker-b": "cancelled",
    }
    assert not any(e.chart.startswith("hello-worker") and e.phase == "helm" for e in events)
    assert env.pending() == []
    releases = env.releases()
    assert f"t{env.suffix}-worker-a" not in releases
    assert f"t{env.suffix}-worker-b" not in releases
    assert releases.get(f"t{env.suffix}-web") in (None, "failed")


def test_recovery_rolls_back_to_the_last_deployed_revision(env: Env) -> None:
    """A release left pending after a failed revision goes back to the one before that."""
    assert env.deployer().apply(env.plan(), lambda e: None, threading.Event()).ok
    assert not env.deployer().apply(env.plan([never_ready(3)]), lambda e: None,
                                    threading.Event()).ok  # fmt: skip
    (web,) = [pc for pc in env.plan().charts if pc.chart.name == "hello-web"]
    history = lambda: env.helm_json("history", web.release, "-n", web.namespace)  # noqa: E731
    assert [r["status"] for r in history()] == ["deployed", "failed"]
    # A helm killed mid-upgrade (its conductor died) leaves revision 3 pending.
    helm = subprocess.Popen(
        [str(env.helm.path), "upgrade", web.release, str(web.archive), "-n", web.namespace,
         "--set", "nodeSelector.no-such=node", "--wait", "--timeout", "120s",
         "--kubeconfig", str(env.kubeconfig)],
        env=env.helm_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while [r["status"] for r in history()][-1:] != ["pending-upgrade"]:
            assert time.monotonic() < deadline, history()
            time.sleep(0.3)
    finally:
        helm.kill()
        helm.wait()
    events: list[Event] = []
    result = env.deployer().apply(env.plan(), events.append, threading.Event())
    assert result.ok, result.message
    (note,) = [e.message for e in events if e.chart == "hello-web" and e.phase == "rollback"]
    assert f"rolled {web.release} back to revision 1, its last deployed" in note
    rows = history()
    assert rows[3]["description"] == "Rollback to 1", rows
    assert rows[-1]["status"] == "deployed"
