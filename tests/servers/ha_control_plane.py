"""A two-controller Kubernetes control plane on loopback, as StarlingX runs one on a duplex
system: a three-member etcd cluster (mutual TLS), on each controller a kube-apiserver (every
etcd member in its ``--etcd-servers``), a kube-controller-manager and a kube-scheduler with
leader election, and Debian's HAProxy as the floating endpoint in front of both apiservers.

The endpoint (``.server``, ``.kubeconfig``) is what sysinv, kwok and the tests use. HAProxy
runs in TCP mode (TLS goes through to the apiservers, so client certificates and bootstrap
tokens authenticate as on a real controller) and checks each apiserver's ``/readyz`` over
TLS every CHECK_INTERVAL_MS; a refused connection is retried on the other apiserver at once
(``option redispatch 1``), so new connections never see a dead controller, even before the
checks have marked it down. Each controller's controller-manager and scheduler talk to their
own apiserver, as kubeadm's static pods do.

Leader election uses short leases (LEASE_DURATION and friends below) so that a SIGKILLed
leader is replaced in seconds instead of kubeadm's 15 s: a standby takes over once the
lease its dead leader last renewed has expired. Controller 0's controller-manager and
scheduler start first and hold both leases, so a test knows whose identities they are
(``initial_holders``) and sees them move when it kills controller 0
(``kill_controller(0)``); ``restart_controller`` starts its components again, as standbys.

Built on ``KubeCluster`` (certificates, kwok, Nodes, clients) and ``EtcdCluster``.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.servers.etcd_cluster import EtcdCluster, distinct_free_ports
from tests.servers.kube import KubeCluster, write_kubeconfig
from tests.servers.procs import ManagedProcess

HAPROXY = Path("/usr/sbin/haproxy")
CONTROLLERS = ("controller-0", "controller-1")
#: kube-controller-manager's and kube-scheduler's Leases in kube-system.
LEASES = ("kube-controller-manager", "kube-scheduler")
#: Leader election, in seconds: a standby acquires the lease LEASE_DURATION after the dead
#: leader's last renewal (plus up to one RETRY_PERIOD, jittered by 1.2). kubeadm's 15/10/2 s
#: would make each failover test wait 15-17 s. RENEW_DEADLINE stays well above the retry
#: period: a leader that cannot renew within it exits, and a busy 2-core machine must not
#: make a healthy leader give up.
LEASE_DURATION = 4.0
RENEW_DEADLINE = 3.0
RETRY_PERIOD = 0.5
#: HAProxy's health checks of the apiservers: a dead one is marked down after CHECK_FALL
#: failed checks CHECK_INTERVAL_MS apart, and up again after CHECK_RISE good ones.
CHECK_INTERVAL_MS = 500
CHECK_FALL = 2
CHECK_RISE = 2
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def leader_election_flags() -> list[str]:
    return [
        "--leader-elect=true",
        f"--leader-elect-lease-duration={LEASE_DURATION:g}s",
        f"--leader-elect-renew-deadline={RENEW_DEADLINE:g}s",
        f"--leader-elect-retry-period={int(RETRY_PERIOD * 1000)}ms",
    ]


def haproxy_config(port: int, backends: list[tuple[str, int]], stats_socket: Path) -> str:
    """HAProxy's configuration: TCP on loopback ``port`` in front of ``backends`` (name,
    apiserver port), each health-checked with ``GET /readyz`` over TLS."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{p}" for name, p in backends)
    return f"""\
global
    log stderr format raw local0 info
    stats socket {stats_socket} mode 600 level admin
    maxconn 4000

defaults
    mode tcp
    log global
    option tcplog
    # A refused connection is tried again, each time on the other server.
    retries 3
    option redispatch 1
    timeout connect 1s
    # Watches and long lists stay open for minutes.
    timeout client 1h
    timeout server 1h

frontend kube-apiserver
    bind 127.0.0.1:{port}
    default_backend controllers

backend controllers
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server check check-ssl verify none inter {CHECK_INTERVAL_MS}ms fall {CHECK_FALL} rise {CHECK_RISE} on-marked-down shutdown-sessions
{servers}
"""  # noqa: E501


