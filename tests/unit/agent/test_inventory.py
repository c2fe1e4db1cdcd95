"""Inventory collection from a node's files, and the fake roots tests build."""

from __future__ import annotations

import os
from pathlib import Path

from sysinv_agent.inventory import collect, fake_root
from sysinv_common.nodeconfig import Disk


def test_collect_from_a_fake_root(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path / "node",
        hostname="worker-0",
        mac="52:54:00:AB:CD:EF",
        ip="192.168.206.10",
        cpus=6,
        memory_kib=16_000_000,
        disks={"sda": 512 * 1000, "nvme0n1": 512 * 2000},
    )
    inventory = collect(root, "1.2.3")
    assert inventory.hostname == "worker-0"
    assert inventory.mgmt_mac == "52:54:00:ab:cd:ef"
    assert inventory.mgmt_ip == "192.168.206.10"
    assert inventory.cpus == 6
    assert inventory.memory_bytes == 16_000_000 * 1024
    assert inventory.disks == [
        Disk(name="nvme0n1", size_bytes=512 * 2000, rotational=False),
        Disk(name="sda", size_bytes=512 * 1000, rotational=True),
    ]
    assert inventory.os == "Debian GNU/Linux 12"
    assert inventory.agent_version == "1.2.3"


def test_default_fake_root(tmp_path: Path) -> None:
    inventory = collect(fake_root(tmp_path, "h", "02:00:00:00:00:01", "10.0.0.5"), "v")
    assert inventory.cpus == 4
    assert inventory.memory_bytes == 8_000_000 * 1024
    assert inventory.disks == [Disk(name="sda", size_bytes=100 * 1024**3, rotational=True)]


def test_empty_root_gives_nothing_and_no_error(tmp_path: Path) -> None:
    inventory = collect(tmp_path, "v")
    assert inventory.hostname == ""
    assert inventory.mgmt_mac is None
    assert inventory.mgmt_ip is None
    assert inventory.cpus is None
    assert inventory.memory_bytes is None
    assert inventory.disks == []
    assert inventory.os is None


def test_loopback_and_virtual_interfaces_are_skipped(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "h", "02:00:00:00:00:02", "10.0.0.5")
    net = root / "sys/class/net"
    # A virtual bridge, linked the way sysfs does, sorting before eth0.
    virtual = root / "sys/devices/virtual/net/docker0"
    virtual.mkdir(parents=True)
    (virtual / "address").write_text("02:42:00:00:00:99\n")
    os.symlink("../../devices/virtual/net/docker0", net / "docker0")
    # A loopback under another name, recognised by its type.
    (net / "aaa").mkdir()
    (net / "aaa/address").write_text("00:00:00:00:00:00\n")
    (net / "aaa/type").write_text("772\n")
    # An interface without an address file does not count either.
    (net / "bbb").mkdir()
    assert collect(root, "v").mgmt_mac == "02:00:00:00:00:02"


def test_partial_and_odd_files(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "h", "02:00:00:00:00:03", "10.0.0.5", disks={"vda": 4096})
    (root / "etc/os-release").write_text("NAME=Thing\n")
    (root / "proc/meminfo").write_text("garbage\n")
    (root / "sys/block/vda/queue/rotational").unlink()
    (root / "sys/block/ram0").mkdir()
    (root / "sys/block/ram0/size").write_text("8\n")
    (root / "sys/block/sdz").mkdir()
    (root / "sys/block/sdz/size").write_text("not a number\n")
    (root / "etc/hostname").unlink()
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/hostname").write_text("from-proc\n")
    inventory = collect(root, "v")
    assert inventory.os is None
    assert inventory.memory_bytes is None
    assert inventory.disks == [Disk(name="vda", size_bytes=4096, rotational=None)]
    assert inventory.hostname == "from-proc"
