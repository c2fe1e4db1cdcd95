"""The context owns the conductor's one Kubernetes client; everyone shares it."""

from __future__ import annotations

from collections.abc import Callable

from sysinv_conductor.context import ConductorContext
from sysinv_conductor.kube.cluster_ops import KubeClusterOps
from sysinv_conductor.kube.nodes import NodeSync
from tests.unit.conductor.conftest import SERVER


def test_no_cluster_no_client_and_node_sync_skipped(
    make_ctx: Callable[..., ConductorContext],
) -> None:
    ctx = make_ctx(kube=False)
    assert ctx.kube_api is None
    assert not ctx.kube.enabled
    assert ctx.kube.ensure_labels("worker-0", {"a": "1"}).state is NodeSync.SKIPPED
    assert ctx.kube.set_unschedulable("worker-0", True).state is NodeSync.SKIPPED
    assert ctx.kube.delete_node("worker-0").state is NodeSync.SKIPPED


def test_one_client_from_the_kubeconfig_shared(make_ctx: Callable[..., ConductorContext]) -> None:
    ctx = make_ctx()
    assert ctx.kube_api is not None
    assert ctx.kube_api.configuration.host == SERVER
    assert ctx.kube.enabled
    assert ctx.kube._core.api_client is ctx.kube_api
    ops = KubeClusterOps(ctx.kube_api)
    assert all(api.api_client is ctx.kube_api for api in ops.apis.values())
