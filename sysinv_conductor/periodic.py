"""Periodic work of a conductor: the node label, host, app and drift audits.

Plain threads with a stop event rather than Celery beat, so that the embedded mode and
every conductor process get them without another service. Every conductor runs the
threads, but only the one holding the audits' lease (``sysinv_conductor.duties``: the
active controller's conductor, else one elected by the lease) does the work of a round
(the app audit excepted: every conductor takes over dead conductors' operations);
each audit is idempotent all the same, so a round run twice around a hand-over is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sysinv_common.errors import Unavailable
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.drift.audit import DriftAuditor
from sysinv_conductor.duties import DutyLease
from sysinv_conductor.flows import alarms, apps, host_config, labels, storage_backends

LOG = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Runs ``work`` every ``interval`` seconds until stopped; a failure is logged and
    retried at the next round (a database or broker outage is not: ``Reachability`` logs
    it once)."""

    def __init__(
        self, name: str, interval: float, work: Callable[[], None], at_start: bool = False
    ) -> None:
        """``at_start``: a first round as the thread starts, before the first interval."""
        super().__init__(name=f"sysinv-{name}", daemon=True)
        self.interval = interval
        self.work = work
        self.at_start = at_start
        self.stopping = threading.Event()

    def run(self) -> None:
        first = 0.0 if self.at_start else self.interval
        while not self.stopping.wait(first):
            first = self.interval
            try:
                self.work()
            except Unavailable as exc:  # the outage is logged once, where it was found
                LOG.debug("%s skipped: %s", self.name, exc.message)
            except Exception:
                LOG.exception("%s failed; will retry in %.0f s", self.name, self.interval)

    def stop(self) -> None:
        self.stopping.set()


def label_audit(ctx: ConductorContext) -> None:
    """Repair drift of the labels sysinv owns; pending labels arrive at joined Nodes here."""
    fixed = labels.audit(ctx).drift
    if fixed:
        LOG.info("node label audit repaired %d node(s)", len(fixed))


def host_audit(ctx: ConductorContext) -> None:
    """Silent agents' hosts go offline; a changed model gives new targets; old tokens go;
    the hosts' alarms follow what this found."""
    host_config.mark_offline(ctx, ctx.settings.agent.offline_timeout)
    # Before anything that may ask the cluster (a refresh sending a join, the tokens):
    # a Kubernetes outage must not keep the hosts' alarms from following their state.
    alarms.audit_hosts(ctx)
    host_config.refresh(ctx)
    host_config.forget_expired_tokens(ctx)


def app_audit(ctx: ConductorContext) -> None:
    """Take over the operations whose conductor died: their lease expired."""
    apps.recover(ctx, at_start=False)


def drift_audit(auditor: DriftAuditor) -> None:
    """Compare the applied apps' objects with their releases; record, alarm (750.100)."""
    auditor.run()


def alarm_notify(ctx: ConductorContext) -> None:
    """Send the alarm webhook deliveries whose time came."""
    alarms.deliver_due(ctx)


def ceph_audit(ctx: ConductorContext) -> None:
    """A cluster formed on the platform's hosts gets OSDs on new storage hosts and is
    configured once it answers; the Ceph backend's health alarm follows the cluster's
    health."""
    storage_backends.audit_formation(ctx)
    storage_backends.audit_health(ctx)


def _gated(lease: DutyLease, name: str, work: Callable[[], None]) -> Callable[[], None]:
    """``work``, done only in rounds where this conductor holds the audits' lease."""

    def round_() -> None:
        if lease.claim(name):
            work()

    return round_


def auditors(ctx: ConductorContext) -> list[Periodic]:
    """The audit threads, each gated by the audits' lease, and the thread that keeps the
    lease renewed between audits with long intervals."""
    lease = DutyLease(ctx)
    # Not gated: taking over a dead conductor's operation is every conductor's work, each
    # app's own lease deciding who does it, so that it happens within that lease plus one
    # audit interval even when the dead conductor was the one holding the audits' lease.
    takeover = Periodic("app-audit", ctx.settings.apps.audit_interval, lambda: app_audit(ctx))
    work: list[tuple[str, float, Callable[[], None]]] = [
        ("label-audit", ctx.settings.kubernetes.label_audit_interval, lambda: label_audit(ctx)),
        ("host-audit", ctx.settings.agent.audit_interval, lambda: host_audit(ctx)),
        ("alarm-notify", ctx.settings.fm.notify_interval, lambda: alarm_notify(ctx)),
        ("ceph-audit", ctx.settings.ceph.audit_interval, lambda: ceph_audit(ctx)),
    ]
    if ctx.settings.apps.drift_audit_interval:  # 0: off
        drift = DriftAuditor(ctx)
        work.append(("drift-audit", ctx.settings.apps.drift_audit_interval,
                     lambda: drift_audit(drift)))  # fmt: skip
    # The lease is claimed as the conductor starts, so that its log says at once whether
    # this conductor runs the audits.
    keeper = Periodic("duty-lease", ctx.settings.conductor.duty_lease / 3, lease.renew, True)
    gated = [Periodic(name, every, _gated(lease, name, w)) for name, every, w in work]
    return [keeper, takeover, *gated]