class HaControlPlane(KubeCluster):
    """Two controllers' control plane behind HAProxy (see the module docstring)."""

    def __init__(self, workdir: Path | None = None, pod_ready_delay_ms: int = 0) -> None:
        super().__init__(workdir, pod_ready_delay_ms)
        # KubeCluster's port and server are the floating endpoint's: HAProxy's frontend.
        self.apiserver_ports = distinct_free_ports(len(CONTROLLERS), self._taken_ports())
        self.apiserver_urls = [f"https://127.0.0.1:{p}" for p in self.apiserver_ports]
        self.etcd: EtcdCluster | None = None
        self.haproxy_config = self.dir / "haproxy.cfg"
        self.haproxy_socket = self.dir / "haproxy.sock"
        #: Each controller's running components, by component name.
        self.components: list[dict[str, ManagedProcess]] = [{} for _ in CONTROLLERS]
        self._argv: list[dict[str, list[str]]] = [{} for _ in CONTROLLERS]
        #: The Lease holders once controller 0's components lead (before any kill).
        self.initial_holders: dict[str, str] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        if self.etcd is not None:
            self.etcd.stop()
        super().stop()  # removes the directory, forgets the server

    def _certificates(self) -> None:
        super()._certificates()
        # Each controller's controller-manager and scheduler reach their own apiserver.
        self.local_kubeconfigs: list[dict[str, Path]] = []
        for i, url in enumerate(self.apiserver_urls):
            files = {}
            for stem, user in (("controller-manager", "system:kube-controller-manager"),
                               ("scheduler", "system:kube-scheduler")):  # fmt: skip
                files[stem] = write_kubeconfig(
                    self.dir / f"{stem}-{i}.kubeconfig", url, self.ca_file,
                    self.pki / f"{stem}.crt", self.pki / f"{stem}.key", user,
                )  # fmt: skip
            self.local_kubeconfigs.append(files)

    def _start_etcd(self) -> None:
        self.etcd = EtcdCluster(self.dir / "etcd", members=3, avoid=self._taken_ports()).start()

    def _start_apiserver(self) -> None:
        assert self.etcd is not None
        etcd_flags = [
            f"--etcd-servers={','.join(self.etcd.endpoints)}",
            f"--etcd-cafile={self.etcd.ca_file}",
            f"--etcd-certfile={self.etcd.client_cert}",
            f"--etcd-keyfile={self.etcd.client_key}",
        ]
        for i, port in enumerate(self.apiserver_ports):
            self._argv[i]["kube-apiserver"] = self.apiserver_argv(port, etcd_flags)
            self._spawn(i, "kube-apiserver")
        for i, url in enumerate(self.apiserver_urls):
            self._wait_ready(self.components[i]["kube-apiserver"], 120, url)
        self.haproxy_config.write_text(
            haproxy_config(self.port, list(zip(CONTROLLERS, self.apiserver_ports, strict=True)),
                           self.haproxy_socket)
        )  # fmt: skip
        self.start_endpoint()

    def start_endpoint(self) -> None:
        """Start HAProxy (again) on the endpoint's port; returns when it serves /readyz."""
        self.haproxy = self._run("haproxy", [str(HAPROXY), "-db", "-f", str(self.haproxy_config)])
        self._wait_ready(self.haproxy, 30)

    def stop_endpoint(self) -> None:
        """SIGKILL HAProxy: the endpoint refuses connections until ``start_endpoint``."""
        os.kill(self.haproxy.pid, signal.SIGKILL)
        self.haproxy.proc.wait(timeout=10)
        self.haproxy.stop()
        self.procs.remove(self.haproxy)

    def _start_controllers(self) -> None:
        for i in range(len(CONTROLLERS)):
            kubeconfigs = self.local_kubeconfigs[i]
            self._argv[i]["kube-controller-manager"] = self.controller_manager_argv(
                kubeconfigs["controller-manager"], leader_election_flags()
            )
            self._argv[i]["kube-scheduler"] = self.scheduler_argv(
                kubeconfigs["scheduler"], leader_election_flags()
            )
        # Controller 0 first: its components take both leases before controller 1's start.
        self._spawn(0, "kube-controller-manager")
        self._spawn(0, "kube-scheduler")
        self.initial_holders = {lease: self.wait_lease_held(lease, 60) for lease in LEASES}
        self._spawn(1, "kube-controller-manager")
        self._spawn(1, "kube-scheduler")

    def _taken_ports(self) -> set[int]:
        """Ports this plane was given (free until bound: one must not be handed out twice)."""
        taken = {self.port, self.webhook_port, self.etcd_port, self.etcd_peer_port}
        return taken | set(getattr(self, "apiserver_ports", []))

    def _spawn(self, i: int, component: str) -> ManagedProcess:
        proc = self._run(f"{component}-{i}", self._argv[i][component])
        self.components[i][component] = proc
        return proc

    # -- failures ------------------------------------------------------------------------

    def kill_controller(self, i: int, components: tuple[str, ...] = COMPONENTS) -> float:
        """SIGKILL controller ``i``'s ``components``; the monotonic time just before the
        first signal (the start of a failover measurement)."""
        started = time.monotonic()
        procs = [self.components[i].pop(c) for c in components if c in self.components[i]]
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
        for proc in procs:
            proc.proc.wait(timeout=10)
            proc.stop()  # closes its log
            self.procs.remove(proc)
        return started

    def restart_controller(self, i: int, timeout: float = 120) -> None:
        """Start controller ``i``'s killed components again; returns once its apiserver is
        ready and HAProxy counts it up again. Its controller-manager and scheduler come
        back as standbys: the other controller's keep the leases."""
        for component in COMPONENTS:
            if component not in self.components[i]:
                self._spawn(i, component)
        self._wait_ready(self.components[i]["kube-apiserver"], timeout, self.apiserver_urls[i])
        deadline = time.monotonic() + timeout
        while self.backend_states().get(CONTROLLERS[i]) != "UP":
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"HAProxy did not mark {CONTROLLERS[i]} up: {self.backend_states()}"
                )
            time.sleep(0.1)

    # -- observation ---------------------------------------------------------------------

    def backend_states(self) -> dict[str, str]:
        """HAProxy's view of each apiserver: ``UP``, ``DOWN`` (or a transition)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.haproxy_socket))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: row["status"].split()[0]
            for row in rows
            if row.get("pxname") == "controllers" and row["svname"] in CONTROLLERS
        }

    def lease_holder(self, name: str, api: Any = None) -> str | None:
        """The holderIdentity of the Lease ``name`` in kube-system (None when unheld)."""
        coordination = client.CoordinationV1Api(api or self.api_client())
        try:
            lease = coordination.read_namespaced_lease(name, "kube-system", _request_timeout=5)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        holder = lease.spec.holder_identity if lease.spec else None
        return str(holder) if holder else None

    def wait_lease_held(self, name: str, timeout: float, other_than: str | None = None) -> str:
        """The Lease's holder once one (other than ``other_than``) holds it."""
        api = self.api_client()
        deadline = time.monotonic() + timeout
        while True:
            holder = self.lease_holder(name, api)
            if holder and holder != other_than:
                return holder
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new holder of Lease {name} in {timeout:.0f} s: {holder}")
            time.sleep(0.1)

    def log_of(self, i: int, component: str) -> str:
        return (self.dir / f"{component}-{i}.log").read_text(errors="replace")


def start_ha_control_plane(
    node_names: list[str], workdir: Path | None = None, pod_ready_delay_ms: int = 0
) -> HaControlPlane:
    plane = HaControlPlane(workdir, pod_ready_delay_ms)
    plane.start(node_names)
    return plane
