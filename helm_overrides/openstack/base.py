"""What the openstack-helm charts have in common, computed from the model.

Every openstack-helm chart reads its replicas from ``pod.replicas.<component>``, its node
placement from ``labels.<component>.node_selector_key/value``, its credentials and peers
from ``endpoints.*``; a plugin declares which of those its chart has and adds what is
particular to it. Images (``images.tags``) are rewritten for every chart by the conductor's
generator, plugin or not, so no plugin does it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from helm_overrides.plugin import ChartPlugin, LabelRequirement
from helm_overrides.snapshot import CONTROLLER, WORKER, ChartInput, ModelSnapshot, SecretRef

NAMESPACE = "openstack"
CONTROL_PLANE_LABEL = "openstack-control-plane"
COMPUTE_LABEL = "openstack-compute-node"
ENABLED = "enabled"

CONTROL_PLANE = LabelRequirement(CONTROL_PLANE_LABEL, ENABLED, (CONTROLLER,))
COMPUTE = LabelRequirement(COMPUTE_LABEL, ENABLED, (WORKER,))

#: The keystone admin everything authenticates as to create its own users.
ADMIN_SECRET = "keystone-admin"


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


def node_selector(label: str) -> dict[str, str]:
    return {"node_selector_key": label, "node_selector_value": ENABLED}


class OpenStackPlugin(ChartPlugin):
    namespaces: ClassVar[tuple[str, ...]] = (NAMESPACE,)
    #: The service's keystone/database/messaging user, if it has one.
    service: ClassVar[str | None] = None
    #: Other services' keystone users the chart configures (nova talks to neutron...).
    peers: ClassVar[tuple[str, ...]] = ()
    #: ``pod.replicas`` keys scaled with the controllers.
    replicas: ClassVar[tuple[str, ...]] = ()
    #: ``labels`` paths placed on the control plane and on compute nodes.
    control_labels: ClassVar[tuple[str, ...]] = ()
    compute_labels: ClassVar[tuple[str, ...]] = ()
    #: Which ``endpoints`` credentials the chart reads.
    identity: ClassVar[bool] = False
    database: ClassVar[bool] = False
    messaging: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        needs = [CONTROL_PLANE] if cls.control_labels else []
        if cls.compute_labels:
            needs.append(COMPUTE)
        cls.requires = tuple(needs)

    def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        out: dict[str, Any] = {}
        count = controller_replicas(snap)
        for component in self.replicas:
            set_path(out, f"pod.replicas.{component}", count)
        for path in self.control_labels:
            set_path(out, f"labels.{path}", node_selector(CONTROL_PLANE_LABEL))
        for path in self.compute_labels:
            set_path(out, f"labels.{path}", node_selector(COMPUTE_LABEL))
        set_path(out, "endpoints.cluster_domain_suffix", snap.cluster_domain)
        if self.identity:
            self._identity(out, snap)
        if self.database:
            set_path(out, "endpoints.oslo_db.auth.admin.password", SecretRef("mariadb-admin"))
            if self.service:
                set_path(out, f"endpoints.oslo_db.auth.{self.service}.password",
                         SecretRef(f"{self.service}-db"))  # fmt: skip
        if self.messaging:
            set_path(out, "endpoints.oslo_messaging.auth.admin.password",
                     SecretRef("rabbitmq-admin"))  # fmt: skip
            if self.service:
                set_path(out, f"endpoints.oslo_messaging.auth.{self.service}.password",
                         SecretRef(f"{self.service}-rabbitmq"))  # fmt: skip
        self.extra(out, snap, chart)
        return out

    def _identity(self, out: dict[str, Any], snap: ModelSnapshot) -> None:
        admin = {
            "region_name": snap.region_name,
            "username": "admin",
            "password": SecretRef(ADMIN_SECRET),
            "project_name": "admin",
            "user_domain_name": "default",
            "project_domain_name": "default",
        }
        set_path(out, "endpoints.identity.auth.admin", admin)
        users = [self.service] if self.service and self.service != "keystone" else []
        for user in [*users, *self.peers]:
            set_path(out, f"endpoints.identity.auth.{user}", {
                "region_name": snap.region_name,
                "username": user,
                "password": SecretRef(f"{user}-keystone"),
                "project_name": "service",
                "user_domain_name": "service",
                "project_domain_name": "service",
            })  # fmt: skip

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        """Chart-specific overrides, added to ``out`` in place."""
