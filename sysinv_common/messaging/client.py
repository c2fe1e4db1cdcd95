"""Call and cast to the conductor, as sysinv's RPC did; senders use ``rpcapi`` on top.

A *call* waits for the answer with a timeout; a domain error raised by the conductor
comes back as the same class here. A *cast* returns at once.

Handlers answer with an envelope, ``{"ok": answer}`` or ``{"error": {"type", "message"}}``,
so that domain errors travel as JSON rather than as pickled exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from sysinv_common.errors import REMOTE_ERRORS, ConductorUnavailable, SysinvError
from sysinv_common.messaging.app import Lane

LOG = logging.getLogger(__name__)
#: How long before the caller gives up a call's message expires (at most a fifth of the
#: call's timeout): a conductor that starts the call by then has this long to answer.
EXPIRY_MARGIN_SECONDS = 3.0


def ok(result: Any) -> dict[str, Any]:
    return {"ok": result}


def error(exc: SysinvError) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "message": exc.message}}


def unwrap(envelope: Any) -> Any:
    """The answer of a call, or the domain error it carried, raised here."""
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
        calls: str = app.conf.task_default_queue
        self.queues = {Lane.CALLS: calls, Lane.APPS: f"{calls}.{Lane.APPS.value}"}

    def call(self, task: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        """The conductor's answer to ``task``, or :class:`ConductorUnavailable` after
        ``timeout`` seconds, in which case the call will never take effect: its message
        expires before we give up (a conductor that takes it later discards it unrun), with
        time left for a handler that started just before the expiry to finish and answer."""
        wait = self.timeout if timeout is None else timeout
        expires = wait - min(EXPIRY_MARGIN_SECONDS, wait * 0.2)
        result = self.app.send_task(
            task, args=[payload], queue=self.queues[Lane.CALLS], expires=expires
        )
        try:
            envelope = result.get(
                timeout=wait, interval=0.02, propagate=False, disable_sync_subtasks=False
            )
            failed = result.failed()
        except CeleryTimeout:
            raise ConductorUnavailable(
                f"The conductor did not answer {task} within {wait:g} s; "
                "is sysinv-conductor running?"
            ) from None
        finally:
            result.forget()
        if failed:
            # A crash, not a domain error: the conductor's log has the traceback.
            raise SysinvError(f"The conductor failed while handling {task}: {envelope}")
        return unwrap(envelope)

    def cast(self, task: str, payload: dict[str, Any], lane: Lane = Lane.CALLS) -> None:
        self.app.send_task(task, args=[payload], queue=self.queues[lane], ignore_result=True)
        LOG.debug("cast %s to %s", task, self.queues[lane])
