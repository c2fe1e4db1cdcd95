"""The Ceph configurator's files and commands for a platform-managed cluster, given to real
``ceph-mon``, ``ceph-mgr`` and ``ceph-osd`` processes: one host, then two, reach HEALTH_OK
with the replication sysinv chose for their pools.

Each host's agent writes into a root of its own with a recording runner; the test then runs
the recorded commands in the order the nodes would (every host's monitor first: two
monitors need each other for a quorum), starting a daemon in the foreground where a node
would run ``systemctl enable --now``.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sysinv_agent.configurators.ceph import CephConfigurator
from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.nodeconfig import CephConfig, CephDaemons, CephMonitor, CephOsd, HostConfig
from sysinv_conductor.ceph import pools
from sysinv_conductor.ceph.client import CephTarget, connect
from tests.ceph_nodes import TEST_OPTIONS, Node, ceph_json, phase
from tests.servers.ports import free_port


def gen_key() -> str:
    return subprocess.run(["ceph-authtool", "--gen-print-key"], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def host_configs(count: int) -> list[HostConfig]:
    """What the conductor sends each host of a ``count``-host platform cluster."""
    fsid = str(uuid.uuid4())
    names = [f"controller-{i}" for i in range(count)]
    ports = [(free_port(), free_port()) for _ in names]
    monitors = [
        CephMonitor(name=n, addr=f"[v2:127.0.0.1:{p2},v1:127.0.0.1:{p1}]")
        for n, (p2, p1) in zip(names, ports, strict=True)
    ]
    admin = gen_key()
    admin_keyring = (f"[client.admin]\n\tkey = {admin}\n\tcaps mds = \"allow *\"\n"
                     "\tcaps mgr = \"allow *\"\n\tcaps mon = \"allow *\"\n"
                     "\tcaps osd = \"allow *\"\n")  # fmt: skip
    mon_keyring = f'[mon.]\n\tkey = {gen_key()}\n\tcaps mon = "allow *"\n{admin_keyring}'
    replication = pools.replication_for(count)
    return [
        HostConfig(
            target="t1",
            hostname=name,
            personality="controller",
            ceph=CephConfig(
                fsid=fsid,
                mon_host=[f"127.0.0.1:{p1}" for _, p1 in ports],
                keyring=admin_keyring,
                daemons=CephDaemons(
                    monitors=monitors,
                    monitor=name,
                    mon_keyring=mon_keyring,
                    osds=[CephOsd(id=i, uuid=str(uuid.uuid4()), secret=gen_key())],
                    pool_size=replication.size,
                    pool_min_size=replication.min_size,
                    public_network="127.0.0.0/8",
                    objectstore="memstore",
                    options=TEST_OPTIONS,
                ),
            ),
        )
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize("count", [1, 2], ids=["one-node", "two-node"])
def test_agents_files_form_a_healthy_cluster(tmp_path: Path, count: int) -> None:
    nodes = [Node(tmp_path / c.hostname, c) for c in host_configs(count)]
    commands: dict[str, list[list[str]]] = {}
    for node in nodes:
        result = CephConfigurator().apply(node.config, node.ctx)
        assert result.ok, result.message
        commands[node.config.hostname] = result.commands
        assert (
            node.root / "var/lib/ceph/bootstrap-mon/ceph.mon.keyring"
        ).stat().st_mode & 0o777 == 0o600
        assert (node.root / "etc/ceph/ceph.client.admin.keyring").stat().st_mode & 0o777 == 0o600
        osd = node.config.ceph.daemons.osds[0]  # type: ignore[union-attr]
        keyring = node.root / f"var/lib/ceph/osd/ceph-{osd.id}/keyring"
        assert keyring.stat().st_mode & 0o777 == 0o600
        assert osd.secret not in " ".join(" ".join(c) for c in result.commands)
        # What was recorded is what the result reports, in order.
        log = (tmp_path / f"{node.root.name}.log").read_text().splitlines()
        assert [json.loads(line)["argv"] for line in log] == result.commands
    try:
        for step in (0, 1, 2):
            for node in nodes:
                for argv in commands[node.config.hostname]:
                    if phase(argv) == step:
                        node.run(argv)
        first = nodes[0]
        deadline = time.monotonic() + 180
        while True:
            for node in nodes:
                for proc in node.daemons:
                    proc.check_alive()
            status = ceph_json(first, "status")
            health = status.get("health", {}).get("status")  # type: ignore[union-attr]
            up = status.get("osdmap", {}).get("num_up_osds")  # type: ignore[union-attr]
            if health == "HEALTH_OK" and up == count:
                break
            assert time.monotonic() < deadline, f"not healthy: {json.dumps(status)[:2000]}"
            time.sleep(1)

        # The pool the rbd-provisioner gets, with the replication sysinv chose.
        ceph_config = first.config.ceph
        assert ceph_config is not None and ceph_config.daemons is not None
        daemons = ceph_config.daemons
        admin = first.root / "etc/ceph/ceph.client.admin.keyring"
        target = CephTarget(monitors=tuple(ceph_config.mon_host), keyring_path=admin)
        with connect(target, CephClientSettings(connect_timeout=10)) as ceph:
            pools.ensure_pool(ceph, "kube-rbd", pools.replication_for(count), "rbd")
            info = pools.pool_info(ceph, "kube-rbd")
            assert (info.size, info.min_size) == (daemons.pool_size, daemons.pool_min_size)
            tree = ceph.command("osd tree")
            hosts = sorted(n["name"] for n in tree["nodes"] if n["type"] == "host")
            assert hosts == [n.config.hostname for n in nodes]
            with ceph.ioctx("kube-rbd") as io:
                io.write_full("probe", b"replicated")
                assert io.read("probe") == b"replicated"
        deadline = time.monotonic() + 120
        while True:
            status = ceph_json(first, "status")
            pgs = status.get("pgmap", {})  # type: ignore[union-attr]
            clean = [s for s in pgs.get("pgs_by_state", []) if s["state_name"] == "active+clean"]
            healthy = status.get("health", {}).get("status") == "HEALTH_OK"  # type: ignore[union-attr]
            if healthy and clean and clean[0]["count"] == pgs.get("num_pgs"):
                break
            assert time.monotonic() < deadline, f"PGs not clean: {json.dumps(status)[:2000]}"
            time.sleep(1)
    finally:
        for node in nodes:
            node.stop()
