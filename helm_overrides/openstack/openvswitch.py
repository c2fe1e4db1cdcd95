"""openvswitch: the virtual switch on every compute node."""

from helm_overrides.openstack.base import OpenStackPlugin


class OpenvswitchPlugin(OpenStackPlugin):
    chart = "openvswitch"
    compute_labels = ("ovs",)
