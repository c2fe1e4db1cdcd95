"""The shipped systemd units start a service again when it exits without being asked to
(a non-zero status), and not in a burst that would make systemd give up on it."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "etc" / "systemd"


@pytest.mark.parametrize("name", ["sysinv-api", "sysinv-conductor", "sysinv-agent"])
def test_the_unit_restarts_a_service_that_failed(name: str) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNITS / f"{name}.service")
    service = unit["Service"]
    assert service["ExecStart"] == f"/usr/bin/{name}"
    assert service["Restart"] in ("on-failure", "always")
    # systemd gives up after 5 starts in 10 s by default: a restart loop (a broker that
    # refuses it) must stay under that, and go on trying.
    assert float(service["RestartSec"]) * 5 > 10
    assert "1" not in service.get("RestartPreventExitStatus", "").split()
