"""Apply N independent charts concurrently vs one after another, on the real test cluster.

Pods become Ready a set time after they are scheduled (kwok's pod-ready stage with a
delay), so each chart's `helm upgrade --install --wait` takes at least that long. The
figure is the wall time of one non-sequenced chart group (concurrent, as sysinv runs it),
printed beside its baseline measured in the same run: the same charts in a sequenced
group (what a one-chart-at-a-time executor costs).

Fair: the concurrent group runs with the shipped default concurrency
(``apps.chart_concurrency``, read from the settings' defaults and printed) unless
``--concurrency`` says otherwise. Before timing, both groups' plans are checked to hold the
same charts with the same values and waits (only the release names and the sequencing
differ); after each apply, every release of the group must be deployed with its Deployment
ready, or the benchmark exits 1.

    python bench/bench_apply.py [--charts N] [--delay-ms MS] [--concurrency N]

CI runs it at a smoke size; run it by hand with e.g. --charts 12 --delay-ms 5000.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from armada.deployers.helm import HelmDeployer
from armada.documents import load_documents
from armada.plan import Plan, build_plan
from sysinv_common.conf.apps import AppSettings
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.cluster_ops import KubeClusterOps
from tests.servers import procs
from tests.servers.helm import helm_binary
from tests.servers.kube import start_kube_cluster

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: sleeper\nversion: 0.1.0\n",
    "templates/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: "{{ .Release.Name }}"}
        spec:
          replicas: 1
          selector: {matchLabels: {app: "{{ .Release.Name }}"}}
          template:
            metadata: {labels: {app: "{{ .Release.Name }}"}}
            spec:
              containers: [{name: c, image: registry.invalid/sleeper:1}]
        """,
}


def doc(schema: str, name: str, data: dict[str, object]) -> dict[str, object]:
    return {"schema": f"armada/{schema}/v1",
            "metadata": {"schema": "metadata/Document/v1", "name": name}, "data": data}  # fmt: skip


def manifest_text(n: int) -> str:
    docs = []
    for mode, count in (("warm", 1), ("par", n), ("seq", n)):
        names = [f"{mode}-{i}" for i in range(count)]
        docs.append(doc("Manifest", mode, {"release_prefix": "bench", "chart_groups": [mode]}))
        docs.append(doc("ChartGroup", mode, {"sequenced": mode == "seq", "chart_group": names}))
        for name in names:
            docs.append(doc("Chart", name, {
                "chart_name": "sleeper", "release": name, "namespace": f"bench-{mode}",
                "values": {}, "wait": {"timeout": 300},
                "source": {"type": "tar", "location": "charts/sleeper-0.1.0.tgz",
                           "subpath": "sleeper", "reference": "main"},
                "dependencies": [],
            }))  # fmt: skip
    return yaml.safe_dump_all(docs)


def same_work(par: Plan, seq: Plan) -> None:
    """The two groups install the same charts with the same values: exit 1 otherwise."""

    def work(plan: Plan) -> list[tuple[object, ...]]:
        return [(c.chart.chart_name, c.archive, c.values, c.chart.wait_timeout, c.chart.wait_labels)
                for g in plan.groups for c in g.charts]  # fmt: skip

    if work(par) != work(seq):
        raise SystemExit("bench_apply: the two groups differ in charts or values")


def check_deployed(ops: KubeClusterOps, namespace: str, count: int) -> None:
    """Every release of ``namespace`` deployed: its Deployment has its replica ready."""
    apps = ops.apis["apps"]
    ready = [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items
             if (d.status.ready_replicas or 0) >= 1]  # fmt: skip
    if len(ready) != count:
        raise SystemExit(f"bench_apply: {len(ready)} of {count} Deployments ready in {namespace}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=4)
    parser.add_argument("--delay-ms", type=int, default=3000)
    shipped = AppSettings.model_fields["chart_concurrency"].default
    parser.add_argument(
        "--concurrency",
        type=int,
        default=shipped,
        help=f"charts at once (default: apps.chart_concurrency, {shipped})",
    )
    args = parser.parse_args()
    print(f"bench_apply: {args.charts} charts, pods Ready {args.delay_ms} ms after scheduling "
          f"(kwok delay), concurrency {args.concurrency}"
          f"{' (shipped default)' if args.concurrency == shipped else ''}")  # fmt: skip
    procs.install_cleanup()
    helm = helm_binary(4)
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        work = Path(tmp)
        charts = work / "charts"
        helm.package(CHART, work / "sleeper", charts, work / "helm-home")
        env = helm.env(work / "helm-home")
        cluster = start_kube_cluster(["worker-0", "worker-1"], pod_ready_delay_ms=args.delay_ms)
        try:
            docs = load_documents(manifest_text(args.charts))
            ops = KubeClusterOps(api_client(str(cluster.kubeconfig)))
            deployer = HelmDeployer(
                helm.path, cluster.kubeconfig, ops, env=env, concurrency=args.concurrency,
                workdir=work / "values",
            )  # fmt: skip
            times = {}
            plans = {
                mode: build_plan(docs, charts, manifest=mode) for mode in ("warm", "seq", "par")
            }
            same_work(plans["par"], plans["seq"])
            print("  checked: both groups install the same charts with the same values")
            # The first helm run against a new cluster pays for discovery (~5 s): warm up.
            for mode, plan in plans.items():
                started = time.monotonic()
                result = deployer.apply(plan, lambda ev: None, threading.Event())
                times[mode] = time.monotonic() - started
                if not result.ok:
                    raise SystemExit(f"bench apply ({mode}) failed: {result.message}")
                check_deployed(ops, f"bench-{mode}", 1 if mode == "warm" else args.charts)
        finally:
            cluster.stop()
    print(f"  helm {helm.version}; every release deployed and ready after each apply")
    print(f"  concurrent group (sysinv, x{args.concurrency}): {times['par']:7.2f} s")
    print(f"  sequenced group (baseline, sum):  {times['seq']:7.2f} s")
    print(f"  speed-up: {times['seq'] / times['par']:.2f}x")


if __name__ == "__main__":
    main()
