"""What the OpenStack application must look like on the cluster once applied.

The checks read one snapshot of the application's namespaces (a list call per kind) and
return the problems they find, one line each, so that a failing test names every one at
once. No line quotes a password: a connection is described by its user and database, and
by which password it carries.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kubernetes import client

from tests.helm_charts.openstack_app import RELEASES, Deployed, Version, deployed_jobs
from tests.helm_charts.openstack_app import deployed_workloads as deployed
from tests.servers.helm import HelmBinary

#: The chart default of every ``endpoints.*.auth.*.password``.
DEFAULT_PASSWORD = "password"
URI = re.compile(r"\b(mysql\+pymysql|rabbit)://[^\s'\"]+")
#: helm's annotation naming the release an object belongs to.
RELEASE_ANNOTATION = "meta.helm.sh/release-name"
NAMESPACES = tuple(sorted({r.namespace for r in RELEASES}))
RELEASE_NAMES = frozenset(r.name for r in RELEASES)


@dataclass
class Cluster:
    """Clients for the test cluster and the helm that deployed the releases."""

    api: Any
    helm: HelmBinary
    kubeconfig: Path
    helm_home: Path
    #: hostname -> the node's labels (this system's hosts only).
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)

    def helm_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm.path), "--kubeconfig", str(self.kubeconfig), *args],
            env=self.helm.env(self.helm_home), capture_output=True, text=True, check=False,
        )  # fmt: skip

    def releases(self) -> dict[str, dict[str, Any]]:
        """The application's releases helm knows, whatever their status."""
        out = {}
        for ns in NAMESPACES:
            res = self.helm_run("list", "--deployed", "--failed", "--pending", "--uninstalling",
                                "-n", ns, "-o", "json")  # fmt: skip
            assert res.returncode == 0, res.stderr
            out.update({r["name"]: r for r in json.loads(res.stdout or "[]")
                        if r["name"] in RELEASE_NAMES})  # fmt: skip
        return out

    def snapshot(self) -> View:
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        batch, discovery = client.BatchV1Api(self.api), client.DiscoveryV1Api(self.api)
        lists = {
            "Pod": core.list_namespaced_pod, "Secret": core.list_namespaced_secret,
            "Service": core.list_namespaced_service,
            "ConfigMap": core.list_namespaced_config_map,
            "Deployment": apps.list_namespaced_deployment,
            "DaemonSet": apps.list_namespaced_daemon_set,
            "StatefulSet": apps.list_namespaced_stateful_set,
            "ReplicaSet": apps.list_namespaced_replica_set, "Job": batch.list_namespaced_job,
            "EndpointSlice": discovery.list_namespaced_endpoint_slice,
        }  # fmt: skip
        objects: dict[tuple[str, str, str], Any] = {}
        for ns in NAMESPACES:
            for kind, list_ in lists.items():
                for obj in list_(ns).items:
                    objects[(kind, ns, obj.metadata.name)] = obj
        return View(objects, self.hosts)


