"""Run a child process that can be cancelled: its whole process group is stopped.

Every child is tied to our life and bounded: util-linux's ``setpriv --pdeathsig KILL``
makes the kernel kill it when the thread that started it dies (a killed conductor leaves no
helm behind to rewrite a release beside the recovery), and ``prlimit`` caps its data
segment and CPU time (a template bomb in an uploaded chart stops at the cap instead of
taking the host's memory). Both exec the command, so the child keeps one pid and process
group. Its temporary files go to a directory of its own, removed when it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.2
# How long a child gets between SIGTERM and SIGKILL: enough for helm to write its state.
TERM_GRACE_SECONDS = 5.0


@cache
def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            f"{name} (from util-linux) is not on PATH: it ties helm and other children to "
            "the service's life and limits them; install util-linux"
        )
    return path


def confined(argv: list[str], limits: ChildLimits | None = None) -> list[str]:
    """``argv`` run so that it dies with the thread starting it, under ``limits``."""
    out = [_tool("setpriv"), "--pdeathsig", "KILL", "--"]
    if limits is not None and (limits.memory_bytes or limits.cpu_seconds):
        out += [_tool("prlimit")]
        if limits.memory_bytes:
            out.append(f"--data={limits.memory_bytes}")
        if limits.cpu_seconds:
            # SIGXCPU at the soft limit (which we can name), SIGKILL a little later.
            out.append(f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}")
        out.append("--")
    return out + argv


@dataclass
class ProcessResult:
    returncode: int
    stdout: str
    stderr: str
    cancelled: bool = False
    timed_out: bool = False


@dataclass(frozen=True)
class ChildLimits:
    """What one child may use; None is no limit. Memory is its data segment (RLIMIT_DATA:
    the heap and private mappings, what a runaway render grows; Go reserves far more
    address space than it uses, so RLIMIT_AS would stop a healthy helm)."""

    memory_bytes: int | None = None
    cpu_seconds: int | None = None

    def describe(self, result: ProcessResult) -> str | None:
        """Which limit ``result`` ran into, as a sentence; None when none did."""
        if self.cpu_seconds is not None and result.returncode == -signal.SIGXCPU:
            return f"it used its {self.cpu_seconds} s of CPU time and was stopped"
        # The Go runtime's words when an allocation fails (helm is a Go program).
        text = result.stderr + result.stdout
        if self.memory_bytes is not None and (
            "out of memory" in text or "cannot allocate memory" in text.lower()
        ):
            return f"it ran out of its {self.memory_bytes // (1024 * 1024)} MiB of memory"
        return None


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
    limits: ChildLimits | None = None,
    tmp_parent: Path | None = None,
) -> ProcessResult:
    """Run argv to completion, or until `cancel` is set or `timeout` passes.

    The child is :func:`confined` under ``limits``; its ``TMPDIR`` is a new directory in
    ``tmp_parent`` (the system's when None), removed with whatever it left there.
    Output goes to temporary files rather than pipes, so a chatty child can never block on
    a full pipe while we are busy polling the cancel flag.
    """
    if tmp_parent is not None:
        tmp_parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="child-", dir=tmp_parent)
    child_env = dict(env if env is not None else os.environ, TMPDIR=tmp)
    try:
        return _run(confined(argv, limits), child_env, cancel, timeout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(
    argv: list[str],
    env: dict[str, str],
    cancel: threading.Event | None,
    timeout: float | None,
) -> ProcessResult:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # A new session makes the child a process-group leader, so cancel reaches anything
        # it started (helm plugins, post-renderers) too.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
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
