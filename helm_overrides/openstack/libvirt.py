"""libvirt: the hypervisor daemon on every compute node."""

from helm_overrides.openstack.base import OpenStackPlugin


class LibvirtPlugin(OpenStackPlugin):
    chart = "libvirt"
    compute_labels = ("agent.libvirt",)
