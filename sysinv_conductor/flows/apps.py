"""Application operations on the conductor: upload, apply, remove, update, delete.

Each long operation is a job on the apps queue, run under the app's lease
(``LeasedOperation``): a redelivered job finds its lease claimed and does nothing, and a
job whose conductor died is failed by another conductor's audit once the lease expires
(:func:`recover`). Each ends by recording its outcome through the status machine; a
refusal or a failure becomes the app's ``progress``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from armada.deployers.base import ChartOutcome, Deployer, NotSupported, RunResult
from armada.documents import DocumentSet
from armada.events import Event
from armada.plan import Plan, PlannedGroup, build_plan
from sysinv_common.apps.metadata import load_metadata
from sysinv_common.db.models import App, AppChart, AppRelease
from sysinv_common.db.queries.apps import app_for
from sysinv_common.errors import Conflict, InvalidInput, KubeOperationFailed
from sysinv_common.messaging.rpcapi import AppJob, AppStarted, Empty
from sysinv_common.states import app as app_states
from sysinv_common.states.app import AppOperation
from sysinv_conductor.bundle.charts import ChartInfo
from sysinv_conductor.bundle.reader import Bundle
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import make_deployer
from sysinv_conductor.flows import alarms, app_files, app_images, helm_charts, storage_backends
from sysinv_conductor.flows.app_files import app_dir, load_manifest
from sysinv_conductor.flows.operation import AppSnapshot, LeasedOperation, record_event

LOG = logging.getLogger(__name__)


def upload(ctx: ConductorContext, job: AppJob) -> None:
    op = LeasedOperation(ctx, job.app_id, AppOperation.UPLOAD, job.token)
    if not op.claim():
        LOG.info("app %s: upload no longer ours (token %s); skipped", job.app_id, job.token)
        return
    assert op.app is not None
    dest = app_dir(ctx, op.app.name, op.app.version)
    with op:
        try:
            bundle, docs, infos = _unpack_and_check(ctx, op, op.app.tarball_digest, dest,
                                                    op.app.name, op.app.version)  # fmt: skip
            manifest = docs.manifest()
        except Exception:
            shutil.rmtree(dest, ignore_errors=True)
            app_files.release_charts(ctx, job.app_id, op.app.version)
            raise
        with ctx.db.session() as s:
            app = s.get(App, job.app_id)
            assert app is not None
            app.manifest_name = manifest.name
            app.manifest_file = str(bundle.manifest.relative_to(bundle.root))
            _replace_charts(s, job.app_id, docs, bundle.metadata.disabled_charts)
        op.event(None, "done", f"uploaded with {len(infos)} charts")
        op.finish(True, "completed")


def _unpack_and_check(
    ctx: ConductorContext, op: LeasedOperation, digest: str | None, dest: Path, name: str,
    version: str,
) -> tuple[Bundle, DocumentSet, tuple[ChartInfo, ...]]:  # fmt: skip
    """Extract, validate the manifest, lint the charts and store them in the chart repo
    (held by this version of the app: a differing archive someone holds is refused), and
    put the app's images into the local registry."""
    op.event(None, "rendering", f"extracting and checking the {version} bundle",
             progress=f"validating the application bundle {version}")  # fmt: skip
    if not digest:
        raise InvalidInput(f"application {name} {version} has no stored bundle")
    bundle = app_files.extract(ctx, digest, dest, name, version)
    docs = load_manifest(bundle.manifest)
    docs.manifest()
    # Refused now, every one named, rather than as a failed apply later.
    missing = sorted({c.archive.name for c in build_plan(docs, bundle.root / "charts").charts
                      if not c.archive.is_file()})  # fmt: skip
    if missing:
        raise InvalidInput(
            f"the manifest's charts name archives missing from charts/: {', '.join(missing)}"
        )
    op.event(None, "helm", "checking charts with helm lint", progress="checking charts")
    infos = app_files.store_bundle_charts(ctx, bundle, op.app_id, version)
    app_images.push_images(ctx, op, bundle, docs)
    return bundle, docs, infos


