"""Apply N independent charts concurrently vs one after another, on the real test cluster.

Pods become Ready a set time after they are scheduled (kwok's pod-ready stage with a
delay), so each chart's `helm upgrade --install --wait` takes at least that long. The
figure is the wall time of one non-sequenced chart group (concurrent, as sysinv runs it),
printed beside its baseline measured in the same run: the same charts in a sequenced
group (what a one-chart-at-a-time executor costs).

    python bench/bench_apply.py [--charts N] [--delay-ms MS]

CI runs it at a smoke size; run it by hand with e.g. --charts 12 --delay-ms 5000.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from armada.deployers.helm import HelmDeployer
from armada.documents import load_documents
from armada.plan import build_plan
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=4)
    parser.add_argument("--delay-ms", type=int, default=3000)
    args = parser.parse_args()
    procs.install_cleanup()
    helm = helm_binary(4)
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        work = Path(tmp)
        src = work / "sleeper"
        for name, text in CHART.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(textwrap.dedent(text))
        charts = work / "charts"
        env = helm.env(work / "helm-home")
        subprocess.run([str(helm.path), "package", str(src), "-d", str(charts)], env=env,
                       check=True, capture_output=True)  # fmt: skip
        cluster = start_kube_cluster(["worker-0", "worker-1"], pod_ready_delay_ms=args.delay_ms)
        try:
            docs = load_documents(manifest_text(args.charts))
            ops = KubeClusterOps(api_client(str(cluster.kubeconfig)))
            deployer = HelmDeployer(
                helm.path, cluster.kubeconfig, ops, env=env, concurrency=args.charts,
                workdir=work / "values",
            )  # fmt: skip
            times = {}
            # The first helm run against a new cluster pays for discovery (~5 s): warm up.
            for mode in ("warm", "seq", "par"):
                plan = build_plan(docs, charts, manifest=mode)
                started = time.monotonic()
                result = deployer.apply(plan, lambda ev: None, threading.Event())
                times[mode] = time.monotonic() - started
                if not result.ok:
                    raise SystemExit(f"bench apply ({mode}) failed: {result.message}")
        finally:
            cluster.stop()
    print(f"bench_apply: {args.charts} charts, pods Ready {args.delay_ms} ms after scheduling "
          f"(kwok delay), helm {helm.version}")  # fmt: skip
    print(f"  concurrent group (sysinv):       {times['par']:7.2f} s")
    print(f"  sequenced group (baseline, sum): {times['seq']:7.2f} s")
    print(f"  speed-up: {times['seq'] / times['par']:.2f}x")


if __name__ == "__main__":
    main()
