"""The default deployer: the real `helm` binary (3.x or 4.x), one release per chart."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bounded_yaml
from armada.deployers.base import ChartOutcome, ClusterOps, EventSink, RunResult
from armada.deployers.process import ChildLimits, ProcessResult, run_process
from armada.events import Event
from armada.plan import Plan, PlannedChart

# The helm call itself: argv, the cancel flag (None = must not be interrupted), and an
# outer time limit. Tests may inject a fake; production runs the process.
HelmRunner = Callable[[list[str], threading.Event | None, float | None], ProcessResult]

PENDING = ("pending-install", "pending-upgrade", "pending-rollback")
# Extra time over the chart's own wait timeout before we stop helm ourselves: helm enforces
# --timeout, this only guards against a hung client.
HELM_GRACE_SECONDS = 120
CLEANUP_TIMEOUT_SECONDS = 300
#: The helm release label naming the plan's owner (``Plan.owner``). helm >= 3.13 stores
#: release labels (``upgrade --labels``); helm 4 shows them in ``get metadata``, helm 3 only
#: filters on them (``list --selector``).
OWNER_LABEL = "sysinv.io/app"
_LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


def owner_label_value(owner: str) -> str:
    """The owner as a Kubernetes label value: itself when it is one, else a digest."""
    if _LABEL_VALUE.fullmatch(owner):
        return owner
    return "sha-" + hashlib.sha256(owner.encode()).hexdigest()[:40]


@dataclass
class _Release:
    status: str
    revision: int | None
    chart_version: str | None


class HelmDeployer:
    def __init__(
        self,
        helm: str | Path,
        kubeconfig: str | Path,
        ops: ClusterOps,
        env: Mapping[str, str] | None = None,
        concurrency: int = 4,
        workdir: Path | None = None,
        runner: HelmRunner | None = None,
        limits: ChildLimits | None = None,
    ) -> None:
        self.helm = str(helm)
        self.kubeconfig = str(kubeconfig)
        self.ops = ops
        self.env = dict(env) if env is not None else None
        self.concurrency = max(1, concurrency)
        self.workdir = workdir
        self.limits = limits
        self._runner = runner or self._run_real
        self._major: int | None = None

    # --- helm plumbing ----------------------------------------------------------------

    def _run_real(
        self, argv: list[str], cancel: threading.Event | None, timeout: float | None
    ) -> ProcessResult:
        return run_process(
            argv, env=self.env, cancel=cancel, timeout=timeout, limits=self.limits,
            tmp_parent=self.workdir,
        )  # fmt: skip

    def _helm(
        self,
        *args: str,
        namespace: str | None = None,
        cancel: threading.Event | None = None,
        timeout: float | None = CLEANUP_TIMEOUT_SECONDS,
    ) -> ProcessResult:
        argv = [self.helm, *args]
        if namespace is not None:
            argv += ["--namespace", namespace]
        argv += ["--kubeconfig", self.kubeconfig]
        return self._runner(argv, cancel, timeout)

    def major(self) -> int:
        """helm's major version, asked once per deployer (`helm version --short`)."""
        if self._major is None:
            res = self._runner([self.helm, "version", "--short"], None, 60)
            match = re.match(r"v?(\d+)\.", res.stdout.strip())
            if res.returncode != 0 or not match:
                raise RuntimeError(
                    f"cannot tell helm's version from {self.helm}: "
                    f"{(res.stderr or res.stdout).strip()}"
                )
            self._major = int(match.group(1))
            if self._major not in (3, 4):
                raise RuntimeError(f"unsupported helm major version {self._major}")
        return self._major

    def _take_back_flags(self) -> list[str]:
        """An apply restores every field the chart sets, whoever changed it since (the
        drift a reapply repairs). helm 3's three-way merge does so by itself; helm 4's
        server-side apply refuses a field another manager (kubectl edit, a script) took
        over unless told to force it back. helm 4 refuses that flag for a release it would
        update client-side (one helm 3 installed: its default follows the last revision),
        so the apply is server-side, always."""
        return ["--server-side=true", "--force-conflicts"] if self.major() >= 4 else []

    def _wait_flag(self) -> str:
        # helm 4 turned --wait into a strategy; "watcher" is its equivalent of helm 3's wait.
        return "--wait=watcher" if self.major() >= 4 else "--wait"

    def _release(self, pc: PlannedChart) -> _Release | None:
        res = self._helm("get", "metadata", pc.release, "-o", "json", namespace=pc.namespace)
        if res.returncode != 0:
            if "not found" in res.stderr.lower():
                return None
            raise RuntimeError(f"helm get metadata {pc.release} failed: {res.stderr.strip()}")
        meta: dict[str, Any] = json.loads(res.stdout)
        revision = meta.get("revision")
        return _Release(
            status=str(meta.get("status", "")),
            revision=int(revision) if revision is not None else None,
            chart_version=meta.get("version"),
        )

    def release_manifest(self, release: str, namespace: str, revision: int) -> str:
        """The rendered manifest of one release revision (`helm get manifest`): what helm
        sent to the cluster, hooks left out (helm keeps them apart)."""
        res = self._helm("get", "manifest", release, "--revision", str(revision),
                         namespace=namespace)  # fmt: skip
        if res.returncode != 0:
            raise RuntimeError(
                f"helm get manifest {release} --revision {revision} failed: {res.stderr.strip()}"
            )
        return res.stdout

    def _last_deployed_revision(self, pc: PlannedChart, before: int) -> int | None:
        """The newest revision under ``before`` that was ever deployed (helm marks it
        ``superseded`` once a later one deploys); None when there is none, or no history."""
        res = self._helm("history", pc.release, "--max", "256", "-o", "json",
                         namespace=pc.namespace)  # fmt: skip
        if res.returncode != 0:
            return None
        good = [
            int(r["revision"])
            for r in json.loads(res.stdout or "[]")
            if r.get("status") in ("deployed", "superseded") and int(r["revision"]) < before
        ]
        return max(good, default=None)

    def _recover_pending(self, pc: PlannedChart, emit: EventSink) -> str:
        """Leave no release pending: uninstall a half-done install, roll back the rest."""
        try:
            rel = self._release(pc)
        except RuntimeError as exc:
            return f"could not check release state: {exc}"
        if rel is None or rel.status not in PENDING:
            return ""
        good = None
        if rel.status != "pending-install" and rel.revision and rel.revision > 1:
            good = self._last_deployed_revision(pc, before=rel.revision)
        if good is None:
            res = self._helm("uninstall", pc.release, "--wait", namespace=pc.namespace)
            what = f"uninstalled {pc.release} (was {rel.status}, never deployed before)"
            if rel.status == "pending-install":
                what = f"uninstalled {pc.release} (was {rel.status})"
        else:
            # Not helm's "rollback 0" (the previous revision): that one may have failed.
            res = self._helm("rollback", pc.release, str(good), self._wait_flag(),
                             namespace=pc.namespace)  # fmt: skip
            what = (
                f"rolled {pc.release} back to revision {good}, its last deployed (was {rel.status})"
            )
        if res.returncode != 0:
            what = f"could not clear {rel.status} of {pc.release}: {res.stderr.strip()}"
        emit(Event(pc.chart.name, "rollback", what))
        return what

    # --- apply ------------------------------------------------------------------------

    def _values_file(self, private_dir: Path, pc: PlannedChart) -> Path:
        path = private_dir / f"{pc.chart.name}.yaml"
        # O_EXCL + 0600: overrides carry secrets; nobody else may read or pre-create it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(bounded_yaml.dump(pc.values, sort_keys=True))
        return path

    # --- owners -----------------------------------------------------------------------

    def _listed(self, pc: PlannedChart, selector: str) -> bool:
        """Whether helm lists the release with ``selector`` on its labels."""
        res = self._helm(
            "list", "--all", "--filter", f"^{re.escape(pc.release)}$", "--selector", selector,
            "-o", "json", namespace=pc.namespace,
        )  # fmt: skip
        if res.returncode != 0:
            raise RuntimeError(f"helm list {pc.release} failed: {res.stderr.strip()}")
        return bool(json.loads(res.stdout or "[]"))

    def foreign_owner(
        self, pc: PlannedChart, owner: str | None, known: Collection[str] = ()
    ) -> str | None:
        """Who the release belongs to when it exists labelled for another owner than
        ``owner`` ("application X" when X is in ``known``); None otherwise, and for a
        release with no owner label (deployed before labels, or by hand)."""
        if owner is None:
            return None
        mine = owner_label_value(owner)
        names = {owner_label_value(k): k for k in known if owner_label_value(k) != mine}
        if self.major() >= 4:
            res = self._helm("get", "metadata", pc.release, "-o", "json", namespace=pc.namespace)
            if res.returncode != 0:
                if "not found" in res.stderr.lower():
                    return None
                raise RuntimeError(f"helm get metadata {pc.release} failed: {res.stderr.strip()}")
            labels = json.loads(res.stdout).get("labels") or {}
            value = labels.get(OWNER_LABEL)
            if not value or value == mine:
                return None
            return f"application {names[value]}" if value in names else (
                f"another owner (helm release label {OWNER_LABEL}={value})")  # fmt: skip
        if not self._listed(pc, f"{OWNER_LABEL},{OWNER_LABEL}!={mine}"):
            return None
        for value, name in sorted(names.items()):
            if self._listed(pc, f"{OWNER_LABEL}={value}"):
                return f"application {name}"
        return f"another owner (its helm release label {OWNER_LABEL} is not {mine})"

    def foreign_owners(self, plan: Plan, known: Collection[str] = ()) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for pc in plan.charts:
            other = self.foreign_owner(pc, plan.owner, known)
            if other is not None:
                out[(pc.release, pc.namespace)] = other
        return out

    def _deploy_chart(
        self, pc: PlannedChart, private_dir: Path, emit: EventSink, cancel: threading.Event,
        owner: str | None = None,
    ) -> ChartOutcome:  # fmt: skip
        name = pc.chart.name

        def outcome(status: str, message: str, rel: _Release | None = None) -> ChartOutcome:
            return ChartOutcome(
                name,
                pc.release,
                pc.namespace,
                status,
                rel.revision if rel else None,
                rel.chart_version if rel else None,
                message,
            )

        # The last check before anything changes: another owner's release is left alone
        # (the conductor checked before starting; this closes the gap since).
        other = self.foreign_owner(pc, owner)
        if other is not None:
            return outcome(
                "refused",
                f"release {pc.release} in namespace {pc.namespace} belongs to {other}, left alone",
            )
        emit(Event(name, "namespace", f"ensuring namespace {pc.namespace}"))
        self.ops.ensure_namespace(pc.namespace)
        # A release left pending by an earlier, killed run would make helm refuse to act.
        self._recover_pending(pc, emit)
        existing = self._release(pc)
        if existing is not None and existing.status == "failed" and pc.chart.protected:
            msg = f"release {pc.release} is failed and protected; operator must handle it"
            return outcome("failed", msg, existing)
        if existing is not None and pc.chart.upgrade_pre_delete:
            # Armada runs pre-upgrade deletes only when there is something to upgrade.
            for action in pc.chart.upgrade_pre_delete:
                kind = str(action.get("type", ""))
                labels = dict(action.get("labels", {}))
                emit(Event(name, "pre-delete", f"deleting {kind} resources matching {labels}"))
                self.ops.delete_resources(pc.namespace, kind, labels)
        if cancel.is_set():
            return outcome("cancelled", "cancelled before helm started")
        values = self._values_file(private_dir, pc)
        timeout = pc.chart.wait_timeout
        emit(
            Event(
                name,
                "helm",
                f"helm upgrade --install {pc.release} {pc.archive.name} "
                f"(namespace {pc.namespace}, wait up to {timeout}s)",
            )
        )
        res = self._helm(
            "upgrade",
            "--install",
            pc.release,
            str(pc.archive),
            "--values",
            str(values),
            self._wait_flag(),
            "--timeout",
            f"{timeout}s",
            *(["--labels", f"{OWNER_LABEL}={owner_label_value(owner)}"] if owner else []),
            *self._take_back_flags(),
            namespace=pc.namespace,
            cancel=cancel,
            timeout=timeout + HELM_GRACE_SECONDS,
        )
        values.unlink(missing_ok=True)
        if res.cancelled or res.timed_out or res.returncode != 0:
            recovered = self._recover_pending(pc, emit)
            if res.cancelled:
                msg = f"helm upgrade of {pc.release} cancelled"
                status = "cancelled"
            else:
                detail = (res.stderr or res.stdout).strip() or f"exit code {res.returncode}"
                if res.timed_out:
                    detail = f"helm did not finish within {timeout + HELM_GRACE_SECONDS}s"
                limit = self.limits.describe(res) if self.limits else None
                if limit:
                    detail = f"helm was stopped: {limit}"
                msg = f"helm upgrade of {pc.release} failed: {detail}"
                status = "failed"
            if recovered:
                msg += f"; {recovered}"
            return outcome(status, msg)
        if pc.chart.test_enabled:
            failed = self._test(pc, emit, cancel)
            if failed is not None:
                status, msg = failed
                # The release itself is deployed: its revision is recorded with the failure.
                return outcome(status, msg, self._release(pc))
        rel = self._release(pc)
        return outcome("deployed", f"release {pc.release} deployed", rel)

    def _test(
        self, pc: PlannedChart, emit: EventSink, cancel: threading.Event
    ) -> tuple[str, str] | None:
        """`helm test` of the release just installed or upgraded, as Armada runs it (unless
        the chart says `test: false` or `test.enabled: false`); None when it passed. A
        chart with no test hooks passes at once."""
        timeout = pc.chart.test_timeout
        emit(Event(pc.chart.name, "test", f"helm test {pc.release} (up to {timeout}s)"))
        res = self._helm(
            "test",
            pc.release,
            "--timeout",
            f"{timeout}s",
            namespace=pc.namespace,
            cancel=cancel,
            timeout=timeout + HELM_GRACE_SECONDS,
        )
        if res.cancelled:
            return "cancelled", f"helm test of {pc.release} cancelled"
        if res.returncode == 0 and not res.timed_out:
            return None
        # helm lists each failed hook on its own indented line: one line here.
        detail = " ".join((res.stderr or res.stdout).split()) or f"exit code {res.returncode}"
        if res.timed_out:
            detail = f"helm did not finish within {timeout + HELM_GRACE_SECONDS}s"
        return "failed", (
            f"helm test of {pc.release} failed: {detail} (the release is deployed, but its "
            f"chart's test hooks failed; as Armada, sysinv runs them after every install and "
            f"upgrade unless the chart's document says test: {{enabled: false}})"
        )

    def _run_chart(
        self,
        pc: PlannedChart,
        private_dir: Path,
        emit: EventSink,
        cancel: threading.Event,
        stop: threading.Event,
        owner: str | None = None,
    ) -> ChartOutcome:
        name = pc.chart.name
        if cancel.is_set():
            emit(Event(name, "cancelled", "cancelled before it started"))
            return ChartOutcome(name, pc.release, pc.namespace, "cancelled", None, None, "")
        if stop.is_set():
            return ChartOutcome(
                name, pc.release, pc.namespace, "skipped", None, None, "an earlier chart failed"
            )
        try:
            result = self._deploy_chart(pc, private_dir, emit, cancel, owner)
        except Exception as exc:  # a chart failure must never escape its worker thread
            result = ChartOutcome(name, pc.release, pc.namespace, "failed", None, None, str(exc))
        if result.status == "deployed":
            emit(Event(name, "done", result.message))
        else:
            stop.set()
            phase = "failed" if result.status == "refused" else result.status
            emit(Event(name, phase, result.message))
        return result

    def rollback(
        self, plan: Plan, revisions: Mapping[tuple[str, str], int], on_event: EventSink
    ) -> RunResult:
        """Return each release of ``plan`` listed in ``revisions`` (by (release, namespace))
        to that revision with `helm rollback`, which restores its exact earlier manifest.

        Re-applying the old chart with `upgrade` is not the same: helm 3's three-way merge
        keeps fields the failed upgrade added (a nodeSelector, say), so the old pods never
        come back.
        """
        outcomes: list[ChartOutcome] = []
        for pc in plan.charts:
            revision = revisions.get((pc.release, pc.namespace))
            if revision is None:
                continue
            on_event(
                Event(
                    pc.chart.name, "rollback", f"rolling {pc.release} back to revision {revision}"
                )
            )
            # What an upgrade deletes first (Jobs, mostly) must go before a rollback too:
            # restoring an earlier Job over the one the upgrade made is refused (a Job's
            # template is immutable), and the whole rollback with it.
            for action in pc.chart.upgrade_pre_delete:
                kind, labels = str(action.get("type", "")), dict(action.get("labels", {}))
                on_event(Event(pc.chart.name, "pre-delete",
                               f"deleting {kind} resources matching {labels}"))  # fmt: skip
                self.ops.delete_resources(pc.namespace, kind, labels)
            # No --wait: helm 3's wait after a rollback was seen to hang past its own
            # timeout now and then; restoring the manifests is what must not fail.
            res = self._helm(
                "rollback", pc.release, str(revision), "--timeout", f"{pc.chart.wait_timeout}s",
                namespace=pc.namespace, timeout=pc.chart.wait_timeout + 60,
            )  # fmt: skip
            ok = res.returncode == 0
            message = "rolled back" if ok else f"helm rollback failed: {res.stderr.strip()}"
            status = "deployed" if ok else "failed"
            outcomes.append(
                ChartOutcome(pc.chart.name, pc.release, pc.namespace, status, None, None, message)
            )
            on_event(Event(pc.chart.name, "done" if ok else "failed", message))
        return self._result(outcomes, threading.Event(), on_event, "rolled back")

    def clear_pending(self, plan: Plan, on_event: EventSink) -> list[str]:
        """Resolve every pending release of ``plan`` (e.g. after its runner was killed).

        Returns what was done, one line per release that needed it.
        """
        done = []
        for pc in plan.charts:
            try:
                other = self.foreign_owner(pc, plan.owner)
            except RuntimeError as exc:
                done.append(f"could not check release {pc.release}: {exc}")
                continue
            if other is not None:
                continue  # another owner's release, pending or not, is theirs to resolve
            what = self._recover_pending(pc, on_event)
            if what:
                done.append(what)
        return done

    def apply(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult:
        try:
            self.major()
        except Exception as exc:
            on_event(Event("", "failed", str(exc)))
            return RunResult(False, False, [], str(exc))
        lock = threading.Lock()

        def emit(event: Event) -> None:
            with lock:  # callers get events one at a time even from concurrent groups
                on_event(event)

        for pc in plan.charts:
            emit(Event(pc.chart.name, "queued", f"release {pc.release} queued"))
        stop = threading.Event()
        outcomes: list[ChartOutcome] = []
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        private_dir = Path(tempfile.mkdtemp(prefix="armada-values-", dir=self.workdir))
        os.chmod(private_dir, 0o700)
        try:
            for group in plan.groups:
                if group.sequenced or len(group.charts) == 1:
                    for pc in group.charts:
                        outcomes.append(
                            self._run_chart(pc, private_dir, emit, cancel, stop, plan.owner)
                        )
                else:
                    workers = min(self.concurrency, len(group.charts))
                    with ThreadPoolExecutor(max_workers=workers) as pool:
                        futures = [
                            pool.submit(
                                self._run_chart, pc, private_dir, emit, cancel, stop, plan.owner
                            )
                            for pc in group.charts
                        ]
                        outcomes.extend(f.result() for f in futures)
        finally:
            shutil.rmtree(private_dir, ignore_errors=True)
        return self._result(outcomes, cancel, emit, "applied")

    @staticmethod
    def _result(
        outcomes: list[ChartOutcome], cancel: threading.Event, emit: EventSink, verb: str
    ) -> RunResult:
        failed = [o for o in outcomes if o.status in ("failed", "refused")]
        was_cancelled = cancel.is_set() or any(o.status == "cancelled" for o in outcomes)
        if failed:
            first = failed[0]
            message = f'chart "{first.chart}" (release {first.release}) failed: {first.message}'
            emit(Event("", "failed", message))
            return RunResult(False, was_cancelled, outcomes, message)
        if was_cancelled:
            message = "cancelled"
            running = [o for o in outcomes if o.status == "cancelled" and o.message]
            if running:
                message += f': chart "{running[0].chart}" stopped ({running[0].message})'
            emit(Event("", "cancelled", message))
            return RunResult(False, True, outcomes, message)
        message = f"{len(outcomes)} chart(s) {verb}"
        emit(Event("", "done", message))
        return RunResult(True, False, outcomes, message)

    # --- remove -----------------------------------------------------------------------

    def remove(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult:
        outcomes: list[ChartOutcome] = []
        failed = False
        for pc in reversed(plan.charts):
            name = pc.chart.name
            if cancel.is_set() or failed:
                status = "cancelled" if cancel.is_set() else "skipped"
                outcomes.append(ChartOutcome(name, pc.release, pc.namespace, status, None, None))
                continue
            try:
                self.major()
                other = self.foreign_owner(pc, plan.owner)
                if other is not None:
                    message = f"release {pc.release} belongs to {other}; left installed"
                    on_event(Event(name, "done", message))
                    outcomes.append(
                        ChartOutcome(name, pc.release, pc.namespace, "skipped", None, None, message)
                    )
                    continue
                on_event(Event(name, "helm", f"helm uninstall {pc.release}"))
                res = self._helm(
                    "uninstall",
                    pc.release,
                    "--wait",
                    "--ignore-not-found",
                    "--timeout",
                    f"{pc.chart.wait_timeout}s",
                    namespace=pc.namespace,
                    timeout=pc.chart.wait_timeout + HELM_GRACE_SECONDS,
                )
                error = "" if res.returncode == 0 else (res.stderr or res.stdout).strip()
            except Exception as exc:
                error = str(exc)
            if error:
                failed = True
                message = f"helm uninstall of {pc.release} failed: {error}"
                on_event(Event(name, "failed", message))
                outcomes.append(
                    ChartOutcome(name, pc.release, pc.namespace, "failed", None, None, message)
                )
            else:
                message = f"release {pc.release} uninstalled"
                on_event(Event(name, "done", message))
                outcomes.append(
                    ChartOutcome(name, pc.release, pc.namespace, "uninstalled", None, None, message)
                )
        return self._result(outcomes, cancel, on_event, "removed")
