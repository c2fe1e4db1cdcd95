"""``sysinv aio`` (what ``scripts/run`` starts) says what an operator needs after its
banner, not Celery's banners and per-task lines nor kombu's notes; ``--verbose`` does."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.conftest import start_aio, stop_aio

NOISE = (
    "-------------- ",  # a Celery banner
    "[tasks]",
    "superuser privileges",
    "No hostname was supplied",
    "] received",
    "] succeeded in",
    "celery.apps.worker",
)


def run_for_a_while(tmp_path: Path, *extra: str) -> list[str]:
    """The lines after the banner of an aio whose agent registered and sent heartbeats."""
    aio = start_aio(tmp_path / "data", *extra, env={"SYSINV_AGENT__HEARTBEAT_INTERVAL": "0.5"})
    try:
        deadline = time.monotonic() + 60
        while not httpx.get(f"{aio.url}/v1/ihosts", timeout=5).json()["ihosts"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(3)  # a few heartbeats
    finally:
        stop_aio(aio)
    text = aio.log.read_text()
    return text.split("=" * 78 + "\n")[-1].splitlines()


def test_quiet_by_default(tmp_path: Path) -> None:
    lines = run_for_a_while(tmp_path)
    noisy = [line for line in lines if any(n in line for n in NOISE)]
    assert not noisy, "\n".join(lines)
    assert not [line for line in lines if "heartbeat" in line]
    assert len(lines) < 25, "\n".join(lines)
    # What the operator does want: the agent registered and configured the machine.
    assert any("registered by its agent" in line for line in lines)
    docker = [line for line in lines if "docker changed" in line]
    assert docker and all("docker restart recorded, not run" in line for line in docker)


def test_verbose_shows_the_rest(tmp_path: Path) -> None:
    text = "\n".join(run_for_a_while(tmp_path, "--verbose"))
    for noise in ("[tasks]", "No hostname was supplied", "agent_heartbeat", "] received"):
        assert noise in text, noise