def extracted(ctx: ConductorContext, app: AppSnapshot, version: str | None = None) -> Path:
    """The app's bundle extracted on this conductor (rebuilt from the database if needed)."""
    if version is None or version == app.version:
        return app_files.ensure_extracted(ctx, app.id, app.name, app.version, app.tarball_digest)
    return app_dir(ctx, app.name, version)


def _replace_charts(
    s: Session, app_id: int, docs: DocumentSet, disabled: tuple[str, ...] = ()
) -> None:
    """The app's (chart, namespace) rows for ``docs``, keeping what the operator set on the
    ones that remain (enabled attribute, user overrides)."""
    old = {(c.chart_name, c.namespace): c for c in
           s.scalars(select(AppChart).where(AppChart.app_id == app_id)).all()}  # fmt: skip
    wanted = {(c.chart_name, c.namespace) for c in docs.charts.values()}
    for key, row in old.items():
        if key not in wanted:
            s.delete(row)
    for chart_name, namespace in sorted(wanted - set(old)):
        # metadata.yaml's disabled_charts start disabled; the operator may enable them.
        enabled = chart_name not in disabled
        s.add(AppChart(app_id=app_id, chart_name=chart_name, namespace=namespace,
                       enabled=enabled))  # fmt: skip


def _plan(
    ctx: ConductorContext, app: AppSnapshot | None, version: str | None = None,
    manifest_file: str | None = None, manifest_name: str | None = None,
    deploy: bool = False, user_overrides: bool = True, attributes: bool = True,
    values: dict[str, dict[str, Any]] | None = None,
) -> Plan:  # fmt: skip
    """The plan of ``app`` as extracted, or of another ``version`` of it (an update).

    ``deploy``: the plan installs charts, so each gets its layered overrides, and an app
    that needs labels nobody carries, or a chart the model cannot configure, is refused;
    ``values``: those overrides as the apply call already generated and checked them.
    """
    assert app is not None
    root = extracted(ctx, app, version)
    docs = load_manifest(root / (manifest_file or app.manifest_file or ""))
    manifest = manifest_name or app.manifest_name
    with ctx.db.session() as s:
        disabled = {
            c.chart_name
            for c in s.scalars(select(AppChart).where(AppChart.app_id == app.id)).all()
            if not c.enabled and attributes
        }
    if values is not None:
        values = helm_charts.resolve_secrets(ctx, values)
    elif deploy:
        charts = helm_charts.generate(
            ctx, app, docs, root / "charts", manifest,
            user_overrides=user_overrides, attributes=attributes, deploying=True,
        )  # fmt: skip
        values = helm_charts.resolve_secrets(ctx, helm_charts.deploy_values(charts))
    return build_plan(docs, root / "charts", values=values, disabled=disabled, manifest=manifest,
                      owner=app.name)  # fmt: skip


def release_owners(
    ctx: ConductorContext, app_id: int, plan: Plan, deployer: Deployer | None
) -> dict[tuple[str, str], str]:
    """The releases of ``plan`` (release name, namespace) that belong to another
    application: per our records (``app_releases``) and, with a ``deployer``, per the
    owner label of the release in the cluster. Each maps to that owner, as an operator
    reads it ("application X")."""
    wanted = {(c.release, c.namespace) for c in plan.charts}
    with ctx.db.session() as s:
        rows = s.execute(
            select(AppRelease.release, AppRelease.namespace, App.name)
            .join(App, App.id == AppRelease.app_id)
            .where(AppRelease.app_id != app_id)
        ).all()
        others = list(s.scalars(select(App.name).where(App.id != app_id)))
    owners = {(r, ns): f"application {name}" for r, ns, name in rows if (r, ns) in wanted}
    if deployer is not None and len(owners) < len(wanted):
        try:
            found = deployer.foreign_owners(plan, others)
        except NotSupported:
            found = {}  # the tool cannot tell (Armada): our records decide alone
        except Exception as exc:
            raise KubeOperationFailed(
                f"cannot tell whether application {plan.owner}'s releases belong to another "
                f"application: {exc}"
            ) from None
        for key, owner in found.items():
            owners.setdefault(key, owner)
    return owners


