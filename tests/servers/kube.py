"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager,
scheduler, and kwok simulating the kubelets of every Node.

Reached through a kubeconfig with a client certificate, exactly as production reaches a
cluster. ``start_kube_cluster`` returns when ``/readyz`` is ok and every initial Node is
Ready; ``stop`` leaves no process, port or directory behind.

kube-apiserver is also configured with a token webhook, as a controller is for sysinv's
Keystone webhook: a free loopback port is chosen, a serving certificate for 127.0.0.1 is
issued by the cluster CA, and ``--authentication-token-webhook-config-file`` names
``webhook.kubeconfig`` (``https://127.0.0.1:<webhook_port>/webhook``, trusting that CA).
Nothing listens there until a test starts ``sysinv-api`` with ``webhook_cert_file`` and
``webhook_key_file``; until then only bearer tokens no other authenticator knows are
refused (401), and client-certificate users are served as before.
"""

from __future__ import annotations

import shutil
import ssl
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from kubernetes import client, config

from tests.servers import cache
from tests.servers.pki import CertificateAuthority, service_account_keys
from tests.servers.ports import free_port, wait_port
from tests.servers.procs import ManagedProcess, install_cleanup, register, unregister

#: The Nodes a test cluster starts with (``up kube`` too).
INITIAL_NODES = ["controller-0", "controller-1", "worker-0", "worker-1"]

SERVICE_RANGE = "10.0.0.0/24"
SERVICE_IP = "10.0.0.1"
#: What a simulated kubelet reports, as a real one does: pods that request ephemeral storage
#: are scheduled only where a Node declares some.
NODE_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "200Gi"}
#: How often kwok refreshes each Node's status (its own stage waits 10-20 min), as a kubelet
#: does: well inside the node controller's grace period (50 s), so a Node stays Ready however
#: long the session runs; kwok also renews each Node's lease, as a kubelet does.
NODE_STATUS_EVERY_MS = (10_000, 15_000)
NODE_LEASE_SECONDS = 40
#: How long kube-apiserver keeps the webhook's answers, yes and no
#: (``--authentication-token-webhook-cache-ttl``; its default is 2 minutes).
WEBHOOK_CACHE_TTL = 2.0
#: kube-apiserver also keeps every successful token authentication, whatever authenticated
#: it, for 10 s from the moment it was made (its TokenSuccessCacheTTL, no flag sets it; it
#: warns at start that the webhook's 2 s is shorter). A revoked token is therefore refused
#: at most max(this, WEBHOOK_CACHE_TTL) after kube-apiserver last asked the webhook.
APISERVER_TOKEN_CACHE_TTL = 10.0
WEBHOOK_KUBECONFIG = "webhook.kubeconfig"


def write_kubeconfig(path: Path, server: str, ca: Path, cert: Path, key: Path, user: str) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sysinv-test", "cluster": {"server": server,
                                                          "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": {"client-certificate": str(cert),
                                          "client-key": str(key)}}],
        "contexts": [{"name": user, "context": {"cluster": "sysinv-test", "user": user}}],
        "current-context": user,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def write_webhook_kubeconfig(path: Path, url: str, ca: Path) -> Path:
    """The kubeconfig of ``--authentication-token-webhook-config-file``: the cluster is the
    webhook, trusted with ``ca``; kube-apiserver presents no client credential to it."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "webhook", "cluster": {"server": url,
                                                      "certificate-authority": str(ca)}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": "webhook",
                                                     "user": "kube-apiserver"}}],
        "current-context": "webhook",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def webhook_port_of(kubeconfig: Path) -> int:
    """The port of the webhook a ``write_webhook_kubeconfig`` file points at."""
    doc = yaml.safe_load(kubeconfig.read_text())
    port = urlsplit(str(doc["clusters"][0]["cluster"]["server"])).port
    assert port is not None, f"{kubeconfig} names no webhook port"
    return port


