"""A conductor starting its two workers imports every Celery module they need before
their threads start (``messaging.app.WORKER_MODULES``): two threads importing one module
at once can fail with Python's import deadlock error and lose a worker (seen in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sysinv_common.db.prepare import prepare_database
from tests.stack import make_settings

#: Runs a conductor in this process; once both workers are ready, prints the Celery,
#: kombu and billiard modules imported after ``preload_worker_modules`` ran.
CHILD = """
import json, os, sys, threading, time
from sysinv_common.messaging.app import preload_worker_modules
import sysinv_conductor.main
from celery.signals import worker_ready

preload_worker_modules()
before = set(sys.modules)
ready = []

@worker_ready.connect(weak=False)
def _ready(sender=None, **_):
    ready.append(sender)

def report():
    deadline = time.monotonic() + 60
    while len(ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the workers' first moments in their loops
    roots = ("celery", "kombu", "billiard")
    late = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in roots)
    print(json.dumps({"ready": len(ready), "late": late}), flush=True)
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
sys.argv = ["sysinv-conductor"]
sysinv_conductor.main.main()
"""


@pytest.mark.parametrize("mode", ["redis", "embedded"])
def test_starting_workers_imports_nothing_after_the_preload(
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
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert lines, done.stderr[-2000:]
    report = json.loads(lines[-1])
    assert report["ready"] == 2, done.stderr[-2000:]
    assert report["late"] == []  # else: add them to WORKER_MODULES
