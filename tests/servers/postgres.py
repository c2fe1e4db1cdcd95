"""A throwaway PostgreSQL server (Debian's binaries, run as the postgres user)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from tests.servers import procs
from tests.servers.ports import free_port, wait_port
from tests.servers.procs import ManagedProcess


def pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt install postgresql)")
    return Path(found[-1]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        # initdb refuses root, and a 0700 root tmp dir is unreachable for postgres.
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-pg-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        shutil.chown(self.base, "postgres", "postgres")
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.proc: ManagedProcess | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _dsn(self, db: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def start(self) -> PostgresServer:
        started = time.monotonic()
        procs.register(self)
        bindir = pg_bindir()
        self.sockets.mkdir()
        shutil.chown(self.sockets, "postgres", "postgres")
        init = ManagedProcess(
            "initdb",
            [str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            self.base / "initdb.log",
            user="postgres",
        )  # fmt: skip
        if init.proc.wait(timeout=120) != 0:
            init.stop()
            raise RuntimeError(f"initdb failed:\n{init.log_tail()}")
        init.stop()
        self._spawn()
        print(
            f">> postgres on 127.0.0.1:{self.port} in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        return self

    def _spawn(self) -> None:
        bindir = pg_bindir()
        self.proc = ManagedProcess(
            "postgres",
            [str(bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", str(self.sockets), "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            self.base / "postgres.log",
            user="postgres",
            # runuser stands between us and the postmaster; SIGQUIT is an immediate
            # shutdown (SIGTERM would wait for every client to disconnect).
            pidfile=self.data / "postmaster.pid",
            stop_signal=signal.SIGQUIT,
        )  # fmt: skip
        wait_port(self.port, 60, "postgres")
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self._dsn(), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                self.proc.check_alive()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def down(self) -> None:
        """Stop the server (an immediate shutdown: every client loses its connection),
        keeping its port and data for ``up``."""
        assert self.proc is not None, "the server is not running"
        self.proc.stop()
        self.proc = None

    def up(self) -> None:
        """Start again the server ``down`` stopped, on the same port and data."""
        assert self.proc is None, "the server is running"
        self._spawn()

    def create_database(self) -> tuple[str, str]:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