def check_release_owners(
    ctx: ConductorContext, app_id: int, plan: Plan, deployer: Deployer | None, op: str
) -> None:
    """Refuse (Conflict) a deploy of ``plan`` any of whose releases another app owns."""
    owners = release_owners(ctx, app_id, plan, deployer)
    if not owners:
        return
    taken = "; ".join(
        f"release {release} in namespace {ns} belongs to {owner}"
        for (release, ns), owner in sorted(owners.items())
    )
    raise Conflict(
        f"Application-{op} of {plan.owner} rejected: {taken}. A release is owned by one "
        f"application: remove the other application, or give {plan.owner}'s releases other "
        "names (the chart's release in its Armada manifest, or the manifest's release_prefix)."
    )


def _without_foreign(
    ctx: ConductorContext, app_id: int, plan: Plan, deployer: Deployer | None,
    say: Callable[[str], None],
) -> Plan:  # fmt: skip
    """``plan`` without the releases another app owns (a remove or a recovery leaves them
    alone, the deployer checks their labels again), each one ``say``-ed."""
    try:
        owners = release_owners(ctx, app_id, plan, deployer)
    except KubeOperationFailed as exc:
        say(f"release owners not checked with helm: {exc}")
        owners = release_owners(ctx, app_id, plan, None)
    for (release, ns), owner in sorted(owners.items()):
        say(f"release {release} in namespace {ns} belongs to {owner}; left alone")
    groups = [
        PlannedGroup(g.name, g.sequenced,
                     [c for c in g.charts if (c.release, c.namespace) not in owners])
        for g in plan.groups
    ]  # fmt: skip
    return replace(plan, groups=[g for g in groups if g.charts])


def _check_mode(ctx: ConductorContext, app: AppSnapshot, mode: str) -> None:
    """``application-apply -m MODE``: only a mode the app's metadata.yaml declares."""
    meta = load_metadata(extracted(ctx, app), ctx.settings.apps.max_metadata_bytes)
    declared = meta.apply_modes
    where = "behavior.apply_modes in its metadata.yaml"
    if not declared:
        raise InvalidInput(
            f"Application-apply rejected: {app.name} {app.version} declares no apply modes "
            f"({where}); apply it without a mode"
        )
    if mode not in declared:
        raise InvalidInput(
            f"Application-apply rejected: mode '{mode}' is not one of the apply modes "
            f"{app.name} {app.version} declares ({where}): {', '.join(declared)}"
        )


def start_apply(ctx: ConductorContext, name: str, mode: str | None = None) -> AppStarted:
    """The apply call: check, start under a lease, queue the job; one trip for the API.

    The overrides are generated once, here: refusals (labels nobody carries, charts the
    model cannot configure) answer the caller, and the job deploys exactly what was
    checked. The job carries secrets as references, never their values.
    """
    with ctx.db.session() as s:
        # An app that does not exist is said first, whatever else is missing.
        row = app_for(s, name, "apply")
        if mode is not None:
            # As sysinv: a mode is checked before anything else about the apply.
            app_states.check_start(AppOperation.APPLY, row.status)
            _check_mode(ctx, AppSnapshot.of(row), mode)
    if not ctx.settings.kubernetes.kubeconfig:
        raise InvalidInput(
            f"Application-apply rejected: no Kubernetes cluster configured for {name}; "
            "set kubernetes.kubeconfig (sysinv aio --kubeconfig FILE)"
        )
    with ctx.db.session() as s:
        row = app_for(s, name, "apply")
        app_states.check_start(AppOperation.APPLY, row.status)
        app = AppSnapshot.of(row)
    # Before anything changes (secrets are generated next): no release of another app.
    check_release_owners(ctx, app.id, _plan(ctx, app), make_deployer(ctx), "apply")
    root = extracted(ctx, app)
    docs = load_manifest(root / (app.manifest_file or ""))
    charts = helm_charts.generate(ctx, app, docs, root / "charts", app.manifest_name,
                                  deploying=True)  # fmt: skip
    values = helm_charts.to_wire(helm_charts.deploy_values(charts))
    token = f"{ctx.conductor_id}:{uuid.uuid4()}"
    lease = timedelta(seconds=ctx.settings.apps.queued_seconds)  # until a worker claims it
    with ctx.db.session() as s:
        current = s.get(App, app.id)
        if current is None or current.app_version != app.version:
            raise app_states.rejected(AppOperation.APPLY, "changed while being checked")
        app_states.start(s, current, AppOperation.APPLY, token, lease)
    ctx.rpc().app_apply_job(AppJob(app_id=app.id, token=token, values=values, mode=mode))
    return AppStarted(app_id=app.id)


