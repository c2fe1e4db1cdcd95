"""The throwaway servers themselves: what every other test relies on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import yaml
from kubernetes import client, watch

from tests.images import write_oci_image
from tests.servers import procs
from tests.servers.docker import DockerDaemon
from tests.servers.helm import HelmBinary
from tests.servers.kube import KubeCluster
from tests.servers.ports import RESERVED, port_open
from tests.servers.registry import RegistryServer

REPO = Path(__file__).resolve().parents[2]

CHART = {
    "Chart.yaml": """\
        apiVersion: v2
        name: demo
        version: 0.1.0
        """,
    "values.yaml": """\
        greeting: hello
        replicas: 2
        """,
    "templates/all.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
        data:
          greeting: {{ .Values.greeting | quote }}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-secret
        stringData:
          token: not-a-real-secret
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}-svc
        spec:
          selector: {app: {{ .Release.Name }}}
          ports: [{port: 80, targetPort: 8080}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-web
        spec:
          replicas: {{ .Values.replicas }}
          selector: {matchLabels: {app: {{ .Release.Name }}}}
          template:
            metadata:
              labels: {app: {{ .Release.Name }}}
            spec:
              containers:
              - name: web
                image: registry.invalid/web:1.0
                ports: [{containerPort: 8080}]
        """,
}


def write_chart(root: Path) -> Path:
    chart = root / "demo"
    for name, text in CHART.items():
        path = chart / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return chart


def run_helm(helm: HelmBinary, home: Path, kube: KubeCluster, *args: str) -> str:
    result = subprocess.run(
        [str(helm.path), "--kubeconfig", str(kube.kubeconfig), *args],
        env=helm.env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_cluster_nodes_are_ready(kube_cluster: KubeCluster) -> None:
    nodes = {n.metadata.name: n for n in kube_cluster.core_v1().list_node().items}
    for name in ("controller-0", "controller-1", "worker-0", "worker-1"):
        ready = [c for c in nodes[name].status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", name


def test_cluster_runs_etcd_3_5_or_newer_without_the_3_4_workarounds(
    kube_cluster: KubeCluster,
) -> None:
    version = json.loads(
        urllib.request.urlopen(f"http://127.0.0.1:{kube_cluster.etcd_port}/version").read()
    )["etcdserver"]
    assert tuple(int(p) for p in version.split(".")[:2]) >= (3, 5), version
    argv = " ".join(" ".join(p.argv) for p in kube_cluster.procs)
    for workaround in ("WatchList=false", "StaleControllerConsistency", "node-monitor-grace"):
        assert workaround not in argv


def test_nodes_look_like_kubelets_and_keep_their_heartbeats(
    kube_cluster: KubeCluster,
) -> None:
    core = kube_cluster.core_v1()
    node = core.read_node("worker-0")
    for resource in ("cpu", "memory", "pods", "ephemeral-storage"):
        assert resource in node.status.allocatable, resource
    lease = client.CoordinationV1Api(kube_cluster.api_client()).read_namespaced_lease(
        "worker-0", "kube-node-lease"
    )
    age = datetime.now(UTC) - lease.spec.renew_time
    assert age.total_seconds() < lease.spec.lease_duration_seconds, age

    def heartbeat() -> Any:
        (ready,) = [c for c in core.read_node("worker-0").status.conditions if c.type == "Ready"]
        assert ready.status == "True"
        return ready.last_heartbeat_time

    # The status is refreshed every 10-15 s, well inside the controller's 50 s grace.
    first, deadline = heartbeat(), time.monotonic() + 40
    while heartbeat() == first:
        assert time.monotonic() < deadline, "worker-0's status heartbeat did not move in 40 s"
        time.sleep(1)

    # A pod asking for ephemeral storage is scheduled and becomes Ready.
    ns = f"eph-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        core.create_namespaced_pod(ns, {
            "metadata": {"name": "scratch"},
            "spec": {"containers": [{
                "name": "c", "image": "busybox",
                "resources": {"requests": {"ephemeral-storage": "1Gi"}},
            }]},
        })  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            pod = core.read_namespaced_pod("scratch", ns)
            conditions = {c.type: c.status for c in pod.status.conditions or []}
            if conditions.get("Ready") == "True":
                break
            assert time.monotonic() < deadline, pod.status
            time.sleep(0.5)
        assert pod.spec.node_name
    finally:
        core.delete_namespace(ns)


