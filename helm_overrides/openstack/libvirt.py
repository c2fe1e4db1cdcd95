"""libvirt: the hypervisor daemon on every compute node; with a Ceph backend it defines
the libvirt secret of nova's Ceph user (``ceph_storage``)."""

from typing import Any

from helm_overrides.openstack.base import OpenStackPlugin
from helm_overrides.openstack.ceph_storage import libvirt_overrides
from helm_overrides.snapshot import ChartInput, ModelSnapshot


class LibvirtPlugin(OpenStackPlugin):
    chart = "libvirt"
    compute_labels = ("agent.libvirt",)

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        if snap.ceph is not None and snap.ceph.monitors:
            libvirt_overrides(out, snap.ceph)
