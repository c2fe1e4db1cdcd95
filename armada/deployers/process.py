"""Run a child process that can be cancelled: its whole process group is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POLL_SECONDS = 0.2
# How long a child gets between SIGTERM and SIGKILL: enough for helm to write its state.
TERM_GRACE_SECONDS = 5.0


@dataclass
class ProcessResult:
    returncode: int
    stdout: str
    stderr: str
    cancelled: bool = False
    timed_out: bool = False


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it lingers."""
    for sig, grace in ((signal.SIGTERM, TERM_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(
    argv: list[str],
    env: Mapping[str, str] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> ProcessResult:
    """Run argv to completion, or until `cancel` is set or `timeout` passes.

    Output goes to temporary files rather than pipes, so a chatty child can never block on
    a full pipe while we are busy polling the cancel flag.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # A new session makes the child a process-group leader, so cancel reaches anything
        # it started (helm plugins, post-renderers) too.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        cancelled = timed_out = False
        while True:
            try:
                proc.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif deadline is not None and time.monotonic() > deadline:
                timed_out = True
            if cancelled or timed_out:
                stop_group(proc)
                break
        out.seek(0)
        err.seek(0)
        return ProcessResult(
            returncode=proc.returncode if proc.returncode is not None else -9,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            cancelled=cancelled,
            timed_out=timed_out,
        )
