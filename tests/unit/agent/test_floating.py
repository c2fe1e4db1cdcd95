"""The floating address configurator: the active controller adds the address, a standby
removes the one it added, with the commands recorded by the runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysinv_agent.configurators import ALL, NodeContext, apply_all
from sysinv_agent.configurators.floating import FloatingAddressConfigurator
from sysinv_agent.inventory import fake_root, mgmt_interface
from sysinv_agent.runner import RecordingRunner, recorded_commands
from sysinv_common.nodeconfig import FloatingAddress, HostConfig
from tests.unit.agent import mode

FLOATING = FloatingAddress(address="192.168.206.2", prefix=24)
ADD = ["ip", "addr", "add", "192.168.206.2/24", "dev", "eth0"]
DEL = ["ip", "addr", "del", "192.168.206.2/24", "dev", "eth0"]


def node_at(
    tmp_path: Path, interface: str | None = "eth0", fail: tuple[str, ...] = ()
) -> NodeContext:
    runner = RecordingRunner(tmp_path / "commands.jsonl", fail)
    return NodeContext(tmp_path / "root", runner, interface)


@pytest.fixture
def node(tmp_path: Path) -> NodeContext:
    return node_at(tmp_path)


def config(floating: FloatingAddress | None) -> HostConfig:
    return HostConfig(target="t", hostname="controller-0", personality="controller",
                      floating_address=floating)  # fmt: skip


def commands(node: NodeContext) -> list[list[str]]:
    assert isinstance(node.runner, RecordingRunner)
    return recorded_commands(node.runner.log_path)


def test_active_adds_it_once_standby_removes_it(node: NodeContext) -> None:
    configurator = FloatingAddressConfigurator()
    added = configurator.apply(config(FLOATING), node)
    assert added.ok and added.changed and added.commands == [ADD]
    assert added.message == "added 192.168.206.2 (recorded)"
    assert commands(node) == [ADD]
    state = node.state_path("floating_address")
    assert mode(state) == 0o600

    again = configurator.apply(config(FLOATING), node)
    assert again.ok and not again.changed and again.message == "192.168.206.2 held"
    assert commands(node) == [ADD]

    removed = configurator.apply(config(None), node)  # a swact made it the standby
    assert removed.ok and removed.changed and removed.commands == [DEL]
    assert commands(node) == [ADD, DEL]
    idle = configurator.apply(config(None), node)
    assert idle.ok and not idle.changed and idle.message == "not held"
    assert commands(node) == [ADD, DEL]


def test_a_node_that_never_held_it_removes_nothing(node: NodeContext) -> None:
    result = FloatingAddressConfigurator().apply(config(None), node)
    assert result.ok and not result.changed
    assert commands(node) == []


def test_a_moved_address_is_removed_then_added(node: NodeContext) -> None:
    configurator = FloatingAddressConfigurator()
    configurator.apply(config(FLOATING), node)
    moved = FloatingAddress(address="192.168.206.9", prefix=24)
    result = configurator.apply(config(moved), node)
    assert result.ok and result.commands == [
        DEL,
        ["ip", "addr", "add", "192.168.206.9/24", "dev", "eth0"],
    ]


def test_a_failed_add_is_retried_and_still_owed_its_removal(tmp_path: Path) -> None:
    failing = node_at(tmp_path, fail=("ip addr add",))
    first = FloatingAddressConfigurator().apply(config(FLOATING), failing)
    assert not first.ok and "ip addr add 192.168.206.2/24 dev eth0` failed" in first.message
    # The next apply tries again (the address may or may not be there: the add is redone).
    working = node_at(tmp_path)
    again = FloatingAddressConfigurator().apply(config(None), working)
    assert again.ok and again.commands == [DEL]


def test_a_failed_removal_keeps_it_owed(tmp_path: Path) -> None:
    FloatingAddressConfigurator().apply(config(FLOATING), node_at(tmp_path))
    failing = node_at(tmp_path, fail=("ip addr del",))
    result = FloatingAddressConfigurator().apply(config(None), failing)
    assert not result.ok and result.commands == [DEL]
    retried = FloatingAddressConfigurator().apply(config(None), node_at(tmp_path))
    assert retried.ok and retried.commands == [DEL]


def test_no_interface_is_a_clear_failure(tmp_path: Path) -> None:
    result = FloatingAddressConfigurator().apply(config(FLOATING), node_at(tmp_path, None))
    assert not result.ok and "set agent.cluster_host_interface" in result.message
    assert commands(node_at(tmp_path, None)) == []


def test_the_interface_defaults_to_the_management_one(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "inv", "controller-0", "52:54:00:12:34:56", "192.168.204.3")
    assert mgmt_interface(root) == "eth0"
    assert mgmt_interface(tmp_path / "empty") is None


def test_it_runs_last_among_all_configurators(node: NodeContext) -> None:
    assert [c.name for c in ALL][-1] == "floating_address"
    results = apply_all(config(FLOATING), node)
    assert results[-1].name == "floating_address" and results[-1].ok
    assert ADD in commands(node)
