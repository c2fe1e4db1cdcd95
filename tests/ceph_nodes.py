"""Nodes of a platform-managed Ceph cluster in tests: each host's agent writes into a root
of its own with a recording runner, and the recorded commands are run in the order the
nodes would run them (every host's monitor first: two monitors need each other for a
quorum), a daemon started in the foreground where a node would run ``systemctl enable
--now``, and stopped where it would run ``systemctl disable --now``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sysinv_agent.configurators import NodeContext
from sysinv_agent.runner import RecordingRunner
from sysinv_common.nodeconfig import HostConfig
from tests.servers.procs import ManagedProcess

#: ``ceph.conf`` options that make small loopback clusters start here (memstore sizes, the
#: nearly full disk's warning thresholds, the object name lengths ext4 allows).
TEST_OPTIONS = {
    "memstore device bytes": str(1024**3),
    "mon data avail warn": "2",
    "mon data avail crit": "1",
    "osd max object name len": "256",
    "osd max object namespace len": "64",
}


def phase(argv: list[str]) -> int:
    """0: the monitor; 1: the manager (needs the monitors' quorum); 2: the OSDs."""
    joined = " ".join(argv)
    if argv[0] in ("monmaptool", "ceph-mon") or "ceph-mon@" in joined:
        return 0
    if "mgr" in joined:
        return 1
    return 2


class Node:
    def __init__(self, root: Path, config: HostConfig) -> None:
        self.root = root
        self.config = config
        self.ctx = NodeContext(root=root, runner=RecordingRunner(root.parent / f"{root.name}.log"))
        self.conf = str(self.ctx.path("/etc/ceph/ceph.conf"))
        self.daemons: list[ManagedProcess] = []

    def run(self, argv: list[str]) -> None:
        if argv[:3] == ["systemctl", "disable", "--now"]:  # the daemon stops, as on a node
            unit = argv[-1]
            for proc in [p for p in self.daemons if p.name.startswith(f"{unit} ")]:
                proc.stop()
                self.daemons.remove(proc)
            return
        if argv[0] == "systemctl":
            unit = argv[-1]
            binary, ident = unit.split("@")
            self.daemons.append(ManagedProcess(
                f"{unit} ({self.root.name})", [binary, "-c", self.conf, "-i", ident, "-f"],
                self.root.parent / f"{self.root.name}-{unit}.out",
            ))  # fmt: skip
            return
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{argv[:3]} failed: {done.stderr}"

    def stop(self) -> None:
        # OSDs, then the manager, then the monitor.
        order = {"ceph-osd": 0, "ceph-mgr": 1, "ceph-mon": 2}
        for proc in sorted(self.daemons, key=lambda p: order[p.argv[0]]):
            proc.stop()


def ceph_json(node: Node, *args: str) -> dict[str, object]:
    out = subprocess.run(["ceph", "-c", node.conf, "--connect-timeout", "10", *args, "-f", "json"],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {}
