"""ArmadaCliDeployer against a scripted stand-in for the `armada apply` command.

The script prints lines in the format Airship Armada's oslo.log output has (timestamp, pid,
level, logger, `[chart=<name>]: ` prefix while a chart is processed) and exits as told.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml

from armada.deployers.armada_cli import ArmadaCliDeployer
from armada.deployers.base import NotSupported
from armada.documents import load_documents
from armada.events import Event
from armada.plan import Plan, build_plan

STAND_IN = textwrap.dedent(
    """\
    import sys, time, shutil
    mode, manifest = sys.argv[1], sys.argv[-1]
    shutil.copy(manifest, sys.argv[2])
    def log(level, logger, msg, chart=None):
        prefix = f"[chart={chart}]: " if chart else ""
        print(f"2026-01-01 10:00:00.000 7 {level} armada.{logger} [-] {prefix}{msg}", flush=True)
    log("INFO", "handlers.armada", "Performing pre-flight operations.")
    log("INFO", "handlers.armada",
        "Processing ChartGroup: base (base services), sequenced=True")
    for chart, release in (("db", "app-db"), ("web", "app-web")):
        log("INFO", "handlers.chart_deploy", f"Processing Chart, release=infra/{release}", chart)
        if mode == "slow" and chart == "db":
            time.sleep(60)
        if mode == "fail" and chart == "web":
            log("INFO", "handlers.chart_deploy",
                f"Installing release={release}, wait=False, timeout=900s", chart)
            log("ERROR", "handlers.wait", "Timed out waiting for pods (namespace=apps, "
                "labels=(app=web)). These pods were not ready=['web-1']", chart)
            log("ERROR", "handlers.armada", "Chart deploy [web] failed")
            log("ERROR", "handlers.armada", "Chart deploy(s) failed: ['web']")
            log("ERROR", "cli", "Caught internal exception")
            sys.exit(1)
        log("INFO", "handlers.chart_deploy",
            f"Installing release={release}, wait=False, timeout=900s", chart)
        log("INFO", "handlers.chart_deploy", "Install completed", chart)
        log("INFO", "handlers.wait", "Waiting for resource type=pod, namespace=infra "
            "labels=app=db required=True for 899s", chart)
        log("INFO", "handlers.test", f"RUNNING: infra/{release} tests with timeout=300s", chart)
    log("INFO", "handlers.armada", "All Charts applied in ChartGroup base.")
    log("INFO", "handlers.armada",
        "Processing ChartGroup: workers (<missing description>), sequenced=False")
    for chart in ("worker-a", "worker-b", "worker-c"):
        log("INFO", "handlers.chart_deploy", f"Processing Chart, release=work/app-{chart}", chart)
    log("INFO", "handlers.armada", "All Charts applied in ChartGroup workers.")
    log("INFO", "handlers.armada", "Done applying manifest.")
    sys.exit(0 if mode != "lying" else 3)
    """
)


@pytest.fixture
def plan(manifest_text: str, tmp_path: Path) -> Plan:
    return build_plan(load_documents(manifest_text), tmp_path, values={"db": {"replicas": 9}})


def make(tmp_path: Path, mode: str) -> tuple[ArmadaCliDeployer, Path]:
    script = tmp_path / "armada-stand-in.py"
    script.write_text(STAND_IN)
    copy = tmp_path / "seen-manifest.yaml"
    return ArmadaCliDeployer(
        [sys.executable, str(script), mode, str(copy)], workdir=tmp_path / "w"
    ), copy


def test_success_maps_log_lines_to_events(plan: Plan, tmp_path: Path) -> None:
    deployer, seen = make(tmp_path, "ok")
    events: list[Event] = []
    result = deployer.apply(plan, events.append, threading.Event())
    assert result.ok, result.message
    assert [o.status for o in result.outcomes] == ["deployed"] * 5
    assert [e.phase for e in events if e.chart == "db"] == [
        "queued",
        "helm",
        "helm",
        "helm",
        "waiting",
        "test",
        "done",
    ]
    done = [e.chart for e in events if e.phase == "done"]
    assert done == ["db", "web", "worker-a", "worker-b", "worker-c", ""]
    # The manifest armada saw carries the planned values and validates.
    docs = load_documents(seen.read_text())
    assert docs.charts["db"].values == {"replicas": 9}
    assert docs.manifest().release_prefix == "app"
    assert list((tmp_path / "w").iterdir()) == []  # private manifest removed


def test_failure_names_chart(plan: Plan, tmp_path: Path) -> None:
    deployer, _ = make(tmp_path, "fail")
    events: list[Event] = []
    result = deployer.apply(plan, events.append, threading.Event())
    assert not result.ok and not result.cancelled
    assert 'chart "web" failed (exit code 1)' in result.message
    assert [o.status for o in result.outcomes] == ["deployed", "failed"] + ["skipped"] * 3
    assert [e.phase for e in events if e.chart == "web"][-1] == "failed"


def test_exit_code_alone_is_failure(plan: Plan, tmp_path: Path) -> None:
    deployer, _ = make(tmp_path, "lying")
    result = deployer.apply(plan, lambda e: None, threading.Event())
    assert not result.ok and "exit code 3" in result.message


def test_cancel_stops_armada(plan: Plan, tmp_path: Path) -> None:
    deployer, _ = make(tmp_path, "slow")
    cancel = threading.Event()
    events: list[Event] = []

    def on_event(e: Event) -> None:
        events.append(e)
        if e.chart == "db" and e.phase == "helm":
            threading.Timer(0.2, cancel.set).start()

    started = time.monotonic()
    result = deployer.apply(plan, on_event, cancel)
    assert time.monotonic() - started < 20
    assert result.cancelled and not result.ok
    assert [o.status for o in result.outcomes] == ["cancelled"] * 5
    assert not any(e.chart == "web" and e.phase == "helm" for e in events)


def test_manifest_is_valid_armada(plan: Plan) -> None:
    text = ArmadaCliDeployer(["armada", "apply"]).manifest_text(plan)
    docs = list(yaml.safe_load_all(text))
    assert {d["schema"] for d in docs} >= {"armada/Manifest/v1", "armada/Chart/v2"}
    load_documents(text)
    # `test` as each chart said it; a chart that said nothing keeps Armada's default.
    tests = {d["metadata"]["name"]: d["data"].get("test") for d in docs if "Chart/" in d["schema"]}
    assert tests == {"db": None, "web": True, "worker-a": {"enabled": False},
                     "worker-b": None, "worker-c": None}  # fmt: skip


def test_a_v1_group_s_test_charts_reaches_armada_on_its_charts(
    manifest_text: str, tmp_path: Path
) -> None:
    """The manifest given to armada has groups of its own (no test_charts): the group's
    default is written on each chart that said nothing."""
    text = manifest_text.replace(
        "chart_group: [db, web]", "test_charts: false\n  chart_group: [db, web]"
    )
    plan = build_plan(load_documents(text), tmp_path)
    docs = list(yaml.safe_load_all(ArmadaCliDeployer(["armada"]).manifest_text(plan)))
    tests = {d["metadata"]["name"]: d["data"].get("test") for d in docs if "Chart/" in d["schema"]}
    assert (tests["db"], tests["web"], tests["worker-b"]) == ({"enabled": False}, True, None)
    assert all("test_charts" not in d["data"] for d in docs)


def test_what_armada_cannot_do_is_refused_before_anything_runs(plan: Plan, tmp_path: Path) -> None:
    ran = tmp_path / "armada-ran"
    deployer = ArmadaCliDeployer([sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    events: list[Event] = []
    with pytest.raises(NotSupported) as removing:
        deployer.remove(plan, events.append, threading.Event())
    # The operator reads this as the failed remove's progress: it must say what to do.
    assert "cannot remove" in removing.value.message
    assert "Armada has no delete command; set apps.deployer=helm to remove" in str(removing.value)
    with pytest.raises(NotSupported, match="no rollback command"):
        deployer.rollback(plan, {("app-db", "infra"): 1}, events.append)
    with pytest.raises(NotSupported, match="next apply"):
        deployer.clear_pending(plan, events.append)
    assert events == [] and not ran.exists()
