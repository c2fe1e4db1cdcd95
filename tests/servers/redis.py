"""A throwaway redis-server (no persistence) on a free loopback port, password required.

The password is random per server and sits in a 0600 config file in the server's private
directory (not on its command line, where ``ps`` would show it); ``url`` carries it, so
whatever is given ``redis_url`` authenticates as production clients do.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.servers import procs, secrets_seen
from tests.servers.ports import free_port, wait_port
from tests.servers.procs import ManagedProcess


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-redis-"))
        self.password = secrets.token_hex(16)
        secrets_seen.remember(self.password)
        self.proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed (apt install redis-server)")
        started = time.monotonic()
        procs.register(self)
        config = self.base / "redis.conf"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"requirepass {self.password}\n")
        self._spawn()
        print(
            f">> redis on 127.0.0.1:{self.port} in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        return self

    def _spawn(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        config = self.base / "redis.conf"
        self.proc = ManagedProcess(
            "redis-server",
            [binary, str(config), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.base), "--daemonize", "no",
             "--pidfile", str(self.base / "redis.pid")],
            self.base / "redis.log",
            pidfile=self.base / "redis.pid",
        )  # fmt: skip
        wait_port(self.port, 30, "redis-server")

    def down(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop the server (``systemctl restart``'s first half; SIGKILL for a crash),
        keeping its port, password and directory for ``up``: every client loses its
        connection."""
        assert self.proc is not None, "the server is not running"
        self.proc.stop_signal = sig
        self.proc.stop()
        self.proc = None

    def up(self) -> None:
        """Start again the server ``down`` stopped: same port and password, no data (nothing
        is persisted, so queued messages and results are gone, as after a real restart)."""
        assert self.proc is None, "the server is running"
        self._spawn()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
