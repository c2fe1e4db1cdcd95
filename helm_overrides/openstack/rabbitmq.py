"""rabbitmq: the message bus of the OpenStack services."""

from helm_overrides.openstack.base import OpenStackPlugin
from helm_overrides.openstack.credentials import ADMIN_SECRETS, MESSAGING, Entry


class RabbitmqPlugin(OpenStackPlugin):
    chart = "rabbitmq"
    replicas = ("server",)
    control_labels = ("server", "jobs")

    def declared_credentials(self) -> dict[str, tuple[str, ...]]:
        return {"oslo_messaging": ("user",)}

    def credential_secret(self, entry: Entry) -> str:
        # The broker's own user is the one every service calls "admin" on the bus.
        if entry.kind == MESSAGING and entry.key == "user":
            return ADMIN_SECRETS[MESSAGING]
        return super().credential_secret(entry)
