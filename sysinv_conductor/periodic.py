"""Periodic work of a conductor: the node label audit and the host audit.

A plain thread with a stop event rather than Celery beat, so that the embedded mode and
every conductor process get it without another service. Several conductors auditing at
once is harmless: the repair is idempotent.
"""

from __future__ import annotations

import logging
import threading

from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config, labels

LOG = logging.getLogger(__name__)


class LabelAuditor(threading.Thread):
    def __init__(self, ctx: ConductorContext, interval: float) -> None:
        super().__init__(name="sysinv-label-audit", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                fixed = labels.audit(self.ctx)
            except Exception:
                LOG.exception("node label audit failed; will retry in %.0f s", self.interval)
                continue
            if fixed:
                LOG.info("node label audit repaired %d node(s)", len(fixed))

    def stop(self) -> None:
        self.stopping.set()


class HostAuditor(threading.Thread):
    """Hosts whose agents went silent go offline; a changed model gives new targets."""

    def __init__(self, ctx: ConductorContext, interval: float) -> None:
        super().__init__(name="sysinv-host-audit", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                host_config.mark_offline(self.ctx, self.ctx.settings.agent.offline_timeout)
                host_config.refresh(self.ctx)
                host_config.forget_expired_tokens(self.ctx)
            except Exception:
                LOG.exception("host audit failed; will retry in %.0f s", self.interval)

    def stop(self) -> None:
        self.stopping.set()
