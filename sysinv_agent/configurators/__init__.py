"""The configurators that make a node match its :class:`HostConfig`, one per concern.

A configurator is idempotent: applying the same configuration twice writes nothing and runs
nothing the second time, and a step that failed (a restart, a join) is retried by the next
apply. :data:`ALL` lists them in apply order (the container runtime before the kubelet that
uses it, the kubelet before the network and storage clients, the floating address last);
:func:`apply_all` runs each one and reports a :class:`ConfiguratorResult` per configurator,
whatever the others did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sysinv_agent.configurators.calico import CalicoConfigurator
from sysinv_agent.configurators.ceph import CephConfigurator
from sysinv_agent.configurators.docker import DockerConfigurator
from sysinv_agent.configurators.floating import FloatingAddressConfigurator
from sysinv_agent.configurators.kubernetes import KubernetesConfigurator
from sysinv_agent.fs import STATE_DIR, rooted
from sysinv_agent.runner import Runner
from sysinv_common.nodeconfig import ConfiguratorResult, HostConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeContext:
    """Where the node's files live (``/`` on a node) and how its commands run."""

    root: Path
    runner: Runner
    #: The cluster-host interface, which the floating address goes on (``eth0``); None:
    #: the node has none that the agent could tell.
    interface: str | None = None

    def path(self, absolute: str) -> Path:
        """The node path ``absolute`` (e.g. ``/etc/ceph/ceph.conf``) under :attr:`root`."""
        return rooted(self.root, absolute)

    def state_path(self, name: str) -> Path:
        """The state file configurator ``name`` keeps under ``/var/lib/sysinv-agent``."""
        return self.path(f"{STATE_DIR}/{name}.json")


class Configurator(Protocol):
    name: str

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult: ...


ALL: tuple[Configurator, ...] = (
    DockerConfigurator(),
    KubernetesConfigurator(),
    CalicoConfigurator(),
    CephConfigurator(),
    FloatingAddressConfigurator(),
)


def apply_all(
    config: HostConfig, node: NodeContext, configurators: Sequence[Configurator] = ALL
) -> list[ConfiguratorResult]:
    """Apply each configurator in order; one that raises is reported failed, the rest still run."""
    results: list[ConfiguratorResult] = []
    for configurator in configurators:
        try:
            result = configurator.apply(config, node)
        except Exception as e:
            log.exception("configurator %s failed", configurator.name)
            result = ConfiguratorResult(
                name=configurator.name,
                ok=False,
                message=f"{configurator.name} configurator failed: {type(e).__name__}: {e}",
            )
        results.append(result)
    return results


__all__ = ["ALL", "Configurator", "NodeContext", "apply_all"]
