"""neutron: networking; its server on the control plane, the OVS agent on computes."""

from helm_overrides.openstack.base import OpenStackPlugin


class NeutronPlugin(OpenStackPlugin):
    chart = "neutron"
    service = "neutron"
    peers = ("nova", "placement")
    replicas = ("server", "rpc_server")
    control_labels = ("server", "rpc_server", "agent.dhcp", "agent.l3", "agent.metadata", "job")
    compute_labels = ("ovs",)
    identity = database = messaging = True
