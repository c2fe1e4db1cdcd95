"""This conductor's share of the singleton duties: it runs the periodic audits only while
it holds their lease (``sysinv_common.states.duties`` has the rules), and records each
run, so that which conductor runs them can be read from the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sysinv_common.states import duties
from sysinv_conductor.context import ConductorContext

LOG = logging.getLogger(__name__)


class DutyLease:
    """The audits' lease as this conductor sees it. Each ``claim`` asks the database."""

    def __init__(self, ctx: ConductorContext) -> None:
        self.ctx = ctx
        self.me = duties.Conductor(ctx.conductor_id, ctx.conductor_host)
        self.lease = timedelta(seconds=ctx.settings.conductor.duty_lease)
        #: Whether the last claim won, to log changes once rather than every round.
        self.holding: bool | None = None

    def claim(self, duty: str | None = None) -> bool:
        """Take or renew the lease; with ``duty``, record that it runs now if we hold it.
        True: the caller runs it."""
        now = datetime.now(UTC)
        with self.ctx.db.session() as s:
            held = duties.claim(s, duties.AUDITS, self.me, self.lease, now)
            if held and duty is not None:
                duties.record_run(s, duty, self.me, now)
        if held != self.holding:
            LOG.info("conductor %s (host %s) %s the periodic audits", self.me.id,
                     self.me.host, "runs" if held else "does not run")  # fmt: skip
            self.holding = held
        return held

    def renew(self) -> None:
        self.claim()
