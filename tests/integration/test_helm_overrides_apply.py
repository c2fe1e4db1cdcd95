"""Overrides in a real apply: label and configuration checks first, then system and user
overrides reaching the objects on the test cluster."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.api.test_hosts import fault
from tests.helm_charts.mini_app import APP_NAME, build_mini_app
from tests.helm_charts.topologies import REGISTRY, TOPOLOGIES, topology_settings
from tests.servers.helm import HelmBinary
from tests.stack import Stack, running_stack, wait_done

pytestmark = pytest.mark.kube
URL = f"/v1/helm_charts/{APP_NAME}"


@pytest.fixture
def stack(kube_cluster: Any, helm4: HelmBinary, tmp_path: Path) -> Iterator[Stack]:
    settings = topology_settings(
        tmp_path / "state", TOPOLOGIES["aio-simplex"], None, str(helm4.path)
    )
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as s:
        try:
            yield s
        finally:
            # The releases go with the app: later tests share the cluster's namespaces.
            r = s.client.get(f"/v1/apps/{APP_NAME}")
            if r.status_code == 200 and r.json()["status"] not in ("uploaded", "upload-failed"):
                s.client.patch(f"/v1/apps/{APP_NAME}?directive=remove", json={"values": {}})
                assert wait_done(s, APP_NAME, timeout=180)["status"] == "uploaded"


def apply(stack: Stack) -> Any:
    return stack.client.patch(f"/v1/apps/{APP_NAME}?directive=apply", json={"values": {}})


def test_checks_then_system_and_user_overrides_reach_the_cluster(
    stack: Stack, kube_cluster: Any, helm4: HelmBinary, tmp_path: Path
) -> None:
    bundle = build_mini_app(helm4, tmp_path, only={"memcached", "rbd-provisioner"})
    r = stack.client.post("/v1/apps", json={
        "tarfile": bundle.name,
        "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode(),
    })  # fmt: skip
    assert r.status_code == 200, r.text
    assert wait_done(stack, APP_NAME)["status"] == "uploaded"
    host = stack.add_host("controller-0", "controller", mgmt_ip="192.168.204.10")

    # Nobody carries the control-plane label, and there is no Ceph for rbd-provisioner.
    r = apply(stack)
    assert r.status_code == 400
    message = fault(r)
    assert message.startswith("Application-apply rejected: ")
    assert (
        "Please use system host-label-assign controller-0 openstack-control-plane=enabled"
        in message
    )
    assert (
        "chart rbd-provisioner is not configured: storage backend ceph is not configured" in message
    )
    assert stack.client.get(f"/v1/apps/{APP_NAME}").json()["status"] == "uploaded"

    r = stack.client.post(f"/v1/labels/{host['uuid']}", json={"openstack-control-plane": "enabled"})
    assert r.status_code == 200, r.text
    # Locked, its Node is cordoned and the pods would wait for it: unlocked, as an operator
    # does once its labels are assigned.
    assert stack.action(host, "unlock").status_code == 200
    r = apply(stack)
    assert r.status_code == 400
    assert "host-label-assign" not in fault(r) and "rbd-provisioner" in fault(r)

    # A disabled chart leaves the plan, and with it the refusal.
    disable = {"flags": {}, "values": {}, "attributes": {"enabled": "false"}}
    params = {"name": "rbd-provisioner", "namespace": "kube-system"}
    r = stack.client.patch(URL, params=params, json=disable)
    assert r.status_code == 200, r.text
    r = apply(stack)
    assert r.status_code == 200, r.text
    app = wait_done(stack, APP_NAME, timeout=240)
    assert (app["status"], app["progress"]) == ("applied", "completed"), app

    apps_api = client.AppsV1Api(kube_cluster.api_client())
    dep = apps_api.read_namespaced_deployment("mini-memcached-server", "openstack")
    assert dep.spec.replicas == 1  # the plugin's: one on a simplex system
    pod = dep.spec.template.spec
    assert pod.node_selector == {"openstack-control-plane": "enabled"}
    assert pod.containers[0].image == (
        f"{REGISTRY}/docker.io/openstackhelm/memcached:2024.1-ubuntu_jammy"
    )
    assert not apps_api.list_namespaced_deployment(
        "kube-system", label_selector="app=mini-rbd-provisioner"
    ).items

    # The operator's override wins over the system's at the next apply.
    r = stack.client.patch(URL, params={"name": "memcached", "namespace": "openstack"}, json={
        "flags": {"reuse_values": False, "reset_values": True},
        "values": {"files": [], "set": ["pod.replicas.server=3"]}, "attributes": {},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    assert apply(stack).status_code == 200
    app = wait_done(stack, APP_NAME, timeout=240)
    assert app["status"] == "applied", app
    dep = apps_api.read_namespaced_deployment("mini-memcached-server", "openstack")
    assert dep.spec.replicas == 3
    assert dep.spec.template.spec.node_selector == {"openstack-control-plane": "enabled"}
