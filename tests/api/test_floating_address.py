"""The floating cluster-host address follows the active controller: its configuration
carries it and its agent adds it; a swact gives both controllers new configurations, and
the agents (real ones, in process, recording their commands) move it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sysinv_agent.runner import recorded_commands
from sysinv_agent.service import Agent
from sysinv_common.db.queries.system import get_system
from sysinv_common.nodeconfig import FloatingAddress
from sysinv_conductor.flows import host_config
from tests.api.test_agent_protocol import agent_for, host
from tests.api.test_controllers import role
from tests.stack import Stack, wait_until

__all__ = ["agent_for"]  # the fixture, used by name

ADD = ["ip", "addr", "add", "192.168.206.2/24", "dev", "eth0"]
DEL = ["ip", "addr", "del", "192.168.206.2/24", "dev", "eth0"]


def commands(agent: Agent) -> list[list[str]]:
    return [c for c in recorded_commands(agent.node.root / "var/lib/sysinv-agent/commands.log")
            if c[:2] == ["ip", "addr"]]  # fmt: skip


def converged(api: Stack, name: str) -> dict[str, Any] | None:
    h = host(api, name)
    if h and h["config_target"] and h["config_applied"] == h["config_target"]:
        return h
    return None


def test_a_swact_moves_the_floating_address(api: Stack, agent_for: Callable[..., Agent]) -> None:
    with api.db.session() as s:
        get_system(s).system_mode = "duplex"
    try:
        c0 = api.add_host("controller-0", "controller", mgmt_mac="02:00:00:00:00:10")
        c1 = api.add_host("controller-1", "controller", mgmt_mac="02:00:00:00:00:11")
        a0 = agent_for("controller-0", "02:00:00:00:00:10")
        a1 = agent_for("controller-1", "02:00:00:00:00:11")
        for h in (c0, c1):
            assert api.action(h, "unlock").status_code == 200
        wait_until("both controllers enabled", lambda: all(
            (x := host(api, n)) and x["operational"] == "enabled"
            for n in ("controller-0", "controller-1")))  # fmt: skip
        assert role(api, c0) == "Controller-Active"
        wait_until("controller-0 holding the address", lambda: commands(a0) == [ADD])

        # The configurations themselves: only the active controller's carries it.
        ctx = api.conductor.ctx
        floating = FloatingAddress(address="192.168.206.2", prefix=24)
        for name, expected in (("controller-0", floating), ("controller-1", None)):
            config = host_config.current_config(ctx, name)
            assert config is not None and config.floating_address == expected
        assert commands(a1) == []
        before = {n: host(api, n)["config_target"] for n in ("controller-0", "controller-1")}  # type: ignore[index]

        r = api.action(c0, "swact")
        assert r.status_code == 200, r.text
        assert role(api, c1) == "Controller-Active"
        after = {n: host(api, n)["config_target"] for n in ("controller-0", "controller-1")}  # type: ignore[index]
        assert all(after[n] != before[n] for n in before), "both get a new configuration"
        for name, expected in (("controller-0", None), ("controller-1", floating)):
            config = host_config.current_config(ctx, name)
            assert config is not None and config.floating_address == expected

        wait_until("the address moved", lambda: commands(a0) == [ADD, DEL]
                   and commands(a1) == [ADD])  # fmt: skip
        for name in ("controller-0", "controller-1"):
            wait_until(f"{name} applied its new configuration", lambda n=name: converged(api, n))
            assert converged(api, name)["config_target"] == after[name]  # type: ignore[index]
    finally:
        with api.db.session() as s:
            get_system(s).system_mode = "simplex"
