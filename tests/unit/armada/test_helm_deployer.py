"""HelmDeployer's scheduling, failure and cancel handling, with only helm itself faked.

The fake stands in for the helm binary: it keeps release state, answers `version`,
`get metadata`, `upgrade`, `uninstall` and `rollback`, and records when each upgrade ran.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from armada.deployers.helm import OWNER_LABEL, HelmDeployer, owner_label_value
from armada.deployers.process import ProcessResult
from armada.documents import apply_overrides, load_documents
from armada.events import Event
from armada.plan import Plan, build_plan


class FakeHelm:
    def __init__(self, durations: Mapping[str, float] | None = None, major: int = 4) -> None:
        self.durations = dict(durations or {})
        self.major = major
        self.fail: set[str] = set()
        self.leave_pending: dict[str, str] = {}  # release -> status left after a failure
        self.releases: dict[str, dict[str, Any]] = {}
        # release -> `helm history` rows; by default every earlier revision was deployed.
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.runs: dict[str, tuple[float, float]] = {}
        self.calls: list[list[str]] = []
        self.tested: list[str] = []
        self.test_fails: dict[str, str] = {}  # release -> what its failing `helm test` says
        self.values_seen: dict[str, tuple[int, str]] = {}
        self.lock = threading.Lock()

    def __call__(
        self, argv: list[str], cancel: threading.Event | None, timeout: float | None
    ) -> ProcessResult:
        with self.lock:
            self.calls.append(argv)
        cmd = argv[1]
        if cmd == "version":
            return ProcessResult(0, f"v{self.major}.1.4+gabc\n", "")
        if cmd == "list":
            return self._list(argv)
        release = argv[3] if cmd == "get" else argv[3] if cmd == "upgrade" else argv[2]
        if cmd == "get":
            rel = self.releases.get(release)
            if rel is None:
                return ProcessResult(1, "", "Error: release: not found\n")
            if self.major < 4:  # helm 3 does not show release labels
                rel = {k: v for k, v in rel.items() if k != "labels"}
            return ProcessResult(0, json.dumps(rel), "")
        if cmd == "upgrade":
            return self._upgrade(argv, release, cancel)
        if cmd == "uninstall":
            self.releases.pop(release, None)
            return ProcessResult(0, f'release "{release}" uninstalled\n', "")
        if cmd == "test":
            self.tested.append(release)
            if release in self.test_fails:
                return ProcessResult(1, "", self.test_fails[release])
            return ProcessResult(0, "TEST SUITE: passed\n", "")
        if cmd == "history":
            rel = self.releases[release]
            rows = self.history.get(release) or [
                {"revision": r, "status": "superseded"} for r in range(1, rel["revision"])
            ] + [{"revision": rel["revision"], "status": rel["status"]}]
            return ProcessResult(0, json.dumps(rows), "")
        if cmd == "rollback":
            self.releases[release]["status"] = "deployed"
            return ProcessResult(0, "Rollback was a success!\n", "")
        raise AssertionError(f"unexpected helm call {argv}")

    def _list(self, argv: list[str]) -> ProcessResult:
        """`list --filter ^name$ --selector ...`: key, key!=value and key=value terms."""
        name = argv[argv.index("--filter") + 1].strip("^$").replace("\\", "")
        rel = self.releases.get(name)
        labels = rel.get("labels", {}) if rel else {}
        ok = rel is not None
        for term in argv[argv.index("--selector") + 1].split(","):
            if "!=" in term:
                key, value = term.split("!=")
                ok = ok and labels.get(key) != value
            elif "=" in term:
                key, value = term.split("=")
                ok = ok and labels.get(key) == value
            else:
                ok = ok and term in labels
        return ProcessResult(0, json.dumps([{"name": name}] if ok else []), "")

    def _upgrade(
        self, argv: list[str], release: str, cancel: threading.Event | None
    ) -> ProcessResult:
        values = Path(argv[argv.index("--values") + 1])
        mode = stat.S_IMODE(os.stat(values).st_mode)
        dir_mode = stat.S_IMODE(os.stat(values.parent).st_mode)
        self.values_seen[release] = (mode | dir_mode << 9, values.read_text())
        start = time.monotonic()
        old = self.releases.get(release)
        revision = (old["revision"] + 1) if old else 1
        labels = dict(old.get("labels", {})) if old else {}
        if "--labels" in argv:  # merged into the release's labels, as helm does
            key, value = argv[argv.index("--labels") + 1].split("=")
            labels[key] = value
        self.releases[release] = {
            "name": release,
            "revision": revision,
            "status": "pending-upgrade" if old else "pending-install",
            "version": "1.0.0",
            "labels": labels,
        }
        end_at = start + self.durations.get(release, 0.05)
        cancelled = False
        while time.monotonic() < end_at:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            time.sleep(0.01)
        self.runs[release] = (start, time.monotonic())
        if cancelled:
            return ProcessResult(-15, "", "", cancelled=True)  # left pending, as a killed helm
        if release in self.fail:
            self.releases[release]["status"] = self.leave_pending.get(release, "failed")
            return ProcessResult(1, "", "Error: context deadline exceeded\n")
        self.releases[release]["status"] = "deployed"
        return ProcessResult(0, "", "")


class Ops:
    def __init__(self) -> None:
        self.namespaces: list[str] = []
        self.deleted: list[tuple[str, str, dict[str, str]]] = []

    def ensure_namespace(self, namespace: str) -> None:
        self.namespaces.append(namespace)

    def delete_resources(self, namespace: str, kind: str, labels: Mapping[str, str]) -> None:
        self.deleted.append((namespace, kind, dict(labels)))


def make_plan(manifest_text: str, tmp_path: Path) -> Plan:
    return build_plan(load_documents(manifest_text), tmp_path)


def deployer(fake: FakeHelm, ops: Ops, tmp_path: Path, concurrency: int = 4) -> HelmDeployer:
    return HelmDeployer(
        "helm",
        tmp_path / "kubeconfig",
        ops,
        concurrency=concurrency,
        workdir=tmp_path / "work",
        runner=fake,
    )


def test_apply_order_concurrency_and_readback(manifest_text: str, tmp_path: Path) -> None:
    durations = {
        "app-db": 0.2,
        "app-web": 0.2,
        "app-worker-a": 0.3,
        "app-worker-b": 0.3,
        "app-worker-c": 0.3,
    }
    fake, ops, events = FakeHelm(durations), Ops(), list[Event]()
    result = deployer(fake, ops, tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert result.ok and not result.cancelled, result.message
    assert [o.status for o in result.outcomes] == ["deployed"] * 5
    assert result.outcomes[0].revision == 1 and result.outcomes[0].chart_version == "1.0.0"
    runs = fake.runs
    # sequenced group: web starts after db ended; the parallel group after the first group
    assert runs["app-web"][0] >= runs["app-db"][1]
    workers = [runs[f"app-worker-{x}"] for x in "abc"]
    assert min(s for s, _ in workers) >= runs["app-web"][1]
    # the three workers overlap
    assert max(s for s, _ in workers) < min(e for _, e in workers)
    # helm 4 flags, values file private and removed afterwards
    upgrade = next(c for c in fake.calls if c[1] == "upgrade")
    assert upgrade[:5] == [
        "helm",
        "upgrade",
        "--install",
        "app-db",
        str(tmp_path / "mariadb-1.0.0.tgz"),
    ]
    assert "--wait=watcher" in upgrade and upgrade[upgrade.index("--timeout") + 1] == "60s"
    assert upgrade[upgrade.index("--namespace") + 1] == "infra"
    assert upgrade[-2:] == ["--kubeconfig", str(tmp_path / "kubeconfig")]
    mode, text = fake.values_seen["app-db"]
    assert mode == 0o600 | 0o700 << 9 and "password: secret" in text
    assert list((tmp_path / "work").iterdir()) == []
    # first install: no pre-upgrade delete; namespaces ensured per chart
    assert ops.deleted == [] and ops.namespaces[:2] == ["infra", "apps"]
    # Armada's default is tests on: every chart but worker-a (test: {enabled: false}).
    assert sorted(fake.tested) == ["app-db", "app-web", "app-worker-b", "app-worker-c"]
    test = next(c for c in fake.calls if c[1] == "test")
    assert test[test.index("--timeout") + 1] == "300s"  # Armada's default test timeout
    db_phases = [e.phase for e in events if e.chart == "db"]
    assert db_phases == ["queued", "namespace", "helm", "test", "done"]
    assert events[-1].chart == "" and events[-1].phase == "done"


def test_concurrency_is_bounded(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm({f"app-worker-{x}": 0.3 for x in "abc"})
    result = deployer(fake, Ops(), tmp_path, concurrency=2).apply(
        make_plan(manifest_text, tmp_path), lambda e: None, threading.Event()
    )
    assert result.ok
    workers = sorted(fake.runs[f"app-worker-{x}"] for x in "abc")
    assert workers[2][0] >= min(workers[0][1], workers[1][1])  # third waited for a slot


def test_helm3_flags_and_pre_delete_on_upgrade(manifest_text: str, tmp_path: Path) -> None:
    fake, ops = FakeHelm(major=3), Ops()
    fake.releases["app-web"] = {
        "name": "app-web",
        "revision": 3,
        "status": "deployed",
        "version": "0.9",
    }
    events: list[Event] = []
    result = deployer(fake, ops, tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert result.ok
    upgrade = next(c for c in fake.calls if c[1] == "upgrade")
    assert "--wait" in upgrade and "--wait=watcher" not in upgrade
    assert ops.deleted == [("apps", "job", {"app": "web"})]
    assert [e.phase for e in events if e.chart == "web"] == [
        "queued",
        "namespace",
        "pre-delete",
        "helm",
        "test",
        "done",
    ]
    assert result.outcomes[1].revision == 4


def test_failure_stops_later_charts_and_names_chart(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm()
    fake.fail.add("app-db")
    events: list[Event] = []
    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert not result.ok and not result.cancelled
    assert 'chart "db"' in result.message and "context deadline exceeded" in result.message
    assert [o.status for o in result.outcomes] == ["failed"] + ["skipped"] * 4
    assert set(fake.runs) == {"app-db"}


def test_failure_leaving_pending_is_cleared(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm()
    fake.fail.add("app-db")
    fake.leave_pending["app-db"] = "pending-install"
    events: list[Event] = []
    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert not result.ok
    assert "app-db" not in fake.releases  # uninstalled
    rollback = [e for e in events if e.phase == "rollback"]
    assert rollback and "uninstalled app-db" in rollback[0].message


def test_pending_upgrade_left_by_earlier_run_is_rolled_back(
    manifest_text: str, tmp_path: Path
) -> None:
    fake = FakeHelm()
    fake.releases["app-db"] = {"name": "app-db", "revision": 2, "status": "pending-upgrade"}
    events: list[Event] = []
    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert result.ok
    rb = next(c for c in fake.calls if c[1] == "rollback")
    assert rb[2:4] == ["app-db", "1"]
    assert any(e.phase == "rollback" and e.chart == "db" for e in events)


def test_recovery_rolls_back_to_the_last_deployed_revision_not_a_failed_one(
    manifest_text: str, tmp_path: Path
) -> None:
    fake = FakeHelm()
    fake.releases["app-db"] = {"name": "app-db", "revision": 4, "status": "pending-upgrade"}
    fake.history["app-db"] = [
        {"revision": 1, "status": "superseded"},
        {"revision": 2, "status": "superseded"},
        {"revision": 3, "status": "failed"},
        {"revision": 4, "status": "pending-upgrade"},
    ]
    events: list[Event] = []
    assert (
        deployer(fake, Ops(), tmp_path)
        .apply(make_plan(manifest_text, tmp_path), events.append, threading.Event())
        .ok
    )
    rb = next(c for c in fake.calls if c[1] == "rollback")
    assert rb[2:4] == ["app-db", "2"]
    (note,) = [e.message for e in events if e.phase == "rollback" and e.chart == "db"]
    assert "back to revision 2, its last deployed (was pending-upgrade)" in note


def test_recovery_uninstalls_a_release_that_never_deployed(
    manifest_text: str, tmp_path: Path
) -> None:
    fake = FakeHelm()
    fake.releases["app-db"] = {"name": "app-db", "revision": 2, "status": "pending-upgrade"}
    fake.history["app-db"] = [
        {"revision": 1, "status": "failed"},
        {"revision": 2, "status": "pending-upgrade"},
    ]
    events: list[Event] = []
    assert (
        deployer(fake, Ops(), tmp_path)
        .apply(make_plan(manifest_text, tmp_path), events.append, threading.Event())
        .ok
    )
    assert not [c for c in fake.calls if c[1] == "rollback"]
    (note,) = [e.message for e in events if e.phase == "rollback" and e.chart == "db"]
    assert "uninstalled app-db (was pending-upgrade, never deployed before)" in note


def test_cancel_during_sequenced_group(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm({"app-db": 30})
    cancel = threading.Event()
    events: list[Event] = []

    def on_event(e: Event) -> None:
        events.append(e)
        if e.chart == "db" and e.phase == "helm":
            threading.Timer(0.2, cancel.set).start()

    started = time.monotonic()
    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), on_event, cancel
    )
    assert time.monotonic() - started < 10
    assert result.cancelled and not result.ok
    assert [o.status for o in result.outcomes] == ["cancelled"] * 5
    assert set(fake.runs) == {"app-db"}  # later charts never started
    assert "app-db" not in fake.releases  # pending install cleared
    assert [e.phase for e in events if e.chart == "db"][-2:] == ["rollback", "cancelled"]
    assert "db" in result.message


def test_cancel_between_charts(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm()
    cancel = threading.Event()

    def on_event(e: Event) -> None:
        if e.chart == "db" and e.phase == "done":
            cancel.set()

    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), on_event, cancel
    )
    assert result.cancelled
    assert [o.status for o in result.outcomes] == ["deployed"] + ["cancelled"] * 4
    assert set(fake.runs) == {"app-db"}


def test_remove_reverse_order(manifest_text: str, tmp_path: Path) -> None:
    fake = FakeHelm()
    plan = make_plan(manifest_text, tmp_path)
    for pc in plan.charts[:3]:
        fake.releases[pc.release] = {"name": pc.release, "revision": 1, "status": "deployed"}
    events: list[Event] = []
    result = deployer(fake, Ops(), tmp_path).remove(plan, events.append, threading.Event())
    assert result.ok
    uninstalls = [c for c in fake.calls if c[1] == "uninstall"]
    assert [c[2] for c in uninstalls] == [pc.release for pc in reversed(plan.charts)]
    assert all("--wait" in c and "--ignore-not-found" in c for c in uninstalls)
    assert [o.status for o in result.outcomes] == ["uninstalled"] * 5
    assert fake.releases == {}


@pytest.mark.parametrize("major", [3, 4])
def test_version_detected_once(manifest_text: str, tmp_path: Path, major: int) -> None:
    fake = FakeHelm(major=major)
    d = deployer(fake, Ops(), tmp_path)
    assert d.major() == major
    d.apply(make_plan(manifest_text, tmp_path), lambda e: None, threading.Event())
    assert sum(1 for c in fake.calls if c[1] == "version") == 1


def owned_plan(manifest_text: str, tmp_path: Path, owner: str = "me") -> Plan:
    return build_plan(load_documents(manifest_text), tmp_path, owner=owner)


@pytest.mark.parametrize("major", [3, 4])
def test_releases_are_labelled_with_their_owner(
    manifest_text: str, tmp_path: Path, major: int
) -> None:
    fake = FakeHelm(major=major)
    plan = owned_plan(manifest_text, tmp_path)
    assert deployer(fake, Ops(), tmp_path).apply(plan, lambda e: None, threading.Event()).ok
    upgrades = [c for c in fake.calls if c[1] == "upgrade"]
    assert len(upgrades) == 5
    assert all(c[c.index("--labels") + 1] == f"{OWNER_LABEL}=me" for c in upgrades)
    # No owner, no label (armada's own use).
    fake = FakeHelm(major=major)
    deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), lambda e: None, threading.Event()
    )
    assert not any("--labels" in c for c in fake.calls)


@pytest.mark.parametrize("major", [3, 4])
def test_another_owners_release_is_left_alone(
    manifest_text: str, tmp_path: Path, major: int
) -> None:
    fake = FakeHelm(major=major)
    plan = owned_plan(manifest_text, tmp_path)
    theirs, mine = plan.charts[0], plan.charts[1]
    fake.releases[theirs.release] = {"name": theirs.release, "revision": 3,
                                     "status": "pending-upgrade",
                                     "labels": {OWNER_LABEL: "them"}}  # fmt: skip
    fake.releases[mine.release] = {"name": mine.release, "revision": 1, "status": "deployed",
                                   "labels": {OWNER_LABEL: "me"}}  # fmt: skip
    d = deployer(fake, Ops(), tmp_path)
    key = (theirs.release, theirs.namespace)
    assert d.foreign_owners(plan, ["them", "me"]) == {key: "application them"}
    unknown = d.foreign_owners(plan)[key]
    assert unknown.startswith("another owner (")
    assert ("sysinv.io/app=them" if major == 4 else "is not me") in unknown
    # Nothing is done to it: not even its pending state is cleared.
    assert d.clear_pending(plan, lambda e: None) == []
    result = d.apply(plan, lambda e: None, threading.Event())
    assert not result.ok
    assert [o.status for o in result.outcomes][:2] == ["refused", "skipped"]
    assert "belongs to another owner" in result.message
    assert not any(c[1] in ("upgrade", "rollback", "uninstall") for c in fake.calls)
    assert fake.releases[theirs.release]["revision"] == 3
    result = d.remove(plan, lambda e: None, threading.Event())
    assert result.ok
    statuses = {o.release: o.status for o in result.outcomes}
    assert statuses[theirs.release] == "skipped" and statuses[mine.release] == "uninstalled"
    assert theirs.release in fake.releases and mine.release not in fake.releases


def test_owner_label_values_are_valid_labels() -> None:
    assert owner_label_value("hello-app") == "hello-app"
    for name in ("x" * 64, "ends-with-dash-", "a.b_"):
        value = owner_label_value(name)
        assert value.startswith("sha-") and len(value) <= 63
        assert value == owner_label_value(name)


def test_a_failing_helm_test_fails_the_chart_and_stops_the_group(
    manifest_text: str, tmp_path: Path
) -> None:
    fake = FakeHelm()
    fake.test_fails["app-db"] = "Error: 1 error occurred:\n\t* pod app-db-test failed\n"
    events: list[Event] = []
    result = deployer(fake, Ops(), tmp_path).apply(
        make_plan(manifest_text, tmp_path), events.append, threading.Event()
    )
    assert not result.ok
    db = result.outcomes[0]
    assert (db.chart, db.status, db.revision) == ("db", "failed", 1)  # deployed, test failed
    assert db.message == (
        "helm test of app-db failed: Error: 1 error occurred: * pod app-db-test failed "
        "(the release is deployed, but its chart's test hooks failed; as Armada, sysinv runs "
        "them after every install and upgrade unless the chart's document says "
        "test: {enabled: false})"
    )
    assert 'chart "db"' in result.message and "pod app-db-test failed" in result.message
    assert [o.status for o in result.outcomes] == ["failed"] + ["skipped"] * 4
    assert [e.phase for e in events if e.chart == "db"] == [
        "queued", "namespace", "helm", "test", "failed"
    ]  # fmt: skip


def test_test_timeout_and_switch_come_from_the_chart(manifest_text: str, tmp_path: Path) -> None:
    overrides = [
        {"schema": "armada/Chart/v1", "metadata": {"name": "db"},
         "data": {"test": {"timeout": 42}}},
        {"schema": "armada/Chart/v1", "metadata": {"name": "web"}, "data": {"test": False}},
    ]  # fmt: skip
    fake = FakeHelm()
    plan = make_plan(apply_overrides(manifest_text, overrides), tmp_path)
    assert deployer(fake, Ops(), tmp_path).apply(plan, lambda e: None, threading.Event()).ok
    assert sorted(fake.tested) == ["app-db", "app-worker-b", "app-worker-c"]
    test = next(c for c in fake.calls if c[1] == "test" and c[2] == "app-db")
    assert test[test.index("--timeout") + 1] == "42s"


def test_rollback_runs_the_upgrade_pre_deletes_first(manifest_text: str, tmp_path: Path) -> None:
    fake, ops = FakeHelm(), Ops()
    fake.releases["app-web"] = {"name": "app-web", "revision": 4, "status": "failed"}
    events: list[Event] = []
    result = deployer(fake, ops, tmp_path).rollback(
        make_plan(manifest_text, tmp_path), {("app-web", "apps"): 3}, events.append
    )
    assert result.ok
    assert ops.deleted == [("apps", "job", {"app": "web"})]
    phases = [e.phase for e in events if e.chart == "web"]
    assert phases == ["rollback", "pre-delete", "done"]
    assert next(c for c in fake.calls if c[1] == "rollback")[2:4] == ["app-web", "3"]
