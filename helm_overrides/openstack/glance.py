"""glance: the image service; its store is the Ceph pool ``images`` once a backend is
configured (``ceph_storage``), the chart's own otherwise."""

from typing import Any

from helm_overrides.openstack.base import OpenStackPlugin
from helm_overrides.openstack.ceph_storage import glance_overrides
from helm_overrides.snapshot import ChartInput, ModelSnapshot


class GlancePlugin(OpenStackPlugin):
    chart = "glance"
    service = "glance"
    replicas = ("api",)
    control_labels = ("api", "registry", "job")
    identity = database = messaging = True

    def extra(self, out: dict[str, Any], snap: ModelSnapshot, chart: ChartInput) -> None:
        if snap.ceph is not None and snap.ceph.monitors:
            glance_overrides(out, snap.ceph)
