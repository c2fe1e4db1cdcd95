"""Every Celery module a worker needs is imported before the first worker thread of a
process starts (``messaging.app.WORKER_MODULES``): two threads importing one module at once
can fail with Python's import deadlock error and lose a worker. CI saw it in a conductor
(its two workers) and in ``sysinv aio`` (the conductor's workers and the local agent's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import sysinv_conductor.service
from sysinv_common.db.prepare import prepare_database
from sysinv_common.messaging.app import make_celery
from sysinv_conductor.service import ConductorService
from tests.servers.ports import free_port
from tests.stack import make_settings

#: Runs a conductor (or ``sysinv aio``) in this process. At the start of the first thread
#: that runs a worker it notes the modules imported; once every worker is ready, it prints
#: the Celery, kombu and billiard modules imported since.
CHILD = """
import json, os, sys, threading, time
from celery.signals import worker_ready

WORKERS = int(sys.argv[1])
ready, before = [], []
plain_start = threading.Thread.start

def start(thread):
    if not before and thread.name.startswith(("sysinv-conductor", "sysinv-agent")):
        before.append(set(sys.modules))
    plain_start(thread)

threading.Thread.start = start

@worker_ready.connect(weak=False)
def _ready(sender=None, **_):
    ready.append(sender)

def report():
    deadline = time.monotonic() + 60
    while len(ready) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the workers' first moments in their loops
    roots = ("celery", "kombu", "billiard")
    late = sorted(m for m in set(sys.modules) - before[0] if m.split(".")[0] in roots)
    print(json.dumps({"ready": len(ready), "late": late}), flush=True)
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
if sys.argv[2] == "aio":
    import sysinv_admin.cli
    sys.argv = ["sysinv", "aio", "--data-dir", sys.argv[3], "--port", sys.argv[4]]
    sysinv_admin.cli.main()
else:
    import sysinv_conductor.main
    sys.argv = ["sysinv-conductor"]
    sysinv_conductor.main.main()
"""


@pytest.mark.parametrize("mode", ["redis", "embedded", "aio"])
def test_no_worker_imports_after_the_first_worker_thread_starts(
    mode: str, redis_url: str, tmp_path: Path
) -> None:
    broker = redis_url if mode == "redis" else "memory://"
    settings = make_settings(tmp_path)
    prepare_database(settings).dispose()
    env = dict(
        os.environ, SYSINV_STATE_DIR=str(settings.state_dir),
        SYSINV_DATABASE__URL=settings.database_url, SYSINV_MESSAGING__BROKER_URL=broker,
        SYSINV_MESSAGING__QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}",
        SYSINV_CONDUCTOR_ID=f"preload-{mode}", SYSINV_LOG_LEVEL="WARNING",
    )  # fmt: skip
    # The aio runs the conductor's two workers and its local agent's.
    args = ["3", "aio", str(tmp_path / "aio"), str(free_port())] if mode == "aio" else ["2", mode]
    done = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert lines, done.stderr[-2000:]
    report = json.loads(lines[-1])
    assert report["ready"] == int(args[0]), done.stderr[-2000:]
    assert report["late"] == []  # else: add them to WORKER_MODULES, or preload them earlier


@contextmanager
def started_conductor(tmp_path: Path) -> Iterator[tuple[ConductorService, threading.Event]]:
    """A conductor started in a thread of this process, and the event its failure sets."""
    settings = make_settings(tmp_path)
    db = prepare_database(settings)
    conductor = ConductorService(settings, app=make_celery(settings.messaging), db=db)
    failed = threading.Event()
    try:
        conductor.start_in_thread(on_failure=failed.set)
        yield conductor, failed
    finally:
        conductor.stop()
        db.dispose()


def test_a_conductor_whose_worker_cannot_be_made_says_why_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that fails to be made (the import error above, say) stops the conductor
    with its reason, and the embedded mode with it (``on_failure``): it used to end only
    its thread, and the API answered on with no conductor behind it."""

    def cannot(*_: Any, **__: Any) -> Any:
        raise RuntimeError("no worker today")

    monkeypatch.setattr(sysinv_conductor.service, "make_worker", cannot)
    with started_conductor(tmp_path) as (conductor, failed):
        assert failed.wait(30)
        assert conductor.failure is not None
        assert "could not run (RuntimeError('no worker today'))" in conductor.failure
        assert all(a.stopping.is_set() for a in conductor.auditors)


def test_an_apps_worker_whose_start_fails_is_stopped_and_stops_the_conductor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The apps worker is made, but its start raises: the conductor stops with the reason,
    and that worker is stopped too (its pool and broker connection let go of), not left
    behind half-started."""
    real = sysinv_conductor.service.make_worker
    stopped: list[str] = []

    def start_fails(app: Any, queues: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        worker = real(app, queues, name, *args, **kwargs)
        if name.startswith("conductor-apps@"):
            stop = worker.stop

            def cannot_start() -> None:
                raise RuntimeError("the apps worker cannot start")

            def recorded_stop(*a: Any, **kw: Any) -> Any:
                stopped.append(name)
                return stop(*a, **kw)

            worker.start, worker.stop = cannot_start, recorded_stop
        return worker

    monkeypatch.setattr(sysinv_conductor.service, "make_worker", start_fails)
    with started_conductor(tmp_path) as (conductor, failed):
        assert failed.wait(30)
        assert conductor.failure is not None
        assert "apps worker could not run" in conductor.failure
        assert "the apps worker cannot start" in conductor.failure
        assert len(stopped) == 1 and stopped[0].startswith("conductor-apps@")
