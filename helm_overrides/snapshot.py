"""The read-only view of the model that override plugins compute from.

The conductor builds one ``ModelSnapshot`` per generation from the database; plugins get
nothing else, so they stay pure functions that are fast, deterministic and testable
without a database. Secrets appear only as ``SecretRef``: a plugin names a secret, the
conductor generates and stores it, and puts the value in place only for Helm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

CONTROLLER = "controller"
WORKER = "worker"
STORAGE = "storage"

ALL_IN_ONE = "All-in-one"
STANDARD = "Standard"
SIMPLEX = "simplex"


def _frozen(labels: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(labels))


@dataclass(frozen=True)
class SecretRef:
    """A generated secret (a password), named so that charts sharing it agree on it."""

    name: str


@dataclass(frozen=True)
class HostView:
    hostname: str
    personality: str | None
    administrative: str = "locked"
    operational: str = "disabled"
    availability: str = "offline"
    mgmt_ip: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: _frozen({}))

    def __post_init__(self) -> None:
        if not isinstance(self.labels, MappingProxyType):
            object.__setattr__(self, "labels", _frozen(self.labels))

    def has_label(self, key: str, value: str) -> bool:
        return self.labels.get(key) == value


@dataclass(frozen=True)
class CephView:
    """The configured Ceph storage backend (``storage-backend-add ceph``): its monitors and
    the replication sysinv gave its pools. Absent while no backend is configured."""

    monitors: tuple[str, ...]
    fsid: str | None = None
    replication: int = 1
    min_replication: int = 1


@dataclass(frozen=True)
class ModelSnapshot:
    system_name: str
    system_type: str
    system_mode: str
    region_name: str
    hosts: tuple[HostView, ...] = ()
    registry_address: str | None = None
    kubernetes_api_endpoint: str | None = None
    mgmt_subnet: str | None = None
    cluster_host_subnet: str | None = None
    pod_subnet: str | None = None
    service_subnet: str | None = None
    ceph: CephView | None = None
    cluster_domain: str = "cluster.local"

    @property
    def is_simplex(self) -> bool:
        return self.system_mode == SIMPLEX

    @property
    def is_all_in_one(self) -> bool:
        return self.system_type == ALL_IN_ONE

    def with_personality(self, personality: str) -> tuple[HostView, ...]:
        return tuple(h for h in self.hosts if h.personality == personality)

    @property
    def controllers(self) -> tuple[HostView, ...]:
        return self.with_personality(CONTROLLER)

    def labelled(self, key: str, value: str) -> tuple[HostView, ...]:
        return tuple(h for h in self.hosts if h.has_label(key, value))


@dataclass(frozen=True)
class ChartInput:
    """The chart a plugin computes for: where it is deployed, and the values below ours.

    ``base_values`` are the chart's values.yaml under its Armada document's values; a
    plugin reads them (image references, say) and must not change them.
    """

    app_name: str
    chart: str
    namespace: str
    base_values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
