"""placement: the resource inventory nova schedules against."""

from helm_overrides.openstack.base import OpenStackPlugin


class PlacementPlugin(OpenStackPlugin):
    chart = "placement"
    service = "placement"
    replicas = ("api",)
    control_labels = ("api", "job")
    identity = database = True
