"""The Calico configurator: ``/etc/calico/calico-node.env`` for the node's calico-node.

calico-node reads the file when it starts, so nothing is run here: when a change must reach
a running calico-node, the conductor restarts its pod through Kubernetes. With no Calico
configuration the file is removed, but only if sysinv wrote it (recorded in
``/var/lib/sysinv-agent/calico.json``); one written by someone else is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sysinv_agent.fs import atomic_write, read_state, remove_file, write_state
from sysinv_common.nodeconfig import CalicoConfig, ConfiguratorResult, HostConfig

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

CALICO_ENV = "/etc/calico/calico-node.env"


def calico_env(calico: CalicoConfig) -> bytes:
    """The content of ``calico-node.env``."""
    values = {"NODENAME": calico.node_name, "IP_AUTODETECTION_METHOD": calico.ip_autodetection}
    for key, value in values.items():
        # One assignment per line, read without a shell: a break or blank would corrupt it.
        if not value or any(c.isspace() for c in value) or "\0" in value:
            raise ValueError(f"invalid {key} {value!r}")
    return "".join(f"{k}={v}\n" for k, v in values.items()).encode()


class CalicoConfigurator:
    name = "calico"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        path = node.path(CALICO_ENV)
        state_path = node.state_path(self.name)
        if config.calico is None:
            if read_state(state_path).get("wrote_env") and remove_file(path):
                write_state(state_path, {"wrote_env": False})
                return ConfiguratorResult(
                    name=self.name,
                    ok=True,
                    changed=True,
                    files=[CALICO_ENV],
                    message="no Calico configuration; removed the file sysinv wrote",
                )
            return ConfiguratorResult(name=self.name, ok=True, message="no Calico configuration")
        try:
            content = calico_env(config.calico)
        except ValueError as e:
            return ConfiguratorResult(name=self.name, ok=False, message=str(e))
        # Claimed before writing, so a crash right after the write cannot orphan the file.
        write_state(state_path, {"wrote_env": True})
        changed = atomic_write(path, content, 0o644)
        return ConfiguratorResult(
            name=self.name,
            ok=True,
            changed=changed,
            files=[CALICO_ENV] if changed else [],
            message="calico-node.env written" if changed else "up to date",
        )
