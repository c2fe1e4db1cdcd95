"""Losing the broker: which errors say so, and what Celery and kombu say about it.

During a Redis outage Celery logs a line for each retry of each call's answer, a
traceback for each task that could not store its answer or acknowledge its message, and
kombu's Redis transport fails a closed channel with ``AttributeError`` (which stopped
the conductor's workers: see ``redis_transport``). ``install()`` makes the transport fail
as a lost connection, and leaves one line where Celery printed a traceback or a line per
retry; ``sysinv_common.reachability`` says when the broker went and when it came back.
"""

from __future__ import annotations

import logging
import re
import warnings

from celery.exceptions import CPendingDeprecationWarning
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sysinv_common.messaging import redis_transport

#: What sending a message or waiting for an answer raises when the broker cannot be
#: reached: kombu's error for a publish that failed its retries, redis-py's for the
#: result backend, the socket's own.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
)


def broker_error(exc: BaseException) -> BaseException | None:
    """The broker error ``exc`` is, or stands for: Celery's result consumer raises a
    ``RuntimeError`` from the connection error once its reconnection attempts are spent."""
    if isinstance(exc, BROKER_ERRORS):
        return exc
    if isinstance(exc, RuntimeError) and isinstance(exc.__cause__, BROKER_ERRORS):
        return exc.__cause__
    return None


class _OutageNoise(logging.Filter):
    """Celery's lines for each retry of the result backend, and its advice to restart the
    application once they are spent (the next call reconnects): during an outage they come
    once per call. ``Reachability`` says once when the broker goes and once when it is back.
    """

    QUIET = (
        "Connection to Redis lost: Retry",
        "\nRetry limit exceeded while trying to reconnect to the Celery result store",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.QUIET)


class _BrokerLossTracebacks(logging.Filter):
    """A task still running when the broker went away can neither store its answer nor
    acknowledge its message: Celery says so for each ("raised unexpected", "Exception
    raised outside body", "Couldn't ack"), with the lost connection's traceback. Their
    first line says it all."""

    OUTSIDE_BODY = re.compile(
        r"RuntimeWarning: Exception raised outside body: "
        r"\S*(ConnectionError|OperationalError|TimeoutError)\b"
    )

    def filter(self, record: logging.LogRecord) -> bool:
        lost = record.exc_info[1] if record.exc_info else None
        if lost is not None and broker_error(lost) is not None:
            record.exc_info = record.exc_text = None
        elif record.name == "py.warnings":
            first, _, rest = record.getMessage().partition("\n")
            if rest and self.OUTSIDE_BODY.search(first):
                record.msg, record.args = first, ()
        return True


def install() -> None:
    """Once per process, before any connection (``sysinv_common.messaging.app`` does it)."""
    redis_transport.install()
    for name in ("celery.backends.redis", "celery.backends.asynchronous"):
        logging.getLogger(name).addFilter(_OutageNoise())
    for name in ("celery.app.trace", "celery.worker.request", "py.warnings"):
        logging.getLogger(name).addFilter(_BrokerLossTracebacks())
    # Celery warns at each reconnection that a running task will be cancelled by default
    # one day; sysinv sets worker_cancel_long_running_tasks_on_connection_loss itself.
    warnings.filterwarnings(
        "ignore",
        message=r"\s*In Celery 5.1 we introduced an optional breaking change",
        category=CPendingDeprecationWarning,
    )
