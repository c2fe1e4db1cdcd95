"""Child processes that are always stopped: at ``stop()``, at exit, on SIGINT/SIGTERM.

Each server runs in its own process group, so stopping it also stops whatever it
spawned. Every live process is in ``LIVE`` until stopped; the test suite checks that
nothing is left there (or alive) at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

LIVE: dict[int, ManagedProcess] = {}
#: Servers (with their directories) to stop at exit, newest last.
SERVERS: list[Stoppable] = []
_lock = threading.Lock()


class Stoppable(Protocol):
    def stop(self) -> None: ...


def register(server: Stoppable) -> None:
    with _lock:
        SERVERS.append(server)


def unregister(server: Stoppable) -> None:
    with _lock:
        if server in SERVERS:
            SERVERS.remove(server)


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        pidfile: Path | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        # The server's own pid, when something (runuser) stands between it and us.
        self.pidfile = pidfile
        self.stop_signal = stop_signal
        self.argv = argv
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        cmd = ["runuser", "-u", user, "--", *argv] if user else argv
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        with _lock:
            LIVE[self.pid] = self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(
                f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}"
            )

    def _server_pid(self) -> int | None:
        try:
            text = self.pidfile.read_text().split() if self.pidfile else []
        except OSError:
            return None
        return int(text[0]) if text and text[0].isdigit() else None

    def stop(self, timeout: float = 10.0) -> None:
        server = self._server_pid()
        if server is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(server, self.stop_signal)
        if self.alive():
            _signal_group(self.pid, self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        # Children that outlived their leader (e.g. postgres backends) go too.
        _signal_group(self.pid, signal.SIGKILL)
        if server is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(server, signal.SIGKILL)
        self._log.close()
        with _lock:
            LIVE.pop(self.pid, None)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_all() -> None:
    with _lock:
        servers = list(SERVERS)
    for server in reversed(servers):
        server.stop()
    with _lock:
        procs = list(LIVE.values())
    # Reverse start order: kwok and controllers before the API server before etcd.
    for proc in reversed(procs):
        proc.stop()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_installed = False


def install_cleanup() -> None:
    """Stop every server at exit and on SIGINT/SIGTERM (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: object = previous) -> None:
            # A second Ctrl-C or TERM must not cut the cleanup short and leave servers up.
            for other in (signal.SIGINT, signal.SIGTERM):
                signal.signal(other, signal.SIG_IGN)
            stop_all()
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, handler)