def _progress_tracker(op: LeasedOperation, plan: Plan) -> Any:
    total = max(1, len(plan.charts))
    done: set[str] = set()

    def on_event(ev: Event) -> None:
        if ev.phase in ("done", "failed", "cancelled") and ev.chart:
            done.add(ev.chart)
        progress = None
        if ev.phase in ("helm", "done") and ev.chart:
            progress = (
                f"processing chart: {ev.chart}, overall completion: {len(done) * 100 // total}%"
            )
        op.event(ev.chart, ev.phase, ev.message, progress=progress)

    return on_event


def _run(ctx: ConductorContext, job: AppJob, operation: AppOperation) -> None:
    app_id = job.app_id
    op = LeasedOperation(ctx, app_id, operation, job.token)
    if not op.claim():
        LOG.info("app %s: %s no longer ours; skipped", app_id, operation)
        return
    with op:
        if job.mode is not None:
            # No chart plugin reads an apply mode yet (the helm_overrides snapshot has no
            # field for it), so the mode the apply call accepted is recorded in the app's
            # events, and the apply runs as any other. A plugin that needs it would get it
            # through the snapshot, from this job.
            op.event(None, "mode", f"apply mode {job.mode} (recorded; no chart uses it)",
                     progress=f"applying in mode {job.mode}")  # fmt: skip
        values = helm_charts.from_wire(job.values) if job.values is not None else None
        plan = _plan(ctx, op.app, deploy=operation is AppOperation.APPLY, values=values)
        deployer = make_deployer(ctx)
        if operation is AppOperation.APPLY:
            # Checked at the apply call; again here, as the last check before helm runs.
            check_release_owners(ctx, app_id, plan, deployer, "apply")
        else:
            plan = _without_foreign(ctx, app_id, plan, deployer,
                                    lambda line: op.event(None, "done", line))  # fmt: skip
        on_event = _progress_tracker(op, plan)
        if operation is AppOperation.APPLY:
            _ensure_storage(ctx, op, plan)
            result = deployer.apply(plan, on_event, op.cancel)
        else:
            result = deployer.remove(plan, on_event, op.cancel)
        _record_releases(ctx, app_id, result.outcomes, removed=operation is AppOperation.REMOVE)
        if operation is AppOperation.APPLY and result.ok and not op.cancel.is_set():
            result = _remove_disabled(ctx, op, plan, deployer) or result
        op.failed_charts = failed_charts(result.outcomes)
        if op.aborted.is_set() or result.cancelled:
            op.finish(False, f"operation aborted by request: {result.message}")
        elif result.ok:
            op.finish(True, "completed")
        else:
            op.finish(False, result.message)


def _ensure_storage(ctx: ConductorContext, op: LeasedOperation, plan: Plan) -> None:
    """Before the charts run: the Ceph pools, users and Secrets they keep data with."""
    charts = [(c.chart.chart_name, c.namespace) for c in plan.charts]
    for line in storage_backends.ensure_app_storage(ctx, charts):
        op.event(None, "storage", line)


