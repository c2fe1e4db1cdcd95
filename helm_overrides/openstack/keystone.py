"""keystone: identity; it owns the admin credentials every other chart uses."""

from helm_overrides.openstack.base import OpenStackPlugin


class KeystonePlugin(OpenStackPlugin):
    chart = "keystone"
    service = "keystone"
    replicas = ("api",)
    control_labels = ("api", "job")
    identity = database = messaging = True
