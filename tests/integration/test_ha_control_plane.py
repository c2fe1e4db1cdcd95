"""Two controllers' control plane, for real: sysinv's control-plane join accepted through the
floating endpoint, and controller 0's control plane SIGKILLed under sysinv's feet.

The plane (``tests/servers/ha_control_plane.py``) is started for this module alone: its tests
kill parts of it. Its tests run in the order written: the join is checked with both
controllers up, then controller 0's apiserver, controller-manager and scheduler die.
"""

from __future__ import annotations

import base64
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kubernetes import client

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.flows import host_config
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.control_plane import CERTS_SECRET, TRANSFERRED_FILES
from sysinv_conductor.kube.nodes import KubeNodes
from tests.servers import procs, secrets_seen
from tests.servers.ha_control_plane import (
    LEASE_DURATION,
    LEASES,
    RETRY_PERIOD,
    HaControlPlane,
    start_ha_control_plane,
)
from tests.servers.ports import port_open
from tests.stack import Stack, make_settings, running_stack, wait_until

pytestmark = pytest.mark.kube

NS = "kube-system"
NODES = ["controller-0", "worker-0", "worker-1"]
LABEL = "example.com/round"
#: Bounds the figures must meet. The first write needs no lease: HAProxy sends new
#: connections to controller 1 at once. A Lease moves once its dead holder's lease has
#: expired (LEASE_DURATION), plus a standby's retry period (jittered by 1.2); the slack is
#: for a busy 2-core machine.
FIRST_WRITE_BOUND = 5.0
LEASE_MOVE_BOUND = LEASE_DURATION + 1.2 * RETRY_PERIOD + 10.0


