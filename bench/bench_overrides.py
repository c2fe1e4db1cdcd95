"""Override generation for one application: ours in-process vs one `helm template` per chart.

An application of N charts (the OpenStack plugins' charts, repeated under new names) on a
system of H hosts. Our figure is one whole generation as the conductor does it at apply:
the model snapshot, every plugin, and the layering of document, system and user values with
Helm's merge. The baseline, measured in the same run: the sysinv-style approach of asking
Helm to merge, one `helm template` per chart with the same layers as -f files.

Fair by construction, and checked: both sides start from the same chart values, document,
system and user layers (a user null deleting a chart default included), and before any
timing each chart's result on our side must equal what helm renders (``toJson .Values``),
or the benchmark exits 1. The values the baseline hands helm are written by the service's
own dumper (``bounded_yaml.dump``, which quotes ``y`` so that helm's YAML 1.1 reader keeps it
a string). YAML is counted on both sides or on neither, both printed: our side dumps each
chart's values as the helm deployer writes them, the baseline dumps its layer files.

    python bench/bench_overrides.py [--charts 20] [--hosts 100] [--helm PATH]

CI runs it at a smoke size; run it by hand at the defaults.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bounded_yaml
from helm_overrides.merge import coalesce, merge_layers
from helm_overrides.plugin import ChartPlugin, load_plugins
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


DOC = {"conf": {"doc": True}}
# A user null deletes a chart default (Helm's coalesce); the chart's "y" must stay a string.
USER = {"pod": {"replicas": {"api": 3}}, "conf": {"section": {"key1": None}}}


def system_layer(plugin: ChartPlugin, chart: str, snap: ModelSnapshot) -> dict[str, Any]:
    """The same on both sides: the plugin's overrides on the document-merged values."""
    base = coalesce(CHART_VALUES, DOC)
    system: dict[str, Any] = substitute(
        plugin.overrides(snap, ChartInput("bench", chart, plugin.namespaces[0], base)), None
    )
    return system


def ours(charts: list[str], hosts: int, timing: dict[str, float]) -> list[dict[str, Any]]:
    started = time.perf_counter()
    plugins = load_plugins()
    snap = snapshot(hosts)
    out = []
    for chart in charts:
        layered = merge_layers([DOC, system_layer(plugins[chart], chart, snap), USER])
        out.append(coalesce(CHART_VALUES, layered))
    timing["merge"] = time.perf_counter() - started
    started = time.perf_counter()
    for values in out:  # what the helm deployer writes for each chart's release
        bounded_yaml.dump(values, sort_keys=True)
    timing["yaml"] = time.perf_counter() - started
    return out


def chart_dir(work: Path) -> Path:
    chart = work / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: bench\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(bounded_yaml.dump(CHART_VALUES))
    (chart / "templates" / "values.yaml").write_text("# {{ toJson .Values }}\n")
    return chart


def helm_merge(
    helm: Path, chart: Path, charts: list[str], hosts: int, work: Path, timing: dict[str, float]
) -> list[dict[str, Any]]:
    plugins = load_plugins()
    snap = snapshot(hosts)
    out = []
    timing["yaml"] = timing["merge"] = 0.0
    for i, name in enumerate(charts):
        started = time.perf_counter()
        system = system_layer(plugins[name], name, snap)
        timing["merge"] += time.perf_counter() - started
        started = time.perf_counter()
        files = []
        for n, layer in enumerate((DOC, system, USER)):
            f = work / f"{i}-{n}.yaml"
            f.write_text(bounded_yaml.dump(layer))
            files += ["-f", str(f)]
        timing["yaml"] += time.perf_counter() - started
        started = time.perf_counter()
        done = subprocess.run([str(helm), "template", "b", str(chart), *files],
                              check=True, capture_output=True, text=True)  # fmt: skip
        timing["merge"] += time.perf_counter() - started
        # Parsing helm's answer is the check's, not the baseline's work: not timed.
        rendered = next(ln for ln in done.stdout.splitlines() if ln.startswith("# {"))
        out.append(json.loads(rendered[2:]))
    return out


def check_same(charts: list[str], mine: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> int:
    """The charts whose values differ (printed): JSON on both sides, as helm sends them on."""
    differ = 0
    for chart, a, b in zip(charts, mine, theirs, strict=True):
        if json.loads(json.dumps(a)) != b:
            differ += 1
            print(f"  {chart}: ours and helm's values differ", file=sys.stderr)
    return differ


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
    helm_version = subprocess.run([str(helm), "version", "--short"], capture_output=True,
                                  text=True, check=True).stdout.strip()  # fmt: skip
    print(f"bench_overrides: {args.charts} charts ({len(set(charts))} plugins) on "
          f"{args.hosts} hosts; helm {helm_version} ({helm}); PyYAML {yaml.__version__}, "
          f"libyaml {'yes' if yaml.__with_libyaml__ else 'no'}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-overrides-") as tmp:
        work = Path(tmp)
        chart = chart_dir(work)
        # Same inputs, same result: checked once, untimed, before any timing.
        mine = ours(charts, args.hosts, {})
        theirs = helm_merge(helm, chart, charts, args.hosts, work, {})
        differ = check_same(charts, mine, theirs)
        if differ:
            raise SystemExit(f"bench_overrides: {differ} of {args.charts} charts differ from "
                             "helm's values: not timing different work")  # fmt: skip
        print(f"  checked: all {args.charts} charts' values equal helm's (toJson .Values)")
        our_t: dict[str, float] = {}
        helm_t: dict[str, float] = {}
        ours(charts, args.hosts, our_t)
        helm_merge(helm, chart, charts, args.hosts, work, helm_t)
    rows = (
        ("without YAML on either side", our_t["merge"], helm_t["merge"]),
        ("with YAML on both sides", our_t["merge"] + our_t["yaml"],
         helm_t["merge"] + helm_t["yaml"]),
    )  # fmt: skip
    print(f"  YAML: ours dumps each chart's values {our_t['yaml'] * 1000:.1f} ms, "
          f"baseline dumps its layer files {helm_t['yaml'] * 1000:.1f} ms")  # fmt: skip
    for label, mine_s, helm_s in rows:
        print(f"  {label}:")
        print(f"    sysinv (in-process merge):          {mine_s * 1000:9.1f} ms")
        print(f"    baseline (helm template per chart): {helm_s * 1000:9.1f} ms")
        print(f"    ratio baseline/ours:                {helm_s / mine_s:9.1f}x")


if __name__ == "__main__":
    main()
