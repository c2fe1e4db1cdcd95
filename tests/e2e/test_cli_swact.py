"""``system host-swact`` and the controller lock rules, through the ``system`` CLI against
``sysinv aio`` bootstrapped as a duplex system."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host
from sysinv_common.states import host as host_states
from tests.e2e.conftest import Aio, start_aio, stop_aio


@pytest.fixture(scope="module")
def duplex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aio]:
    server = start_aio(
        tmp_path_factory.mktemp("aio-duplex") / "data",
        env={"SYSINV_BOOTSTRAP__SYSTEM_MODE": "duplex"},
    )
    yield server
    stop_aio(server)


def enable(aio: Aio, hostname: str) -> None:
    """What its agent's reports do: seen, and its configuration applied."""
    db = Database(f"sqlite:///{aio.data_dir / 'sysinv.db'}")
    try:
        with db.session() as s:
            host = s.scalars(select(Host).where(Host.hostname == hostname)).one()
            host_states.mark_seen(s, host, datetime.now(UTC))
            host_states.record_config_applied(s, host, host.config_target or "", None)
    finally:
        db.dispose()


def shown(aio: Aio, hostname: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(
        aio.system("host-show", hostname, "--format", "json").stdout
    )
    return answer


def test_swact_and_lock_rules_through_the_cli(duplex: Aio) -> None:
    for name in ("controller-0", "controller-1"):
        duplex.system("host-add", "-n", name, "-p", "controller")
        duplex.system("host-unlock", name)
    enable(duplex, "controller-0")
    assert shown(duplex, "controller-0")["capabilities"] == {"Personality": "Controller-Active"}
    assert shown(duplex, "controller-1")["capabilities"] == {"Personality": "Controller-Standby"}

    bad = duplex.system("host-swact", "controller-0", check=False)
    assert bad.returncode == 1
    assert "controller-1 is unlocked-disabled-offline" in bad.stderr
    enable(duplex, "controller-1")

    bad = duplex.system("host-lock", "controller-0", check=False)
    assert bad.returncode == 1 and "Can not lock an active controller" in bad.stderr

    out = duplex.system("host-swact", "controller-0", "--format", "json").stdout
    assert json.loads(out)["capabilities"] == {"Personality": "Controller-Standby"}
    assert shown(duplex, "controller-1")["capabilities"] == {"Personality": "Controller-Active"}
    # The swact gave both controllers new configurations (the floating address moved):
    # their agents apply them.
    enable(duplex, "controller-0")
    enable(duplex, "controller-1")

    duplex.system("host-lock", "controller-0")
    bad = duplex.system("host-lock", "controller-1", check=False)
    assert bad.returncode == 1 and "only unlocked and enabled controller" in bad.stderr
    forced = duplex.system("host-lock", "controller-1", "--force", "--format", "json").stdout
    assert json.loads(forced)["administrative"] == "locked"
    bad = duplex.system("host-swact", "controller-1", "--force", check=False)
    assert bad.returncode == 1 and "use host-swact without --force" in bad.stderr
