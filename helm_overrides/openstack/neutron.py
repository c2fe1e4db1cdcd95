"""neutron: networking; its server on the control plane, its agents where the app places them
(StarlingX: dhcp/l3/metadata on ``openstack-compute-node``, the OVS agent, which must share
their node, on ``openvswitch``)."""

from helm_overrides.openstack.base import OpenStackPlugin


class NeutronPlugin(OpenStackPlugin):
    chart = "neutron"
    service = "neutron"
    peers = ("nova", "placement")
    replicas = ("server", "rpc_server")
    control_labels = ("server", "rpc_server", "job")
    compute_labels = ("agent.dhcp", "agent.l3", "agent.metadata", "ovs")
    identity = database = messaging = True
