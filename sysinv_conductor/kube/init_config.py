"""What the first controller needs to create the cluster: kubeadm init's facts.

Which host creates the cluster: the unlocked controller named ``controller-0`` (StarlingX's
first controller, the one installed first) when the conductor reaches a cluster that has no
Node at all. Every other host, and controller-0 once any Node exists, joins instead. A
cluster the conductor cannot reach never makes anyone run ``kubeadm init``: a second
``init`` would create a second, separate cluster.

The API endpoint every node and client uses is the floating cluster-host address (port
6443): the host of the bootstrap ``kubernetes_api_endpoint`` when it is set, else the
second address of the cluster-host subnet (192.168.206.2 in 192.168.206.0/24, StarlingX's
default floating address).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from sysinv_common.nodeconfig import FloatingAddress, InitConfig
from sysinv_common.states.host import Personality

BOOTSTRAP_CONTROLLER = "controller-0"
API_SERVER_PORT = 6443


def bootstraps_cluster(
    hostname: str, personality: str | None, cluster_has_nodes: Callable[[], bool]
) -> bool:
    """Whether this (unlocked, not yet joined) host runs ``kubeadm init`` rather than join;
    the cluster is asked only about controller-0."""
    return (
        personality == Personality.CONTROLLER
        and hostname == BOOTSTRAP_CONTROLLER
        and not cluster_has_nodes()
    )


def floating_address(api_endpoint: str | None, cluster_host_subnet: str) -> str:
    """The floating cluster-host address (see the module's docstring)."""
    if api_endpoint:
        host = urlsplit(api_endpoint).hostname
        if host:
            return host
    network = ipaddress.ip_network(cluster_host_subnet, strict=False)
    return str(network[2])


def floating_on_interface(
    api_endpoint: str | None, cluster_host_subnet: str
) -> FloatingAddress | None:
    """The floating address as the active controller's agent adds it: with the
    cluster-host subnet's prefix when it lies in that subnet, else as a host address; None
    when the endpoint names a host (DNS) rather than an address: nothing to add then."""
    try:
        address = ipaddress.ip_address(floating_address(api_endpoint, cluster_host_subnet))
    except ValueError:
        return None
    network = ipaddress.ip_network(cluster_host_subnet, strict=False)
    inside = address.version == network.version and address in network
    prefix = network.prefixlen if inside else address.max_prefixlen
    return FloatingAddress(address=str(address), prefix=prefix)


def _host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def init_config(
    *,
    kubernetes_version: str,
    floating: str,
    advertise_address: str,
    controller_addresses: Iterable[str],
    pod_subnet: str,
    service_subnet: str,
) -> InitConfig:
    """The init facts: the API certificate names the floating address and every
    controller's address, so it stays valid whichever controller serves the endpoint."""
    sans: list[str] = []
    for address in [floating, advertise_address, *controller_addresses]:
        text = str(ipaddress.ip_address(address))
        if text not in sans:
            sans.append(text)
    return InitConfig(
        kubernetes_version=kubernetes_version,
        control_plane_endpoint=_host_port(str(ipaddress.ip_address(floating)), API_SERVER_PORT),
        advertise_address=str(ipaddress.ip_address(advertise_address)),
        cert_sans=sans,
        pod_subnet=str(ipaddress.ip_network(pod_subnet)),
        service_subnet=str(ipaddress.ip_network(service_subnet)),
    )
