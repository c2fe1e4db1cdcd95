"""The heap of a long-running service, once it has started."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move every object that exists now (modules, models, the app: what was built to
    start, which lives as long as the process) out of the garbage collector's sight.

    Its full passes, which the allocations of answering requests trigger, walked all of
    it each time: 120 ms with every request stalled, in sysinv-api on PostgreSQL, against
    a few ms once frozen (bench/bench_reads.py's p99). Call it last before serving."""
    gc.collect()
    gc.freeze()
