"""The drift audit's load on the API server, for an application of N charts, on the real
test cluster: one list per (namespace, kind), against a baseline of one GET per object.

Each chart deploys five objects (a Deployment, a ConfigMap, a Secret, a Service, a
ServiceAccount) into one namespace, all N releases applied with the real helm. Then, behind
helm's back, chart 0's Deployment gets 3 replicas and chart 1's ConfigMap is deleted.
Before timing, both ways must find exactly that drift (the same objects, the same fields),
or the benchmark exits 1. Both read the same release manifests (``helm get manifest``,
cached per revision as the audit keeps them) and share API discovery, so what is compared
is the reading of the live objects: requests (counted by the audit's own reader) and wall
time, per audit round once warm; the first round (discovery and the manifests' helm
calls) is printed apart.

    python bench/bench_drift.py [--charts N] [--rounds R]

CI runs it at a smoke size; run it by hand with the issue's size, --charts 20.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from armada.deployers.helm import HelmDeployer
from armada.documents import load_documents
from armada.plan import build_plan
from sysinv_conductor.drift.compare import changed_fields
from sysinv_conductor.drift.finder import ManifestCache, ObjectDrift, ReleaseRef, find
from sysinv_conductor.drift.live import LiveReader
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.cluster_ops import KubeClusterOps
from tests.servers import procs
from tests.servers.helm import helm_binary
from tests.servers.kube import start_kube_cluster

NAMESPACE = "bench-drift"
_META = """\
  name: "{{ .Release.Name }}"
  labels:
    app.kubernetes.io/part-of: bench-drift
    app.kubernetes.io/instance: '{{ .Release.Name }}'"""
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: svc\nversion: 0.1.0\n",
    "templates/all.yaml": f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
{_META}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: "{{{{ .Release.Name }}}}"}}}}
  template:
    metadata: {{labels: {{app: "{{{{ .Release.Name }}}}"}}}}
    spec:
      serviceAccountName: "{{{{ .Release.Name }}}}"
      containers:
        - name: c
          image: registry.invalid/svc:1
          ports: [{{name: http, containerPort: 8080}}]
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
{_META}
data: {{greeting: hello, color: blue}}
---
apiVersion: v1
kind: Secret
metadata:
{_META}
stringData: {{password: not-a-real-one}}
---
apiVersion: v1
kind: Service
metadata:
{_META}
spec:
  selector: {{app: "{{{{ .Release.Name }}}}"}}
  ports: [{{name: http, port: 80, targetPort: http}}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
{_META}
""",
}


def manifest_text(n: int) -> str:
    def doc(schema: str, name: str, data: dict[str, object]) -> dict[str, object]:
        meta = {"schema": "metadata/Document/v1", "name": name}
        return {"schema": f"armada/{schema}/v1", "metadata": meta, "data": data}

    names = [f"chart-{i:02d}" for i in range(n)]
    docs = [doc("Manifest", "bench", {"release_prefix": "drift", "chart_groups": ["all"]}),
            doc("ChartGroup", "all", {"sequenced": False, "chart_group": names})]  # fmt: skip
    for name in names:
        docs.append(doc("Chart", name, {
            "chart_name": "svc", "release": name, "namespace": NAMESPACE, "values": {},
            "wait": {"timeout": 300},
            "source": {"type": "tar", "location": "charts/svc-0.1.0.tgz", "subpath": "svc",
                       "reference": "main"},
            "dependencies": [],
        }))  # fmt: skip
    return yaml.safe_dump_all(docs)


def per_object(
    reader: LiveReader, cache: ManifestCache, refs: Iterable[ReleaseRef]
) -> list[ObjectDrift]:
    """The baseline: the same comparison, reading each object with a GET of its own."""
    out = []
    for ref in refs:
        for m in cache.objects(ref):
            api_version, kind, name = m["apiVersion"], m["kind"], m["metadata"]["name"]
            res = reader.resource(api_version, kind)
            ns = (m["metadata"].get("namespace") or ref.namespace) if res.namespaced else None
            live = reader.get(res, ns, name)
            if live is None:
                out.append(
                    ObjectDrift(ref.chart, ref.release, api_version, kind, ns, name, "deleted")
                )
                continue
            fields = changed_fields(m, live)
            if fields:
                out.append(ObjectDrift(ref.chart, ref.release, api_version, kind, ns, name,
                                       "changed", tuple(fields)))  # fmt: skip
    return sorted(out, key=lambda o: (o.chart, o.key))


