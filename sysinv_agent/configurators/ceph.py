"""The Ceph configurator: the client's ``/etc/ceph/ceph.conf`` and admin keyring, and on
a host of the platform-managed cluster its daemons (``ceph_daemons``).

``ceph.conf`` (0644) holds the ``[global]`` fsid, when known, and the monitors;
``ceph.client.admin.keyring`` is written 0600 when the configuration carries a keyring. A
platform without Ceph (``config.ceph`` None) gets nothing, and nothing is deleted either:
files there may belong to a cluster sysinv does not manage. No command is run; Ceph clients
read these files each time they start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sysinv_agent.configurators.ceph_daemons import apply_daemons, daemon_conf
from sysinv_agent.fs import atomic_write
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