def disabled_releases(ctx: ConductorContext, app: AppSnapshot, plan: Plan) -> Plan:
    """The releases this app deployed (per ``app_releases``) of charts ``plan`` leaves
    out because they are disabled: an apply removes them, as StarlingX's does."""
    with ctx.db.session() as s:
        recorded = {
            (r.release, r.namespace)
            for r in s.scalars(select(AppRelease).where(AppRelease.app_id == app.id))
        }
    every = _only_in(_plan(ctx, app, attributes=False), plan)
    groups = [
        PlannedGroup(g.name, g.sequenced,
                     [c for c in g.charts if (c.release, c.namespace) in recorded])
        for g in every.groups
    ]  # fmt: skip
    return replace(every, groups=[g for g in groups if g.charts])


def _remove_disabled(
    ctx: ConductorContext, op: LeasedOperation, plan: Plan, deployer: Deployer
) -> RunResult | None:
    """After a successful apply: uninstall the releases of charts disabled since they were
    deployed. The result of that removal (None: there was nothing to remove)."""
    assert op.app is not None
    gone = disabled_releases(ctx, op.app, plan)
    if not gone.charts:
        return None
    names = ", ".join(c.release for c in gone.charts)
    op.event(None, "helm", f"removing the releases of disabled charts: {names}",
             progress=f"removing disabled charts: {names}")  # fmt: skip
    try:
        removed = deployer.remove(gone, _progress_tracker(op, gone), op.cancel)
    except NotSupported as exc:
        op.event(None, "done", f"releases of disabled charts left installed ({names}): {exc}")
        return None
    _record_releases(ctx, op.app_id, removed.outcomes, removed=True)
    if removed.ok:
        return None
    return replace(removed, message=f"disabled charts not removed: {removed.message}")


def failed_charts(outcomes: Iterable[ChartOutcome]) -> list[str]:
    return sorted({o.chart for o in outcomes if o.status == "failed"})


def clear_pending(ctx: ConductorContext, app_id: int) -> list[str]:
    """After a conductor restart: leave no release of the app pending (helm would refuse it)."""
    if not ctx.settings.kubernetes.kubeconfig:
        return []  # no cluster configured: nothing of ours can be pending on one
    with ctx.db.session() as s:
        app = s.get(App, app_id)
        if app is None or not app.manifest_file:
            return []
        snapshot = AppSnapshot.of(app)

    def on_event(ev: Event) -> None:
        with ctx.db.session() as s:
            record_event(s, app_id, "recover", ev.chart, ev.phase, ev.message)

    deployer, plan = make_deployer(ctx), _plan(ctx, snapshot)
    # Only our records here: the deployer skips releases labelled for another owner itself.
    plan = _without_foreign(ctx, app_id, plan, None, lambda line: LOG.info("%s", line))
    try:
        done = deployer.clear_pending(plan, on_event)
    except NotSupported as exc:
        # The deployer cannot look (Armada): its releases are left to its next apply.
        LOG.info("application %s: pending releases not checked: %s", snapshot.name, exc)
        return []
    for line in done:
        LOG.warning("application %s: %s", snapshot.name, line)
    return done


def apply(ctx: ConductorContext, job: AppJob) -> None:
    _run(ctx, job, AppOperation.APPLY)


def remove(ctx: ConductorContext, job: AppJob) -> None:
    _run(ctx, job, AppOperation.REMOVE)


def recover(ctx: ConductorContext, at_start: bool, everything: bool = False) -> list[int]:
    """Fail the operations a dead conductor left (at start: this one's own too;
    ``everything`` in the embedded mode, whose in-memory queue died with the process),
    then resolve the releases they left pending.

    Every conductor runs this at start and from its periodic audit, so an operation
    whose conductor was killed is taken over within its lease plus one audit interval.
    """
    with ctx.db.session() as s:
        failed = app_states.recover(
            s, ctx.conductor_id if at_start else None, everything=everything
        )
        alarms.app_recovered(s, failed)
    for app_id in failed:
        LOG.warning("application %s: operation aborted: its conductor stopped", app_id)
        try:
            clear_pending(ctx, app_id)
        except Exception:
            LOG.exception("application %s: could not resolve its pending releases", app_id)
    return failed


