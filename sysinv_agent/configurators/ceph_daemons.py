"""A platform-managed Ceph cluster's daemons on this host: their ``ceph.conf``, keyrings
and the commands that create and start them.

Files: ``ceph.conf`` (0644) with the cluster's ``[global]`` settings, the replication the
conductor chose as the pools' default, and each daemon's data, run and log paths; the
monitor's bootstrap keyring (``mon.`` and ``client.admin``) and each OSD's keyring, 0600.

Commands, in the order a node runs them (the runner records them in tests and the embedded
mode): for a monitor not yet made, ``monmaptool --create`` and ``ceph-mon --mkfs``, then
its start, the manager's key and its start; for each OSD not yet made, ``ceph osd new``
(with the conductor's id, uuid and key), ``ceph-osd --mkfs`` and its start. A daemon whose
data directory is already initialised is not made again.

A host being deleted (``kubernetes.leave``) stops and disables the daemons sysinv runs
there (``units``), its OSDs first and its monitor last; their data stays for the operator
to wipe, and the cluster purges the OSDs once they are down.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sysinv_agent.fs import atomic_write
from sysinv_common.nodeconfig import CephConfig, CephDaemons

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

CEPH_CONF = "/etc/ceph/ceph.conf"
ADMIN_KEYRING = "/etc/ceph/ceph.client.admin.keyring"
DATA = "/var/lib/ceph"
RUN = "/var/run/ceph"
LOG = "/var/log/ceph"
MON_KEYRING = f"{DATA}/bootstrap-mon/ceph.mon.keyring"
MONMAP = f"{DATA}/bootstrap-mon/monmap"


def _line(what: str, value: str) -> str:
    if any(c in value for c in "\n\r\0") or not value.strip():
        raise ValueError(f"invalid {what} {value!r}")
    return value.strip()


def daemon_conf(ceph: CephConfig, daemons: CephDaemons, hostname: str, node: NodeContext) -> bytes:
    """``ceph.conf`` for a host of the platform's cluster."""
    if not ceph.fsid:
        raise ValueError("a platform-managed Ceph cluster needs its fsid")
    data, run, log = (str(node.path(p)) for p in (DATA, RUN, LOG))
    members = ",".join(_line("monitor name", m.name) for m in daemons.monitors)
    hosts = ",".join(_line("monitor address", m.addr) for m in daemons.monitors)
    lines = [
        "# Written by sysinv-agent: a platform-managed Ceph cluster.",
        "[global]",
        f"fsid = {_line('fsid', ceph.fsid)}",
        f"mon initial members = {members}",
        f"mon host = {hosts}",
        f"public network = {_line('network', daemons.public_network)}",
        "auth cluster required = cephx",
        "auth service required = cephx",
        "auth client required = cephx",
        "auth allow insecure global id reclaim = false",
        f"osd pool default size = {daemons.pool_size}",
        f"osd pool default min size = {daemons.pool_min_size}",
        f"osd objectstore = {_line('objectstore', daemons.objectstore)}",
        f"run dir = {run}",
        f"admin socket = {run}/$cluster-$name.asok",
        f"log file = {log}/$cluster-$name.log",
        f"mon data = {data}/mon/$cluster-$id",
        f"mgr data = {data}/mgr/$cluster-$id",
        f"osd data = {data}/osd/$cluster-$id",
    ]
    if daemons.pool_size == 1:
        # One storage host keeps one copy: Ceph must be told that is meant.
        lines += ["mon allow pool size one = true", "mon warn on pool no redundancy = false"]
    for key, value in sorted(daemons.options.items()):
        lines.append(f"{_line('option', key)} = {_line('option value', value)}")
    # Keyrings per section: one in [global] would be used by the daemons too, whose
    # authentication then fails.
    lines += [
        "[client]",
        f"keyring = {node.path(ADMIN_KEYRING)}",
        "[mgr]",
        f"keyring = {data}/mgr/$cluster-$id/keyring",
        "[osd]",
        f"keyring = {data}/osd/$cluster-$id/keyring",
        # Each OSD under this host in CRUSH, by sysinv's name: copies go to other hosts.
        f"crush location = root=default host={_line('hostname', hostname)}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _keyring(entity: str, secret: str) -> bytes:
    return f"[{entity}]\n\tkey = {_line('key', secret)}\n".encode()


def apply_daemons(
    ceph: CephConfig, daemons: CephDaemons, hostname: str, node: NodeContext
) -> tuple[list[str], list[list[str]]]:
    """Write this host's daemon keyrings and run (or record) the commands of the daemons
    not yet made (``ceph.conf`` and the admin keyring are written before); the files
    written and the commands, or ``ValueError`` for a bad value."""
    files: list[str] = []
    commands: list[list[str]] = []
    conf = str(node.path(CEPH_CONF))
    for directory in (RUN, LOG, f"{DATA}/mon", f"{DATA}/mgr", f"{DATA}/osd"):  # as packaged
        node.path(directory).mkdir(parents=True, exist_ok=True)

    def run(*argv: str) -> None:
        commands.append(list(argv))
        node.runner.run(list(argv), timeout=120)

    if daemons.monitor is not None:
        name = _line("monitor name", daemons.monitor)
        if daemons.mon_keyring is None:
            raise ValueError(f"monitor {name} has no bootstrap keyring")
        keyring = daemons.mon_keyring.rstrip("\n") + "\n"
        if atomic_write(node.path(MON_KEYRING), keyring.encode(), 0o600):
            files.append(MON_KEYRING)
        mon_data = node.path(f"{DATA}/mon/ceph-{name}")
        if not (mon_data / "keyring").exists():
            monmap = str(node.path(MONMAP))
            addv = [a for m in daemons.monitors for a in ("--addv", m.name, m.addr)]
            run("monmaptool", "--create", "--clobber", "--fsid", str(ceph.fsid), *addv, monmap)
            run("ceph-mon", "-c", conf, "--mkfs", "-i", name, "--monmap", monmap,
                "--keyring", str(node.path(MON_KEYRING)))  # fmt: skip
            run("systemctl", "enable", "--now", f"ceph-mon@{name}")
            mgr_keyring = str(node.path(f"{DATA}/mgr/ceph-{name}/keyring"))
            node.path(f"{DATA}/mgr/ceph-{name}").mkdir(parents=True, exist_ok=True)
            caps = ["mon", "allow profile mgr", "osd", "allow *", "mds", "allow *"]
            run("ceph", "-c", conf, "auth", "get-or-create", f"mgr.{name}", *caps,
                "-o", mgr_keyring)  # fmt: skip
            run("systemctl", "enable", "--now", f"ceph-mgr@{name}")
    for osd in daemons.osds:
        osd_dir = f"{DATA}/osd/ceph-{osd.id}"
        keyring_path = f"{osd_dir}/keyring"
        if atomic_write(node.path(keyring_path), _keyring(f"osd.{osd.id}", osd.secret), 0o600):
            files.append(keyring_path)
        if (node.path(osd_dir) / "whoami").exists():
            continue
        # ``osd new`` reads the key from a file, never from its command line (ps shows it).
        new = f"{osd_dir}/new.json"
        atomic_write(node.path(new), json.dumps({"cephx_secret": osd.secret}).encode(), 0o600)
        run("ceph", "-c", conf, "osd", "new", osd.uuid, str(osd.id), "-i", str(node.path(new)))
        run("ceph-osd", "-c", conf, "-i", str(osd.id), "--mkfs", "--osd-uuid", osd.uuid)
        run("systemctl", "enable", "--now", f"ceph-osd@{osd.id}")
    return files, commands


def units(daemons: CephDaemons) -> list[str]:
    """The systemd units of this host's Ceph daemons, in the order a leaving host stops
    them: OSDs, then the manager, then the monitor."""
    out = [f"ceph-osd@{osd.id}" for osd in daemons.osds]
    if daemons.monitor is not None:
        name = _line("monitor name", daemons.monitor)
        out += [f"ceph-mgr@{name}", f"ceph-mon@{name}"]
    return out