def test_cluster_asks_a_token_webhook_it_trusts_through_its_ca(
    kube_cluster: KubeCluster,
) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    cert = x509.load_pem_x509_certificate(Path(kube_cluster.webhook_cert_file).read_bytes())
    ca = x509.load_pem_x509_certificate(Path(kube_cluster.webhook_ca_file).read_bytes())
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert Path(kube_cluster.webhook_key_file).stat().st_mode & 0o777 == 0o600
    webhook = yaml.safe_load(Path(kube_cluster.webhook_kubeconfig).read_text())
    assert webhook["clusters"][0]["cluster"] == {
        "server": f"https://127.0.0.1:{kube_cluster.webhook_port}/webhook",
        "certificate-authority": str(kube_cluster.webhook_ca_file),
    }
    # Unless a test serves the webhook, nothing listens there: a bearer token no other
    # authenticator knows is refused at once, and certificate users are served as ever.
    if not port_open(kube_cluster.webhook_port):
        with pytest.raises(client.ApiException) as refused:
            client.CoreV1Api(kube_cluster.token_client("no-such-token")).list_namespace()
        assert refused.value.status == 401
    assert kube_cluster.core_v1().list_namespace().items


def test_helm_installs_upgrades_and_uninstalls_a_chart(
    kube_cluster: KubeCluster, helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    chart = write_chart(tmp_path)
    ns = f"demo-{helm.major}-{uuid.uuid4().hex[:6]}"
    core = kube_cluster.core_v1()
    core.create_namespace({"metadata": {"name": ns}})
    wait = ["--wait", "--timeout", "120s"]
    run_helm(helm, helm_home, kube_cluster, "upgrade", "--install", "demo", str(chart),
             "--namespace", ns, *wait)  # fmt: skip
    apps = client.AppsV1Api(kube_cluster.api_client())
    deploy = apps.read_namespaced_deployment("demo-web", ns)
    assert deploy.status.ready_replicas == 2
    pods = core.list_namespaced_pod(ns).items
    assert len(pods) == 2
    assert all(
        any(c.type == "Ready" and c.status == "True" for c in p.status.conditions) for p in pods
    )
    assert core.read_namespaced_secret("demo-secret", ns).data["token"]
    assert core.read_namespaced_service("demo-svc", ns).spec.ports[0].port == 80
    releases = json.loads(run_helm(helm, helm_home, kube_cluster, "list", "-n", ns, "-o", "json"))
    assert [(r["name"], r["status"]) for r in releases] == [("demo", "deployed")]

    run_helm(helm, helm_home, kube_cluster, "upgrade", "--install", "demo", str(chart),
             "--namespace", ns, "--set", "greeting=bonjour", *wait)  # fmt: skip
    assert core.read_namespaced_config_map("demo-config", ns).data["greeting"] == "bonjour"

    run_helm(helm, helm_home, kube_cluster, "uninstall", "demo", "-n", ns, "--wait")
    assert json.loads(run_helm(helm, helm_home, kube_cluster, "list", "-n", ns, "-o", "json")) == []
    assert (
        core.list_namespaced_config_map(ns, field_selector="metadata.name=demo-config").items == []
    )

    core.delete_namespace(ns)
    deadline = time.monotonic() + 90
    while ns in [n.metadata.name for n in core.list_namespace().items]:
        assert time.monotonic() < deadline, f"namespace {ns} stuck in Terminating"
        time.sleep(0.5)


def test_client_patches_labels_and_cordons_and_a_watch_sees_it(
    kube_cluster: KubeCluster,
) -> None:
    name = f"w-{uuid.uuid4().hex[:6]}"
    kube_cluster.create_node(name)
    core = kube_cluster.core_v1()
    seen: list[tuple[str | None, bool]] = []
    rv = core.read_node(name).metadata.resource_version
    w = watch.Watch()

    def follow() -> None:
        for event in w.stream(core.list_node, field_selector=f"metadata.name={name}",
                              resource_version=rv, timeout_seconds=30):  # fmt: skip
            node: Any = event["object"]
            seen.append(((node.metadata.labels or {}).get("zone"), bool(node.spec.unschedulable)))
            if seen[-1] == ("a", True):
                w.stop()

    watcher = threading.Thread(target=follow)
    watcher.start()
    try:
        core.patch_node(name, {"metadata": {"labels": {"zone": "a"}}})
        core.patch_node(name, {"spec": {"unschedulable": True}})
        watcher.join(timeout=40)
        assert ("a", True) in seen
        node = core.read_node(name)
        assert node.metadata.labels["zone"] == "a" and node.spec.unschedulable is True
    finally:
        w.stop()
        kube_cluster.delete_node(name)


def test_postgres_and_redis_answer_on_their_own_ports(postgres_url: str, redis_url: str) -> None:
    pg_port = int(postgres_url.split(":")[-1].split("/")[0])
    redis_port = int(redis_url.split(":")[-1].split("/")[0])
    assert pg_port not in (5432, 6379) and redis_port not in (5432, 6379)
    with psycopg.connect(f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres") as c:
        assert c.execute("SELECT 1").fetchone() == (1,)
    r = redis.Redis.from_url(redis_url)
    r.set("k", "v")
    assert r.get("k") == b"v"


SECOND_SESSION = """
import json, sys
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer
from tests.servers.procs import stop_all, install_cleanup
install_cleanup()
pg, rd = PostgresServer().start(), RedisServer().start()
print(json.dumps({"pg": pg.port, "redis": rd.port, "redis_url": rd.url, "pgdir": str(pg.base),
                  "rdir": str(rd.base)}), flush=True)
sys.stdin.readline()
pg.stop(); rd.stop()
"""


def test_two_sessions_at_once_do_not_collide(postgres_url: str, redis_url: str) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", SECOND_SESSION],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    try:
        assert other.stdout is not None and other.stdin is not None
        info = json.loads(other.stdout.readline())
        ours = {
            int(postgres_url.split(":")[-1].split("/")[0]),
            int(redis_url.split(":")[-1].split("/")[0]),
        }
        assert not ours & {info["pg"], info["redis"]}
        assert port_open(info["pg"]) and port_open(info["redis"])
        # Both sessions' servers answer at the same time.
        r = redis.Redis.from_url(info["redis_url"])
        assert r.ping() and redis.Redis.from_url(redis_url).ping()
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.wait(timeout=60) == 0
        assert not port_open(info["pg"]) and not port_open(info["redis"])
        assert not Path(info["pgdir"]).exists() and not Path(info["rdir"]).exists()
    finally:
        if other.poll() is None:
            other.kill()


def test_stop_leaves_no_process_port_or_directory() -> None:
    from tests.servers.kube import start_kube_cluster

    cluster = start_kube_cluster(["only-node"])
    pids = [p.pid for p in cluster.procs]
    ports = [cluster.port, cluster.etcd_port]
    workdir = cluster.dir
    assert all(procs.group_alive(pid) for pid in pids)
    cluster.stop()
    assert not any(procs.group_alive(pid) for pid in pids)
    assert not any(port_open(p) for p in ports)
    assert not workdir.exists()
    assert not set(pids) & set(procs.LIVE)


def test_sigterm_stops_every_server(tmp_path: Path) -> None:
    script = (
        "from tests.servers.procs import install_cleanup\n"
        "from tests.servers.redis import RedisServer\n"
        "install_cleanup(); s = RedisServer().start()\n"
        "print(s.proc.pid, s.port, s.base, flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )  # fmt: skip
    assert proc.stdout is not None
    pid, port, base = proc.stdout.readline().split()
    assert port_open(int(port))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert not procs.group_alive(int(pid))
    assert not port_open(int(port))
    assert not Path(base).exists()


def _containerd_pid(daemon: DockerDaemon) -> int:
    return int((daemon.base / "exec" / "containerd" / "containerd.pid").read_text().split()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its parent) counts as gone.
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def test_registry_and_dockerd_serve_and_stop_leaving_nothing(tmp_path: Path) -> None:
    registry = RegistryServer("probe-registry").start()
    daemon = DockerDaemon().start()
    try:
        assert registry.port not in RESERVED
        image = write_oci_image(tmp_path / "layout", tag="1")
        copied = subprocess.run(
            ["skopeo", "copy", "--dest-tls-verify=false", image.ref,
             f"docker://{registry.address}/probe/image:1"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert copied.returncode == 0, copied.stderr
        assert registry.storage_bytes() > len(image.content)
        config = tmp_path / "docker-config"
        pulled = daemon.cli(config, "pull", f"{registry.address}/probe/image:1")
        assert pulled.returncode == 0, pulled.stderr
        info = json.loads(daemon.cli(config, "info", "--format", "{{json .}}").stdout)
        assert info["DockerRootDir"] == str(daemon.base / "data")
        assert info["Driver"] == "vfs"
        assert info["ServerVersion"].startswith("20.10")
        containerd = _containerd_pid(daemon)
        pids = [registry.proc.pid, daemon.proc.pid]  # type: ignore[union-attr]
        ports = [registry.port]
    finally:
        registry.stop()
        daemon.stop()
    assert not any(procs.group_alive(pid) for pid in pids)
    assert not _alive(containerd)
    assert not any(port_open(p) for p in ports)
    assert not registry.base.exists() and not daemon.base.exists()
    assert str(daemon.base) not in Path("/proc/self/mountinfo").read_text()


def test_a_killed_dockerd_leaves_no_containerd_mount_or_directory_after_stop() -> None:
    daemon = DockerDaemon().start()
    containerd = _containerd_pid(daemon)
    assert daemon.proc is not None
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.proc.wait(timeout=30)
    # Its data root is still bind-mounted on itself: nothing unmounted it.
    assert f" {daemon.base}/data " in Path("/proc/self/mountinfo").read_text()
    daemon.stop()
    assert not _alive(containerd)
    assert str(daemon.base) not in Path("/proc/self/mountinfo").read_text()
    assert not daemon.base.exists()
