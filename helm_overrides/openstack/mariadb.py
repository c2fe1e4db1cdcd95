"""mariadb: the Galera cluster every OpenStack service keeps its database in."""

from helm_overrides.openstack.base import OpenStackPlugin


class MariadbPlugin(OpenStackPlugin):
    chart = "mariadb"
    replicas = ("server",)
    control_labels = ("server", "controller", "prometheus_mysql_exporter", "job", "test")
    database = True
