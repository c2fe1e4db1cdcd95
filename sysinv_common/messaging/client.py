"""Call and cast to the conductor, as sysinv's RPC did.

A *call* waits for the result with a timeout; a domain error raised by the conductor
comes back as the same class here. A *cast* returns at once.

Handlers answer with an envelope, ``{"ok": result}`` or ``{"error": {"type", "message"}}``,
so that domain errors travel as JSON rather than as pickled exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from sysinv_common.errors import REMOTE_ERRORS, ConductorUnavailable, SysinvError
from sysinv_common.messaging.tasks import ConductorTask

LOG = logging.getLogger(__name__)


def ok(result: Any) -> dict[str, Any]:
    return {"ok": result}


def error(exc: SysinvError) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "message": exc.message}}


def unwrap(envelope: Any) -> Any:
    """The result of a call, or the domain error it carried, raised here."""
    if not isinstance(envelope, dict):
        raise SysinvError(f"The conductor sent an unexpected answer: {envelope!r}")
    if "error" in envelope:
        err = envelope["error"]
        cls = REMOTE_ERRORS.get(err.get("type"), SysinvError)
        raise cls(err.get("message", "unknown conductor error"))
    return envelope.get("ok")


class ConductorClient:
    def __init__(self, app: Celery, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.queue: str = app.conf.task_default_queue

    def call(self, task: ConductorTask, timeout: float | None = None, **kwargs: Any) -> Any:
        wait = self.timeout if timeout is None else timeout
        result = self.app.send_task(task.value, kwargs=kwargs, queue=self.queue)
        try:
            envelope = result.get(
                timeout=wait, interval=0.02, propagate=False, disable_sync_subtasks=False
            )
            failed = result.failed()
        except CeleryTimeout:
            raise ConductorUnavailable(
                f"The conductor did not answer {task.value} within {wait:g} s; "
                "is sysinv-conductor running?"
            ) from None
        finally:
            result.forget()
        if failed:
            # A crash, not a domain error: the conductor's log has the traceback.
            raise SysinvError(f"The conductor failed while handling {task.value}: {envelope}")
        return unwrap(envelope)

    def cast(self, task: ConductorTask, **kwargs: Any) -> None:
        self.app.send_task(task.value, kwargs=kwargs, queue=self.queue, ignore_result=True)
        LOG.debug("cast %s %s", task.value, kwargs)
