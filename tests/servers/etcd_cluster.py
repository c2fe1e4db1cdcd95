"""A real N-member etcd cluster on loopback, TLS everywhere, for high-availability tests.

Every member is the cached etcd binary (``cache.etcd_binary()``), listening on free
loopback ports. Clients must present a certificate signed by the cluster's CA
(``--client-cert-auth``), as kube-apiserver does on a kubeadm-built controller
(``--etcd-cafile``/``--etcd-certfile``/``--etcd-keyfile``); members talk to each other over
mutual TLS as well. The CA is the cluster's own unless one is passed in (kubeadm likewise
keeps a separate etcd CA).

Interface (kept small and stable, other branches copy this file as is)::

    cluster = EtcdCluster(base_dir, members=3).start()
    cluster.endpoints             # ["https://127.0.0.1:P1", ...], one per member
    cluster.ca_file, cluster.client_cert, cluster.client_key
    cluster.leader()              # the index of the member that leads Raft now
    cluster.move_leader(0)        # hand leadership to member 0 (etcd's leader transfer)
    cluster.kill(0)               # SIGKILL member 0; the others keep quorum
    cluster.restart(0)            # start member 0 again on its data and ports
    cluster.stop()                # every member stopped, base_dir removed

``start`` returns once every member answers ``/health`` with ``"health": "true"``, which
etcd only does once a leader is elected, so the cluster takes writes at once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import time
import urllib.request
from collections.abc import Collection
from pathlib import Path

from tests.servers import cache
from tests.servers.pki import CertificateAuthority
from tests.servers.ports import free_port
from tests.servers.procs import ManagedProcess, install_cleanup, register, unregister

#: etcd's defaults (100 ms heartbeat, 1 s election timeout): a lost leader is replaced
#: within about a second and a half. Lower values make elections flap when the two shared
#: cores are busy building or running other test servers.
HEARTBEAT_MS = 100
ELECTION_TIMEOUT_MS = 1000
#: How long ``start``/``restart`` wait for ``/health``. A cold start is about 1-3 s.
START_TIMEOUT = 60.0


def distinct_free_ports(n: int, avoid: Collection[int] = ()) -> list[int]:
    """``n`` free loopback ports, none twice and none in ``avoid``."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports and port not in avoid:
            ports.append(port)
    return ports


