"""A controller locked or deleted leaves the control plane: its agent resets it and the
conductor removes the etcd member it held, through etcd's API, on a real three-member
etcd cluster (TLS, client certificates) whose members are named as kubeadm names them,
after their node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysinv_agent.inventory import fake_root
from sysinv_agent.runner import recorded_commands
from sysinv_agent.service import Agent
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import InvalidState
from sysinv_conductor.kube.etcd import EtcdMembers
from tests.servers.etcd_cluster import EtcdCluster
from tests.stack import Stack, make_settings, running_stack, wait_until

RESET = ["kubeadm", "reset", "-f"]


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path / "etcd", members=3, name_prefix="controller")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def client(cluster: EtcdCluster, endpoints: list[str] | None = None) -> EtcdMembers:
    return EtcdMembers(endpoints or cluster.endpoints, str(cluster.ca_file),
                       str(cluster.client_cert), str(cluster.client_key))  # fmt: skip


def names(cluster: EtcdCluster) -> list[str]:
    return sorted(m.name for m in client(cluster).list())


def test_lists_and_removes_a_controllers_member(etcd: EtcdCluster) -> None:
    assert names(etcd) == ["controller-0", "controller-1", "controller-2"]
    # Through the member being removed itself first: any member answers for the cluster.
    removed = client(etcd, [etcd.endpoints[2], etcd.endpoints[0]]).remove("controller-2")
    assert removed is not None and removed.name == "controller-2"
    assert names(etcd) == ["controller-0", "controller-1"]
    assert client(etcd).remove("controller-2") is None  # already gone: nothing to do
    # The two left keep a quorum (a new leader, if the removed member led, within seconds).
    wait_until("the two members healthy", lambda: etcd.healthy(0) and etcd.healthy(1))
    # A dead endpoint is skipped.
    etcd.kill(2)
    assert [m.name for m in client(etcd, [etcd.endpoints[2], etcd.endpoints[1]]).list()]


def test_the_last_member_is_never_removed(tmp_path: Path) -> None:
    single = EtcdCluster(tmp_path / "one", members=1, name_prefix="controller")
    single.start()
    try:
        with pytest.raises(InvalidState, match="only member"):
            client(single).remove("controller-0")
        assert names(single) == ["controller-0"]
    finally:
        single.stop()


@pytest.fixture
def stack(tmp_path: Path, etcd: EtcdCluster) -> Iterator[Stack]:
    kube = {
        "etcd_endpoints": etcd.endpoints,
        "etcd_ca_file": str(etcd.ca_file),
        "etcd_cert_file": str(etcd.client_cert),
        "etcd_key_file": str(etcd.client_key),
    }
    settings = make_settings(tmp_path / "sysinv", kubernetes=kube)
    with running_stack(settings) as s:
        with s.db.session() as session:
            get_system(session).system_mode = "duplex"
        yield s


@pytest.fixture
def agents(stack: Stack, tmp_path: Path) -> Iterator[dict[str, Agent]]:
    """controller-0 and controller-1, added, then their agents started (which the hosts'
    MACs match), each on a node that had joined the control plane."""
    started: dict[str, Agent] = {}
    for i, name in enumerate(("controller-0", "controller-1")):
        stack.add_host(name, "controller", mgmt_mac=f"02:00:00:00:01:0{i}")
        settings = stack.settings.model_copy(deep=True)
        settings.agent.hostname = name
        settings.agent.root = tmp_path / f"root-{name}"
        settings.agent.inventory_root = fake_root(
            tmp_path / f"inv-{name}", name, f"02:00:00:00:01:0{i}", f"192.168.204.{3 + i}"
        )
        settings.agent.record_commands = True
        # The node had joined the control plane: kubeadm left its kubeconfig.
        kubelet_conf = settings.agent.root / "etc/kubernetes/kubelet.conf"
        kubelet_conf.parent.mkdir(parents=True)
        kubelet_conf.write_text("# joined\n")
        agent = Agent(settings, key=stack.conductor.ctx.agent_keys.key(name))
        agent.start_in_thread()
        started[name] = agent
    yield started
    for agent in started.values():
        agent.stop()


def resets(agent: Agent) -> int:
    log = agent.node.root / "var/lib/sysinv-agent/commands.log"
    return sum(1 for c in recorded_commands(log) if c == RESET)


def host(stack: Stack, name: str) -> dict[str, Any]:
    for h in stack.client.get("/v1/ihosts").json()["ihosts"]:
        if h["hostname"] == name:
            return dict(h)
    raise AssertionError(f"no host {name}")


def test_lock_and_delete_drain_a_controller(
    stack: Stack, etcd: EtcdCluster, agents: dict[str, Agent]
) -> None:
    c0, c1 = host(stack, "controller-0"), host(stack, "controller-1")
    for h in (c0, c1):
        assert stack.action(h, "unlock").status_code == 200
    wait_until("both controllers enabled", lambda: all(
        host(stack, n)["operational"] == "enabled" for n in ("controller-0", "controller-1")
    ), timeout=60)  # fmt: skip
    assert resets(agents["controller-1"]) == 0

    ids = {m.name: m.id for m in client(etcd).list()}
    r = stack.action(c1, "lock")  # the standby, while controller-0 serves
    assert r.status_code == 200, r.text
    steps = r.json()["kube_node"].split("; ")
    # In order: the cordon (no Kubernetes here: skipped), the agent's leave, the etcd
    # member, the Node's deletion (skipped likewise).
    skipped = ["no Kubernetes cluster configured", "node sync skipped"]
    assert steps[:2] == ["skipped: " + skipped[0], skipped[1]], steps
    assert steps[2] == "agent told to leave (kubeadm reset)", steps
    assert steps[3] == f"etcd member {ids['controller-1']} removed", steps
    assert steps[4:] == skipped, steps
    assert names(etcd) == ["controller-0", "controller-2"]
    wait_until("controller-1's agent leaving", lambda: resets(agents["controller-1"]) == 1)
    assert resets(agents["controller-0"]) == 0

    # Deleting it drains again, idempotently: nothing left to remove.
    r = stack.client.delete(f"/v1/ihosts/{c1['id']}")
    assert r.status_code in (200, 204), r.text
    assert names(etcd) == ["controller-0", "controller-2"]

    # The last unlocked controller, locked by force, keeps its member and its reset.
    r = stack.action(c0, "force-lock")
    assert r.status_code == 200, r.text
    assert "etcd member" not in r.json()["kube_node"]
    assert names(etcd) == ["controller-0", "controller-2"]
    assert resets(agents["controller-0"]) == 0
    assert r.json()["administrative"] == "locked"
