"""memcached: the token and session cache of the OpenStack services."""

from helm_overrides.openstack.base import OpenStackPlugin


class MemcachedPlugin(OpenStackPlugin):
    chart = "memcached"
    replicas = ("server",)
    control_labels = ("server",)
