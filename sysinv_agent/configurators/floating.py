"""The floating address configurator: the active controller holds the floating
cluster-host address (kubeadm's ``controlPlaneEndpoint``), every other node does not.

With ``floating_address`` set, ``ip addr add ADDR/PREFIX dev IFACE`` on the node's
cluster-host interface (:attr:`NodeContext.interface`); without it, ``ip addr del`` of
the address this configurator added before, if any. What it added is recorded in
``/var/lib/sysinv-agent/floating_address.json`` (address, prefix, interface) before the
command runs, so that a crash in between still leaves the removal owed; an address
nobody asked it to add is never removed. Idempotent: an address already there (``File
exists``) counts as added, one already gone (``Cannot assign requested address``) as
removed.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from sysinv_agent.fs import read_state, write_state
from sysinv_agent.runner import failed_result, happened
from sysinv_common.nodeconfig import ConfiguratorResult, HostConfig

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

#: What ``ip`` says when the address is already on the interface, or already gone.
_ALREADY_ADDED = "File exists"
_ALREADY_GONE = "Cannot assign requested address"


def _held(state: dict[str, Any]) -> dict[str, Any] | None:
    held = state.get("held")
    if not isinstance(held, dict) or not {"address", "prefix", "interface"} <= held.keys():
        return None
    return held


def ip_addr(verb: str, held: dict[str, Any]) -> list[str]:
    """``ip addr add|del ADDR/PREFIX dev IFACE`` (the address checked: it is an argument)."""
    address = ipaddress.ip_address(str(held["address"]))
    return ["ip", "addr", verb, f"{address}/{int(held['prefix'])}", "dev", str(held["interface"])]


class FloatingAddressConfigurator:
    name = "floating_address"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        state_path = node.state_path(self.name)
        held = _held(read_state(state_path))
        wanted: dict[str, Any] | None = None
        floating = config.floating_address
        if floating is not None:
            if node.interface is None:
                return ConfiguratorResult(name=self.name, ok=False, message=(
                    "this node is the active controller but has no cluster-host interface "
                    "for the floating address: set agent.cluster_host_interface"))  # fmt: skip
            wanted = {"address": floating.address, "prefix": floating.prefix,
                      "interface": node.interface}  # fmt: skip
        if held == wanted:
            message = "not held" if wanted is None else f"{wanted['address']} held"
            return ConfiguratorResult(name=self.name, ok=True, message=message)
        commands: list[list[str]] = []
        if held is not None:  # given up (standby), or moved to another address or interface
            argv = ip_addr("del", held)
            outcome = node.runner.run(argv)
            commands.append(argv)
            if not outcome.ok and _ALREADY_GONE not in outcome.stderr:
                return failed_result(self.name, [], commands, outcome)
            write_state(state_path, {"held": None})
        if wanted is not None:
            write_state(state_path, {"held": wanted})  # owed its removal from now on
            argv = ip_addr("add", wanted)
            outcome = node.runner.run(argv)
            commands.append(argv)
            if not outcome.ok and _ALREADY_ADDED not in outcome.stderr:
                return failed_result(self.name, [], commands, outcome)
        gone = held["address"] if held is not None else None
        done = f"added {wanted['address']}" if wanted else f"removed {gone}"
        return ConfiguratorResult(
            name=self.name, ok=True, changed=True, commands=commands,
            message=happened(node.runner, done, f"{done} (recorded)"),
        )  # fmt: skip
