"""The three systems the override tests run on, built through the API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sysinv_common.conf import Settings
from sysinv_common.conf.bootstrap import SystemMode, SystemType
from sysinv_common.states import storage_backend as backend_states
from tests.stack import Stack, make_settings

REGISTRY = "registry.local:9001"
MONITORS = ["192.168.204.2:6789", "192.168.204.3:6789"]
CONTROL = "openstack-control-plane=enabled"
COMPUTE = "openstack-compute-node=enabled"


@dataclass(frozen=True)
class Topology:
    name: str
    system_type: SystemType
    system_mode: SystemMode
    #: hostname -> (personality, labels)
    hosts: dict[str, tuple[str, tuple[str, ...]]]
    replicas: int

    @property
    def controllers(self) -> list[str]:
        return [h for h, (p, _) in self.hosts.items() if p == "controller"]

    @property
    def computes(self) -> list[str]:
        return sorted(h for h, (_, labels) in self.hosts.items() if COMPUTE in labels)


TOPOLOGIES = {
    t.name: t
    for t in (
        Topology("aio-simplex", SystemType.ALL_IN_ONE, SystemMode.SIMPLEX,
                 {"controller-0": ("controller", (CONTROL, COMPUTE))}, 1),
        Topology("aio-duplex", SystemType.ALL_IN_ONE, SystemMode.DUPLEX,
                 {"controller-0": ("controller", (CONTROL, COMPUTE)),
                  "controller-1": ("controller", (CONTROL, COMPUTE))}, 2),
        Topology("standard", SystemType.STANDARD, SystemMode.DUPLEX,
                 {"controller-0": ("controller", (CONTROL,)),
                  "controller-1": ("controller", (CONTROL,)),
                  "worker-0": ("worker", (COMPUTE,)),
                  "worker-1": ("worker", (COMPUTE,)),
                  "worker-2": ("worker", (COMPUTE,))}, 2),
    )
}  # fmt: skip


def mgmt_ip(hostname: str) -> str:
    kind, index = hostname.rsplit("-", 1)
    return f"192.168.204.{(10 if kind == 'controller' else 20) + int(index)}"


def topology_settings(tmp: Path, topo: Topology, database_url: str | None, helm: str) -> Settings:
    settings = make_settings(tmp, database_url)
    settings.bootstrap.system_type = topo.system_type
    settings.bootstrap.system_mode = topo.system_mode
    settings.bootstrap.registry.address = REGISTRY
    # The overrides point every image at the local registry; the charts' images themselves
    # (docker.io, quay.io) cannot be had on a machine without internet, and no registry
    # answers at REGISTRY: uploads leave them where they are.
    settings.registry.images_at_upload = False
    settings.apps.helm_binary = helm
    return settings


def build_hosts(stack: Stack, topo: Topology, unlock: bool = False) -> None:
    """Hosts and their labels through the API, as an operator would; with ``unlock``,
    unlocked once labelled (a locked host's Node is cordoned: no pod would run there)."""
    for hostname, (personality, labels) in topo.hosts.items():
        host = stack.add_host(hostname, personality, mgmt_ip=mgmt_ip(hostname))
        body = dict(label.split("=", 1) for label in labels)
        r = stack.client.post(f"/v1/labels/{host['uuid']}", json=body)
        assert r.status_code == 200, r.text
        if unlock:
            r = stack.action(host, "unlock")
            assert r.status_code == 200, r.text


def configured_ceph(stack: Stack, replication: int) -> None:
    """A Ceph storage backend at ``MONITORS``, recorded configured as the conductor would
    leave it (these systems have no real Ceph: the overrides are all they are tested on)."""
    with stack.db.session() as s:
        row = backend_states.create(
            s, name="ceph-store", backend="ceph", services=None, monitors=MONITORS, fsid=None,
            keyring_path=None,
        )  # fmt: skip
        backend_states.transition(
            s, row.id, backend_states.BackendState.CONFIGURING,
            backend_states.BackendState.CONFIGURED, replication=replication, min_replication=1,
        )  # fmt: skip
