"""A throwaway Docker daemon: Debian's ``dockerd`` (docker.io 20.10) with its own data root,
exec root and socket in a private directory, no bridge, no iptables rules.

It reads only the ``daemon.json`` given here (never the machine's ``/etc/docker``), so a
test can hand it the configuration an agent wrote. Its containerd runs in a session of its
own: ``stop()`` ends it by its pid file too, then unmounts whatever the daemon left
mounted under the directory (the data root's bind mount, ``exec/netns/default``) before
removing it. Clients use ``host`` (``unix://...``) and a ``DOCKER_CONFIG`` of their own
(``cli_env``), so credentials never land in the machine's ``~/.docker``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.servers import procs
from tests.servers.procs import ManagedProcess

DOCKERD = Path("/usr/sbin/dockerd")
#: Debian's client, the daemon's own version (another docker may come first on PATH).
DOCKER = Path("/usr/bin/docker")
#: The machine's daemon identity, which dockerd 20.10 makes at its first start (no flag
#: moves it); two daemons making it at once may read each other's half-written file.
TRUST_KEY = Path("/etc/docker/key.json")


@contextlib.contextmanager
def _one_at_a_time_until_keyed() -> Iterator[None]:
    """Daemons of parallel test processes start one at a time while there is no key."""
    if TRUST_KEY.exists():
        yield
        return
    with (Path(tempfile.gettempdir()) / "sysinv-tests-dockerd-key.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class DockerDaemon:
    def __init__(self, daemon_json: dict[str, Any] | None = None) -> None:
        # A short path: the socket's must fit in sun_path (108 bytes).
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-docker-"))
        self.socket = self.base / "docker.sock"
        self.daemon_json = dict(daemon_json or {})
        self.proc: ManagedProcess | None = None
        self.start_seconds = 0.0

    @property
    def host(self) -> str:
        """``DOCKER_HOST`` / the SDK's ``base_url``."""
        return f"unix://{self.socket}"

    def start(self) -> DockerDaemon:
        for binary in (DOCKERD, DOCKER):
            if not binary.exists():
                raise RuntimeError(f"{binary} is not installed (apt install docker.io)")
        started = time.monotonic()
        procs.register(self)
        try:
            config = self.base / "daemon.json"
            config.write_text(json.dumps(self.daemon_json))
            with _one_at_a_time_until_keyed():
                self.proc = ManagedProcess(
                    "dockerd",
                    [str(DOCKERD), "--config-file", str(config),
                     "--data-root", str(self.base / "data"),
                     "--exec-root", str(self.base / "exec"),
                     "--host", self.host, "--pidfile", str(self.base / "dockerd.pid"),
                     "--storage-driver", "vfs", "--bridge", "none", "--iptables=false",
                     "--ip-masq=false", "--userland-proxy=false"],
                    self.base / "dockerd.log",
                    cwd=self.base,
                )  # fmt: skip
                self._wait_ready(60)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        print(f">> dockerd on {self.host} in {self.start_seconds:.2f} s", file=sys.stderr)
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            self.proc.check_alive()
            if self.socket.exists():
                try:
                    with httpx.Client(
                        transport=httpx.HTTPTransport(uds=str(self.socket)), timeout=2
                    ) as c:
                        if c.get("http://docker/_ping").text == "OK":
                            return
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"dockerd did not answer on {self.socket} within {timeout:.0f} s:\n"
                    f"{self.proc.log_tail()}"
                )
            time.sleep(0.05)

    def cli_env(self, config_dir: Path) -> dict[str, str]:
        """The environment of a ``docker`` command against this daemon, whose credentials
        go to ``config_dir``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        return dict(env, DOCKER_HOST=self.host, DOCKER_CONFIG=str(config_dir))

    def cli(
        self, config_dir: Path, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``docker ARGS`` with Debian's client; the caller checks the outcome."""
        return subprocess.run(
            [str(DOCKER), *args], env=self.cli_env(config_dir), input=stdin,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def _mounts(self) -> list[str]:
        """Mount points under the directory, deepest first."""
        found = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                point = line.split()[4].replace("\\040", " ")
                if point == str(self.base) or point.startswith(f"{self.base}/"):
                    found.append(point)
        return sorted(found, key=len, reverse=True)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=20)
        # dockerd stops its containerd; one it left behind (dockerd killed) goes here.
        pidfile = self.base / "exec" / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().split()[0])
            # Only if that pid is still this daemon's containerd (pids are reused).
            if str(self.base).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        for point in self._mounts():
            subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
