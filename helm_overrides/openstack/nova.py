"""nova: compute; the API and schedulers on the control plane, nova-compute per node."""

from typing import Any

from helm_overrides.openstack.base import COMPUTE_LABEL, ENABLED, OpenStackPlugin, set_path
from helm_overrides.snapshot import ChartInput, ModelSnapshot


class NovaPlugin(OpenStackPlugin):
    chart = "nova"
    service = "nova"
    peers = ("neutron", "placement")
    replicas = ("osapi", "api_metadata", "conductor", "scheduler", "novncproxy")
    control_labels = ("osapi", "api_metadata", "conductor", "scheduler", "novncproxy", "job")
    compute_labels = ("agent.compute",)
    identity = database = messaging = True

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        # Each compute node announces and serves consoles on its own management address,
        # through helm-toolkit's per-host daemonset overrides.
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
            for h in snap.labelled(COMPUTE_LABEL, ENABLED)
            if h.mgmt_ip
        ]
        if hosts:
            set_path(out, "conf.overrides.nova_compute.hosts", hosts)
