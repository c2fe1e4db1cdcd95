"""Agents for real: five ``sysinv-agent`` processes on Redis with a conductor worker and the
test cluster. Registration, a label change and lock/unlock reaching every affected node,
a kubeadm join carrying a real bootstrap token, an agent killed mid-flight, an agent gone
silent, one reporting another host's MAC, and one claiming another host's name with the
broker's password and its own host's key.

Each node's key file is written 0600 from ``sysinv agent-key``, as an admin provisions it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from sqlalchemy import inspect, select

from sysinv_agent.inventory import fake_root
from sysinv_agent.runner import recorded_commands
from sysinv_common.db.models import Host
from sysinv_common.messaging.tasks import AgentTask
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.join import ca_cert_hash
from tests.servers import secrets_seen
from tests.servers.calico import GROUP, VERSION, delete_crds, install_crds
from tests.servers.procs import ManagedProcess
from tests.stack import Stack, make_settings, running_stack, wait_until

pytestmark = [pytest.mark.kube, pytest.mark.redis]
AGENT = Path(sys.executable).with_name("sysinv-agent")
SYSINV = Path(sys.executable).with_name("sysinv")
COUNT = 5


def agent_key(stack: Stack, hostname: str) -> str:
    """``sysinv agent-key HOSTNAME``, run where the conductor's state is."""
    done = subprocess.run(
        [str(SYSINV), "agent-key", hostname],
        env=dict(os.environ, SYSINV_STATE_DIR=str(stack.settings.state_dir)),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    secrets_seen.remember(done.stdout.strip())
    return done.stdout


class Node:
    def __init__(self, tmp: Path, stack: Stack, name: str, mac: str, ip: str) -> None:
        self.name, self.mac, self.ip = name, mac, ip
        self.stack = stack
        self.root = tmp / f"root-{name}"
        self.inventory_root = fake_root(tmp / f"inv-{name}", name, mac, ip)
        self.log = tmp / f"agent-{name}.log"
        self.key_file = tmp / f"agent-{name}.key"
        self.proc: ManagedProcess | None = None

    def install_key(self, mode: int = 0o600) -> None:
        """This node's own key, as its admin installs it."""
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as f:
            f.write(agent_key(self.stack, self.name))
        os.chmod(self.key_file, mode)  # whatever the umask

    def start(self, hostname: str | None = None) -> None:
        """Run its agent, as ``hostname`` if given (its key stays its own)."""
        if not self.key_file.exists():
            self.install_key()
        s = self.stack.settings
        env = dict(
            os.environ,
            SYSINV_STATE_DIR=str(self.root / "state"),
            SYSINV_MESSAGING__BROKER_URL=s.messaging.broker_url,
            SYSINV_MESSAGING__QUEUE_PREFIX=s.messaging.queue_prefix,
            SYSINV_AGENT__HOSTNAME=hostname or self.name,
            SYSINV_AGENT__KEY_FILE=str(self.key_file),
            SYSINV_AGENT__ROOT=str(self.root),
            SYSINV_AGENT__INVENTORY_ROOT=str(self.inventory_root),
            SYSINV_AGENT__RECORD_COMMANDS="true",
            SYSINV_AGENT__HEARTBEAT_INTERVAL="1",
        )
        self.proc = ManagedProcess(f"agent-{self.name}", [str(AGENT)], self.log, env=env)

    def host(self) -> dict[str, Any] | None:
        for h in self.stack.client.get("/v1/ihosts").json()["ihosts"]:
            if h["hostname"] == self.name:
                return dict(self.stack.client.get(f"/v1/ihosts/{h['uuid']}").json())
        return None

    def converged(self) -> dict[str, Any] | None:
        h = self.host()
        ok = h and h["config_target"] and h["config_applied"] == h["config_target"]
        return h if ok else None

    def file(self, path: str) -> str:
        return (self.root / path.lstrip("/")).read_text()

    def commands(self) -> list[list[str]]:
        return recorded_commands(self.root / "var/lib/sysinv-agent/commands.log")


def host_row(stack: Stack, hostname: str) -> dict[str, Any]:
    with stack.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == hostname)).one()
        return {a.key: getattr(host, a.key) for a in inspect(Host).column_attrs}


def registered_more(node: Node, before: int) -> Callable[[], bool]:
    return lambda: node.log.read_text().count("registered as") > before


@pytest.fixture
def cluster(
    kube_cluster: Any, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Stack, list[Node], Any]]:
    api = api_client(str(kube_cluster.kubeconfig))
    install_crds(api)  # before the conductor starts: it applies the Calico resources
    settings = make_settings(tmp_path / "state")
    settings.messaging.broker_url = redis_url
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 1
    settings.agent.audit_interval = 1
    settings.agent.offline_timeout = 5
    uid = uuid.uuid4().hex[:5]
    nodes: list[Node] = []
    with running_stack(settings) as stack:
        try:
            for i in range(COUNT):
                node = Node(tmp_path, stack, f"ag{uid}-{i}", f"02:00:00:{uid[:2]}:00:{i:02x}",
                            f"192.168.204.{50 + i}")  # fmt: skip
                node.start()
                nodes.append(node)
            yield stack, nodes, api
        finally:
            for node in nodes:
                if node.proc is not None:
                    node.proc.stop()
    delete_crds(api)


