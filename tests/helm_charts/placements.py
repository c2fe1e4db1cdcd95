"""Where the real charts and StarlingX's manifest place the workloads the plugins know.

Facts, written down by hand for the tests (``labels.<path>`` -> node label, value
``enabled`` everywhere):

* ``CHART_DEFAULTS``: the openstack-helm / openstack-helm-infra charts' own values.yaml,
  identical for these paths in the commits StarlingX pinned in 2019-2021 and today (a path
  a version lacks, such as glance's ``registry`` today, is simply absent there).
* ``STX_2019``: the ``values.labels`` of the Armada documents of StarlingX's stx-openstack
  manifest (starlingx/openstack-armada-app, ``stx-openstack-helm/stx-openstack-helm/
  manifests/manifest.yaml`` at commit 64eab01, September 2019): neutron's dhcp, l3 and
  metadata agents on compute nodes, its OVS agent (which the chart requires on the same
  node as they are) and the openvswitch chart on ``openvswitch``.
"""

from __future__ import annotations

from typing import Any

CONTROL = "openstack-control-plane"
COMPUTE = "openstack-compute-node"
OVS = "openvswitch"

CHART_DEFAULTS: dict[str, dict[str, str]] = {
    "mariadb": {"server": CONTROL, "ingress": CONTROL, "error_server": CONTROL,
                "prometheus_mysql_exporter": CONTROL, "job": CONTROL, "test": CONTROL},
    "rabbitmq": {"server": CONTROL, "prometheus_rabbitmq_exporter": CONTROL, "test": CONTROL,
                 "jobs": CONTROL},
    "memcached": {"server": CONTROL, "prometheus_memcached_exporter": CONTROL},
    "ingress": {"server": CONTROL, "error_server": CONTROL},
    "keystone": {"api": CONTROL, "job": CONTROL, "test": CONTROL},
    "glance": {"api": CONTROL, "job": CONTROL, "registry": CONTROL, "test": CONTROL},
    "placement": {"api": CONTROL, "job": CONTROL},
    "nova": {"agent.compute": COMPUTE, "agent.compute_ironic": COMPUTE,
             "api_metadata": CONTROL, "conductor": CONTROL, "consoleauth": CONTROL,
             "job": CONTROL, "novncproxy": CONTROL, "osapi": CONTROL, "scheduler": CONTROL,
             "spiceproxy": CONTROL, "test": CONTROL},
    "neutron": {"agent.dhcp": CONTROL, "agent.l3": CONTROL, "agent.metadata": CONTROL,
                "agent.l2gw": CONTROL, "job": CONTROL, "lb": "linuxbridge", "ovs": OVS,
                "sriov": "sriov", "bagpipe_bgp": COMPUTE, "server": CONTROL, "test": CONTROL},
    "libvirt": {"agent.libvirt": COMPUTE},
    "openvswitch": {"ovs": OVS},
}  # fmt: skip

STX_2019: dict[str, dict[str, str]] = {
    "ingress": {"server": CONTROL, "error_server": CONTROL},
    "mariadb": {"server": CONTROL, "prometheus_mysql_exporter": CONTROL},
    "memcached": {"server": CONTROL, "prometheus_memcached_exporter": CONTROL},
    "rabbitmq": {"server": CONTROL, "prometheus_rabbitmq_exporter": CONTROL},
    "keystone": {"api": CONTROL, "job": CONTROL},
    "glance": {"api": CONTROL, "job": CONTROL, "registry": CONTROL},
    "libvirt": {"agent.libvirt": COMPUTE},
    "openvswitch": {"ovs": OVS},
    "nova": {"agent.compute": COMPUTE, "agent.compute_ironic": "openstack-ironic",
             "api_metadata": CONTROL, "conductor": CONTROL, "consoleauth": CONTROL,
             "job": CONTROL, "novncproxy": CONTROL, "osapi": CONTROL, "scheduler": CONTROL,
             "spiceproxy": CONTROL, "test": CONTROL},
    "placement": {"placement": CONTROL, "job": CONTROL},
    "neutron": {"agent.dhcp": COMPUTE, "agent.l3": COMPUTE, "agent.metadata": COMPUTE,
                "job": CONTROL, "lb": "linuxbridge", "ovs": OVS, "server": CONTROL,
                "test": CONTROL},
}  # fmt: skip


def labels_values(placement: dict[str, str]) -> dict[str, Any]:
    """``{"labels": ...}`` values placing each path on its label."""
    labels: dict[str, Any] = {}
    for path, label in placement.items():
        node = labels
        for key in path.split("."):
            node = node.setdefault(key, {})
        node.update({"node_selector_key": label, "node_selector_value": "enabled"})
    return {"labels": labels}