class EtcdCluster:
    """``members`` etcd processes forming one cluster (see the module docstring)."""

    def __init__(
        self,
        base_dir: Path,
        members: int = 3,
        ca: CertificateAuthority | None = None,
        name_prefix: str = "etcd",
        avoid: Collection[int] = (),
    ) -> None:
        """``avoid``: ports other servers of the test were given but may not have bound
        yet (a free port stays free, and may be handed out again, until bound)."""
        if members < 1:
            raise ValueError("an etcd cluster needs at least one member")
        self.dir = Path(base_dir)
        self.pki = self.dir / "pki"
        self.pki.mkdir(parents=True, exist_ok=True)
        self.names = [f"{name_prefix}-{i}" for i in range(members)]
        ports = distinct_free_ports(2 * members, avoid)
        self.client_ports, self.peer_ports = ports[:members], ports[members:]
        self.endpoints = [f"https://127.0.0.1:{p}" for p in self.client_ports]
        self.peer_urls = [f"https://127.0.0.1:{p}" for p in self.peer_ports]
        self.ca = ca or CertificateAuthority(self.pki)
        self.ca_file = self.ca.cert_path
        sans = ["127.0.0.1", "localhost"]
        # Server and client certificates are apart: pki.py issues one usage per certificate,
        # so etcd is told which to present as a server and which as a client
        # (--client-cert-file/--peer-client-cert-file, etcd 3.5+).
        self._server_cert, self._server_key = self.ca.issue(
            "etcd-server", "etcd-server", server=True, sans=sans
        )
        self._peer_client_cert, self._peer_client_key = self.ca.issue("etcd-peer", "etcd-peer")
        self.client_cert, self.client_key = self.ca.issue("etcd-client", "etcd-client")
        self.procs: list[ManagedProcess | None] = [None] * members

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> EtcdCluster:
        """Start every member and wait until each reports itself healthy."""
        install_cleanup()
        register(self)
        try:
            for i in range(len(self.names)):
                self._spawn(i, "new")
            deadline = time.monotonic() + START_TIMEOUT
            for i in range(len(self.names)):
                self.wait_healthy(i, deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every member (SIGTERM, then SIGKILL) and remove the cluster's directory."""
        for i, proc in enumerate(self.procs):
            if proc is not None:
                proc.stop()
                self.procs[i] = None
        shutil.rmtree(self.dir, ignore_errors=True)
        unregister(self)

    def kill(self, i: int) -> None:
        """SIGKILL member ``i``: no goodbye to its peers, as on a power loss."""
        proc = self.procs[i]
        if proc is None:
            return
        if proc.alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.proc.wait(timeout=10)
        proc.stop()  # closes its log and forgets it
        self.procs[i] = None

    def restart(self, i: int) -> None:
        """Start a killed or stopped member ``i`` again on its own data and ports."""
        if self.alive(i):
            return
        self._spawn(i, "existing")
        self.wait_healthy(i, START_TIMEOUT)

    def alive(self, i: int) -> bool:
        proc = self.procs[i]
        return proc is not None and proc.alive()

    # -- clients -----------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the cluster's CA and presents the client cert."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return ctx

    def healthy(self, i: int) -> bool:
        """Whether member ``i`` answers ``/health`` true (it has a leader and a quorum)."""
        try:
            with urllib.request.urlopen(
                f"{self.endpoints[i]}/health", context=self.ssl_context(), timeout=2
            ) as answer:
                return bool(json.loads(answer.read()).get("health") == "true")
        except (OSError, ValueError):
            return False

    def wait_healthy(self, i: int, timeout: float) -> None:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            proc = self.procs[i]
            if proc is not None:
                proc.check_alive()
            if self.healthy(i):
                return
            if time.monotonic() > deadline:
                tail = proc.log_tail() if proc is not None else ""
                raise TimeoutError(f"{self.names[i]} not healthy within {timeout:.0f} s:\n{tail}")
            time.sleep(0.1)

    def _post(self, i: int, path: str, body: dict[str, object]) -> dict[str, object]:
        """A call of etcd's JSON gateway on member ``i``."""
        request = urllib.request.Request(
            f"{self.endpoints[i]}{path}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, context=self.ssl_context(), timeout=10) as answer:
            result: dict[str, object] = json.loads(answer.read())
            return result

    def _status(self, i: int) -> tuple[str, str]:
        """Member ``i``'s own id and its leader's id ("0" during an election: the JSON
        gateway leaves out a zero field, as proto3 does)."""
        status = self._post(i, "/v3/maintenance/status", {})
        header = status["header"]
        assert isinstance(header, dict)
        return str(header["member_id"]), str(status.get("leader", "0"))

    def leader(self, timeout: float = 30.0) -> int:
        """The index of the member leading the cluster, as live members see it; waits
        while an election is under way (after the leader died)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ids = {self._status(j)[0]: j for j in range(len(self.names)) if self.alive(j)}
                for i in ids.values():
                    leader = self._status(i)[1]
                    if leader in ids:
                        return ids[leader]
            except (OSError, ValueError):
                pass  # a member between states: ask again
            if time.monotonic() > deadline:
                raise TimeoutError(f"no live leader in {timeout:.0f} s")
            time.sleep(0.1)

    def move_leader(self, i: int, timeout: float = 30.0) -> None:
        """Make member ``i`` the leader (etcd's leadership transfer, sent to the leader)."""
        target = self._status(i)[0]
        deadline = time.monotonic() + timeout
        while (current := self.leader()) != i:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.names[i]} did not become leader in {timeout:.0f} s")
            self._post(current, "/v3/maintenance/transfer-leadership", {"targetID": target})
            time.sleep(0.1)

    # -- internals ---------------------------------------------------------------------

    def _spawn(self, i: int, state: str) -> None:
        name = self.names[i]
        initial = ",".join(f"{n}={u}" for n, u in zip(self.names, self.peer_urls, strict=True))
        argv = [
            str(cache.etcd_binary()), "--name", name,
            "--data-dir", str(self.dir / name),
            "--listen-client-urls", self.endpoints[i],
            "--advertise-client-urls", self.endpoints[i],
            "--listen-peer-urls", self.peer_urls[i],
            "--initial-advertise-peer-urls", self.peer_urls[i],
            "--initial-cluster", initial, "--initial-cluster-state", state,
            "--initial-cluster-token", f"sysinv-test-{self.dir.name}",
            "--client-cert-auth", f"--trusted-ca-file={self.ca_file}",
            f"--cert-file={self._server_cert}", f"--key-file={self._server_key}",
            f"--client-cert-file={self.client_cert}", f"--client-key-file={self.client_key}",
            "--peer-client-cert-auth", f"--peer-trusted-ca-file={self.ca_file}",
            f"--peer-cert-file={self._server_cert}", f"--peer-key-file={self._server_key}",
            f"--peer-client-cert-file={self._peer_client_cert}",
            f"--peer-client-key-file={self._peer_client_key}",
            f"--heartbeat-interval={HEARTBEAT_MS}",
            f"--election-timeout={ELECTION_TIMEOUT_MS}",
            # Test data is thrown away: skipping fsync keeps a busy disk from stalling Raft.
            "--unsafe-no-fsync", "--log-level", "warn",
        ]  # fmt: skip
        self.procs[i] = ManagedProcess(name, argv, self.dir / f"{name}.log", cwd=self.dir)
