"""What a node reports about itself (:class:`Inventory`), read from files under its root.

Everything comes from plain files (``/etc``, ``/proc``, ``/sys``) under the agent's root, so
the same code reads a real node (root ``/``) and a fake tree built by :func:`fake_root` for
tests and the embedded mode's local agent. A missing or unreadable file gives None or an empty
list, never an exception: a partial inventory is still worth reporting.

Sources:

* hostname: ``/etc/hostname`` (else ``/proc/sys/kernel/hostname``; else empty);
* management interface: the first interface, in name order, under ``/sys/class/net`` that has
  an ``address`` file and is neither the loopback nor virtual (on a real node
  ``/sys/class/net/<if>`` links into ``/sys/devices/virtual/...`` for bridges, veths,
  tunnels: docker0 and the cali* interfaces would otherwise sort before the NIC); its MAC is
  that ``address`` file;
* management IP: the file ``/etc/sysinv/mgmt_ip``, written when the node is provisioned. The
  kernel's ``/proc/net/fib_trie`` lists local addresses but not their interfaces, and matching
  them to one through the routing table is more guesswork than this file;
* CPUs: the ``processor`` lines of ``/proc/cpuinfo``; memory: ``MemTotal`` in ``/proc/meminfo``;
* disks: ``/sys/block/<name>/size`` (512-byte sectors) and ``queue/rotational``, except
  ``loop*`` and ``ram*``;
* OS: ``PRETTY_NAME`` in ``/etc/os-release``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from sysinv_agent.fs import rooted
from sysinv_common.nodeconfig import Disk, Inventory

MGMT_IP_FILE = "/etc/sysinv/mgmt_ip"

_SECTOR = 512
_ARPHRD_LOOPBACK = "772"
_PROCESSOR = re.compile(r"^processor\s*:", re.MULTILINE)
_MEMTOTAL = re.compile(r"^MemTotal:\s*(\d+)\s*kB", re.MULTILINE)


def _read(root: Path, absolute: str) -> str | None:
    try:
        return rooted(root, absolute).read_text(errors="replace")
    except (OSError, ValueError):
        return None


def _first_line(root: Path, absolute: str) -> str | None:
    text = _read(root, absolute)
    if text is None:
        return None
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line or None


def _hostname(root: Path) -> str:
    return (
        _first_line(root, "/etc/hostname") or _first_line(root, "/proc/sys/kernel/hostname") or ""
    )


def _is_virtual(root: Path, interface: Path) -> bool:
    try:
        target = interface.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return target.as_posix().startswith("sys/devices/virtual/")


def _mgmt_nic(root: Path) -> tuple[str, str] | None:
    """The management interface's name and MAC (the rule in the module docstring)."""
    net = rooted(root, "/sys/class/net")
    try:
        interfaces = sorted(net.iterdir(), key=lambda p: p.name)
    except OSError:
        return None
    for interface in interfaces:
        if interface.name == "lo" or _is_virtual(root, interface):
            continue
        if _first_line(root, f"/sys/class/net/{interface.name}/type") == _ARPHRD_LOOPBACK:
            continue
        mac = _first_line(root, f"/sys/class/net/{interface.name}/address")
        if mac:
            return interface.name, mac.lower()
    return None


def _mgmt_mac(root: Path) -> str | None:
    nic = _mgmt_nic(root)
    return nic[1] if nic else None


def mgmt_interface(root: Path) -> str | None:
    """The management interface's name (``eth0``); None when the node has none."""
    nic = _mgmt_nic(root)
    return nic[0] if nic else None


def _cpus(root: Path) -> int | None:
    text = _read(root, "/proc/cpuinfo")
    count = len(_PROCESSOR.findall(text)) if text else 0
    return count or None


def _memory_bytes(root: Path) -> int | None:
    text = _read(root, "/proc/meminfo")
    match = _MEMTOTAL.search(text) if text else None
    return int(match.group(1)) * 1024 if match else None


def _disks(root: Path) -> list[Disk]:
    try:
        devices = sorted(rooted(root, "/sys/block").iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    disks: list[Disk] = []
    for device in devices:
        name = device.name
        if name.startswith(("loop", "ram")):
            continue
        size = _first_line(root, f"/sys/block/{name}/size")
        if size is None or not size.isdigit():
            continue
        rotational = _first_line(root, f"/sys/block/{name}/queue/rotational")
        disks.append(
            Disk(
                name=name,
                size_bytes=int(size) * _SECTOR,
                rotational={"1": True, "0": False}.get(rotational or ""),
            )
        )
    return disks


def _os_name(root: Path) -> str | None:
    text = _read(root, "/etc/os-release")
    if text is None:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "PRETTY_NAME":
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value.strip()]
            return " ".join(words) or None
    return None


def collect(root: Path, agent_version: str) -> Inventory:
    """The inventory of the node whose files are under ``root``."""
    return Inventory(
        hostname=_hostname(root),
        mgmt_mac=_mgmt_mac(root),
        mgmt_ip=_first_line(root, MGMT_IP_FILE),
        cpus=_cpus(root),
        memory_bytes=_memory_bytes(root),
        disks=_disks(root),
        os=_os_name(root),
        agent_version=agent_version,
    )


def _put(root: Path, absolute: str, text: str) -> None:
    path = rooted(root, absolute)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_root(
    path: Path,
    hostname: str,
    mac: str,
    ip: str,
    cpus: int = 4,
    memory_kib: int = 8_000_000,
    disks: dict[str, int] | None = None,
) -> Path:
    """Build under ``path`` the files :func:`collect` reads, for a node with these facts.

    The management interface is ``eth0`` (next to a loopback ``lo`` and a ``loop0`` device
    that must not count); ``disks`` maps device names to sizes in bytes (rounded down to
    whole sectors; default one 100 GiB ``sda``); ``sd*`` and ``hd*`` disks are rotational.
    Returns ``path``.
    """
    if disks is None:
        disks = {"sda": 100 * 1024**3}
    _put(path, "/etc/hostname", f"{hostname}\n")
    _put(path, "/etc/os-release", 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12"\n')
    _put(path, MGMT_IP_FILE, f"{ip}\n")
    _put(path, "/sys/class/net/lo/address", "00:00:00:00:00:00\n")
    _put(path, "/sys/class/net/lo/type", f"{_ARPHRD_LOOPBACK}\n")
    _put(path, "/sys/class/net/eth0/address", f"{mac}\n")
    _put(path, "/sys/class/net/eth0/type", "1\n")
    _put(
        path,
        "/proc/cpuinfo",
        "".join(f"processor\t: {i}\nmodel name\t: Fake CPU\n\n" for i in range(cpus)),
    )
    _put(path, "/proc/meminfo", f"MemTotal:       {memory_kib} kB\nMemFree:        1024 kB\n")
    _put(path, "/sys/block/loop0/size", "2048\n")
    for name, size in disks.items():
        _put(path, f"/sys/block/{name}/size", f"{size // _SECTOR}\n")
        rotational = "1" if name.startswith(("sd", "hd")) else "0"
        _put(path, f"/sys/block/{name}/queue/rotational", f"{rotational}\n")
    return path