def test_agents_register_converge_and_recover(
    cluster: tuple[Stack, list[Node], Any], kube_cluster: Any
) -> None:
    stack, nodes, api = cluster
    c = stack.client

    # Agents that started before their hosts existed registered them, with inventory.
    for node in nodes:
        host = wait_until(f"{node.name} registered and converged", node.converged)
        assert (host["personality"], host["availability"]) == (None, "online")
        assert host["mgmt_mac"] == node.mac and host["mgmt_ip"] == node.ip
        assert host["inventory"]["cpus"] == 4 and host["inventory"]["disks"]
        assert host["config_status"] is None
        daemon = json.loads(node.file("/etc/docker/daemon.json"))
        assert daemon["exec-opts"] == ["native.cgroupdriver=systemd"]
        assert "NODENAME=" + node.name in node.file("/etc/calico/calico-node.env")
    listed = {h["hostname"] for h in c.get("/v1/ihosts").json()["ihosts"]}
    assert {n.name for n in nodes} <= listed

    # The cluster-wide Calico resources, from the pod subnet.
    def ippool() -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = client.CustomObjectsApi(api).get_cluster_custom_object(
                GROUP, VERSION, "ippools", "default-ipv4-ippool"
            )
        except client.exceptions.ApiException as exc:
            if exc.status == 404:
                return None  # the conductor applies them in the background at start
            raise
        return found

    pool = wait_until("the Calico IPPool", ippool, timeout=30)
    assert pool["spec"]["cidr"] == str(stack.settings.bootstrap.pod_subnet)

    # A personality and a label change reach every affected agent.
    for node in nodes:
        host = node.host()
        assert host is not None
        patch = [{"op": "replace", "path": "/personality", "value": "worker"}]
        assert c.patch(f"/v1/ihosts/{host['id']}", json=patch).status_code == 200
    before = {n.name: n.host()["config_target"] for n in nodes[:3]}  # type: ignore[index]
    for node in nodes[:3]:
        host = node.host()
        assert host is not None
        r = c.post(f"/v1/labels/{host['uuid']}", json={"sysinv-test/zone": "a"})
        assert r.status_code == 200, r.text
    for node in nodes[:3]:
        host = wait_until(f"{node.name} applied the label", node.converged)
        assert host["config_target"] != before[node.name]
        assert "--node-labels=sysinv-test/zone=a" in node.file("/etc/default/kubelet")
    assert "zone" not in nodes[3].file("/etc/default/kubelet")

    # Unlock: the node joins with a bootstrap token and the CA hash of the real cluster.
    first = nodes[0]
    host = first.host()
    assert host is not None
    r = stack.action(host, "unlock")
    assert r.status_code == 200, r.text
    wait_until("the join", lambda: any(cmd[:2] == ["kubeadm", "join"] for cmd in first.commands()))
    assert ["kubeadm", "join", "--config", "/etc/kubernetes/join.yaml"] in first.commands()
    join = yaml.safe_load(first.file("/etc/kubernetes/join.yaml"))
    assert (first.root / "etc/kubernetes/join.yaml").stat().st_mode & 0o777 == 0o600
    token = join["discovery"]["bootstrapToken"]["token"]
    token_id, secret = token.split(".")
    stored = kube_cluster.core_v1().read_namespaced_secret(f"bootstrap-token-{token_id}",
                                                           "kube-system")  # fmt: skip
    assert stored.type == "bootstrap.kubernetes.io/token"
    assert base64.b64decode(stored.data["token-secret"]).decode() == secret
    cluster_entry = yaml.safe_load(Path(kube_cluster.kubeconfig).read_text())["clusters"][0]
    if "certificate-authority-data" in cluster_entry["cluster"]:
        ca_pem = base64.b64decode(cluster_entry["cluster"]["certificate-authority-data"])
    else:
        ca_pem = Path(cluster_entry["cluster"]["certificate-authority"]).read_bytes()
    assert join["discovery"]["bootstrapToken"]["caCertHashes"] == [ca_cert_hash(ca_pem)]
    assert token not in (stack.settings.state_dir / "sysinv.db").read_bytes().decode("latin-1")
    wait_until("unlocked config applied", first.converged)

    # The node appears (kubelet registering, played by the test): its labels arrive.
    kube_cluster.create_node(first.name)
    wait_until(
        "pending labels on the new Node",
        lambda: (
            (kube_cluster.core_v1().read_node(first.name).metadata.labels or {}).get(
                "sysinv-test/zone"
            )
            == "a"
        ),
        timeout=30,
    )
    host = wait_until("enabled", lambda: (h := first.host()) and h["operational"] == "enabled"
                      and h)  # fmt: skip
    assert host["availability"] == "available"

    # Lock reaches the agent too.
    target = host["config_target"]
    assert stack.action(host, "lock").status_code == 200
    host = wait_until("locked config applied", lambda: (h := first.converged())
                      and h["config_target"] != target and h)  # fmt: skip
    assert host["operational"] == "disabled"

    # Deleted, the node leaves the cluster.
    assert c.delete(f"/v1/ihosts/{host['uuid']}").status_code in (200, 204)
    wait_until(
        "kubeadm reset, then its join file removed",
        lambda: (
            ["kubeadm", "reset", "-f"] in first.commands()
            and not (first.root / "etc/kubernetes/join.yaml").exists()
        ),
    )

    # An agent killed while a change is on its way converges when it comes back.
    victim = nodes[3]
    assert victim.proc is not None
    vhost = victim.host()
    assert vhost is not None
    c.post(f"/v1/labels/{vhost['uuid']}", json={"sysinv-test/zone": "b"})
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.stop()
    victim.start()
    wait_until("the restarted agent converged", victim.converged)
    assert "--node-labels=sysinv-test/zone=b" in victim.file("/etc/default/kubelet")
    json.loads(victim.file("/etc/docker/daemon.json"))  # whole, never half-written
    leftovers = [p for p in victim.root.rglob("*") if ".sysinv-tmp-" in p.name]
    assert leftovers == []

    # A silent agent's host goes offline.
    silent = nodes[4]
    assert silent.proc is not None
    silent.proc.stop()
    wait_until("offline", lambda: (h := silent.host()) and h["availability"] == "offline",
               timeout=30)  # fmt: skip

    # A broadcast resync: every live agent registers again.
    live = [n for n in nodes if n.proc is not None and n.proc.alive()]
    counts = {n.name: n.log.read_text().count("registered as") for n in live}
    assert stack.conductor.ctx.agents is not None
    stack.conductor.ctx.agents.broadcast(AgentTask.RESYNC)
    for n in live:
        wait_until(f"{n.name} re-registered", registered_more(n, counts[n.name]))

    # An agent reporting another host's MAC is refused and registers nothing.
    impostor = Node(stack.settings.state_dir.parent, stack, f"{nodes[1].name}-x", nodes[1].mac,
                    "192.168.204.99")  # fmt: skip
    nodes.append(impostor)  # stopped with the others, whatever happens below
    impostor.start()
    assert impostor.proc is not None
    wait_until("the impostor exits", lambda: not impostor.proc.alive(), timeout=30)  # type: ignore[union-attr]
    assert impostor.proc.proc.returncode == 3
    assert "belongs to host " + nodes[1].name in impostor.log.read_text()
    assert impostor.host() is None

    # An agent with the broker's password and a valid key of its own host, claiming the
    # silent host's name, is refused before anything of that host changes.
    before = host_row(stack, silent.name)
    prefix = nodes[0].name.rsplit("-", 1)[0]
    liar = Node(stack.settings.state_dir.parent, stack, f"{prefix}-liar", "02:00:00:ff:00:01",
                "192.168.204.98")  # fmt: skip
    nodes.append(liar)
    liar.start(hostname=silent.name)
    assert liar.proc is not None
    wait_until("the liar exits", lambda: not liar.proc.alive(), timeout=30)  # type: ignore[union-attr]
    assert liar.proc.proc.returncode == 3
    refusal = f"Refused: the report for {silent.name} is not signed by that host's key"
    assert refusal in liar.log.read_text()
    assert host_row(stack, silent.name) == before
    assert liar.host() is None

    # A key file every user may read is refused at start, naming the setting.
    careless = Node(stack.settings.state_dir.parent, stack, f"{prefix}-open", "02:00:00:ff:00:02",
                    "192.168.204.97")  # fmt: skip
    nodes.append(careless)
    careless.install_key(mode=0o644)
    careless.start()
    assert careless.proc is not None
    wait_until("the careless agent exits", lambda: not careless.proc.alive(), timeout=30)  # type: ignore[union-attr]
    assert careless.proc.proc.returncode == 2
    assert f"agent.key_file {careless.key_file} is accessible to every user" in (
        careless.log.read_text()
    )
    assert careless.host() is None

    # No key, and no broker password, in any agent's log.
    password = stack.settings.messaging.broker_url.split("@")[0].rsplit(":", 1)[-1]
    assert len(password) >= 16
    for node in nodes:
        text = node.log.read_text()
        assert password not in text, node.name
        assert node.key_file.read_text().strip() not in text, node.name
