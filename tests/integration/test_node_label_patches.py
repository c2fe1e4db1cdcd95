"""A label change to a Node this conductor patched last is one request (the patch,
carrying the resourceVersion of that Node as it was answered), not a read and a patch;
a Node changed meanwhile by anyone else is read again and nothing of theirs is lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sysinv_conductor.kube.nodes import KubeNodes, NodeSync


class Counted:
    """The CoreV1Api of a KubeNodes, its reads and patches counted."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.calls: list[str] = []

    def read_node(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("read")
        return self.core.read_node(*args, **kwargs)

    def patch_node(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("patch")
        return self.core.patch_node(*args, **kwargs)


@pytest.fixture
def node(kube_cluster: Any) -> Iterator[str]:
    name = f"np-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name, wait_ready=False)
    try:
        yield name
    finally:
        kube_cluster.delete_node(name)


def nodes(kube_cluster: Any) -> tuple[KubeNodes, Counted]:
    kube = KubeNodes(kube_cluster.api_client())
    counted = Counted(kube._core)
    kube._core = counted
    return kube, counted


def labels_of(kube_cluster: Any, name: str) -> dict[str, str]:
    return dict(kube_cluster.core_v1().read_node(name).metadata.labels or {})


def test_the_next_change_is_one_patch(kube_cluster: Any, node: str) -> None:
    kube, counted = nodes(kube_cluster)
    assert kube.ensure_labels(node, {"a": "1"}).state is NodeSync.APPLIED
    # A read and a patch; again if kwok's status heartbeat changed the Node in between.
    assert counted.calls[-2:] == ["read", "patch"] and len(counted.calls) % 2 == 0
    wanted = {"a": "1"}
    for key in "bcd":
        counted.calls.clear()
        wanted[key] = "2"
        assert kube.ensure_labels(node, dict(wanted)).state is NodeSync.APPLIED
        if counted.calls == ["patch"]:
            break
        # The Node changed since our patch (a status heartbeat): a 409, read, patch.
        assert counted.calls == ["patch", "read", "patch"], counted.calls
    assert counted.calls == ["patch"]
    assert {k: v for k, v in labels_of(kube_cluster, node).items() if k in wanted} == wanted


def test_a_node_changed_meanwhile_is_read_again(kube_cluster: Any, node: str) -> None:
    kube, counted = nodes(kube_cluster)
    kube.ensure_labels(node, {"a": "1"})
    kube_cluster.core_v1().patch_node(node, {"metadata": {"labels": {"theirs": "x"}}})
    counted.calls.clear()
    assert kube.ensure_labels(node, {"a": "1", "b": "2"}).state is NodeSync.APPLIED
    assert counted.calls == ["patch", "read", "patch"]  # 409, then as before
    labels = labels_of(kube_cluster, node)
    assert (labels["a"], labels["b"], labels["theirs"]) == ("1", "2", "x")


def test_up_to_date_is_never_concluded_from_the_remembered_node(
    kube_cluster: Any, node: str
) -> None:
    """Someone removed our label by hand: the remembered Node still has it, the Node does
    not; the assign reads the Node and puts it back."""
    kube, counted = nodes(kube_cluster)
    kube.ensure_labels(node, {"a": "1"})
    kube_cluster.core_v1().patch_node(node, {"metadata": {"labels": {"a": None}}})
    counted.calls.clear()
    assert kube.ensure_labels(node, {"a": "1"}).state is NodeSync.APPLIED
    assert counted.calls == ["read", "patch"]
    assert labels_of(kube_cluster, node)["a"] == "1"


def test_a_deleted_node_is_pending(kube_cluster: Any) -> None:
    name = f"np-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name, wait_ready=False)
    kube, _ = nodes(kube_cluster)
    kube.ensure_labels(name, {"a": "1"})
    kube_cluster.delete_node(name)
    assert kube.ensure_labels(name, {"a": "1", "b": "2"}).state is NodeSync.PENDING
