"""The deployer the settings choose (``apps.deployer``), built for this conductor.

The flows see only the ``Deployer`` protocol: what a deployer cannot do at all it refuses
with ``NotSupported``, and the flow decides what to do instead. Which tool runs, and what
it needs from the conductor (helm's environment, the cluster), is decided here alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from armada.deployers.armada_cli import ArmadaCliDeployer
from armada.deployers.base import Deployer
from armada.deployers.helm import HelmDeployer
from armada.deployers.process import ChildLimits
from sysinv_common.conf.apps import Deployer as DeployerKind
from sysinv_common.errors import InvalidInput
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.kube.cluster_ops import KubeClusterOps


def helm_env(ctx: ConductorContext) -> dict[str, str]:
    """The environment of every helm the conductor runs (deploys, lint, packaging).

    helm's cache, configuration and data live under the conductor's state directory,
    private to it, so they are neither the service user's ``$HOME`` (perhaps read-only or
    shared with an operator's own helm) nor different from one helm call to the next.
    """
    home = ctx.settings.state_dir / "helm-home"
    env = dict(os.environ)
    for var in ("CACHE", "CONFIG", "DATA"):
        d = home / var.lower()
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[f"HELM_{var}_HOME"] = str(d)
    return env


def helm_limits(ctx: ConductorContext) -> ChildLimits:
    """What every helm the conductor runs may use (``apps.helm_memory_mb``/``_cpu_seconds``)."""
    apps = ctx.settings.apps
    return ChildLimits(memory_bytes=apps.helm_memory_mb * 1024 * 1024,
                       cpu_seconds=apps.helm_cpu_seconds)  # fmt: skip


def work_dir(ctx: ConductorContext) -> Path:
    """Where operations keep their private files (manifests, values, helm's TMPDIR)."""
    return ctx.settings.state_dir / "work"


def make_deployer(ctx: ConductorContext) -> Deployer:
    """The configured deployer: the real helm (default), or a site's `armada apply`.

    A new one per operation: deployers are cheap until used and keep per-run state.
    """
    apps = ctx.settings.apps
    workdir = work_dir(ctx)
    if apps.deployer == DeployerKind.ARMADA:
        # `armada apply` finds its cluster by itself (its own kubeconfig or service
        # account), so it needs neither the conductor's kubeconfig nor its client.
        return ArmadaCliDeployer(apps.armada_command, workdir=workdir)
    kubeconfig = ctx.settings.kubernetes.kubeconfig
    # helm needs the file, the namespace and pre-delete work the context's client: both
    # come from the same setting, unless it was changed after the context was built.
    if not kubeconfig or ctx.kube_api is None:
        raise InvalidInput("no Kubernetes cluster configured")
    return HelmDeployer(
        apps.helm_binary, kubeconfig, KubeClusterOps(ctx.kube_api),
        env=helm_env(ctx), concurrency=apps.chart_concurrency, workdir=workdir,
        limits=helm_limits(ctx),
    )  # fmt: skip
