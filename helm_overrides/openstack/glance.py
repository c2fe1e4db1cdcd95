"""glance: the image service."""

from helm_overrides.openstack.base import OpenStackPlugin


class GlancePlugin(OpenStackPlugin):
    chart = "glance"
    service = "glance"
    replicas = ("api",)
    control_labels = ("api", "registry", "job")
    identity = database = messaging = True
