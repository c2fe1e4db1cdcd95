"""The periodic drift audit of the applied applications (docs/drift.md).

Every ``apps.drift_audit_interval`` seconds: for each app that is ``applied`` with no
operation running, the objects of its deployed release revisions are compared with the
live ones (:mod:`sysinv_conductor.drift.finder`), the finding is recorded
(:mod:`sysinv_conductor.drift.record`) and 750.100 raised or cleared. An app audited less
than half an interval ago (by another conductor) is skipped, so several conductors share
the work rather than repeat it. Apps no longer applied lose their drift and its alarm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from armada.deployers.helm import HelmDeployer
from sysinv_common.apps.metadata import load_metadata
from sysinv_common.db.base import utcnow
from sysinv_common.db.models import App, AppDrift, AppRelease
from sysinv_common.states.app import AppStatus
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import make_deployer
from sysinv_conductor.drift import record
from sysinv_conductor.drift.finder import ManifestCache, ObjectDrift, ReleaseRef, find
from sysinv_conductor.drift.live import LiveReader
from sysinv_conductor.flows import alarms
from sysinv_conductor.flows.apps import extracted
from sysinv_conductor.flows.operation import AppSnapshot

LOG = logging.getLogger(__name__)
#: Operations that leave the app applied: the drift recorded before them stays meanwhile.
RUNNING = (AppStatus.APPLYING, AppStatus.UPDATING)


def describe(o: ObjectDrift) -> str:
    """One object's drift as the alarm and the log say it."""
    if o.state == "deleted":
        return f"{o.key} deleted"
    return f"{o.key}: {', '.join(o.fields)}"


@dataclass
class DriftAuditor:
    """One conductor's audit: it keeps the manifests of the release revisions it read."""

    ctx: ConductorContext
    cache: ManifestCache | None = None
    reader: LiveReader | None = None
    said_unsupported: bool = False
    #: Apps audited in the last round, by name: what was found (for tests and the log).
    last: dict[str, list[ObjectDrift]] = field(default_factory=dict)

    def _tools(self) -> tuple[ManifestCache, LiveReader] | None:
        ctx = self.ctx
        if not ctx.settings.kubernetes.kubeconfig or ctx.kube_api is None:
            return None
        deployer = make_deployer(ctx)
        if not isinstance(deployer, HelmDeployer):
            if not self.said_unsupported:
                LOG.info("drift audit off: the %s deployer cannot show release manifests",
                         ctx.settings.apps.deployer)  # fmt: skip
                self.said_unsupported = True
            return None
        if self.cache is None:
            self.cache = ManifestCache(deployer.release_manifest)
        else:
            self.cache.source = deployer.release_manifest
        if self.reader is None or self.reader.api is not ctx.kube_api:
            self.reader = LiveReader(ctx.kube_api)
        return self.cache, self.reader

    def run(self, now: datetime | None = None) -> dict[str, list[ObjectDrift]]:
        """One round; what it found on each app it audited, by app name."""
        ctx = self.ctx
        now = now or utcnow()
        recent = now - timedelta(seconds=ctx.settings.apps.drift_audit_interval / 2)
        with ctx.db.session() as s:
            apps = list(s.scalars(select(App)))
            recorded = {d.app_id: d.checked_at for d in s.scalars(select(AppDrift))}
            # While an apply or update runs its outcome decides; the round after it looks.
            not_applied = {a.id: a.name for a in apps if a.id in recorded
                           and a.status not in (AppStatus.APPLIED, *RUNNING)}  # fmt: skip
            for name in not_applied.values():
                alarms.app_drift(s, name, [])
            record.forget(s, not_applied)
            snapshots = {
                a.id: AppSnapshot.of(a) for a in apps
                if a.status == AppStatus.APPLIED and a.operation is None
                and not _after(recorded.get(a.id), recent)
            }  # fmt: skip
            releases: dict[int, list[ReleaseRef]] = {}
            query = select(AppRelease).where(AppRelease.app_id.in_(list(snapshots)))
            for r in s.scalars(query):
                if r.revision and r.status == "deployed":
                    releases.setdefault(r.app_id, []).append(
                        ReleaseRef(r.chart_name, r.release, r.namespace, r.revision)
                    )
        self.last = {}
        if not snapshots:
            return self.last
        tools = self._tools()
        if tools is None:
            return self.last
        cache, reader = tools
        every: list[ReleaseRef] = []
        for app_id, app in sorted(snapshots.items()):
            refs = releases.get(app_id, [])
            error = None
            try:
                meta = load_metadata(extracted(ctx, app), ctx.settings.apps.max_metadata_bytes)
                ignored = set(meta.drift_ignore_charts)
            except Exception as exc:
                LOG.warning("drift audit of %s: cannot read its metadata.yaml: %s", app.name, exc)
                ignored = set()
            refs = [r for r in refs if r.chart not in ignored]
            every.extend(refs)
            try:
                found = find(reader, cache, refs)
            except Exception as exc:
                LOG.warning("drift audit of %s failed: %s", app.name, exc)
                found, error = [], f"not audited: {exc}"
            self._record(app, found, now, error)
        cache.keep_only(every)
        return self.last

    def _record(
        self, app: AppSnapshot, found: list[ObjectDrift], now: datetime, error: str | None
    ) -> None:
        with self.ctx.db.session() as s:
            row = s.get(App, app.id)
            if row is None or row.status != AppStatus.APPLIED or row.operation is not None:
                return  # an operation started meanwhile: its outcome decides, the next round sees
            if error is not None:
                # Nothing was compared: the last finding stands, with the reason it is not newer.
                old = s.get(AppDrift, app.id)
                if old is not None:
                    old.error = error
                    return
            record.store(s, app.id, found, now, error)
            alarms.app_drift(s, app.name, [describe(o) for o in found])
        self.last[app.name] = found
        if found:
            LOG.warning("application %s drifted: %s", app.name,
                        "; ".join(describe(o) for o in found))  # fmt: skip


def _after(when: datetime | None, moment: datetime) -> bool:
    if when is None:
        return False
    if when.tzinfo is None:  # SQLite gives naive UTC times back
        when = when.replace(tzinfo=UTC)
    return when > moment
