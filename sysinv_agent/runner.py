"""The one way the agent runs commands (systemctl, kubeadm): for real, or recorded.

Configurators only see the :class:`Runner` protocol. On a node it is a
:class:`SubprocessRunner`; in tests and the embedded mode it is a :class:`RecordingRunner`,
which appends each command to a JSON-lines log instead of running it, so the same code paths
run everywhere and what a node would have done can be checked afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sysinv_common.nodeconfig import ConfiguratorResult


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Runner(Protocol):
    def run(self, argv: list[str], *, timeout: float = 300) -> CommandResult:
        """Run ``argv`` (no shell) and return its outcome; a failure is a result, not a raise."""
        ...


class SubprocessRunner:
    """Runs commands for real, without a shell, capturing their output."""

    def run(self, argv: list[str], *, timeout: float = 300) -> CommandResult:
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            # Return codes a shell would give, so callers need only one failure path.
            return CommandResult(list(argv), 124, "", f"timed out after {timeout:g}s")
        except OSError as e:
            return CommandResult(list(argv), 127, "", f"cannot run {argv[0]}: {e}")
        return CommandResult(list(argv), done.returncode, done.stdout, done.stderr)


class RecordingRunner:
    """Records commands as JSON lines in ``log_path`` instead of running them.

    Every command succeeds, except one whose space-joined argv contains one of the ``fail``
    substrings: it is still recorded, and returns 1 with stderr ``recorded failure`` (tests use
    this to play a failing ``systemctl restart docker``).
    """

    def __init__(self, log_path: Path, fail: Collection[str] = ()) -> None:
        self.log_path = log_path
        self.fail: tuple[str, ...] = tuple(fail)

    def run(self, argv: list[str], *, timeout: float = 300) -> CommandResult:
        line = json.dumps({"argv": list(argv), "time": datetime.now(UTC).isoformat()})
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # 0600: the log may show paths and names an operator would not publish.
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        joined = " ".join(argv)
        if any(f in joined for f in self.fail):
            return CommandResult(list(argv), 1, "", "recorded failure")
        return CommandResult(list(argv), 0, "", "")


def happened(runner: Runner, done: str, recorded: str) -> str:
    """What a step did, as the agent says it: ``done`` when its commands ran, ``recorded``
    when the runner only recorded them (the embedded mode, tests): a restart that was not
    run is not said to have happened."""
    return recorded if isinstance(runner, RecordingRunner) else done


def recorded_commands(log_path: Path) -> list[list[str]]:
    """The argv of every command recorded in ``log_path``, oldest first; [] if none."""
    try:
        text = log_path.read_text()
    except FileNotFoundError:
        return []
    return [list(json.loads(line)["argv"]) for line in text.splitlines() if line.strip()]


def failed_result(
    name: str, files: list[str], commands: list[list[str]], outcome: CommandResult
) -> ConfiguratorResult:
    """A configurator's result when one of its commands failed: what it changed so far,
    and a message saying the command is retried at the next apply."""
    return ConfiguratorResult(
        name=name,
        ok=False,
        changed=bool(files),
        files=files,
        commands=commands,
        message=(
            f"`{' '.join(outcome.argv)}` failed (exit {outcome.returncode}): "
            f"{outcome.stderr.strip()}; retried on the next apply"
        ),
    )
