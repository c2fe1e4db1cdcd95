"""An OpenStack application shaped like StarlingX's stx-openstack on the test cluster.

The bundle (tests/helm_charts/openstack_app.py) has mariadb, rabbitmq, memcached, ingress
(in ``openstack`` and in ``kube-system``), keystone, glance, placement, nova, neutron,
openvswitch, libvirt and StarlingX's nova-api-proxy. Version 1.0-1 has the charts of 2019
(what stx-openstack deployed then), 1.0-2 those of today's openstack-helm, with new images
and a changed nova setting in its manifest. The system is the session cluster's four
nodes: two controllers (openstack-control-plane) and two workers (openstack-compute-node,
openvswitch), labelled through the API as an operator would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysinv_common.conf.bootstrap import SystemMode, SystemType
from tests.api.test_hosts import fault
from tests.helm_charts.openstack_app import (
    APP_NAME,
    CHART_VERSIONS,
    RELEASES,
    V1,
    V2,
    build_openstack_app,
)
from tests.helm_charts.openstack_charts import COMPUTE, CONTROL, OVS
from tests.helm_charts.topologies import REGISTRY, Topology, build_hosts, topology_settings
from tests.integration.openstack_checks import Cluster, View, audit
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import Stack, running_stack, wait_done, wait_until

pytestmark = pytest.mark.kube

ENABLED = "enabled"
SYSTEM = Topology(
    "standard-ovs", SystemType.STANDARD, SystemMode.DUPLEX,
    {"controller-0": ("controller", (f"{CONTROL}={ENABLED}",)),
     "controller-1": ("controller", (f"{CONTROL}={ENABLED}",)),
     "worker-0": ("worker", (f"{COMPUTE}={ENABLED}", f"{OVS}={ENABLED}")),
     "worker-1": ("worker", (f"{COMPUTE}={ENABLED}", f"{OVS}={ENABLED}"))},
    2,
)  # fmt: skip
LABELS = (CONTROL, COMPUTE, OVS)
APP = f"/v1/apps/{APP_NAME}"
#: Objects of 1.0-1 that today's charts no longer have.
GONE_IN_V2 = {
    ("Deployment", "glance-registry"), ("Deployment", "mariadb-ingress"),
    ("Deployment", "mariadb-ingress-error-pages"), ("Deployment", "nova-consoleauth"),
    ("Deployment", "osh-openstack-memcached-memcached"),
    ("DaemonSet", "openvswitch-db"), ("DaemonSet", "openvswitch-vswitchd"),
    ("Secret", "nova-db-api-admin"), ("Secret", "nova-db-api-user"),
}  # fmt: skip


def strip_labels(cluster: Any) -> None:
    """No node keeps an OpenStack label an earlier test (or run) gave it."""
    core = cluster.core_v1()
    for key in LABELS:
        for node in core.list_node(label_selector=key).items:
            core.patch_node(node.metadata.name, {"metadata": {"labels": {key: None}}})


@pytest.fixture
def nodes(kube_cluster: Any) -> Iterator[None]:
    missing = set(SYSTEM.hosts) - set(kube_cluster.node_names)
    assert not missing, f"the session cluster lacks nodes {missing}"
    strip_labels(kube_cluster)
    yield
    strip_labels(kube_cluster)


def node_labels(kube_cluster: Any) -> dict[str, dict[str, str]]:
    core = kube_cluster.core_v1()
    return {h: dict(core.read_node(h).metadata.labels or {}) for h in SYSTEM.hosts}


class Clock:
    """Seconds spent in each step, for the test's closing line."""

    def __init__(self) -> None:
        self.last = self.start = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now

    def __str__(self) -> str:
        steps = ", ".join(f"{name} {t:.1f} s" for name, t in self.laps.items())
        return f"{steps}; {self.last - self.start:.1f} s in all"


