"""A throwaway redis-server (no persistence) on a free loopback port."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.servers import procs
from tests.servers.ports import free_port, wait_port
from tests.servers.procs import ManagedProcess


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-redis-"))
        self.proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed (apt install redis-server)")
        started = time.monotonic()
        procs.register(self)
        self.proc = ManagedProcess(
            "redis-server",
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.base), "--daemonize", "no",
             "--pidfile", str(self.base / "redis.pid")],
            self.base / "redis.log",
            pidfile=self.base / "redis.pid",
        )  # fmt: skip
        wait_port(self.port, 30, "redis-server")
        print(
            f">> redis on 127.0.0.1:{self.port} in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
