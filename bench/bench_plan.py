"""A plan (``application-apply --dry-run``) vs the apply itself, for one application of N
charts, through the whole stack (API, conductor, real helm 4, the real test cluster).

The application is examples/hello-app with its worker chart released N-1 times beside
hello-config (one sequenced group for hello-config, one concurrent group for the
workers, as sysinv runs them with the shipped ``apps.chart_concurrency``). Pods become
Ready a set time after they are scheduled (kwok's delay), which an apply waits for and a
plan does not. Four figures: the plan of the app before its first apply and that apply,
then the plan of the applied app (every chart unchanged) and a reapply.

Same result, checked before the figures are printed: the first plan names every chart
the apply deploys (release by release) with action install; after the apply, every object
that plan said it would add exists in the cluster, and the next plan finds every chart
unchanged; the benchmark exits 1 otherwise.

    python bench/bench_plan.py [--charts N] [--delay-ms MS]

CI runs it at a smoke size; run it by hand with --charts 20.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_common.conf.apps import AppSettings
from tests.servers import procs
from tests.servers.helm import helm_binary
from tests.servers.kube import start_kube_cluster
from tests.stack import Stack, make_settings, running_stack, wait_done

REPO = Path(__file__).resolve().parents[1]
APP = "hello-app"
NAMESPACE = "bench-plan"


def app_source(dest: Path, charts: int) -> Path:
    """hello-app with hello-config, then ``charts - 1`` releases of its worker chart."""
    shutil.copytree(REPO / "examples" / "hello-app", dest)
    manifest = dest / "hello-app-manifest.yaml"
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    by_name = {d["metadata"]["name"]: d for d in docs}
    config, worker = by_name["hello-config"], by_name["hello-worker-a"]
    config["data"]["namespace"] = NAMESPACE
    workers = []
    for i in range(charts - 1):
        doc = yaml.safe_load(yaml.safe_dump(worker))
        doc["metadata"]["name"] = f"worker-{i}"
        doc["data"].update(release=f"worker-{i}", namespace=NAMESPACE)
        workers.append(doc)
    meta = {"schema": "metadata/Document/v1"}
    groups = [
        {"schema": "armada/ChartGroup/v1", "metadata": {**meta, "name": "base"},
         "data": {"sequenced": True, "chart_group": ["hello-config"]}},
        {"schema": "armada/ChartGroup/v1", "metadata": {**meta, "name": "workers"},
         "data": {"sequenced": False, "chart_group": [w["metadata"]["name"] for w in workers]}},
    ]  # fmt: skip
    top = by_name["hello-app-manifest"]
    top["data"]["chart_groups"] = ["base", "workers"]
    manifest.write_text(yaml.safe_dump_all([top, *groups, config, *workers]))
    return dest


def build(helm: Any, src: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "build_app.py"), "--app", str(src),
         "--helm", str(helm.path), "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    (bundle,) = out.glob("*.tgz")
    return bundle


def timed_plan(stack: Stack) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    r = stack.client.get(f"/v1/apps/{APP}/plan")
    took = time.monotonic() - started
    if r.status_code != 200:
        raise SystemExit(f"bench_plan: the plan failed: {r.text}")
    answer: dict[str, Any] = r.json()
    return took, answer


def timed_apply(stack: Stack) -> float:
    started = time.monotonic()
    r = stack.client.patch(f"/v1/apps/{APP}?directive=apply", json={"values": {}})
    if r.status_code != 200:
        raise SystemExit(f"bench_plan: the apply was refused: {r.text}")
    app = wait_done(stack, APP, timeout=1800)
    took = time.monotonic() - started
    if (app["status"], app["progress"]) != ("applied", "completed"):
        raise SystemExit(f"bench_plan: the apply failed: {app['progress']}")
    return took


def added_objects(plan: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(o["kind"], o["namespace"], o["name"]) for c in plan["charts"]
            for o in c["objects"] if o["change"] == "added"}  # fmt: skip


def existing(api: client.ApiClient, kinds: set[str]) -> set[tuple[str, str, str]]:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    listers = {
        "ConfigMap": core.list_namespaced_config_map,
        "Secret": core.list_namespaced_secret,
        "Service": core.list_namespaced_service,
        "Deployment": apps.list_namespaced_deployment,
    }
    unknown = kinds - set(listers)
    if unknown:
        raise SystemExit(f"bench_plan: cannot check objects of kinds {sorted(unknown)}")
    return {(kind, NAMESPACE, item.metadata.name) for kind in kinds
            for item in listers[kind](NAMESPACE).items}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=1000)
    args = parser.parse_args()
    if args.charts < 2:
        raise SystemExit("bench_plan: --charts must be at least 2")
    concurrency = AppSettings.model_fields["chart_concurrency"].default
    print(f"bench_plan: {args.charts} charts, pods Ready {args.delay_ms} ms after scheduling "
          f"(kwok delay), chart concurrency {concurrency} (shipped default)")  # fmt: skip
    procs.install_cleanup()
    helm = helm_binary(4)
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        work = Path(tmp)
        bundle = build(helm, app_source(work / "src", args.charts), work / "out")
        cluster = start_kube_cluster(["worker-0", "worker-1"], work / "kube", args.delay_ms)
        try:
            settings = make_settings(work / "state")
            settings.kubernetes.kubeconfig = str(cluster.kubeconfig)
            settings.apps.helm_binary = str(helm.path)
            settings.kubernetes.label_audit_interval = 3600
            with running_stack(settings) as stack:
                data = base64.urlsafe_b64encode(bundle.read_bytes()).decode()
                body = {"tarfile": str(bundle), "binary_data": data}
                if stack.client.post("/v1/apps", json=body).status_code != 200:
                    raise SystemExit("bench_plan: upload refused")
                if wait_done(stack, APP)["status"] != "uploaded":
                    raise SystemExit("bench_plan: upload failed")
                t_plan_new, first = timed_plan(stack)
                t_apply = timed_apply(stack)
                t_plan_same, second = timed_plan(stack)
                t_reapply = timed_apply(stack)
                # The same result: what the plan said is what the apply did.
                releases = [c["release"] for c in first["charts"]]
                if len(releases) != args.charts or {c["action"] for c in first["charts"]} != {
                    "install"
                }:
                    raise SystemExit(f"bench_plan: the first plan is not {args.charts} installs")
                planned = added_objects(first)
                there = existing(cluster.api_client(), {k for k, _, _ in planned})
                if not planned or planned - there:
                    raise SystemExit(f"bench_plan: planned objects missing: {planned - there}")
                if [c["release"] for c in second["charts"]] != releases or {
                    c["action"] for c in second["charts"]
                } != {"unchanged"}:
                    raise SystemExit("bench_plan: after the apply, the plan is not all unchanged")
        finally:
            cluster.stop()
    print(f"  helm {helm.version}; checked: the plan named every release the apply "
          f"deployed, its {len(planned)} added objects exist, and the next plan finds all "
          "unchanged")  # fmt: skip
    print(f"  plan before the first apply: {t_plan_new:7.2f} s")
    print(
        f"  first apply (helm --wait):   {t_apply:7.2f} s  ({t_apply / t_plan_new:.1f}x the plan)"
    )
    print(f"  plan of the applied app:     {t_plan_same:7.2f} s")
    print(f"  reapply (nothing changes):   {t_reapply:7.2f} s  "
          f"({t_reapply / t_plan_same:.1f}x the plan)")  # fmt: skip


if __name__ == "__main__":
    main()
