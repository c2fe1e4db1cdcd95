"""The `armada` deployer: hand the plan to an Airship Armada command and follow its log.

Armada prints one log line per step, prefixed with ``[chart=<document name>]: `` while it
works on a chart (its ChartDeployAwareLogger). We turn the lines we know into the same
Events the helm deployer emits; anything else is kept only for the failure message.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from armada.deployers.base import ChartOutcome, EventSink, NotSupported, RunResult
from armada.deployers.process import confined, stop_group
from armada.documents import ChartGroup, chart_data, dump_stream, group_data
from armada.events import Event
from armada.plan import Plan

CHART_PREFIX = re.compile(r"\[chart=(?P<chart>[^\]]+)\]: (?P<msg>.*)$")
# oslo.log puts the level between the pid and the logger name.
ERROR_LEVEL = re.compile(r"\s(ERROR|CRITICAL)\s")
GROUP_DONE = re.compile(r"All Charts applied in ChartGroup (?P<group>\S+?)\.?$")
CHART_FAILED = re.compile(r"Chart deploy \[(?P<chart>[^\]]+)\] failed")
CHARTS_FAILED = re.compile(
    r"(?:Chart deploy\(s\) failed|Exception deploying charts): \[(?P<l>.*)\]"
)

# (pattern on the message after the chart prefix, phase)
CHART_LINES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Processing Chart, release="), "helm"),
    (re.compile(r"^(Deleting (job|cronjob|pod)|Updating|Purging release)"), "pre-delete"),
    (re.compile(r"^(Installing|Upgrading) release="), "helm"),
    (re.compile(r"^(Install|Upgrade) completed"), "helm"),
    (re.compile(r"^Found no updates to chart release inputs"), "helm"),
    (re.compile(r"^Waiting for resource type="), "waiting"),
    (re.compile(r"^RUNNING: .* tests with timeout="), "test"),
)
TAIL_LINES = 20


@dataclass
class _Tracker:
    """Per-run state while following Armada's output."""

    plan: Plan
    emit: EventSink
    started: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    error_lines: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def group_of(self, chart: str) -> tuple[str, bool] | None:
        for g in self.plan.groups:
            if any(pc.chart.name == chart for pc in g.charts):
                return g.name, g.sequenced
        return None

    def finish(self, chart: str) -> None:
        if chart not in self.done and chart not in self.failed:
            self.done.add(chart)
            self.emit(Event(chart, "done", "chart applied"))

    def fail(self, chart: str, line: str) -> None:
        if chart not in self.failed:
            self.failed.add(chart)
            self.done.discard(chart)
            self.emit(Event(chart, "failed", line))

    def line(self, raw: str) -> None:
        text = raw.rstrip("\n")
        self.tail = [*self.tail[-(TAIL_LINES - 1) :], text]
        if ERROR_LEVEL.search(text):
            self.error_lines.append(text)
        if m := CHART_FAILED.search(text):
            self.fail(m.group("chart"), text)
            return
        if m := CHARTS_FAILED.search(text):
            for name in re.findall(r"'([^']+)'", m.group("l")):
                self.fail(name, text)
            return
        if m := GROUP_DONE.search(text):
            for g in self.plan.groups:
                if g.name == m.group("group"):
                    for pc in g.charts:
                        self.finish(pc.chart.name)
            return
        m = CHART_PREFIX.search(text)
        if not m:
            return
        chart, msg = m.group("chart"), m.group("msg")
        for pattern, phase in CHART_LINES:
            if pattern.search(msg):
                if msg.startswith("Processing Chart") and chart not in self.started:
                    self._start(chart)
                self.emit(Event(chart, phase, msg))
                return

    def _start(self, chart: str) -> None:
        # In a sequenced group Armada moves on only after the previous chart is ready.
        group = self.group_of(chart)
        if group is not None and group[1]:
            for prev in self.started:
                if self.group_of(prev) == group:
                    self.finish(prev)
        self.started.append(chart)