@pytest.fixture(scope="module")
def ha() -> Iterator[HaControlPlane]:
    plane = start_ha_control_plane(NODES)
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def hstack(ha: HaControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """sysinv whose kubeconfig names the floating endpoint, as on a duplex system."""
    tmp = tmp_path_factory.mktemp("hstack")
    pki = tmp / "pki"
    pki.mkdir()
    for name in ("ca.crt", "ca.key", "sa.key", "sa.pub"):
        shutil.copy(ha.pki / name, pki / name)
    settings = make_settings(tmp)
    settings.kubernetes.kubeconfig = str(ha.kubeconfig)
    settings.kubernetes.pki_dir = str(pki)
    settings.kubernetes.label_audit_interval = 3600  # nothing but the test writes labels
    with running_stack(settings) as stack:
        yield stack


def _open(sealed: bytes, key_hex: str) -> bytes:
    """kubeadm's DecryptBytes: a 12-byte nonce, then the AES-256-GCM ciphertext and tag."""
    return AESGCM(bytes.fromhex(key_hex)).decrypt(sealed[:12], sealed[12:], None)


def test_the_endpoint_is_haproxy_in_front_of_both_apiservers(ha: HaControlPlane) -> None:
    assert ha.server == f"https://127.0.0.1:{ha.port}"
    assert ha.port not in ha.apiserver_ports
    assert ha.backend_states() == {"controller-0": "UP", "controller-1": "UP"}
    assert ha.etcd is not None and len(ha.etcd.endpoints) == 3
    # Controller 0's components lead; controller 1's stand by with identities of their own.
    for lease in LEASES:
        assert ha.lease_holder(lease) == ha.initial_holders[lease]
    # Each apiserver serves the same cluster: what one writes, the other reads.
    name = f"ha-{uuid.uuid4().hex[:6]}"
    ha.core_v1().create_namespace({"metadata": {"name": name}})
    try:
        for url in ha.apiserver_urls:
            api = ha.api_client()
            api.configuration.host = url
            assert client.CoreV1Api(api).read_namespace(name).metadata.name == name
    finally:
        ha.core_v1().delete_namespace(name)


def test_controller_1_join_data_is_accepted_through_the_endpoint(
    ha: HaControlPlane, hstack: Stack
) -> None:
    hostname = f"controller-{uuid.uuid4().hex[:6]}"  # no Node yet: it has to join
    host = hstack.add_host(hostname, "controller", mgmt_ip="192.168.206.4")
    r = hstack.action(host, "unlock")
    assert r.status_code == 200, r.text
    config = host_config.current_config(hstack.conductor.ctx, hostname)
    assert config is not None
    join = config.kubernetes.join
    assert join is not None and join.control_plane and join.certificate_key
    key = join.certificate_key
    secrets_seen.remember(key, join.token)

    # The certificate key opens what the conductor uploaded, read through HAProxy.
    secret = ha.core_v1().read_namespaced_secret(CERTS_SECRET, NS)
    entries = {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
    pki = Path(hstack.settings.kubernetes.pki_dir)
    for relative in ("ca.crt", "ca.key", "sa.key", "sa.pub"):
        assert relative in TRANSFERRED_FILES
        assert _open(entries[relative], key) == (pki / relative).read_bytes(), relative

    # The bootstrap token authenticates through the endpoint, whichever apiserver answers,
    # and may download the certificates as kubeadm join does.
    token_id = join.token.split(".")[0]
    as_node = ha.token_client(join.token)
    for _ in range(4):  # HAProxy balances round robin: both apiservers answer
        review = client.AuthenticationV1Api(as_node).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        )
        assert review.status.user_info.username == f"system:bootstrap:{token_id}"
    fetched = client.CoreV1Api(as_node).read_namespaced_secret(CERTS_SECRET, NS)
    assert _open(base64.b64decode(fetched.data["ca.key"]), key) == (pki / "ca.key").read_bytes()


@dataclass
class Call:
    what: str
    status: int
    body: str
    started: float
    ended: float


class SysinvClient(threading.Thread):
    """An operator using sysinv while the control plane fails over: label assigns on one
    host and lock/unlock of another, one after another, every answer kept."""

    def __init__(self, stack: Stack, labelled: dict[str, Any], locked: dict[str, Any]) -> None:
        super().__init__(name="sysinv-client", daemon=True)
        self.stack, self.labelled, self.locked = stack, labelled, locked
        self.calls: list[Call] = []
        self.last_round = 0
        self.last_lock = "unlock"
        self.stopping = threading.Event()

    def _call(self, what: str, send: Any) -> None:
        started = time.monotonic()
        r = send()
        self.calls.append(Call(what, r.status_code, r.text, started, time.monotonic()))

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            self._call("label", lambda n=n: self.stack.client.post(
                f"/v1/labels/{self.labelled['uuid']}?overwrite=True", json={LABEL: str(n)}
            ))  # fmt: skip
            self.last_round = n
            action = "lock" if n % 2 else "unlock"
            self._call(action, lambda a=action: self.stack.action(self.locked, a))
            self.last_lock = action


class NodeWriter(threading.Thread):
    """The conductor's Kubernetes calls at full speed, as when many hosts change at once:
    cordon and uncordon of one Node through ``KubeNodes`` on a shared client (as the
    conductor shares one), every failure kept."""

    def __init__(self, nodes: KubeNodes, node: str) -> None:
        super().__init__(name="node-writer", daemon=True)
        self.nodes, self.node = nodes, node
        self.done: list[float] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            try:
                self.nodes.set_unschedulable(self.node, bool(n % 2))
                self.done.append(time.monotonic())
            except KubeOperationFailed as exc:
                self.failures.append(exc.message)


def test_controller_0_dies_and_the_cluster_and_sysinv_carry_on(
    ha: HaControlPlane,
    hstack: Stack,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="sysinv_conductor.kube.retry")
    labelled, locked = hstack.add_host("worker-0"), hstack.add_host("worker-1")
    for host in (labelled, locked):
        assert hstack.action(host, "unlock").status_code == 200
    ns = f"ha-{uuid.uuid4().hex[:6]}"
    core = ha.core_v1()
    core.create_namespace({"metadata": {"name": ns}})
    # Its own client, with no retry of any kind: the first write that gets through.
    probe = client.CoreV1Api(api_client(str(ha.kubeconfig)))
    operator = SysinvClient(hstack, labelled, locked)
    # Calls in flight through controller 0 when it dies are cut: with the conductor's
    # retry window they are sent again; without one (the control group) they fail.
    windowed = api_client(str(ha.kubeconfig), hstack.settings.kubernetes.failover_retry_window)
    bare = api_client(str(ha.kubeconfig))
    writers = [NodeWriter(KubeNodes(windowed), "controller-0") for _ in range(3)]
    control = [NodeWriter(KubeNodes(bare), "controller-0") for _ in range(3)]
    threads: list[Any] = [operator, *writers, *control]
    for thread in threads:
        thread.start()
    try:
        wait_until("sysinv calls before the kill", lambda: len(operator.calls) >= 4, 60)

        killed = ha.kill_controller(0)
        failed_writes = 0
        while True:
            try:
                probe.create_namespaced_config_map(
                    ns, {"metadata": {"generateName": "probe-"}}, _request_timeout=(2, 2)
                )
                break
            except Exception:
                failed_writes += 1
                assert time.monotonic() - killed < 60, "no write got through in 60 s"
                time.sleep(0.01)
        first_write = time.monotonic() - killed
        assert not ha.components[0] and ha.components[1]

        # The leases move to controller 1's controller-manager and scheduler.
        moved = {}
        for lease in LEASES:
            holder = ha.wait_lease_held(lease, 60, other_than=ha.initial_holders[lease])
            moved[lease] = time.monotonic() - killed
            assert holder != ha.initial_holders[lease]
            # Both controllers' logs say who held it: controller 0 first, then controller 1.
            acquired = f'"Successfully acquired lease" lock="{NS}/{lease}"'
            assert acquired in ha.log_of(0, lease)
            assert acquired in ha.log_of(1, lease)
        # The controller-manager logs its own identity as the leader's (an Event).
        holder = ha.lease_holder("kube-controller-manager")
        assert f"{holder} became leader" in ha.log_of(1, "kube-controller-manager")
        assert f"{holder} became leader" not in ha.log_of(0, "kube-controller-manager")

        # A Deployment created after the kill gets Ready pods: controller 1's
        # controller-manager makes its ReplicaSet and pods, its scheduler binds them.
        apps = client.AppsV1Api(ha.api_client())
        apps.create_namespaced_deployment(ns, deployment("after-kill", replicas=2))
        ready = wait_until(
            "Ready pods of the Deployment created after the kill",
            lambda: (apps.read_namespaced_deployment("after-kill", ns).status.ready_replicas
                     or 0) == 2,
            90,
        )  # fmt: skip
        assert ready
        deployed = time.monotonic() - killed

        # sysinv keeps working through the failover and after it.
        after = len([c for c in operator.calls if c.started > killed])
        wait_until("sysinv calls after the failover", lambda: len(operator.calls) > after + 4)
    finally:
        for thread in threads:
            thread.stopping.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not [f for w in writers for f in w.failures]
    assert all(any(t > killed + first_write for t in w.done) for w in writers)
    cut = [f for w in control for f in w.failures]

    failed = [c for c in operator.calls if c.status != 200]
    assert not failed, [(c.what, c.status, c.body[:200]) for c in failed]
    assert [c for c in operator.calls if c.ended > killed and c.started < killed + 1.0], (
        "no sysinv call was made during the failover"
    )
    assert any(c.started > killed + max(moved.values()) for c in operator.calls)
    slowest = max(c.ended - c.started for c in operator.calls if c.ended > killed)
    # ... with their effects on the Nodes: the last label round, the last lock or unlock.
    node = core.read_node("worker-0")
    assert node.metadata.labels[LABEL] == str(operator.last_round)
    assert bool(core.read_node("worker-1").spec.unschedulable) is (operator.last_lock == "lock")
    assert first_write < FIRST_WRITE_BOUND
    assert all(t < LEASE_MOVE_BOUND for t in moved.values()), moved
    # Calls the conductor's client sent again (each logged once): how often the window was
    # needed in this run; none may be, when no call was in flight through controller 0.
    retried = [r for r in caplog.records if r.name == "sysinv_conductor.kube.retry"]
    with capsys.disabled():
        print(
            f"\n>> failover of controller 0 (SIGKILL of apiserver, controller-manager, scheduler):"
            f" first write through the endpoint after {first_write * 1000:.0f} ms"
            f" ({failed_writes} failed attempts);"
            f" leases moved after {', '.join(f'{k} {v:.1f} s' for k, v in moved.items())};"
            f" new Deployment Ready after {deployed:.1f} s;"
            f" {len(operator.calls)} sysinv calls, none failed, slowest after the kill"
            f" {slowest * 1000:.0f} ms; conductor client under load:"
            f" {sum(len(w.done) for w in writers)} calls, none failed,"
            f" {len(retried)} sent again in the window; without a window"
            f" {len(cut)} of {sum(len(w.done) for w in control) + len(cut)} calls failed"
        )
    core.delete_namespace(ns)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "registry.local/app:1"}]},
            },
        },
    }


