"""The Ceph configurator: the client's ``/etc/ceph/ceph.conf`` and admin keyring, and on
a host of the platform-managed cluster its daemons (``ceph_daemons``).

``ceph.conf`` (0644) holds the ``[global]`` fsid, when known, and the monitors;
``ceph.client.admin.keyring`` is written 0600 when the configuration carries a keyring. A
platform without Ceph (``config.ceph`` None) gets nothing, and nothing is deleted either:
files there may belong to a cluster sysinv does not manage. No command is run; Ceph clients
read these files each time they start.

The daemons sysinv runs on the host are kept in the configurator's state file
(``managed``); a host being deleted (``kubernetes.leave``) stops and disables those, and
only those, once (``stopped``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sysinv_agent.configurators.ceph_daemons import apply_daemons, daemon_conf, units
from sysinv_agent.fs import atomic_write, read_state, write_state
from sysinv_agent.runner import failed_result
from sysinv_common.nodeconfig import CephConfig, ConfiguratorResult, HostConfig

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

CEPH_CONF = "/etc/ceph/ceph.conf"
ADMIN_KEYRING = "/etc/ceph/ceph.client.admin.keyring"


def _single_line(what: str, value: str) -> str:
    if any(c in value for c in "\n\r\0") or not value.strip():
        raise ValueError(f"invalid {what} {value!r}")
    return value.strip()


def ceph_conf(ceph: CephConfig) -> bytes:
    """The content of ``ceph.conf``."""
    if not ceph.mon_host:
        raise ValueError("no Ceph monitor given")
    lines = ["# Written by sysinv-agent.", "[global]"]
    if ceph.fsid:
        lines.append(f"fsid = {_single_line('fsid', ceph.fsid)}")
    monitors = ",".join(_single_line("monitor", m) for m in ceph.mon_host)
    lines.append(f"mon_host = {monitors}")
    return ("\n".join(lines) + "\n").encode()


class CephConfigurator:
    name = "ceph"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        if config.kubernetes.leave:
            return self._leave(node)
        ceph = config.ceph
        if ceph is None:
            return ConfiguratorResult(name=self.name, ok=True, message="no Ceph cluster configured")
        files: list[str] = []
        commands: list[list[str]] = []
        try:
            if ceph.daemons is not None:
                conf = daemon_conf(ceph, ceph.daemons, config.hostname, node)
            else:
                conf = ceph_conf(ceph)
            if atomic_write(node.path(CEPH_CONF), conf, 0o644):
                files.append(CEPH_CONF)
            # Before the daemons' commands: ``osd new`` and the manager's key use it.
            if ceph.keyring is not None:
                keyring = (ceph.keyring.rstrip("\n") + "\n").encode()
                if atomic_write(node.path(ADMIN_KEYRING), keyring, 0o600):
                    files.append(ADMIN_KEYRING)
            if ceph.daemons is not None:
                written, commands = apply_daemons(ceph, ceph.daemons, config.hostname, node)
                files += written
                # What sysinv runs here, and what this host stops when it leaves (none
                # stopped yet: a host given daemons again is a member again).
                write_state(node.state_path(self.name), {"managed": units(ceph.daemons)})
        except ValueError as e:
            return ConfiguratorResult(name=self.name, ok=False, message=str(e))
        return ConfiguratorResult(
            name=self.name,
            ok=True,
            changed=bool(files or commands),
            files=files,
            commands=commands,
            message="Ceph files written" if files or commands else "up to date",
        )

    def _leave(self, node: NodeContext) -> ConfiguratorResult:
        """The host is being deleted: each Ceph daemon it runs stops, and stays stopped
        across reboots; one stopped at an earlier apply is not asked again."""
        state_path = node.state_path(self.name)
        state = read_state(state_path)
        stopped: list[str] = list(state.get("stopped", []))
        to_stop = [u for u in state.get("managed", []) if u not in stopped]
        commands: list[list[str]] = []
        for unit in to_stop:
            argv = ["systemctl", "disable", "--now", unit]
            commands.append(argv)
            outcome = node.runner.run(argv, timeout=120)
            if not outcome.ok:
                write_state(state_path, {**state, "stopped": stopped})
                return failed_result(self.name, [], commands, outcome)
            stopped.append(unit)
        if not to_stop:
            return ConfiguratorResult(name=self.name, ok=True, message="no Ceph daemon to stop")
        write_state(state_path, {**state, "stopped": stopped})
        return ConfiguratorResult(
            name=self.name, ok=True, changed=True, commands=commands,
            message=f"stopped {', '.join(to_stop)}: the host leaves the platform",
        )  # fmt: skip