class ArmadaCliDeployer:
    def __init__(
        self,
        command: list[str],
        workdir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not command:
            raise ValueError("the armada command line is empty")
        self.command = list(command)
        self.workdir = workdir
        self.env = dict(env) if env is not None else None

    def manifest_text(self, plan: Plan) -> str:
        """The plan as an Armada stream: only planned charts, each with its planned values."""
        docs: list[dict[str, Any]] = []

        def doc(kind: str, version: str, name: str, data: dict[str, Any]) -> None:
            docs.append(
                {
                    "schema": f"armada/{kind}/{version}",
                    "metadata": {"schema": "metadata/Document/v1", "name": name},
                    "data": data,
                }
            )

        versions = {pc.chart.schema_version for pc in plan.charts} or {"v1"}
        version = "v2" if versions == {"v2"} else "v1"
        doc(
            "Manifest",
            version,
            plan.manifest,
            {"release_prefix": plan.release_prefix, "chart_groups": [g.name for g in plan.groups]},
        )
        for g in plan.groups:
            group = ChartGroup(g.name, None, g.sequenced, [pc.chart.name for pc in g.charts])
            doc("ChartGroup", version, g.name, group_data(group))
        for pc in plan.charts:
            data = chart_data(pc.chart, pc.values)
            doc("Chart", pc.chart.schema_version, pc.chart.name, data)
        return dump_stream(docs)

    def _write_manifest(self, plan: Plan, private_dir: Path) -> Path:
        path = private_dir / "manifest.yaml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.manifest_text(plan))
        return path

    def apply(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult:
        lock = threading.Lock()

        def emit(event: Event) -> None:
            with lock:
                on_event(event)

        for pc in plan.charts:
            emit(Event(pc.chart.name, "queued", f"release {pc.release} queued"))
        if cancel.is_set():
            return self._finish(plan, _Tracker(plan, emit), 0, True, emit)
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        private_dir = Path(tempfile.mkdtemp(prefix="armada-manifest-", dir=self.workdir))
        os.chmod(private_dir, 0o700)
        tracker = _Tracker(plan, emit)
        try:
            manifest = self._write_manifest(plan, private_dir)
            proc = subprocess.Popen(
                confined([*self.command, str(manifest)]),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # Armada logs to stderr; one ordered stream
                env=self.env,
                start_new_session=True,
                text=True,
                errors="replace",
            )
            cancelled = threading.Event()

            def watch_cancel() -> None:
                while proc.poll() is None:
                    if cancel.wait(0.2):
                        cancelled.set()
                        stop_group(proc)
                        return

            watcher = threading.Thread(target=watch_cancel, daemon=True)
            watcher.start()
            assert proc.stdout is not None
            for raw in proc.stdout:
                tracker.line(raw)
            code = proc.wait()
            watcher.join()
        finally:
            shutil.rmtree(private_dir, ignore_errors=True)
        return self._finish(plan, tracker, code, cancelled.is_set(), emit)

    def _finish(
        self, plan: Plan, tracker: _Tracker, code: int, cancelled: bool, emit: EventSink
    ) -> RunResult:
        ok = code == 0 and not tracker.failed and not tracker.error_lines and not cancelled
        outcomes: list[ChartOutcome] = []
        for pc in plan.charts:
            name = pc.chart.name
            if ok:
                tracker.finish(name)
                status = "deployed"
            elif name in tracker.failed:
                status = "failed"
            elif name in tracker.done:
                status = "deployed"
            elif cancelled:
                status = "cancelled"
                emit(Event(name, "cancelled", "armada was stopped"))
            else:
                status = "skipped"
            outcomes.append(ChartOutcome(name, pc.release, pc.namespace, status, None, None, ""))
        if ok:
            message = f"{len(outcomes)} chart(s) applied by armada"
            emit(Event("", "done", message))
            return RunResult(True, False, outcomes, message)
        if cancelled:
            message = f"cancelled: armada stopped (signal {signal.SIGTERM.name})"
            emit(Event("", "cancelled", message))
            return RunResult(False, True, outcomes, message)
        failed = [o.chart for o in outcomes if o.status == "failed"]
        where = f'chart "{failed[0]}" failed' if failed else "armada failed"
        detail = tracker.error_lines[-1] if tracker.error_lines else "\n".join(tracker.tail[-3:])
        message = f"{where} (exit code {code}): {detail}"
        emit(Event("", "failed", message))
        return RunResult(False, False, outcomes, message)

    # Airship Armada's CLI has apply, apply_chart, test, tiller and validate: nothing that
    # deletes, rolls back or inspects a release. What `armada apply` cannot express is
    # refused with NotSupported before anything runs; its releases are plain helm releases,
    # so the helm deployer can do all three.

    def remove(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult:
        raise NotSupported(
            "the armada deployer cannot remove applications: "
            "Armada has no delete command; set apps.deployer=helm to remove"
        )

    def rollback(
        self, plan: Plan, revisions: Mapping[tuple[str, str], int], on_event: EventSink
    ) -> RunResult:
        # A caller that wants the old version back can apply the old plan again instead.
        raise NotSupported(
            "Armada has no rollback command; apply the previous version's manifest instead"
        )

    def clear_pending(self, plan: Plan, on_event: EventSink) -> list[str]:
        # Refused rather than answered with [] ("nothing was pending"), which would claim a
        # check that was never made. Leaving the releases alone is safe: Armada handles a
        # release it finds pending on its next apply.
        raise NotSupported(
            "Armada cannot inspect releases; it resolves pending ones on its next apply"
        )

    def foreign_owners(self, plan: Plan, known: Collection[str] = ()) -> dict[tuple[str, str], str]:
        raise NotSupported("Armada cannot tell who owns a release; it labels none")