class KubeCluster:
    def __init__(self, workdir: Path | None = None, pod_ready_delay_ms: int = 0) -> None:
        self.pod_ready_delay_ms = pod_ready_delay_ms
        self.dir = workdir or Path(tempfile.mkdtemp(prefix="sysinv-kube-"))
        self.pki = self.dir / "pki"
        self.pki.mkdir(parents=True, exist_ok=True)
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.procs: list[ManagedProcess] = []
        self.node_names: list[str] = []
        self.ca: CertificateAuthority | None = None
        self.kubeconfig = self.dir / "admin.kubeconfig"
        self.ca_file = self.pki / "ca.crt"
        # The token webhook kube-apiserver asks (sysinv-api serves it in the tests that
        # need it): its port, its serving certificate and key (signed by the cluster CA,
        # the "platform CA"), and the CA kube-apiserver trusts it with.
        self.webhook_port = free_port()
        self.webhook_url = f"https://127.0.0.1:{self.webhook_port}/webhook"
        self.webhook_kubeconfig = self.dir / WEBHOOK_KUBECONFIG
        self.webhook_cert_file = self.pki / "webhook.crt"
        self.webhook_key_file = self.pki / "webhook.key"
        self.webhook_ca_file = self.ca_file
        self._core: Any = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, node_names: list[str]) -> KubeCluster:
        missing = cache.missing()
        if missing:
            raise RuntimeError(
                "Kubernetes test servers are not built: missing "
                f"{', '.join(missing)}; run `python -m tests.servers build`"
            )
        install_cleanup()
        register(self)
        started = time.monotonic()
        try:
            self._certificates()
            self._start_etcd()
            self._start_apiserver()
            self._start_controllers()
            self._start_kwok()
            for name in node_names:
                self.create_node(name, wait_ready=False)
            for name in node_names:
                self.wait_node_ready(name)
        except BaseException:
            self.stop()
            raise
        print(
            f">> kube control plane {cache.KUBERNETES_VERSION} at {self.server} with "
            f"{len(node_names)} kwok nodes ready in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        unregister(self)

    def _run(self, name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess(name, argv, self.dir / f"{name}.log", cwd=self.dir)
        self.procs.append(proc)
        return proc

    def _certificates(self) -> None:
        self.ca = CertificateAuthority(self.pki)
        self.serving = self.ca.issue(
            "apiserver", "kube-apiserver", server=True,
            sans=["127.0.0.1", "localhost", SERVICE_IP, "kubernetes", "kubernetes.default",
                  "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
        )  # fmt: skip
        self.sa_key, self.sa_pub = service_account_keys(self.pki)
        cert, key = self.ca.issue("admin", "kubernetes-admin", ["system:masters"])
        write_kubeconfig(self.kubeconfig, self.server, self.ca_file, cert, key, "admin")
        cert, key = self.ca.issue("controller-manager", "system:kube-controller-manager")
        self.cm_kubeconfig = write_kubeconfig(
            self.dir / "controller-manager.kubeconfig", self.server, self.ca_file, cert, key,
            "system:kube-controller-manager",
        )  # fmt: skip
        cert, key = self.ca.issue("scheduler", "system:kube-scheduler")
        self.scheduler_kubeconfig = write_kubeconfig(
            self.dir / "scheduler.kubeconfig", self.server, self.ca_file, cert, key,
            "system:kube-scheduler",
        )  # fmt: skip
        self.ca.issue("webhook", "sysinv-webhook", server=True, sans=["127.0.0.1"])
        write_webhook_kubeconfig(self.webhook_kubeconfig, self.webhook_url, self.ca_file)

    def _start_etcd(self) -> None:
        client_url = f"http://127.0.0.1:{self.etcd_port}"
        peer_url = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._run(
            "etcd",
            [str(cache.etcd_binary()), "--name", "default", "--data-dir", str(self.dir / "etcd"),
             "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"default={peer_url}", "--log-level", "warn"],
        )  # fmt: skip
        wait_port(self.etcd_port, 30, "etcd")

    def _start_apiserver(self) -> None:
        proc = self._run(
            "kube-apiserver",
            self.apiserver_argv(self.port, [f"--etcd-servers=http://127.0.0.1:{self.etcd_port}"]),
        )
        self._wait_ready(proc, timeout=120)

    def apiserver_argv(self, port: int, etcd_flags: list[str]) -> list[str]:
        """kube-apiserver serving on loopback ``port``, storing in the etcd ``etcd_flags``
        name (``--etcd-servers`` and, for a TLS etcd, its CA and client certificate).
        Several may share one cluster: same serving certificate, client CA and
        service-account keys, as kubeadm's control-plane join copies them."""
        cert, key = self.serving
        return [
            str(cache.kube_binary("kube-apiserver")), *etcd_flags,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={port}", f"--cert-dir={self.pki}",
            f"--tls-cert-file={cert}", f"--tls-private-key-file={key}",
            f"--client-ca-file={self.ca_file}",
            f"--service-account-key-file={self.sa_pub}",
            f"--service-account-signing-key-file={self.sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            "--authorization-mode=Node,RBAC", "--endpoint-reconciler-type=none",
            # Join tokens authenticate, as on a kubeadm-built cluster.
            "--enable-bootstrap-token-auth=true",
            "--allow-privileged=true", "--profiling=false", "--v=1",
            f"--authentication-token-webhook-config-file={self.webhook_kubeconfig}",
            f"--authentication-token-webhook-cache-ttl={WEBHOOK_CACHE_TTL:g}s",
            "--authentication-token-webhook-version=v1",
        ]  # fmt: skip

    def _wait_ready(self, proc: ManagedProcess, timeout: float, server: str | None = None) -> None:
        """Until ``server`` (the cluster's endpoint by default) answers ``/readyz`` ok."""
        assert self.ca is not None
        server = server or self.server
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            proc.check_alive()
            try:
                with urllib.request.urlopen(f"{server}/readyz", context=ctx, timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception as exc:  # not up yet: connection refused, 500 while starting
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(
            f"kube-apiserver not ready in {timeout:.0f} s ({last}):\n{proc.log_tail()}"
        )

    def _start_controllers(self) -> None:
        self._run("kube-controller-manager", self.controller_manager_argv(self.cm_kubeconfig))
        self._run("kube-scheduler", self.scheduler_argv(self.scheduler_kubeconfig))

    def controller_manager_argv(
        self, kubeconfig: Path, leader_election: list[str] | None = None
    ) -> list[str]:
        """kube-controller-manager reaching the API through ``kubeconfig``; without
        ``leader_election`` flags it runs alone (``--leader-elect=false``)."""
        return [
            str(cache.kube_binary("kube-controller-manager")),
            f"--kubeconfig={kubeconfig}", *(leader_election or ["--leader-elect=false"]),
            "--secure-port=0", "--use-service-account-credentials=true",
            f"--service-account-private-key-file={self.sa_key}",
            f"--root-ca-file={self.ca_file}",
            f"--cluster-signing-cert-file={self.ca_file}",
            f"--cluster-signing-key-file={self.pki / 'ca.key'}",
            "--controllers=*", "--concurrent-namespace-syncs=5", "--v=1",
        ]  # fmt: skip

    def scheduler_argv(
        self, kubeconfig: Path, leader_election: list[str] | None = None
    ) -> list[str]:
        """kube-scheduler reaching the API through ``kubeconfig`` (see above)."""
        return [
            str(cache.kube_binary("kube-scheduler")), f"--kubeconfig={kubeconfig}",
            *(leader_election or ["--leader-elect=false"]), "--secure-port=0", "--v=1",
        ]  # fmt: skip

    def _start_kwok(self) -> None:
        stages = self.dir / "stages.yaml"
        stages.write_text(_stages(cache.kwok_stages().read_text(), self.pod_ready_delay_ms))
        self._run(
            "kwok",
            [str(cache.kwok_binary()), f"--kubeconfig={self.kubeconfig}",
             "-c", str(stages),
             "--manage-all-nodes=true", "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
             # A lease per Node, renewed as a kubelet does (kwok keeps none without this).
             f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}"],
        )  # fmt: skip

    # -- clients and nodes ---------------------------------------------------------------

    def api_client(self, kubeconfig: Path | None = None) -> Any:
        cfg = client.Configuration()
        config.load_kube_config(
            config_file=str(kubeconfig or self.kubeconfig), client_configuration=cfg
        )
        return client.ApiClient(cfg)

    def core_v1(self) -> Any:
        if self._core is None:
            self._core = client.CoreV1Api(self.api_client())
        return self._core

    def create_node(
        self, name: str, labels: dict[str, str] | None = None, wait_ready: bool = True
    ) -> None:
        """Register a Node as a kubelet joining would; kwok then runs it."""
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                           "kubernetes.io/arch": "amd64", "type": "kwok", **(labels or {})},
            },
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
        }  # fmt: skip
        self.core_v1().create_node(body)
        if name not in self.node_names:
            self.node_names.append(name)
        if wait_ready:
            self.wait_node_ready(name)

    def delete_node(self, name: str) -> None:
        try:
            self.core_v1().delete_node(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        if name in self.node_names:
            self.node_names.remove(name)

    def wait_node_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = self.core_v1().read_node(name)
            for cond in node.status.conditions or []:
                if cond.type == "Ready" and cond.status == "True":
                    return
            time.sleep(0.2)
        raise TimeoutError(f"node {name} not Ready within {timeout:.0f} s (is kwok running?)")

    def token_client(self, token: str) -> Any:
        """An ApiClient that presents ``token`` as a bearer token (and no certificate)."""
        cfg = client.Configuration()
        cfg.host = self.server
        cfg.ssl_ca_cert = str(self.ca_file)
        cfg.api_key = {"authorization": token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
        return client.ApiClient(cfg)

    def kubeconfig_for(self, user: str, groups: list[str] | None = None) -> Path:
        """A kubeconfig for a non-admin identity, with no RBAC rights unless granted."""
        assert self.ca is not None, "kubeconfig_for needs a cluster started by this process"
        stem = f"user-{user.replace(':', '_')}"
        cert, key = self.ca.issue(stem, user, groups)
        return write_kubeconfig(
            self.dir / f"{stem}.kubeconfig", self.server, self.ca_file, cert, key, user
        )


def _stages(stages: str, pod_ready_delay_ms: int) -> str:
    """kwok's stages with Node status refreshed every NODE_STATUS_EVERY_MS and, when
    ``pod_ready_delay_ms`` is set, pods becoming Ready that long after they are scheduled."""
    docs = [d for d in yaml.safe_load_all(stages) if d]
    names = {doc["metadata"]["name"] for doc in docs}
    if "node-heartbeat-with-lease" not in names or "pod-ready" not in names:
        raise RuntimeError(f"kwok's stages changed: {sorted(names)}")
    low, high = NODE_STATUS_EVERY_MS
    for doc in docs:
        if doc["metadata"]["name"] == "node-heartbeat-with-lease":
            doc["spec"]["delay"] = {
                "durationMilliseconds": low,
                "jitterDurationMilliseconds": high,
            }
        if doc["metadata"]["name"] == "pod-ready" and pod_ready_delay_ms:
            doc["spec"]["delay"] = {"durationMilliseconds": pod_ready_delay_ms}
    return yaml.safe_dump_all(docs)


def start_kube_cluster(
    node_names: list[str], workdir: Path | None = None, pod_ready_delay_ms: int = 0
) -> KubeCluster:
    return KubeCluster(workdir, pod_ready_delay_ms).start(node_names)