def update(ctx: ConductorContext, job: AppJob) -> None:
    """Move an applied app to its target version; on failure, back to the old releases."""
    app_id = job.app_id
    op = LeasedOperation(ctx, app_id, AppOperation.UPDATE, job.token)
    if not op.claim():
        return
    assert op.app is not None
    with ctx.db.session() as s:
        row = s.get(App, app_id)
        assert row is not None and row.target_version and row.target_tarball_digest
        target, digest = row.target_version, row.target_tarball_digest
        reuse_flag = row.target_reuse_user_overrides
        attributes_flag = row.target_reuse_attributes
    old_version = op.app.version
    new_dir = app_dir(ctx, op.app.name, target)
    with op:
        try:
            bundle, docs, _ = _unpack_and_check(ctx, op, digest, new_dir, op.app.name, target)
            manifest_file = str(bundle.manifest.relative_to(bundle.root))
            manifest_name = docs.manifest().name
            # As sysinv: the request decides, else the new bundle's metadata (default: no).
            meta = bundle.metadata
            reuse = meta.maintain_user_overrides if reuse_flag is None else reuse_flag
            keep_attributes = (
                meta.maintain_attributes if attributes_flag is None else attributes_flag
            )
            old_plan = _plan(ctx, op.app)
            new_plan = _plan(ctx, op.app, target, manifest_file, manifest_name, deploy=True,
                             user_overrides=reuse, attributes=keep_attributes)  # fmt: skip
            deployer = make_deployer(ctx)
            check_release_owners(ctx, app_id, new_plan, deployer, "update")
            _ensure_storage(ctx, op, new_plan)
        except Exception:
            shutil.rmtree(new_dir, ignore_errors=True)
            _clear_target(ctx, app_id)
            raise
        with ctx.db.session() as s:
            revisions = {
                (r.release, r.namespace): r.revision
                for r in s.scalars(select(AppRelease).where(AppRelease.app_id == app_id)).all()
                if r.revision
            }
        result = deployer.apply(new_plan, _progress_tracker(op, new_plan), op.cancel)
        if result.ok and not op.cancel.is_set():
            gone = _only_in(old_plan, new_plan)
            if gone.charts:
                try:
                    deployer.remove(gone, _progress_tracker(op, gone), op.cancel)
                except NotSupported as exc:
                    # The new version is deployed: the update stands, the leftovers are said.
                    op.event(None, "done", f"releases only the old version had are left: {exc}")
            with ctx.db.session() as s:
                row = s.get(App, app_id)
                assert row is not None
                row.app_version, row.manifest_file, row.manifest_name = (
                    target, manifest_file, manifest_name)  # fmt: skip
                old_digest = row.tarball_digest
                row.tarball_digest = row.target_tarball_digest
                row.target_version = row.target_tarball_digest = None
                row.target_reuse_user_overrides = row.target_reuse_attributes = None
                _replace_charts(s, app_id, docs, bundle.metadata.disabled_charts)
                for chart in s.scalars(select(AppChart).where(AppChart.app_id == app_id)):
                    if not reuse:
                        chart.user_overrides = None
                    if not keep_attributes:
                        chart.enabled = chart.chart_name not in bundle.metadata.disabled_charts
                s.execute(delete(AppRelease).where(AppRelease.app_id == app_id))
            _record_releases(ctx, app_id, result.outcomes, removed=False)
            app_files.remove_extracted(ctx, op.app.name, old_version)
            app_files.forget(ctx, old_digest)
            # The old version's holds lapsed with it: its archives the new one has not go.
            app_files.prune_chart_repo(ctx)
            op.finish(True, "completed")
            return
        op.failed_charts = failed_charts(result.outcomes)
        # Roll back: the old version's releases as they were, and nothing only the new had.
        op.event(None, "rollback", f"update to {target} failed; rolling back to {old_version}")
        try:
            back = deployer.rollback(old_plan, revisions, _progress_tracker(op, old_plan))
        except NotSupported as exc:
            op.event(None, "rollback", f"re-applying {old_version}: {exc}")
            # A re-apply of the old version needs its overrides, not just its documents.
            old_plan = _plan(ctx, op.app, deploy=True)
            back = deployer.apply(old_plan, _progress_tracker(op, old_plan), threading.Event())
        extra = _only_in(new_plan, old_plan)
        left = ""
        if extra.charts:
            try:
                deployer.remove(extra, _progress_tracker(op, extra), threading.Event())
            except NotSupported as exc:
                # The old version is back regardless; say what of the new one stays, and
                # still clear the target so the app is not left half-updated.
                names = ", ".join(c.release for c in extra.charts)
                left = f"; releases only in {target} left installed ({names}): {exc}"
                op.event(None, "rollback", left[2:])
        shutil.rmtree(new_dir, ignore_errors=True)
        _clear_target(ctx, app_id)
        state = "rolled back" if back.ok else f"rollback failed too: {back.message}"
        outcome = f"{state} to {old_version}{left}"
        op.finish(False, f"update to {target} failed: {result.message}; {outcome}")


