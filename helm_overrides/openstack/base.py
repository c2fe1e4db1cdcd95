"""What the openstack-helm charts have in common, computed from the model.

Every openstack-helm chart reads its replicas from ``pod.replicas.<component>``, its node
placement from ``labels.<component>.node_selector_key/value``, its credentials and peers
from ``endpoints.*``; a plugin declares which of those its chart has and adds what is
particular to it. Images (``images.tags``) are rewritten for every chart by the conductor's
generator, plugin or not, so no plugin does it.

Placement belongs to the application: the chart's values.yaml and the values of its
Armada document say on which labelled nodes each workload runs (StarlingX's manifests put
neutron's agents on ``openstack-compute-node`` and its OVS agent on ``openvswitch``, which
the chart requires on the same node). A plugin never writes ``labels.*``; it reads where
the application places its workloads to know which host labels an apply needs, and which
hosts are compute nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from helm_overrides.openstack.credentials import (
    ADMIN_SECRETS,
    IDENTITY,
    MEMCACHE_SECRET,
    Entry,
    chart_entries,
    declared_entries,
    has_memcache_key,
    secret_name,
)
from helm_overrides.plugin import ChartPlugin, LabelRequirement
from helm_overrides.snapshot import CONTROLLER, WORKER, ChartInput, ModelSnapshot, SecretRef

NAMESPACE = "openstack"
CONTROL_PLANE_LABEL = "openstack-control-plane"
COMPUTE_LABEL = "openstack-compute-node"
ENABLED = "enabled"

#: Whose hosts a missing-label hint proposes, for the labels StarlingX gives a role; any
#: other label is proposed for the personality of the workload placed with it.
ROLE_OF_LABEL = {CONTROL_PLANE_LABEL: (CONTROLLER,), COMPUTE_LABEL: (WORKER,)}


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def controller_replicas(snap: ModelSnapshot) -> int:
    """One per controller, one on a simplex system (sysinv's rule)."""
    if snap.is_simplex:
        return 1
    return max(1, len(snap.controllers))


def _label_value(value: object) -> str:
    # A label value as the chart renders it (YAML may have read `true` as a boolean).
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def placement(values: Mapping[str, Any], path: str) -> tuple[str, str] | None:
    """The ``(label, value)`` that ``labels.<path>`` of the chart's values places a workload
    with, or None when the values place nothing there."""
    node: Any = values.get("labels")
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if not isinstance(node, Mapping):
        return None
    label, value = node.get("node_selector_key"), node.get("node_selector_value")
    if not isinstance(label, str) or not label or value is None:
        return None
    return label, _label_value(value)


class OpenStackPlugin(ChartPlugin):
    namespaces: ClassVar[tuple[str, ...]] = (NAMESPACE,)
    #: The service's keystone/database/messaging user, if it has one.
    service: ClassVar[str | None] = None
    #: Other services' keystone users the chart configures (nova talks to neutron...).
    peers: ClassVar[tuple[str, ...]] = ()
    #: ``pod.replicas`` keys scaled with the controllers.
    replicas: ClassVar[tuple[str, ...]] = ()
    #: ``labels`` paths of the workloads an apply runs, on the control plane and on
    #: compute nodes: read (never written) for the host labels the chart needs.
    control_labels: ClassVar[tuple[str, ...]] = ()
    compute_labels: ClassVar[tuple[str, ...]] = ()
    #: Which ``endpoints`` credentials the chart reads when its values do not say (they
    #: always do for a real chart: every credential entry there gets its secret).
    identity: ClassVar[bool] = False
    database: ClassVar[bool] = False
    messaging: ClassVar[bool] = False

    def requirements(self, snap: ModelSnapshot, chart: ChartInput) -> tuple[LabelRequirement, ...]:
        """One requirement per label the chart places its workloads with."""
        found: dict[tuple[str, str], tuple[str, ...]] = {}
        sides = [(p, (CONTROLLER,)) for p in self.control_labels]
        sides += [(p, (WORKER,)) for p in self.compute_labels]
        for path, personality in sides:
            where = placement(chart.base_values, path)
            if where is not None and where not in found:
                found[where] = ROLE_OF_LABEL.get(where[0], personality)
        return tuple(LabelRequirement(k, v, suggest) for (k, v), suggest in found.items())

    def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        out: dict[str, Any] = {}
        count = controller_replicas(snap)
        for component in self.scaled(chart):
            set_path(out, f"pod.replicas.{component}", count)
        set_path(out, "endpoints.cluster_domain_suffix", snap.cluster_domain)
        self._credentials(out, snap, chart)
        self.extra(out, snap, chart)
        return out

    def scaled(self, chart: ChartInput) -> tuple[str, ...]:
        """The ``replicas`` components this version of the chart has (all of them when its
        values list none): neutron's ``rpc_server`` is newer than StarlingX's charts."""
        pod = chart.base_values.get("pod")
        have = pod.get("replicas") if isinstance(pod, Mapping) else None
        if not isinstance(have, Mapping) or not have:
            return self.replicas
        return tuple(c for c in self.replicas if c in have)

    def declared_credentials(self) -> dict[str, tuple[str, ...]]:
        """``endpoint -> auth entries`` assumed when the chart's values define no such
        endpoint (from ``service``, ``peers`` and the three flags)."""
        own = (self.service,) if self.service else ()
        declared: dict[str, tuple[str, ...]] = {}
        if self.database:
            declared["oslo_db"] = ("admin", *own)
        if self.messaging:
            declared["oslo_messaging"] = ("admin", *own)
        if self.identity:
            users = own if self.service != "keystone" else ()
            declared["identity"] = ("admin", *users, *self.peers)
        return declared

    def credential_secret(self, entry: Entry) -> str:
        """The secret of one credential entry: the server's superuser's for ``admin``,
        otherwise the one of the entry's user."""
        if entry.is_admin:
            return ADMIN_SECRETS[entry.kind]
        return secret_name(entry.kind, entry.username)

    def _credentials(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        entries = declared_entries(self.declared_credentials())
        entries.update(chart_entries(chart.base_values))  # the chart's own, where it has some
        for endpoint, items in entries.items():
            if not items:
                continue
            auth = out.setdefault("endpoints", {}).setdefault(endpoint, {}).setdefault("auth", {})
            for entry in items:
                secret = SecretRef(self.credential_secret(entry))
                if entry.kind != IDENTITY:
                    auth[entry.key] = {"password": secret}
                elif entry.is_admin:
                    auth[entry.key] = {
                        "region_name": snap.region_name,
                        "username": "admin",
                        "password": secret,
                        "project_name": "admin",
                        "user_domain_name": "default",
                        "project_domain_name": "default",
                    }
                else:
                    auth[entry.key] = {
                        "region_name": snap.region_name,
                        "username": entry.username,
                        "password": secret,
                    }
        if has_memcache_key(chart.base_values):
            set_path(out, "endpoints.oslo_cache.auth.memcache_secret_key",
                     SecretRef(MEMCACHE_SECRET))  # fmt: skip

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        """Chart-specific overrides, added to ``out`` in place."""
