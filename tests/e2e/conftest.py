"""A live ``sysinv aio`` process for the end-to-end tests, on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers.ports import free_port

BIN = Path(sys.executable).parent


@dataclass
class Aio:
    url: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def system(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "system"), *args],
            env=dict(os.environ, SYSTEM_URL=self.url, OS_AUTH_TOKEN="unused"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"system {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n"
                f"--- the end of {self.log}:\n{self.log.read_text(errors='replace')[-3000:]}"
            )
        return result


def start_aio(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Aio:
    port = free_port()
    log = data_dir.parent / f"aio-{port}.log"
    proc = subprocess.Popen(
        [str(BIN / "sysinv"), "aio", "--data-dir", str(data_dir), "--port", str(port), *extra],
        env=dict(os.environ, **(env or {})),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            # 401: up, with authentication on.
            if httpx.get(f"{url}/v1/ihosts", timeout=1).status_code in (200, 401):
                return Aio(url, data_dir, log, proc)
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"sysinv aio did not start:\n{log.read_text()}"
        time.sleep(0.2)


def stop_aio(aio: Aio) -> None:
    if aio.proc.poll() is None:
        os.killpg(aio.proc.pid, signal.SIGTERM)
        try:
            aio.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(aio.proc.pid, signal.SIGKILL)
            aio.proc.wait()


@pytest.fixture(scope="module")
def aio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aio]:
    server = start_aio(tmp_path_factory.mktemp("aio") / "data")
    yield server
    stop_aio(server)
