"""make_deployer: which deployer the settings choose, and what each is given."""

from __future__ import annotations

import stat
from collections.abc import Callable

import pytest

from armada.deployers.armada_cli import ArmadaCliDeployer
from armada.deployers.helm import HelmDeployer
from sysinv_common.conf.apps import Deployer as DeployerKind
from sysinv_common.errors import InvalidInput
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import helm_env, make_deployer
from sysinv_conductor.kube.cluster_ops import KubeClusterOps


def test_helm_is_the_default_and_uses_the_context_client(
    make_ctx: Callable[..., ConductorContext],
) -> None:
    ctx = make_ctx(helm_binary="/opt/helm4", chart_concurrency=7)
    deployer = make_deployer(ctx)
    assert isinstance(deployer, HelmDeployer)
    assert deployer.helm == "/opt/helm4"
    assert deployer.kubeconfig == ctx.settings.kubernetes.kubeconfig
    assert deployer.concurrency == 7
    assert deployer.workdir == ctx.settings.state_dir / "work"
    assert isinstance(deployer.ops, KubeClusterOps)
    assert deployer.ops.apis["core"].api_client is ctx.kube_api
    home = ctx.settings.state_dir / "helm-home"
    assert deployer.env is not None
    assert deployer.env["HELM_CACHE_HOME"] == str(home / "cache")


def test_helm_without_a_cluster_is_refused(make_ctx: Callable[..., ConductorContext]) -> None:
    ctx = make_ctx(kube=False)
    with pytest.raises(InvalidInput, match="no Kubernetes cluster configured"):
        make_deployer(ctx)


def test_helm_refused_when_the_kubeconfig_came_after_the_client(
    make_ctx: Callable[..., ConductorContext],
) -> None:
    # Set after the context was built: there is a file for helm but no client for the
    # namespaces, and half a cluster is no cluster.
    ctx = make_ctx(kube=False)
    ctx.settings.kubernetes.kubeconfig = "/somewhere/kubeconfig"
    with pytest.raises(InvalidInput, match="no Kubernetes cluster configured"):
        make_deployer(ctx)


@pytest.mark.parametrize("kube", [True, False])
def test_armada_when_chosen_with_or_without_a_cluster(
    make_ctx: Callable[..., ConductorContext], kube: bool
) -> None:
    ctx = make_ctx(kube=kube, deployer=DeployerKind.ARMADA, armada_command=["armada", "apply"])
    deployer = make_deployer(ctx)
    assert isinstance(deployer, ArmadaCliDeployer)
    assert deployer.command == ["armada", "apply"]
    assert deployer.workdir == ctx.settings.state_dir / "work"


def test_helm_env_homes_are_private(make_ctx: Callable[..., ConductorContext]) -> None:
    ctx = make_ctx(kube=False)
    env = helm_env(ctx)
    for var in ("CACHE", "CONFIG", "DATA"):
        path = ctx.settings.state_dir / "helm-home" / var.lower()
        assert env[f"HELM_{var}_HOME"] == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
