"""A leased application operation: claim, renew, abort, events, progress, finish.

The lease is renewed from a side thread while the work runs; the same thread reads the
abort flag, so a cancel reaches the deployer within a second or two. Losing the lease
(another conductor failed the operation as abandoned) cancels the work too, and its
outcome is then not recorded.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType

from sqlalchemy.orm import Session

from armada.deployers.base import NotSupported
from sysinv_common.db.models import App, AppEvent
from sysinv_common.errors import SysinvError
from sysinv_common.states import app as app_states
from sysinv_common.states.app import AppOperation
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import alarms

LOG = logging.getLogger(__name__)


@dataclass
class AppSnapshot:
    id: int
    name: str
    version: str
    manifest_name: str | None
    manifest_file: str | None
    tarball_digest: str | None

    @classmethod
    def of(cls, app: App) -> AppSnapshot:
        return cls(app.id, app.name, app.app_version, app.manifest_name, app.manifest_file,
                   app.tarball_digest)  # fmt: skip


def record_event(
    s: Session, app_id: int, operation: str, chart: str | None, phase: str, message: str
) -> None:
    s.add(AppEvent(app_id=app_id, operation=operation, chart=chart or None, phase=phase,
                   message=message))  # fmt: skip


@dataclass
class LeasedOperation:
    ctx: ConductorContext
    app_id: int
    op: AppOperation
    token: str
    cancel: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    aborted: threading.Event = field(default_factory=threading.Event)
    app: AppSnapshot | None = None
    #: The charts whose release failed, named in the failed alarm's reason.
    failed_charts: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _renewer: threading.Thread | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.ctx.settings.apps.lease_seconds)

    @property
    def holder(self) -> str:
        return self.ctx.conductor_id

    def claim(self) -> bool:
        """Take the lease the API reserved; False if the operation is no longer ours."""
        with self.ctx.db.session() as s:
            if not app_states.claim(s, self.app_id, self.token, self.holder, self.lease):
                return False
            app = s.get(App, self.app_id)
            assert app is not None
            self.app = AppSnapshot.of(app)
            alarms.app_started(s, self.op.value, self.app.name)
        return True

    def __enter__(self) -> LeasedOperation:
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="lease")
        self._renewer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        # A deployer's NotSupported (Armada cannot remove) is a refusal like a SysinvError:
        # the operator reads its message as the outcome; it is no crash.
        if isinstance(exc, SysinvError | NotSupported):
            self.finish(False, exc.message)
            return True
        if isinstance(exc, Exception):
            # A crash, not a refusal: the log keeps the traceback, the app a short reason.
            LOG.error("%s of app %s crashed", self.op, self.app_id, exc_info=exc)
            self.finish(False, f"{self.op} failed: internal error ({type(exc).__name__}: {exc})")
            return True
        return False

    def _renew(self) -> None:
        interval = max(0.5, min(2.0, self.lease.total_seconds() / 4))
        while not self._stop.wait(interval):
            with self.ctx.db.session() as s:
                if not app_states.renew(s, self.app_id, self.holder, self.lease):
                    LOG.warning("app %s: lease lost; stopping the %s", self.app_id, self.op)
                    self.lost.set()
                    self.cancel.set()
                    return
                if app_states.abort_requested(s, self.app_id):
                    self.aborted.set()
                    self.cancel.set()

    def event(
        self, chart: str | None, phase: str, message: str, progress: str | None = None
    ) -> None:
        with self.ctx.db.session() as s:
            record_event(s, self.app_id, self.op.value, chart, phase, message)
            if progress is not None:
                app = s.get(App, self.app_id)
                if app is not None and app.lease_holder == self.holder:
                    app.progress = progress

    def finish(self, ok: bool, progress: str) -> None:
        if self.lost.is_set():
            return
        with self.ctx.db.session() as s:
            recorded = app_states.finish(s, self.app_id, self.op, self.holder, ok, progress)
            if recorded and self.app is not None:
                reason = progress
                if self.failed_charts:
                    reason = f"chart {', '.join(self.failed_charts)} failed: {progress}"
                alarms.app_finished(s, self.op.value, self.app.name, ok, reason)
        if recorded:
            LOG.info(
                "app %s: %s %s: %s", self.app_id, self.op, "done" if ok else "failed", progress
            )
        else:
            LOG.warning("app %s: %s outcome not recorded: lease lost", self.app_id, self.op)
