"""Concurrent requests answered in batches, each as if alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from sysinv_conductor.coalesce import Coalescer


def test_a_lone_request_is_a_batch_of_one() -> None:
    batches: list[list[int]] = []

    def handle(batch: Sequence[int]) -> list[int | Exception]:
        batches.append(list(batch))
        return [n * 2 for n in batch]

    assert Coalescer(handle).submit(21) == 42
    assert batches == [[21]]


def test_requests_arriving_during_a_batch_form_the_next_and_all_are_answered() -> None:
    batches: list[list[int]] = []
    first_running = threading.Event()
    release = threading.Event()

    def handle(batch: Sequence[int]) -> list[int | Exception]:
        batches.append(list(batch))
        if len(batches) == 1:
            first_running.set()
            assert release.wait(10)
        return [n + 1000 for n in batch]

    writer: Coalescer[int, int] = Coalescer(handle)
    with ThreadPoolExecutor(50) as pool:
        first = pool.submit(writer.submit, 0)
        assert first_running.wait(10)
        rest = [pool.submit(writer.submit, n) for n in range(1, 50)]
        deadline = time.monotonic() + 10
        while len(writer._queue) < 49:  # every later request waits, queued
            assert time.monotonic() < deadline
            time.sleep(0.01)
        release.set()
        assert first.result(10) == 1000
        assert [f.result(10) for f in rest] == [n + 1000 for n in range(1, 50)]
    assert batches[0] == [0]
    assert sorted(batches[1]) == list(range(1, 50))  # one batch, in arrival order
    assert len(batches) == 2


def test_each_request_gets_its_own_error_and_a_failed_batch_fails_all_of_it() -> None:
    def handle(batch: Sequence[int]) -> list[int | Exception]:
        if 13 in batch:
            raise RuntimeError("the database went away")
        return [ValueError(f"odd {n}") if n % 2 else n for n in batch]

    writer: Coalescer[int, int] = Coalescer(handle)
    assert writer.submit(4) == 4
    with pytest.raises(ValueError, match="odd 3"):
        writer.submit(3)
    with pytest.raises(RuntimeError, match="went away"):
        writer.submit(13)
    assert writer.submit(6) == 6  # and it goes on serving


def test_batches_are_bounded_and_no_request_is_left_waiting() -> None:
    sizes: list[int] = []

    def handle(batch: Sequence[int]) -> list[int | Exception]:
        sizes.append(len(batch))
        time.sleep(0.005)
        return list(batch)

    writer: Coalescer[int, int] = Coalescer(handle, max_batch=7)
    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(writer.submit, range(300)))
    assert results == list(range(300))
    assert max(sizes) <= 7 and sum(sizes) == 300
