"""mariadb: the Galera cluster every OpenStack service keeps its database in."""

from helm_overrides.openstack.base import OpenStackPlugin


class MariadbPlugin(OpenStackPlugin):
    chart = "mariadb"
    replicas = ("server",)
    # ingress and error_server: the mariadb-ingress of the 2019-2021 charts.
    control_labels = ("server", "ingress", "error_server", "controller", "job")
    database = True