@dataclass
class View:
    """The application's namespaces at one moment."""

    objects: dict[tuple[str, str, str], Any]
    hosts: dict[str, dict[str, str]]

    def get(self, kind: str, namespace: str, name: str) -> Any:
        return self.objects.get((kind, namespace, name))

    def all(self, kind: str, namespace: str | None = None) -> list[Any]:
        return [o for (k, ns, _), o in self.objects.items()
                if k == kind and namespace in (None, ns)]  # fmt: skip

    def pods(self, namespace: str, labels: dict[str, str]) -> list[Any]:
        return [p for p in self.all("Pod", namespace)
                if labels.items() <= (p.metadata.labels or {}).items()]  # fmt: skip

    def owned_pods(self, obj: Any) -> list[Any]:
        """The pods ``obj`` owns (through its ReplicaSets for a Deployment)."""
        owners = {obj.metadata.uid} | {
            rs.metadata.uid for rs in self.all("ReplicaSet", obj.metadata.namespace)
            if any(o.uid == obj.metadata.uid for o in rs.metadata.owner_references or [])
        }  # fmt: skip
        return [p for p in self.all("Pod", obj.metadata.namespace)
                if any(o.uid in owners for o in p.metadata.owner_references or [])]  # fmt: skip

    def secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        secret = self.get("Secret", namespace, name)
        if secret is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}

    def release_objects(self) -> list[tuple[str, str, str, str]]:
        """(release, kind, namespace, name) of every object helm made for the app."""
        return [
            (release, kind, ns, name)
            for (kind, ns, name), o in sorted(self.objects.items())
            if (release := (o.metadata.annotations or {}).get(RELEASE_ANNOTATION)) in RELEASE_NAMES
        ]

    def workloads(self, d: Deployed) -> list[tuple[str, Any]]:
        """(name, object or None) of a deployed workload: helm-toolkit's per-host
        daemonsets are one per labelled host with per-host overrides, and a default."""
        ns, kind = d.release.namespace, d.workload.kind
        if d.workload.per_host is None:
            return [(d.name, self.get(kind, ns, d.name))]
        names = [
            f"{d.name}-{h}"
            for h in sorted(self.hosts)
            if self.hosts[h].get(d.label[0]) == d.label[1]
        ] + [f"{d.name}-default"]
        return [(n, self.get(kind, ns, n)) for n in names]  # fmt: skip

    def pod_templates(self, version: Version) -> Iterator[tuple[str, Any, Any]]:
        """(description, pod spec, object) of every workload and job of ``version``."""
        for d in deployed(version):
            for name, obj in self.workloads(d):
                if obj is not None:
                    yield (
                        f"{d.release.namespace}/{d.workload.kind} {name}",
                        obj.spec.template.spec,
                        obj,
                    )
        for release, name, _ in deployed_jobs(version):
            job = self.get("Job", release.namespace, name)
            if job is not None:
                yield f"{release.namespace}/Job {name}", job.spec.template.spec, job


def ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def why_not_ready(pod: Any) -> str:
    if not pod.spec.node_name:
        for c in pod.status.conditions or []:
            if c.type == "PodScheduled" and c.status != "True":
                return f"not scheduled: {c.message}"
        return "not scheduled"
    reasons = [f"{c.type} {c.reason}" for c in pod.status.conditions or []
               if c.status != "True" and c.reason]  # fmt: skip
    return f"{pod.status.phase} on {pod.spec.node_name}" + (
        f": {', '.join(reasons)}" if reasons else "")  # fmt: skip


# --- placement ---------------------------------------------------------------------------


def check_placement(version: Version, view: View) -> list[str]:
    """Every workload exists where the application places it (its nodeSelector is the
    label the manifest sets), each of its pods is Ready on a node with that label, a
    DaemonSet covers every such node, and required anti-affinity spreads replicas."""
    problems: list[str] = []
    for d in deployed(version):
        key, value = d.label
        want = {h for h, labels in view.hosts.items() if labels.get(key) == value}
        covered: set[str] = set()
        for name, obj in view.workloads(d):
            what = f"{d.release.namespace}/{d.workload.kind} {name} ({d.release.name})"
            if obj is None:
                problems.append(f"{what}: missing")
                continue
            selector = obj.spec.template.spec.node_selector or {}
            if selector != {key: value}:
                problems.append(f"{what}: nodeSelector {selector}, the application places "
                                f"it on {key}={value}")  # fmt: skip
            pods = view.owned_pods(obj)
            for pod in pods:
                node = pod.spec.node_name
                if not ready(pod):
                    problems.append(f"{what}: pod {pod.metadata.name} not Ready "
                                    f"({why_not_ready(pod)})")  # fmt: skip
                elif view.hosts.get(node, {}).get(key) != value:
                    problems.append(f"{what}: pod {pod.metadata.name} on {node}, which is not "
                                    f"labelled {key}={value}")  # fmt: skip
                else:
                    covered.add(node)
            if d.workload.kind != "DaemonSet":
                replicas, ready_count = obj.spec.replicas, obj.status.ready_replicas or 0
                if replicas < 1 or ready_count != replicas:
                    problems.append(f"{what}: {ready_count} of {replicas} replicas Ready")
                nodes = [p.spec.node_name for p in pods if ready(p)]
                if len(nodes) != len(set(nodes)) and replicas <= len(want):
                    problems.append(f"{what}: replicas share a node ({sorted(nodes)}) despite "
                                    "the required anti-affinity")  # fmt: skip
        if d.workload.kind == "DaemonSet" and covered != want:
            problems.append(
                f"{d.release.namespace}/DaemonSet {d.name}: Ready pods on {sorted(covered)}, "
                f"hosts labelled {key}={value}: {sorted(want)}"
            )
    return problems


NEUTRON_AGENTS = ("dhcp-agent", "l3-agent", "metadata-agent", "neutron-ovs-agent")


