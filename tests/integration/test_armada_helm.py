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
    # per chart: queued, namespace, helm, test, done, in that order. The example's charts
    # say nothing about tests, so Armada's default runs `helm test`; with no test hooks it
    # passes at once.
    for name in CHARTS:
        assert [e.phase for e in events if e.chart == name] == [
            "queued",
            "namespace",
            "helm",
            "test",
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


# A chart whose test hook is a Job: kwok completes a Job's pod (the test passes); with
# ``testPasses: false`` the pod can never be scheduled and the Job's deadline fails it, as
# kube-controller-manager's Job controller does on a real cluster.
PROBE_FILES = {
    "Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
    "values.yaml": "testPasses: true\n",
    "templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-data
data:
  probe: "yes"
""",
    "templates/test.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  {{- if not .Values.testPasses }}
  activeDeadlineSeconds: 2
  {{- end }}
  template:
    spec:
      restartPolicy: Never
      {{- if not .Values.testPasses }}
      nodeSelector:
        sysinv-test/never: "true"
      {{- end }}
      containers:
        - name: check
          image: busybox
          command: ["true"]
""",
}


def probe_plan(env: Env, tmp: Path, documents: str) -> Plan:
    """``documents`` (probe charts in the h-<suffix> namespace) as a plan, the probe chart
    packaged with the real helm into the plan's charts directory."""
    src = tmp / "probe"
    for rel, text in PROBE_FILES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    subprocess.run(
        [str(env.helm.path), "package", str(src), "--destination", str(env.charts_dir)],
        env=env.helm_env, capture_output=True, check=True,
    )  # fmt: skip
    text = documents.format(prefix=f"t{env.suffix}", ns=f"h-{env.suffix}")
    return build_plan(load_documents(text), env.charts_dir)


PROBES = """\
schema: armada/Manifest/v1
metadata: {{name: probes}}
data: {{release_prefix: {prefix}, chart_groups: [probes]}}
---
schema: armada/ChartGroup/v2
metadata: {{name: probes}}
data: {{sequenced: true, chart_group: [probe-v1, probe-v2, probe-off]}}
---
schema: armada/Chart/v1
metadata: {{name: probe-v1}}
data:
  chart_name: probe
  release: probe-v1
  namespace: {ns}
  values: {{testPasses: {passes}}}
  source: {{type: tar, location: /charts/probe-0.1.0.tgz, subpath: probe}}
---
schema: armada/Chart/v2
metadata: {{name: probe-v2}}
data:
  release: probe-v2
  namespace: {ns}
  wait: {{timeout: 60}}
  test: {{timeout: 60}}
  values: {{testPasses: true}}
  source: {{type: tar, location: /charts/probe-0.1.0.tgz}}
---
schema: armada/Chart/v2
metadata: {{name: probe-off}}
data:
  release: probe-off
  namespace: {ns}
  test: {{enabled: false}}
  values: {{testPasses: false}}
  source: {{type: tar, location: /charts/probe-0.1.0.tgz}}
"""


def hook_job(env: Env, release: str) -> Any:
    try:
        return env.ops.batch.read_namespaced_job(f"{release}-test", f"h-{env.suffix}")
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_charts_without_a_test_key_run_their_helm_tests(env: Env, tmp_path: Path) -> None:
    """Armada's default: `helm test` after the install; a chart that turns it off is
    not tested (its hook would fail)."""
    plan = probe_plan(env, tmp_path, PROBES.replace("{passes}", "true"))
    events: list[Event] = []
    result = env.deployer().apply(plan, events.append, threading.Event())
    assert result.ok, result.message
    prefix = f"t{env.suffix}"
    assert env.releases() == {f"{prefix}-probe-{n}": "deployed" for n in ("v1", "v2", "off")}
    for name in ("probe-v1", "probe-v2"):
        job = hook_job(env, f"{prefix}-{name}")
        assert job is not None and job.status.succeeded == 1, name
        assert [e.phase for e in events if e.chart == name][-2:] == ["test", "done"]
    assert hook_job(env, f"{prefix}-probe-off") is None
    assert "test" not in [e.phase for e in events if e.chart == "probe-off"]
    # helm recorded the runs on the releases too.
    status = env.helm_json("status", f"{prefix}-probe-v1", "-n", f"h-{env.suffix}")
    hooks = [h for h in status.get("hooks", []) if "test" in h["events"]]
    assert [h["last_run"]["phase"] for h in hooks] == ["Succeeded"]


def test_a_failing_helm_test_fails_the_apply(env: Env, tmp_path: Path) -> None:
    plan = probe_plan(env, tmp_path, PROBES.replace("{passes}", "false"))
    result = env.deployer().apply(plan, lambda e: None, threading.Event())
    assert not result.ok and not result.cancelled
    release = f"t{env.suffix}-probe-v1"
    outcome = result.outcomes[0]
    assert (outcome.chart, outcome.status, outcome.revision) == ("probe-v1", "failed", 1)
    assert outcome.message.startswith(f"helm test of {release} failed: ")
    # helm 3: "job <name> failed: DeadlineExceeded"; helm 4: "Job/<ns>/<name> not ready.
    # status: Failed". Either way the hook is named, and what to do is said.
    assert f"{release}-test" in outcome.message
    assert outcome.message.endswith(
        "(the release is deployed, but its chart's test hooks failed; as Armada, sysinv runs "
        "them after every install and upgrade unless the chart's document says "
        "test: {enabled: false})"
    )
    assert 'chart "probe-v1"' in result.message and f"{release}-test" in result.message
    # The release stays deployed; the sequenced group stopped there.
    assert [o.status for o in result.outcomes] == ["failed", "skipped", "skipped"]
    assert env.releases() == {release: "deployed"}
    job = hook_job(env, release)
    assert job is not None and job.status.failed == 1


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
