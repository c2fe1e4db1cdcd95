"""The embedded mode's in-process broker and result store, woken rather than polled.

kombu's in-memory transport looks for messages every ``polling_interval`` and Celery's
cache result backend every ``interval`` of ``result.get``: each call of the embedded mode
waited up to two such naps (20 ms each) for nothing. Here a message put, or a result
stored, wakes whoever waits for one at once (a condition variable); the intervals stay as
an upper bound for anything that puts without going through these classes.

The queues and the results are kombu's and Celery's own process-wide ones: senders and
consumers built from plain ``memory://`` (or ``cache+memory://``) still reach the same
messages and results, only without the wake-up.
"""

from __future__ import annotations

import threading
from time import monotonic
from typing import Any

from celery import states
from celery.backends.cache import CacheBackend
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.transport import memory
from kombu.transport.virtual import Empty


class _Signal:
    """A condition with a generation count: a waiter that saw generation ``g`` sleeps only
    while nothing was signalled since, so no wake-up is lost between its look and its wait."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.generation = 0

    def signal(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self.cond:
            if self.generation == seen:
                self.cond.wait(timeout)


_messages = _Signal()
_results = _Signal()


class Channel(memory.Channel):  # type: ignore[misc]
    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        super()._put(queue, message, **kwargs)
        _messages.signal()

    def _put_fanout(self, exchange: str, message: Any, routing_key: Any = None, **kw: Any) -> None:
        super()._put_fanout(exchange, message, routing_key, **kw)
        _messages.signal()


class Transport(memory.Transport):  # type: ignore[misc]
    """kombu's in-memory transport, whose consumers wake when a message is put."""

    Channel = Channel

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        started = monotonic()
        get = self.cycle.get
        nap = self.polling_interval or 0.02
        while True:
            seen = _messages.generation
            try:
                get(self._deliver, timeout=timeout)
                return
            except Empty:
                elapsed = monotonic() - started
                if timeout is not None and elapsed >= timeout:
                    raise TimeoutError() from None
                left = nap if timeout is None else min(nap, timeout - elapsed)
                _messages.wait(seen, left)


class ResultBackend(CacheBackend):  # type: ignore[misc]
    """Celery's in-memory cache backend, whose ``result.get`` wakes when a result is
    stored instead of polling every ``interval``."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("backend", "memory://")
        super().__init__(app, *args, **kwargs)

    def set(self, key: Any, value: Any) -> Any:
        stored = super().set(key, value)
        _results.signal()
        return stored

    def wait_for(
        self, task_id: str, timeout: float | None = None, interval: float = 0.5,
        no_ack: bool = True, on_interval: Any = None,
    ) -> Any:  # fmt: skip
        started = monotonic()
        while True:
            seen = _results.generation
            meta = self.get_task_meta(task_id)
            if meta["status"] in states.READY_STATES:
                return meta
            if on_interval:
                on_interval()
            elapsed = monotonic() - started
            if timeout is not None and elapsed >= timeout:
                raise CeleryTimeout("The operation timed out.")
            left = interval if timeout is None else min(interval, timeout - elapsed)
            _results.wait(seen, left)


#: What ``make_celery`` configures for the embedded mode.
TRANSPORT = f"{__name__}:Transport"
RESULT_BACKEND = f"{__name__}:ResultBackend"