Audit = Callable[[LiveReader, ManifestCache, Iterable[ReleaseRef]], list[ObjectDrift]]


def measure(audit: Audit, reader: LiveReader, cache: ManifestCache, refs: list[ReleaseRef],
            rounds: int) -> tuple[int, float]:  # fmt: skip
    """Requests per round and the median wall time of ``rounds`` warm rounds."""
    times, counts = [], []
    for _ in range(rounds):
        before = reader.requests
        started = time.perf_counter()
        audit(reader, cache, refs)
        times.append(time.perf_counter() - started)
        counts.append(reader.requests - before)
    if len(set(counts)) != 1:
        raise SystemExit(f"bench_drift: requests per round varied: {counts}")
    return counts[0], statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.charts < 2:
        raise SystemExit("bench_drift: --charts must be at least 2 (two charts drift)")
    print(f"bench_drift: {args.charts} charts x 5 objects in one namespace, {args.rounds} rounds")
    procs.install_cleanup()
    helm = helm_binary(3)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        work = Path(tmp)
        charts = work / "charts"
        helm.package(CHART, work / "svc", charts, work / "helm-home")
        env = helm.env(work / "helm-home")
        cluster = start_kube_cluster(["worker-0"])
        try:
            api = api_client(str(cluster.kubeconfig))
            deployer = HelmDeployer(helm.path, cluster.kubeconfig, KubeClusterOps(api), env=env,
                                    workdir=work / "values")  # fmt: skip
            plan = build_plan(load_documents(manifest_text(args.charts)), charts, manifest="bench")
            result = deployer.apply(plan, lambda ev: None, threading.Event())
            if not result.ok:
                raise SystemExit(f"bench_drift: apply failed: {result.message}")
            refs = [ReleaseRef(o.chart, o.release, o.namespace, o.revision or 0)
                    for o in result.outcomes]  # fmt: skip
            by_chart = {o.chart: o.release for o in result.outcomes}
            web, cfg = by_chart["chart-00"], by_chart["chart-01"]
            replicas = {"spec": {"replicas": 3}}
            client.AppsV1Api(api).patch_namespaced_deployment(web, NAMESPACE, replicas)
            client.CoreV1Api(api).delete_namespaced_config_map(cfg, NAMESPACE)

            reader, cache = LiveReader(api), ManifestCache(deployer.release_manifest)
            started = time.perf_counter()
            first = find(reader, cache, refs)
            cold_time, cold_requests = time.perf_counter() - started, reader.requests
            baseline = per_object(reader, cache, refs)
            expected = [
                ("chart-00", f"Deployment/{NAMESPACE}/{web}", "changed", ("spec.replicas",)),
                ("chart-01", f"ConfigMap/{NAMESPACE}/{cfg}", "deleted", ()),
            ]
            for who, found in (("the audit", first), ("the baseline", baseline)):
                got = [(o.chart, o.key, o.state, o.fields) for o in found]
                if got != expected:
                    raise SystemExit(f"bench_drift: {who} found {got}, not {expected}")
            print("  checked: both find the same drift: chart-00's Deployment spec.replicas, "
                  "chart-01's ConfigMap deleted")  # fmt: skip
            ours = measure(find, reader, cache, refs, args.rounds)
            base = measure(per_object, reader, cache, refs, args.rounds)
            if cache.reads != args.charts:  # warm rounds must not run helm again
                raise SystemExit(f"bench_drift: {cache.reads} manifest reads for {args.charts}")
        finally:
            cluster.stop()
    objects = args.charts * 5
    print(
        f"  helm {helm.version}; first round (discovery, {cache.reads} helm get manifest): "
        f"{cold_requests} API requests, {cold_time:.2f} s"
    )
    print(
        f"  audit, list per (namespace, kind): {ours[0]:5d} requests/round, "
        f"{ours[1] * 1000:8.1f} ms"
    )
    print(
        f"  baseline, GET per object ({objects}): {base[0]:5d} requests/round, "
        f"{base[1] * 1000:8.1f} ms"
    )
    print(f"  requests: {base[0] / ours[0]:.1f}x fewer; time: {base[1] / ours[1]:.2f}x faster")


if __name__ == "__main__":
    main()
