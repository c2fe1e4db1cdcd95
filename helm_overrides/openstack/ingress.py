"""ingress: the OpenStack namespace's ingress controller."""

from helm_overrides.openstack.base import OpenStackPlugin


class IngressPlugin(OpenStackPlugin):
    chart = "ingress"
    replicas = ("ingress", "error_page")
    control_labels = ("server", "error_server")