def test_a_refused_endpoint_is_retried_within_the_window(ha: HaControlPlane) -> None:
    """The endpoint itself gone for a moment (its address moving): the conductor's client
    tries again within ``kubernetes.failover_retry_window``; without a window it fails at
    once, as it always did."""
    patient = KubeNodes(api_client(str(ha.kubeconfig), retry_window=10), timeout=5)
    impatient = KubeNodes(api_client(str(ha.kubeconfig), retry_window=0), timeout=5)
    ha.stop_endpoint()
    restarter = threading.Timer(1.5, ha.start_endpoint)
    try:
        started = time.monotonic()
        with pytest.raises(KubeOperationFailed, match=r"refused|Max retries"):
            impatient.ensure_labels("worker-0", {LABEL: "refused"})
        assert time.monotonic() - started < 1.0
        restarter.start()
        result = patient.ensure_labels("worker-0", {LABEL: "retried"})
        waited = time.monotonic() - started
    finally:
        restarter.join()
    assert result.state == "applied", result.message
    assert waited >= 1.5  # it really waited for the endpoint to come back
    assert ha.core_v1().read_node("worker-0").metadata.labels[LABEL] == "retried"

    # Past the window, the call fails: the retry is bounded.
    brief = KubeNodes(api_client(str(ha.kubeconfig), retry_window=1), timeout=5)
    ha.stop_endpoint()
    try:
        started = time.monotonic()
        with pytest.raises(KubeOperationFailed):
            brief.ensure_labels("worker-0", {LABEL: "too-late"})
        assert 1.0 <= time.monotonic() - started < 5.0
    finally:
        ha.start_endpoint()