def check_neutron_agents_together(view: View) -> list[str]:
    """The DHCP, L3 and metadata agents run beside an Open vSwitch agent (the real chart
    makes them wait for one on their node)."""
    nodes = {
        c: {p.spec.node_name for p in view.pods("openstack", {"application": "neutron",
                                                              "component": c}) if ready(p)}
        for c in NEUTRON_AGENTS
    }  # fmt: skip
    if len({frozenset(n) for n in nodes.values()}) == 1 and nodes["neutron-ovs-agent"]:
        return []
    return ["neutron agents are not on the same nodes: "
            + ", ".join(f"{c} on {sorted(n)}" for c, n in nodes.items())]  # fmt: skip


# --- dependencies ------------------------------------------------------------------------


def _env(container: Any) -> dict[str, str]:
    return {e.name: e.value or "" for e in container.env or [] if e.value_from is None}


def service_ready(view: View, namespace: str, name: str) -> str | None:
    """Why kubernetes-entrypoint would still wait for the Service, or None."""
    if view.get("Service", namespace, name) is None:
        return "no such Service"
    for s in view.all("EndpointSlice", namespace):
        if (s.metadata.labels or {}).get("kubernetes.io/service-name") != name:
            continue
        for e in s.endpoints or []:
            if e.conditions is None or e.conditions.ready:
                return None
    return "no ready endpoint"


def check_dependencies(version: Version, view: View) -> list[str]:
    """What every init container would wait for is there: each Service with a ready
    endpoint, each Job complete, each pod dependency Ready (on the same node when
    requireSameNode)."""
    problems: list[str] = []
    for what, spec, obj in view.pod_templates(version):
        ns = obj.metadata.namespace
        inits = [c for c in spec.init_containers or [] if c.name == "init"]
        if not inits:
            problems.append(f"{what}: no dependency init container")
            continue
        env = _env(inits[0])
        for entry in filter(None, env.get("DEPENDENCY_SERVICE", "").split(",")):
            svc_ns, _, name = entry.partition(":")
            why = service_ready(view, svc_ns, name)
            if why:
                problems.append(f"{what}: waits for Service {entry}: {why}")
        for job_name in filter(None, env.get("DEPENDENCY_JOBS", "").split(",")):
            job = view.get("Job", ns, job_name)
            if job is None or not job.status.succeeded:
                state = "no such Job" if job is None else "not complete"
                problems.append(f"{what}: waits for Job {job_name}: {state}")
        for dep in json.loads(env.get("DEPENDENCY_POD_JSON") or "[]"):
            found = [p for p in view.pods(ns, dep["labels"]) if ready(p)]
            if not dep.get("requireSameNode"):
                if not found:
                    problems.append(f"{what}: waits for a pod {dep['labels']}: none Ready")
                continue
            there = {p.spec.node_name for p in found}
            for pod in view.owned_pods(obj):
                if pod.spec.node_name not in there:
                    where = pod.spec.node_name or "no node"
                    problems.append(f"{what}: pod {pod.metadata.name} ({where}) waits for a "
                                    f"pod {dep['labels']} on its node")  # fmt: skip
    return problems


def check_references(version: Version, view: View) -> list[str]:
    """Every Secret a pod template takes a variable or a volume from exists, with the key."""
    problems: list[str] = []
    for what, spec, obj in view.pod_templates(version):
        ns = obj.metadata.namespace
        for c in [*(spec.init_containers or []), *spec.containers]:
            for e in c.env or []:
                ref = e.value_from.secret_key_ref if e.value_from else None
                if ref is None:
                    continue
                data = view.secret_data(ns, ref.name)
                if data is None or ref.key not in data:
                    why = "is missing" if data is None else "has no such key"
                    problems.append(f"{what}: {c.name} {e.name} takes {ref.key} of Secret "
                                    f"{ref.name}, which {why}")  # fmt: skip
        for v in spec.volumes or []:
            if v.secret is not None and view.secret_data(ns, v.secret.secret_name) is None:
                problems.append(f"{what}: volume {v.name} mounts missing Secret "
                                f"{v.secret.secret_name}")  # fmt: skip
    return problems


# --- connections and credentials ---------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    where: str
    service: str
    user: str
    password: str
    host: str
    path: str

    def describe(self) -> str:
        return f"{self.where}: {self.service} connection of user {self.user} to {self.path or '/'}"


