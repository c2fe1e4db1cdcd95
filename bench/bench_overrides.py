"""Override generation for one application: ours in-process vs one `helm template` per chart.

An application of N charts (the OpenStack plugins' charts, repeated under new names) on a
system of H hosts. Our figure is one whole generation as the conductor does it at apply:
the model snapshot, every plugin, and the layering of document, system and user values with
Helm's merge. The baseline, measured in the same run, is the sysinv-style approach of asking
Helm to merge: one `helm template` per chart with the same layers as -f files.

    python bench/bench_overrides.py [--charts 20] [--hosts 100] [--helm PATH]

CI runs it at a smoke size; run it by hand at the defaults.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helm_overrides.merge import coalesce, merge_layers
from helm_overrides.plugin import load_plugins
from helm_overrides.snapshot import ChartInput, HostView, ModelSnapshot
from sysinv_conductor.overrides.secrets import substitute
from tests.servers.helm import helm_binary

CHART_VALUES = {
    "pod": {"replicas": {"api": 1, "server": 1}},
    "labels": {"api": {"node_selector_key": "x", "node_selector_value": "y"}},
    "images": {"tags": {f"img{i}": f"docker.io/openstackhelm/img{i}:2024.1" for i in range(30)}},
    "conf": {"section": {f"key{i}": i for i in range(200)}},
}


def snapshot(hosts: int) -> ModelSnapshot:
    views = [HostView(f"controller-{i}", "controller",
                      labels={"openstack-control-plane": "enabled"}) for i in range(2)]  # fmt: skip
    views += [
        HostView(f"worker-{i}", "worker", mgmt_ip=f"10.0.{i // 250}.{i % 250 + 1}",
                 labels={"openstack-compute-node": "enabled"})
        for i in range(hosts - 2)
    ]  # fmt: skip
    return ModelSnapshot("bench", "Standard", "duplex", "RegionOne", hosts=tuple(views),
                         registry_address="registry.local:9001")  # fmt: skip


def ours(charts: list[str], hosts: int) -> list[dict[str, Any]]:
    plugins = load_plugins()
    snap = snapshot(hosts)
    user = {"pod": {"replicas": {"api": 3}}, "conf": {"section": {"key1": None}}}
    out = []
    for chart in charts:
        plugin = plugins[chart]
        base = coalesce(CHART_VALUES, {"conf": {"doc": True}})
        system = plugin.overrides(snap, ChartInput("bench", chart, plugin.namespaces[0], base))
        layered = merge_layers([{"conf": {"doc": True}}, substitute(system, None), user])
        out.append(coalesce(CHART_VALUES, layered))
    return out


def helm_merge(helm: Path, charts: list[str], hosts: int, work: Path) -> None:
    chart_dir = work / "chart"
    (chart_dir / "templates").mkdir(parents=True)
    (chart_dir / "Chart.yaml").write_text("apiVersion: v2\nname: bench\nversion: 0.1.0\n")
    (chart_dir / "values.yaml").write_text(yaml.safe_dump(CHART_VALUES))
    (chart_dir / "templates" / "values.yaml").write_text("# {{ toJson .Values }}\n")
    plugins = load_plugins()
    snap = snapshot(hosts)
    for i, chart in enumerate(charts):
        plugin = plugins[chart]
        system = substitute(
            plugin.overrides(snap, ChartInput("bench", chart, plugin.namespaces[0], CHART_VALUES)),
            None,
        )
        files = []
        for n, layer in enumerate(({"conf": {"doc": True}}, system,
                                   {"pod": {"replicas": {"api": 3}}})):  # fmt: skip
            f = work / f"{i}-{n}.yaml"
            f.write_text(yaml.safe_dump(layer))
            files += ["-f", str(f)]
        subprocess.run([str(helm), "template", "b", str(chart_dir), *files],
                       check=True, capture_output=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--helm", type=Path, default=None, help="helm binary (default: tests')")
    args = parser.parse_args()
    names = sorted(load_plugins())
    # The Ceph charts need a Ceph cluster the benchmark has none of; secrets are masked.
    names = [n for n in names if n not in ("rbd-provisioner", "ceph-pools-audit")]
    charts = [names[i % len(names)] for i in range(args.charts)]
    helm = args.helm or helm_binary(3).path

    start = time.perf_counter()
    ours(charts, args.hosts)
    our_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench-overrides-") as tmp:
        start = time.perf_counter()
        helm_merge(helm, charts, args.hosts, Path(tmp))
        helm_s = time.perf_counter() - start
    print(f"override generation, {args.charts} charts on {args.hosts} hosts:")
    print(f"  sysinv (in-process merge):        {our_s * 1000:9.1f} ms")
    print(f"  baseline (helm template per chart): {helm_s * 1000:9.1f} ms")
    print(f"  ratio baseline/ours:                {helm_s / our_s:9.1f}x")


if __name__ == "__main__":
    main()
