"""rabbitmq: the message bus of the OpenStack services."""

from typing import Any

from helm_overrides.openstack.base import OpenStackPlugin, set_path
from helm_overrides.snapshot import ChartInput, ModelSnapshot, SecretRef


class RabbitmqPlugin(OpenStackPlugin):
    chart = "rabbitmq"
    replicas = ("server",)
    control_labels = ("server", "jobs")

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        # The broker's own user is the one every service calls "admin" on the bus.
        set_path(out, "endpoints.oslo_messaging.auth.user.password", SecretRef("rabbitmq-admin"))