def documents_plan(ctx: ConductorContext, app: AppSnapshot) -> Plan:
    """The app's plan as extracted, without values: what a remove runs, and what an
    update replaces."""
    return _plan(ctx, app)


def only_in(plan: Plan, other: Plan) -> Plan:
    """The charts of ``plan`` whose release ``other`` does not deploy."""
    return _only_in(plan, other)


def _only_in(plan: Plan, other: Plan) -> Plan:
    """The charts of ``plan`` whose release ``other`` does not deploy."""
    keep = {(c.release, c.namespace) for c in other.charts}
    groups = [
        PlannedGroup(
            g.name, g.sequenced, [c for c in g.charts if (c.release, c.namespace) not in keep]
        )
        for g in plan.groups
    ]
    return replace(plan, groups=[g for g in groups if g.charts])


def _clear_target(ctx: ConductorContext, app_id: int) -> None:
    with ctx.db.session() as s:
        row = s.get(App, app_id)
        if row is None:
            return
        digest = row.target_tarball_digest
        row.target_version = row.target_tarball_digest = None
        row.target_reuse_user_overrides = row.target_reuse_attributes = None
    app_files.forget(ctx, digest)
    # The target's holds lapsed with it: its archives the old version has not go.
    app_files.prune_chart_repo(ctx)


def _record_releases(
    ctx: ConductorContext, app_id: int, outcomes: Iterable[ChartOutcome], removed: bool
) -> None:
    with ctx.db.session() as s:
        for o in outcomes:
            row = s.scalars(
                select(AppRelease).where(
                    AppRelease.app_id == app_id,
                    AppRelease.release == o.release,
                    AppRelease.namespace == o.namespace,
                )
            ).first()
            if removed and o.status == "uninstalled":
                if row is not None:
                    s.delete(row)
                continue
            if row is None and o.status in ("refused", "skipped", "cancelled"):
                continue  # nothing was deployed: no claim on the release name
            if row is None:
                row = AppRelease(app_id=app_id, chart_name=o.chart, release=o.release,
                                 namespace=o.namespace, status=o.status)  # fmt: skip
                s.add(row)
            row.status = o.status
            row.revision = o.revision
            row.chart_version = o.chart_version


def delete_app(ctx: ConductorContext, name: str, force: bool) -> Empty:
    """Delete an app that is not deployed: its row (and with it its holds on chart
    archives), its extracted bundle, its stored bundle and the chart archives no other
    app holds."""
    with ctx.db.session() as s:
        gone = app_states.delete(s, name, force)
        alarms.app_deleted(s, gone.name)
    app_files.remove_extracted(ctx, gone.name, gone.version)
    for digest in gone.digests:
        app_files.forget(ctx, digest)
    app_files.prune_chart_repo(ctx)
    LOG.info("application %s %s deleted", gone.name, gone.version)
    return Empty()