def report(what: str, app: dict[str, Any], problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{what}: app {app['status']} ({app['progress']}); {len(problems)} problem(s):\n{lines}"


def job_uids(view: View) -> dict[str, str]:
    return {
        j.metadata.name: j.metadata.uid
        for j in view.all("Job")
        if (j.metadata.labels or {}).get("release_group") in {r.name for r in RELEASES}
    }


def conf_option(view: View, secret: str, file: str, option: str) -> str | None:
    data = view.secret_data("openstack", secret) or {}
    for line in data.get(file, "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == option:
            return value.strip()
    return None


def cleanup(stack: Stack, cluster: Cluster) -> None:
    """Leave the shared cluster as it was, whatever state the test stopped in."""
    r = stack.client.get(APP)
    if r.status_code == 200 and r.json()["status"] not in ("uploaded", "upload-failed"):
        stack.client.patch(f"{APP}?directive=remove", json={"values": {}})
        wait_done(stack, APP_NAME, timeout=180)
    for rel in RELEASES:
        cluster.helm_run("uninstall", rel.name, "-n", rel.namespace, "--ignore-not-found", "--wait")


def test_openstack_app_uploads_applies_updates_and_removes(
    kube_cluster: Any, helm4: HelmBinary, helm_home: Path, tmp_path: Path, nodes: None
) -> None:
    clock = Clock()
    settings = topology_settings(tmp_path / "state", SYSTEM, None, str(helm4.path))
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600
    # Armada installed a whole non-sequenced chart group at once.
    settings.apps.chart_concurrency = 6
    v1, v2 = (build_openstack_app(helm4, tmp_path, v) for v in (V1, V2))
    clock.lap("build")
    cluster = Cluster(kube_cluster.api_client(), helm4, kube_cluster.kubeconfig, helm_home)
    with running_stack(settings) as stack:
        c = stack.client
        try:
            build_hosts(stack, SYSTEM, unlock=True)
            cluster.hosts = node_labels(kube_cluster)
            assert {h for h, lb in cluster.hosts.items() if lb.get(OVS) == ENABLED} == {
                "worker-0", "worker-1"}  # fmt: skip

            r = c.post("/v1/apps", json=upload_body(v1))
            assert r.status_code == 200, r.text
            app = wait_done(stack, APP_NAME, timeout=120)
            clock.lap("upload")
            assert (app["status"], app["app_version"]) == ("uploaded", V1.app_version), app
            charts = c.get("/v1/helm_charts/", params={"app_name": APP_NAME}).json()["charts"]
            assert {(ch["name"], ns) for ch in charts for ns in ch["namespaces"]} == {
                (rel.chart, rel.namespace) for rel in RELEASES}  # fmt: skip

            # The operator runs one glance API instead of one per controller, and keeps
            # that across updates (the bundle's metadata maintains user overrides).
            glance = {"name": "glance", "namespace": "openstack"}
            r = c.patch(f"/v1/helm_charts/{APP_NAME}", params=glance, json={
                "flags": {"reuse_values": False, "reset_values": True},
                "values": {"files": [], "set": ["pod.replicas.api=1"]}, "attributes": {},
            })  # fmt: skip
            assert r.status_code == 200, r.text

            r = c.patch(f"{APP}?directive=apply", json={"values": {}})
            assert r.status_code == 200, r.text
            app = wait_done(stack, APP_NAME, timeout=300)
            clock.lap("apply")
            problems = audit(V1, cluster, REGISTRY)
            clock.lap("check")
            assert app["status"] == "applied" and not problems, report("apply 1.0-1", app, problems)
            releases = cluster.releases()
            assert sorted(releases) == sorted(r.name for r in RELEASES)
            assert {r["status"] for r in releases.values()} == {"deployed"}
            view = cluster.snapshot()
            assert view.get("Deployment", "openstack", "glance-api").spec.replicas == 1
            assert view.get("Deployment", "openstack", "nova-api-osapi").spec.replicas == 2
            before = job_uids(view)

            r = c.post("/v1/apps/update", json=upload_body(v2))
            assert r.status_code == 200, r.text
            app = wait_done(stack, APP_NAME, timeout=300)
            clock.lap("update")
            problems = audit(V2, cluster, REGISTRY)
            clock.lap("check")
            assert (app["status"], app["app_version"]) == ("applied", V2.app_version) and not (
                problems), report("update to 1.0-2", app, problems)  # fmt: skip
            releases = cluster.releases()
            for rel in RELEASES:
                chart = f"{rel.chart}-{CHART_VERSIONS[V2.era]}"
                assert releases[rel.name]["chart"] == chart, releases[rel.name]
            view = cluster.snapshot()
            for kind, name in sorted(GONE_IN_V2):
                assert view.get(kind, "openstack", name) is None, f"{kind} {name} left"
            # The new manifest's values took: nova's setting and StarlingX's new images.
            assert conf_option(view, "nova-etc", "nova.conf", "cpu_allocation_ratio") == "4"
            osapi = view.get("Deployment", "openstack", "nova-api-osapi")
            assert osapi.spec.template.spec.containers[0].image == (
                f"{REGISTRY}/docker.io/starlingx/stx-nova:{V2.stx_tag}"
            )
            assert view.get("Deployment", "openstack", "glance-api").spec.replicas == 1
            # upgrade.pre.delete removed every job before helm ran, so each was created anew.
            after = job_uids(view)
            assert set(before) & set(after)
            kept = sorted(n for n in set(before) & set(after) if before[n] == after[n])
            assert not kept, f"jobs not deleted before the upgrade: {kept}"

            owned = view.release_objects()
            assert {release for release, *_ in owned} == {r.name for r in RELEASES}
            r = c.patch(f"{APP}?directive=remove", json={"values": {}})
            assert r.status_code == 200, r.text
            app = wait_done(stack, APP_NAME, timeout=240)
            clock.lap("remove")
            assert (app["status"], app["progress"]) == ("uploaded", "completed"), app
            assert cluster.releases() == {}
            # helm deletes what it made; their dependents (ReplicaSets, pods) follow with
            # Kubernetes' garbage collector, in the background.
            deadline = time.monotonic() + 120
            while left := cluster.snapshot().release_objects():
                assert time.monotonic() < deadline, f"objects of the releases left: {left}"
                time.sleep(1)
            assert {kind for _, kind, *_ in owned} >= {
                "Deployment",
                "DaemonSet",
                "StatefulSet",
                "Job",
                "Secret",
                "Service",
            }
            wait_until("the releases' pods to go", lambda: not [
                p for p in cluster.snapshot().all("Pod")
                if (p.metadata.labels or {}).get("release_group") in {r.name for r in RELEASES}
            ], timeout=60)  # fmt: skip
            assert c.delete(APP).status_code == 204
            r = c.get(APP)
            assert r.status_code == 404 and APP_NAME in fault(r)
            clock.lap("check")
        finally:
            cleanup(stack, cluster)
    print(f"\nopenstack app: {clock}")
