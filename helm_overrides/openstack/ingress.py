"""ingress: the nginx ingress controller, deployed by the application in two namespaces.

StarlingX's stx-openstack manifests deploy the chart twice: in ``openstack``, the
controller of that namespace's Ingresses (the chart's default ``namespace`` mode, a
Deployment scaled with the controllers), and in ``kube-system``, the cluster's controller
(``cluster`` mode, serving every namespace's Ingresses of the chart's cluster class), a
DaemonSet on the host network of each node the application places it on.
"""

from typing import Any

from helm_overrides.openstack.base import NAMESPACE, OpenStackPlugin, set_path
from helm_overrides.snapshot import ChartInput, ModelSnapshot

KUBE_SYSTEM = "kube-system"


class IngressPlugin(OpenStackPlugin):
    chart = "ingress"
    namespaces = (KUBE_SYSTEM, NAMESPACE)
    replicas = ("ingress", "error_page")
    control_labels = ("server", "error_server")

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        if chart.namespace != KUBE_SYSTEM:
            return
        # A DaemonSet has no replica count; its error pages are still a Deployment.
        out.get("pod", {}).get("replicas", {}).pop("ingress", None)
        set_path(out, "deployment.mode", "cluster")
        set_path(out, "deployment.type", "DaemonSet")
        set_path(out, "network.host_namespace", True)