def test_controller_0s_etcd_member_dying_too_leaves_the_endpoint_writable(
    ha: HaControlPlane, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole of controller 0 gone: its etcd member as well, made the Raft leader first
    (the worst case). The two others keep quorum once they have elected a leader, and
    controller 1's apiserver, which knows every member, keeps serving through the endpoint."""
    assert ha.etcd is not None
    probe = client.CoreV1Api(api_client(str(ha.kubeconfig)))
    ns = f"ha-{uuid.uuid4().hex[:6]}"
    probe.create_namespace({"metadata": {"name": ns}})
    # The conductor's client, writing as the member dies: its write waits out etcd's
    # election (a 500 "etcdserver: request timed out" after 7 s) and is sent again.
    nodes = KubeNodes(api_client(str(ha.kubeconfig), retry_window=10), timeout=10)
    nodes.ensure_labels("worker-0", {LABEL: "before-etcd-loss"})
    outcome: list[Any] = []

    def conductor_write() -> None:
        started = time.monotonic()
        try:
            outcome.append(nodes.ensure_labels("worker-0", {LABEL: "etcd-lost"}))
        except KubeOperationFailed as exc:
            outcome.append(exc)
        outcome.append(time.monotonic() - started)

    writer = threading.Thread(target=conductor_write)
    ha.etcd.move_leader(0)
    killed = time.monotonic()
    ha.etcd.kill(0)
    writer.start()
    failed = 0
    while True:
        try:
            probe.create_namespaced_config_map(
                ns, {"metadata": {"name": "after-etcd-kill"}}, _request_timeout=(1, 1)
            )
            break
        except client.ApiException as exc:
            if exc.status == 409:  # an attempt that timed out for us got through
                break
            failed += 1
        except Exception:
            failed += 1
        assert time.monotonic() - killed < 60, "no write after the etcd member died"
        time.sleep(0.05)
    first_write = time.monotonic() - killed
    assert not ha.etcd.alive(0) and ha.etcd.leader() in (1, 2)
    stored = probe.read_namespaced_config_map("after-etcd-kill", ns)
    assert stored.metadata.name == "after-etcd-kill"
    writer.join(timeout=60)
    result, took = outcome
    assert not isinstance(result, KubeOperationFailed), result.message
    assert result.state == "applied", result.message
    assert ha.core_v1().read_node("worker-0").metadata.labels[LABEL] == "etcd-lost"
    assert first_write < FIRST_WRITE_BOUND + 10
    with capsys.disabled():
        print(
            f"\n>> controller 0's etcd member, the Raft leader, SIGKILLed as well: first write"
            f" through the endpoint after {first_write * 1000:.0f} ms ({failed} attempts timed"
            f" out after 1 s); a conductor write sent at the kill applied after {took:.1f} s"
        )
    probe.delete_namespace(ns)


def test_stop_leaves_no_process_port_or_directory(ha: HaControlPlane) -> None:
    """Last: stops the module's plane (its fixture's stop is then a no-op)."""
    assert ha.etcd is not None
    pids = [p.pid for p in ha.procs] + [p.pid for p in ha.etcd.procs if p is not None]
    ports = [ha.port, *ha.apiserver_ports, *ha.etcd.client_ports]
    assert pids and all(procs.group_alive(pid) for pid in pids)
    ha.stop()
    assert not any(procs.group_alive(pid) for pid in pids)
    assert not any(port_open(p) for p in ports)
    assert not ha.dir.exists()
    assert not set(pids) & set(procs.LIVE)
