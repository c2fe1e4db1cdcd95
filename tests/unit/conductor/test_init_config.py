"""kubeadm init's facts for the controller that creates the cluster."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sysinv_common.nodeconfig import FloatingAddress
from sysinv_conductor.kube.init_config import (
    bootstraps_cluster,
    floating_address,
    floating_on_interface,
    init_config,
)


def test_only_controller_0_of_an_empty_cluster_creates_it() -> None:
    asked: list[bool] = []

    def nodes(answer: bool) -> Callable[[], bool]:
        def ask() -> bool:
            asked.append(answer)
            return answer

        return ask

    assert bootstraps_cluster("controller-0", "controller", nodes(False))
    assert not bootstraps_cluster("controller-0", "controller", nodes(True))
    assert len(asked) == 2
    # Any other host joins without the cluster being asked.
    assert not bootstraps_cluster("controller-1", "controller", nodes(False))
    assert not bootstraps_cluster("controller-0", "worker", nodes(False))
    assert not bootstraps_cluster("controller-0", None, nodes(False))
    assert len(asked) == 2


@pytest.mark.parametrize(
    ("endpoint", "subnet", "expected"),
    [
        (None, "192.168.206.0/24", "192.168.206.2"),
        ("https://10.10.10.5:6443", "192.168.206.0/24", "10.10.10.5"),
        (None, "fd00:206::/64", "fd00:206::2"),
        ("https://[fd00::9]:6443", "fd00:206::/64", "fd00::9"),
    ],
)
def test_floating_address(endpoint: str | None, subnet: str, expected: str) -> None:
    assert floating_address(endpoint, subnet) == expected


@pytest.mark.parametrize(
    ("endpoint", "subnet", "expected"),
    [
        (None, "192.168.206.0/24", FloatingAddress(address="192.168.206.2", prefix=24)),
        ("https://10.20.0.5:6443", "10.20.0.0/16", FloatingAddress(address="10.20.0.5", prefix=16)),
        # Outside the cluster-host subnet: a host address, routed rather than on-link.
        (
            "https://172.16.0.9:6443",
            "192.168.206.0/24",
            FloatingAddress(address="172.16.0.9", prefix=32),
        ),
        ("https://[fd00::2]:6443", "fd00::/64", FloatingAddress(address="fd00::2", prefix=64)),
        # A DNS name: nothing for an agent to add.
        ("https://k8s.example.com:6443", "192.168.206.0/24", None),
    ],
)
def test_floating_on_interface(
    endpoint: str | None, subnet: str, expected: FloatingAddress | None
) -> None:
    assert floating_on_interface(endpoint, subnet) == expected


def test_init_config_names_the_floating_address_and_both_controllers() -> None:
    init = init_config(
        kubernetes_version="v1.36.3", floating="192.168.206.2",
        advertise_address="192.168.206.3",
        controller_addresses=["192.168.206.3", "192.168.206.4"],
        pod_subnet="172.16.0.0/16", service_subnet="10.96.0.0/12",
    )  # fmt: skip
    assert init.control_plane_endpoint == "192.168.206.2:6443"
    assert init.advertise_address == "192.168.206.3"
    assert init.cert_sans == ["192.168.206.2", "192.168.206.3", "192.168.206.4"]
    assert (init.pod_subnet, init.service_subnet) == ("172.16.0.0/16", "10.96.0.0/12")
    assert init.kubernetes_version == "v1.36.3"
    assert init.etcd_data_dir == "/var/lib/etcd"


def test_init_config_ipv6_endpoint_in_brackets() -> None:
    init = init_config(
        kubernetes_version="v1.36.3", floating="fd00:206::2", advertise_address="fd00:206::3",
        controller_addresses=[], pod_subnet="fd00:100::/64", service_subnet="fd00:200::/112",
    )  # fmt: skip
    assert init.control_plane_endpoint == "[fd00:206::2]:6443"
    assert init.cert_sans == ["fd00:206::2", "fd00:206::3"]


def test_a_bad_address_is_refused() -> None:
    with pytest.raises(ValueError):
        init_config(
            kubernetes_version="v1.36.3", floating="not-an-ip", advertise_address="10.0.0.1",
            controller_addresses=[], pod_subnet="172.16.0.0/16", service_subnet="10.96.0.0/12",
        )  # fmt: skip
