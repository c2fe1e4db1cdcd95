"""Hosts and labels reaching a real Kubernetes control plane through the conductor."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_hosts import fault
from tests.stack import Stack, make_settings, running_stack, wait_until

pytestmark = pytest.mark.kube

OWNED = "sysinv.io/owned-labels"


@pytest.fixture(scope="module")
def kstack(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = make_settings(tmp_path_factory.mktemp("kstack"))
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600  # the tests run the audit themselves
    with running_stack(settings) as stack:
        yield stack


@pytest.fixture
def node(kube_cluster: Any) -> Iterator[str]:
    name = f"sn-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name)
    yield name
    kube_cluster.delete_node(name)


def node_of(kube_cluster: Any, name: str) -> Any:
    return kube_cluster.core_v1().read_node(name)


def assign(stack: Stack, host: dict[str, Any], overwrite: bool = True, **labels: str) -> Any:
    return stack.client.post(f"/v1/labels/{host['uuid']}?overwrite={overwrite}", json=labels)


def test_labels_reach_the_node_with_owner_annotation(
    kstack: Stack, kube_cluster: Any, node: str
) -> None:
    host = kstack.add_host(node)
    r = assign(kstack, host, **{"openstack-compute-node": "enabled", "example.com/tier": "gold"})
    assert r.status_code == 200, r.text
    assert r.json()["kube_node"].startswith("applied")
    n = node_of(kube_cluster, node)
    assert n.metadata.labels["openstack-compute-node"] == "enabled"
    assert n.metadata.labels["example.com/tier"] == "gold"
    assert json.loads(n.metadata.annotations[OWNED]) == [
        "example.com/tier",
        "openstack-compute-node",
    ]

    listed = kstack.client.get(f"/v1/ihosts/{host['uuid']}/labels").json()["labels"]
    tier = next(lb for lb in listed if lb["label_key"] == "example.com/tier")
    assert kstack.client.delete(f"/v1/labels/{tier['uuid']}").status_code == 204
    n = node_of(kube_cluster, node)
    assert "example.com/tier" not in n.metadata.labels
    assert n.metadata.labels["openstack-compute-node"] == "enabled"
    assert n.metadata.labels["kubernetes.io/hostname"] == node  # not ours, untouched
    assert json.loads(n.metadata.annotations[OWNED]) == ["openstack-compute-node"]


def test_lock_cordons_and_unlock_uncordons(kstack: Stack, kube_cluster: Any, node: str) -> None:
    host = kstack.add_host(node)
    assert kstack.action(host, "unlock").status_code == 200
    assert not node_of(kube_cluster, node).spec.unschedulable
    r = kstack.action(host, "lock")
    assert r.status_code == 200, r.text
    assert node_of(kube_cluster, node).spec.unschedulable is True
    assert kstack.action(host, "unlock").status_code == 200
    assert not node_of(kube_cluster, node).spec.unschedulable


def test_delete_removes_the_node(kstack: Stack, kube_cluster: Any) -> None:
    name = f"sn-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name)
    host = kstack.add_host(name)
    assert kstack.client.delete(f"/v1/ihosts/{host['id']}").status_code == 204
    names = [n.metadata.name for n in kube_cluster.core_v1().list_node().items]
    assert name not in names


def test_missing_node_is_pending_then_applied_by_the_audit(
    kstack: Stack, kube_cluster: Any
) -> None:
    name = f"sn-{uuid.uuid4().hex[:8]}"
    host = kstack.add_host(name)
    r = assign(kstack, host, role="edge")
    assert r.status_code == 200, r.text
    assert r.json()["kube_node"].startswith("pending")
    assert "has not joined" in r.json()["kube_node"]
    assert (
        kstack.client.get(f"/v1/ihosts/{host['id']}/labels").json()["labels"][0]["label_key"]
        == "role"
    )
    kube_cluster.create_node(name)  # the node joins, as a kubelet registering would
    try:
        kstack.rpc.label_audit()
        n = node_of(kube_cluster, name)
        assert n.metadata.labels["role"] == "edge"
        assert json.loads(n.metadata.annotations[OWNED]) == ["role"]
    finally:
        kube_cluster.delete_node(name)


def test_audit_repairs_owned_labels_only(kstack: Stack, kube_cluster: Any, node: str) -> None:
    host = kstack.add_host(node)
    assert assign(kstack, host, a="1", b="2").status_code == 200
    core = kube_cluster.core_v1()
    # Someone changes one owned label, removes another, and adds their own.
    core.patch_node(node, {"metadata": {"labels": {"a": "tampered", "b": None, "theirs": "x"}}})
    drift = kstack.rpc.label_audit().drift
    assert [d.hostname for d in drift] == [node]
    labels = node_of(kube_cluster, node).metadata.labels
    assert (labels["a"], labels["b"], labels["theirs"]) == ("1", "2", "x")
    assert kstack.rpc.label_audit().drift == []  # nothing left to repair


def test_refused_patch_leaves_the_database_unchanged(
    kube_cluster: Any, node: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig_for("sysinv-denied"))
    with running_stack(settings) as stack:
        host = stack.add_host(node)
        r = assign(stack, host, zone="a")
        assert r.status_code == 502
        assert "forbidden" in fault(r).lower()
        assert stack.client.get(f"/v1/ihosts/{host['id']}/labels").json()["labels"] == []
        r = stack.action(host, "unlock")
        assert r.status_code == 502
        assert stack.client.get(f"/v1/ihosts/{host['id']}").json()["administrative"] == "locked"
    assert "zone" not in (node_of(kube_cluster, node).metadata.labels or {})


def test_a_locked_host_whose_node_exists_is_cordoned_when_added(
    kstack: Stack, kube_cluster: Any, node: str
) -> None:
    assert not node_of(kube_cluster, node).spec.unschedulable
    host = kstack.add_host(node)  # a new host is locked
    assert host["administrative"] == "locked"
    # The conductor looks at the Node after the add answered (a cast).
    wait_until("the Node cordoned", lambda: node_of(kube_cluster, node).spec.unschedulable, 30)
    shown = kstack.client.get(f"/v1/ihosts/{host['uuid']}").json()
    assert "cordoned" in shown["kube_node"]


def test_a_locked_hosts_node_that_joins_later_is_cordoned_by_the_audit(
    kstack: Stack, kube_cluster: Any
) -> None:
    name = f"sn-{uuid.uuid4().hex[:8]}"
    host = kstack.add_host(name)  # locked, no Node yet
    # The add's Node sync (a cast) has looked and found no Node: only then does the
    # kubelet register, or that sync could be what cordons it.
    wait_until("the add's Node sync", lambda: kstack.client.get(
        f"/v1/ihosts/{host['uuid']}").json()["kube_node"], 30)  # fmt: skip
    kube_cluster.create_node(name)  # the kubelet registers, schedulable
    try:
        assert not node_of(kube_cluster, name).spec.unschedulable
        kstack.rpc.label_audit()
        assert node_of(kube_cluster, name).spec.unschedulable is True
        # An unlocked host's Node is left as it is: only an unlock uncordons.
        other = f"sn-{uuid.uuid4().hex[:8]}"
        kube_cluster.create_node(other)
        try:
            host = kstack.add_host(other)
            assert kstack.action(host, "unlock").status_code == 200
            kube_cluster.core_v1().patch_node(other, {"spec": {"unschedulable": True}})
            kstack.rpc.label_audit()
            assert node_of(kube_cluster, other).spec.unschedulable is True
        finally:
            kube_cluster.delete_node(other)
    finally:
        kube_cluster.delete_node(name)
