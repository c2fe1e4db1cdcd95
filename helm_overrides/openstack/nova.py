"""nova: compute; the API and schedulers on the control plane, nova-compute per node; its
ephemeral disks in the Ceph pool ``ephemeral`` once a backend is configured (``ceph_storage``)."""

from typing import Any

from helm_overrides.openstack.base import (
    COMPUTE_LABEL,
    ENABLED,
    OpenStackPlugin,
    placement,
    set_path,
)
from helm_overrides.openstack.ceph_storage import nova_overrides
from helm_overrides.snapshot import ChartInput, ModelSnapshot


class NovaPlugin(OpenStackPlugin):
    chart = "nova"
    service = "nova"
    peers = ("neutron", "placement")
    replicas = ("osapi", "api_metadata", "conductor", "scheduler", "novncproxy")
    control_labels = (
        "osapi", "api_metadata", "conductor", "scheduler", "novncproxy", "consoleauth", "job",
    )  # fmt: skip
    compute_labels = ("agent.compute",)
    identity = database = messaging = True

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        # Each compute node announces and serves consoles on its own management address,
        # through helm-toolkit's per-host daemonset overrides; compute nodes are the hosts
        # carrying the label the app places nova-compute with.
        label, value = placement(chart.base_values, "agent.compute") or (COMPUTE_LABEL, ENABLED)
        hosts = [
            {
                "name": h.hostname,
                "conf": {
                    "nova": {
                        "DEFAULT": {"my_ip": h.mgmt_ip},
                        "vnc": {
                            "server_listen": h.mgmt_ip,
                            "server_proxyclient_address": h.mgmt_ip,
                        },
                    }
                },
            }
            for h in snap.labelled(label, value)
            if h.mgmt_ip
        ]
        if hosts:
            set_path(out, "conf.overrides.nova_compute.hosts", hosts)
        if snap.ceph is not None and snap.ceph.monitors:
            nova_overrides(out, snap.ceph)
