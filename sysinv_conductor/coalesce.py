"""Many threads' requests handled in batches, with no thread of its own.

A conductor serves calls from a pool of threads. Writes that each cost a database
transaction and a Kubernetes round trip (a label assign) are far cheaper together: the
requests that arrive while one batch runs form the next, so under load each batch grows
and the per-request cost falls; alone, a request is a batch of one and waits for nothing.

Whichever submitter finds no batch running leads: it takes what is queued (its own
request among it), runs it, and hands over; the others wait for their answers or for
their turn to lead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")

#: A batch's answers, one per request in order: a result, or the error that request gets.
Handler = Callable[[Sequence[Req]], Sequence["Res | Exception"]]


class Coalescer(Generic[Req, Res]):
    def __init__(self, handle: Handler[Req, Res], max_batch: int = 256) -> None:
        self._handle = handle
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[tuple[Req, Future[Res]]] = []
        self._leading = False

    def submit(self, request: Req) -> Res:
        """``request``'s answer, once a batch holding it ran; its error is raised here."""
        future: Future[Res] = Future()
        with self._cond:
            self._queue.append((request, future))
        while True:
            with self._cond:
                while not future.done() and self._leading:
                    self._cond.wait()
                if future.done():
                    break
                self._leading = True
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            try:
                self._run(batch)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        return future.result()

    def _run(self, batch: list[tuple[Req, Future[Res]]]) -> None:
        try:
            answers = list(self._handle([request for request, _ in batch]))
            if len(answers) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} got {len(answers)} answers")
        except Exception as exc:  # the whole batch failed: every request gets the error
            answers = [exc] * len(batch)
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
