"""Two controllers: which one is active, host-swact, and the controller lock rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common.db.models import Host
from sysinv_common.db.queries.system import get_system
from sysinv_common.states import host as host_states
from tests.api.test_hosts import fault
from tests.stack import Stack


@pytest.fixture
def duplex(api: Stack) -> Iterator[Stack]:
    with api.db.session() as s:
        get_system(s).system_mode = "duplex"
    try:
        yield api
    finally:
        with api.db.session() as s:
            get_system(s).system_mode = "simplex"


def enable(stack: Stack, hostname: str) -> None:
    """Its agent reported and applied its configuration, as a real agent's reports do."""
    with stack.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == hostname)).one()
        host_states.mark_seen(s, host, datetime.now(UTC))
        assert host.config_target, "an unlocked host has a configuration target"
        host_states.record_config_applied(s, host, host.config_target, None)


def show(stack: Stack, host: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = stack.client.get(f"/v1/ihosts/{host['id']}").json()
    return answer


def role(stack: Stack, host: dict[str, Any]) -> str | None:
    value: str | None = show(stack, host)["capabilities"].get("Personality")
    return value


def two_controllers(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    c0 = stack.add_host("controller-0", "controller")
    c1 = stack.add_host("controller-1", "controller")
    assert stack.action(c0, "unlock").status_code == 200
    enable(stack, "controller-0")
    assert stack.action(c1, "unlock").status_code == 200
    return c0, c1


def test_the_first_unlocked_controller_is_active(duplex: Stack) -> None:
    c0 = duplex.add_host("controller-0", "controller")
    w0 = duplex.add_host("worker-0", "worker")
    # Locked, nobody is active yet; a worker has no such capability.
    assert role(duplex, c0) == "Controller-Standby"
    assert "Personality" not in show(duplex, w0)["capabilities"]
    assert duplex.action(c0, "unlock").status_code == 200
    assert role(duplex, c0) == "Controller-Active"
    c1 = duplex.add_host("controller-1", "controller")
    assert duplex.action(c1, "unlock").status_code == 200
    assert role(duplex, c1) == "Controller-Standby"
    assert role(duplex, c0) == "Controller-Active"
    listed = {h["hostname"]: h for h in duplex.client.get("/v1/ihosts").json()["ihosts"]}
    assert listed["controller-0"]["capabilities"]["Personality"] == "Controller-Active"
    assert listed["controller-1"]["capabilities"]["Personality"] == "Controller-Standby"


def test_lock_rules_for_controllers(duplex: Stack) -> None:
    c0, c1 = two_controllers(duplex)
    # controller-1 is unlocked but not enabled yet: controller-0 is the only one serving.
    r = duplex.action(c0, "lock")
    assert r.status_code == 400
    assert fault(r) == (
        "Rejected: cannot lock controller-0: it is the only unlocked and enabled controller; "
        "use host-lock --force to lock it anyway"
    )
    enable(duplex, "controller-1")
    # Now another is enabled, but controller-0 is the active one.
    r = duplex.action(c0, "lock")
    assert r.status_code == 400
    assert fault(r).startswith("Rejected: Can not lock an active controller: controller-0 ")
    assert "host-swact controller-0" in fault(r)
    assert show(duplex, c0)["administrative"] == "unlocked"
    # The standby one locks; then controller-0 is the only one left again.
    assert duplex.action(c1, "lock").status_code == 200
    assert "only unlocked and enabled" in fault(duplex.action(c0, "lock"))
    # --force locks it anyway.
    assert duplex.action(c0, "force-lock").status_code == 200
    assert show(duplex, c0)["administrative"] == "locked"


def test_swact_moves_the_active_role(duplex: Stack) -> None:
    c0, c1 = two_controllers(duplex)
    # The other controller is not enabled yet: refused, with its state.
    r = duplex.action(c0, "swact")
    assert r.status_code == 400
    assert fault(r) == (
        "Swact action not allowed: the other controller must be unlocked-enabled-available; "
        "controller-1 is unlocked-disabled-offline"
    )
    assert role(duplex, c0) == "Controller-Active"
    enable(duplex, "controller-1")
    # Only the active controller swacts away.
    r = duplex.action(c1, "swact")
    assert r.status_code == 400
    assert fault(r) == "Swact action not allowed: controller-1 is not the active controller"

    r = duplex.action(c0, "swact")
    assert r.status_code == 200, r.text
    assert r.json()["capabilities"]["Personality"] == "Controller-Standby"
    assert role(duplex, c1) == "Controller-Active"
    # The floating address moved: both controllers got a new configuration, which their
    # agents apply (tests/api/test_floating_address.py has real agents do it).
    enable(duplex, "controller-0")
    enable(duplex, "controller-1")
    # controller-0, now standby, may be locked; controller-1 may not.
    assert "Can not lock an active controller" in fault(duplex.action(c1, "lock"))
    assert duplex.action(c0, "lock").status_code == 200
    # And back is refused while controller-0 is locked.
    r = duplex.action(c1, "swact")
    assert r.status_code == 400 and "controller-0 is locked-" in fault(r)


def test_swact_refusals(api: Stack, duplex: Stack) -> None:
    w0 = duplex.add_host("worker-0", "worker")
    r = duplex.action(w0, "swact")
    assert r.status_code == 400
    assert fault(r) == "Swact action not allowed for non controller host worker-0"
    c0 = duplex.add_host("controller-0", "controller")
    assert duplex.action(c0, "unlock").status_code == 200
    r = duplex.action(c0, "swact")
    assert r.status_code == 400
    assert fault(r) == "Swact action not allowed: no other controller than controller-0"
    r = duplex.action(c0, "force-swact")
    assert r.status_code == 400 and "use host-swact without --force" in fault(r)
    with api.db.session() as s:
        get_system(s).system_mode = "simplex"
    r = duplex.action(c0, "swact")
    assert r.status_code == 400
    assert fault(r) == "Swact action not allowed for a simplex system."


def test_deleting_the_active_controller_hands_the_role_on(duplex: Stack) -> None:
    c0, c1 = two_controllers(duplex)
    assert duplex.action(c0, "force-lock").status_code == 200
    assert role(duplex, c0) == "Controller-Active"  # a forced lock keeps the role
    assert duplex.client.delete(f"/v1/ihosts/{c0['id']}").status_code == 204
    assert role(duplex, c1) == "Controller-Active"


def test_simplex_locks_its_controller(api: Stack) -> None:
    c0 = api.add_host("controller-0", "controller")
    assert api.action(c0, "unlock").status_code == 200
    assert role(api, c0) == "Controller-Active"
    assert api.action(c0, "lock").status_code == 200