def connections_in(where: str, text: str) -> Iterator[Connection]:
    for match in URI.finditer(text):
        url = urlsplit(match.group(0))
        service = "mariadb" if url.scheme.startswith("mysql") else "rabbitmq"
        yield Connection(where, service, url.username or "", url.password or "",
                         url.hostname or "", url.path)  # fmt: skip


def check_connections(version: Version, view: View) -> list[str]:
    """Every database and message-bus connection in the releases' Secrets and pod
    templates: to the MariaDB or RabbitMQ Service, never with the chart's default password,
    the administrators' with the password MariaDB and RabbitMQ were given, and one
    password per user (MariaDB and RabbitMQ keep one per user)."""
    mariadb = view.secret_data("openstack", "mariadb-dbadmin-password")
    rabbit = view.secret_data("openstack", f"{RELEASES[4].name}-admin-user")
    if not mariadb or not rabbit:
        return [f"MariaDB's or RabbitMQ's admin Secret is missing ({mariadb}, {rabbit})"]
    given = {
        ("mariadb", "root"): mariadb["MYSQL_DBADMIN_PASSWORD"],
        ("rabbitmq", rabbit["RABBITMQ_ADMIN_USERNAME"]): rabbit["RABBITMQ_ADMIN_PASSWORD"],
    }
    problems = [f"{service} was given the chart's default {user} password"
                for (service, user), pw in given.items() if pw == DEFAULT_PASSWORD]  # fmt: skip
    found: list[Connection] = []
    for _, kind, ns, name in view.release_objects():
        if kind == "Secret":
            for key, text in (view.secret_data(ns, name) or {}).items():
                found += connections_in(f"{ns}/Secret {name} {key}", text)
    for what, spec, _ in view.pod_templates(version):
        for c in [*(spec.init_containers or []), *spec.containers]:
            for var, value in _env(c).items():
                found += connections_in(f"{what} {c.name} {var}", value)
    if not found:
        return ["no connection found in any Secret"]
    passwords: dict[tuple[str, str], set[str]] = defaultdict(set)
    for conn in found:
        if conn.host != f"{conn.service}.openstack.svc.cluster.local":
            problems.append(f"{conn.describe()} goes to {conn.host}, not the {conn.service} "
                            "Service")  # fmt: skip
        admin = given.get((conn.service, conn.user))
        if conn.password == DEFAULT_PASSWORD:
            problems.append(f"{conn.describe()} carries the chart's default password")
        elif admin is not None and conn.password != admin:
            problems.append(f"{conn.describe()} carries another password than {conn.service} "
                            "was given")  # fmt: skip
        passwords[(conn.service, conn.user)].add(conn.password)
    for (service, user), seen in sorted(passwords.items()):
        if len(seen) > 1:
            places = sorted({c.where for c in found if (c.service, c.user) == (service, user)})
            problems.append(f"{service} user {user} has {len(seen)} different passwords "
                            f"across {places}")  # fmt: skip
    return problems


# --- images --------------------------------------------------------------------------------


def check_images(version: Version, view: View, registry: str) -> list[str]:
    problems: list[str] = []
    for what, spec, _ in view.pod_templates(version):
        for c in [*(spec.init_containers or []), *spec.containers]:
            if not c.image.startswith(registry + "/"):
                problems.append(f"{what}: {c.name} image {c.image} is not from {registry}")
    return problems


def settled(version: Version, cluster: Cluster, timeout: float = 30) -> View:
    """A snapshot once the releases' jobs are complete (kwok completes their pods at
    once; helm does not wait for them) and the pods an update replaced are gone, or the
    last one after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        view = cluster.snapshot()
        jobs = [view.get("Job", r.namespace, name) for r, name, _ in deployed_jobs(version)]
        going = [p for p in view.all("Pod") if p.metadata.deletion_timestamp is not None
                 and (p.metadata.labels or {}).get("release_group") in RELEASE_NAMES]  # fmt: skip
        done = all(j is None or j.status.succeeded for j in jobs) and not going
        if done or time.monotonic() > deadline:
            return view
        time.sleep(0.5)


def audit(version: Version, cluster: Cluster, registry: str) -> list[str]:
    view = settled(version, cluster)
    return [
        *check_placement(version, view),
        *check_neutron_agents_together(view),
        *check_dependencies(version, view),
        *check_references(version, view),
        *check_connections(version, view),
        *check_images(version, view, registry),
    ]
