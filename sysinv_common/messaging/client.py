"""Call and cast to the conductor, as sysinv's RPC did; senders use ``rpcapi`` on top.

A *call* waits for the answer with a timeout; a domain error raised by the conductor
comes back as the same class here. A *cast* returns at once.

Handlers answer with an envelope, ``{"ok": answer}`` or ``{"error": {"type", "message"}}``,
so that domain errors travel as JSON rather than as pickled exceptions.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from celery import Celery
from celery.exceptions import TaskRevokedError
from celery.exceptions import TimeoutError as CeleryTimeout

from sysinv_common.errors import (
    REMOTE_ERRORS,
    BrokerUnavailable,
    ConductorUnavailable,
    SysinvError,
)
from sysinv_common.messaging.app import Lane
from sysinv_common.messaging.broker import BROKER_ERRORS, broker_error
from sysinv_common.reachability import Reachability

LOG = logging.getLogger(__name__)
#: How long before the caller gives up a call's message expires (at most a fifth of the
#: call's timeout): a conductor that starts the call by then has this long to answer.
EXPIRY_MARGIN_SECONDS = 3.0


def ok(result: Any) -> dict[str, Any]:
    return {"ok": result}


def error(exc: SysinvError) -> dict[str, Any]:
    # A subclass the other side cannot rebuild (the conductor's CephCommandFailed, say)
    # travels as the nearest class it knows, so a Conflict stays a Conflict (a 400).
    kind = next(
        (c.__name__ for c in type(exc).__mro__ if REMOTE_ERRORS.get(c.__name__) is c),
        type(exc).__name__,
    )
    return {"error": {"type": kind, "message": exc.message}}


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
        #: The broker as this sender last found it (its outages are logged once each).
        self.broker = Reachability("message broker")

    def _unavailable(self, exc: BaseException) -> BrokerUnavailable:
        self.broker.lost(exc)
        return BrokerUnavailable(
            "The message broker cannot be reached, so neither can the conductor; "
            "try again in a few seconds"
        )

    def _send(self, task: str, payload: dict[str, Any], queue: str, **options: Any) -> Any:
        try:
            result = self.app.send_task(task, args=[payload], queue=queue, **options)
        except Exception as exc:
            # The message, or the subscription to its answer (Redis), could not be made.
            lost = broker_error(exc)
            if lost is None:
                raise
            raise self._unavailable(lost) from None
        self.broker.seen()
        return result

    def call(self, task: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        """The conductor's answer to ``task``, or :class:`ConductorUnavailable` after
        ``timeout`` seconds, in which case the call will never take effect: its message
        expires before we give up (a conductor that takes it later discards it unrun), with
        time left for a handler that started just before the expiry to finish and answer."""
        wait = self.timeout if timeout is None else timeout
        expires = wait - min(EXPIRY_MARGIN_SECONDS, wait * 0.2)
        result = self._send(task, payload, self.queues[Lane.CALLS], expires=expires)
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
        except Exception as exc:
            lost = broker_error(exc)  # the answer's way back (Redis) was lost meanwhile
            if lost is None:
                raise
            raise self._unavailable(lost) from None
        finally:
            # Stops waiting for the answer: nothing left to do when the broker is gone.
            with contextlib.suppress(*BROKER_ERRORS):
                result.forget()
        if isinstance(envelope, TaskRevokedError):
            # The message expired in the queue (a broker outage, every worker busy): no
            # conductor ran it, and none ever will.
            raise ConductorUnavailable(
                f"No conductor took {task} within {expires:g} s; it was not run. "
                "Try again in a few seconds"
            )
        if failed:
            if isinstance(envelope, BaseException) and broker_error(envelope) is not None:
                # The conductor lost the broker while storing its answer (its log says
                # so): what it did is done, but the caller cannot know what that was.
                raise BrokerUnavailable(
                    f"The conductor lost the message broker while answering {task}; "
                    "try again in a few seconds"
                )
            # A crash, not a domain error: the conductor's log has the traceback.
            raise SysinvError(f"The conductor failed while handling {task}: {envelope}")
        return unwrap(envelope)

    def cast(self, task: str, payload: dict[str, Any], lane: Lane = Lane.CALLS) -> None:
        self._send(task, payload, self.queues[lane], ignore_result=True)
        LOG.debug("cast %s to %s", task, self.queues[lane])
