"""The Calico and Ceph configurators."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.calico import CalicoConfigurator
from sysinv_agent.configurators.ceph import CephConfigurator
from sysinv_agent.runner import RecordingRunner, recorded_commands
from sysinv_common.nodeconfig import CalicoConfig, CephConfig, HostConfig
from tests.unit.agent import mode, snapshot

CALICO = CalicoConfig(node_name="worker-0", ip_autodetection="cidr=192.168.206.0/24")
CEPH = CephConfig(
    fsid="0b7ab2f6-7b5c-4bd3-9a8f-2d9ba1e0a3c1",
    mon_host=["192.168.206.2:6789", "192.168.206.3:6789"],
    keyring="[client.admin]\n\tkey = AQBsecret==",
)


@pytest.fixture
def node(tmp_path: Path) -> NodeContext:
    return NodeContext(tmp_path / "root", RecordingRunner(tmp_path / "commands.jsonl"))


def host(**fields: object) -> HostConfig:
    return HostConfig.model_validate({"target": "t", "hostname": "worker-0", **fields})


def log_of(node: NodeContext) -> Path:
    assert isinstance(node.runner, RecordingRunner)
    return node.runner.log_path


def test_calico_env_written_and_idempotent(node: NodeContext) -> None:
    result = CalicoConfigurator().apply(host(calico=CALICO), node)
    env = node.root / "etc/calico/calico-node.env"
    assert result.ok and result.files == ["/etc/calico/calico-node.env"]
    assert env.read_text().splitlines() == [
        "NODENAME=worker-0",
        "IP_AUTODETECTION_METHOD=cidr=192.168.206.0/24",
    ]
    assert mode(env) == 0o644

    before = snapshot(node.root)
    again = CalicoConfigurator().apply(host(calico=CALICO), node)
    assert again.ok and not again.changed
    assert snapshot(node.root) == before

    changed = CalicoConfigurator().apply(
        host(calico=CALICO.model_copy(update={"node_name": "worker-1"})), node
    )
    assert changed.changed
    assert env.read_text().startswith("NODENAME=worker-1\n")
    assert recorded_commands(log_of(node)) == []


def test_calico_none_removes_only_our_file(node: NodeContext) -> None:
    env = node.root / "etc/calico/calico-node.env"
    CalicoConfigurator().apply(host(calico=CALICO), node)
    removed = CalicoConfigurator().apply(host(), node)
    assert removed.ok and removed.changed
    assert not env.exists()

    env.write_text("NODENAME=hand-written\n")
    kept = CalicoConfigurator().apply(host(), node)
    assert kept.ok and not kept.changed
    assert env.read_text() == "NODENAME=hand-written\n"


def test_calico_none_leaves_a_foreign_file(node: NodeContext) -> None:
    env = node.root / "etc/calico/calico-node.env"
    env.parent.mkdir(parents=True)
    env.write_text("NODENAME=operator\n")
    result = CalicoConfigurator().apply(host(), node)
    assert result.ok and not result.changed
    assert env.read_text() == "NODENAME=operator\n"


def test_calico_bad_value_keeps_previous_file(node: NodeContext) -> None:
    CalicoConfigurator().apply(host(calico=CALICO), node)
    before = snapshot(node.root)
    bad = CALICO.model_copy(update={"node_name": "worker-0\nEVIL=1"})
    result = CalicoConfigurator().apply(host(calico=bad), node)
    assert result.ok is False
    assert snapshot(node.root) == before


def test_ceph_files_modes_and_content(node: NodeContext) -> None:
    result = CephConfigurator().apply(host(ceph=CEPH), node)
    assert result.ok
    assert set(result.files) == {"/etc/ceph/ceph.conf", "/etc/ceph/ceph.client.admin.keyring"}
    conf = node.root / "etc/ceph/ceph.conf"
    parser = configparser.ConfigParser()
    parser.read_string(conf.read_text())
    assert dict(parser["global"]) == {
        "fsid": "0b7ab2f6-7b5c-4bd3-9a8f-2d9ba1e0a3c1",
        "mon_host": "192.168.206.2:6789,192.168.206.3:6789",
    }
    assert mode(conf) == 0o644
    keyring = node.root / "etc/ceph/ceph.client.admin.keyring"
    assert keyring.read_text() == "[client.admin]\n\tkey = AQBsecret==\n"
    assert mode(keyring) == 0o600
    assert mode(node.root / "etc/ceph") == 0o755
    assert recorded_commands(log_of(node)) == []


def test_ceph_idempotent(node: NodeContext) -> None:
    CephConfigurator().apply(host(ceph=CEPH), node)
    before = snapshot(node.root)
    again = CephConfigurator().apply(host(ceph=CEPH), node)
    assert again.ok and not again.changed and again.files == []
    assert snapshot(node.root) == before


def test_ceph_without_fsid_or_keyring(node: NodeContext) -> None:
    CephConfigurator().apply(host(ceph=CEPH), node)
    result = CephConfigurator().apply(host(ceph=CephConfig(mon_host=["10.0.0.1"])), node)
    assert result.files == ["/etc/ceph/ceph.conf"]
    parser = configparser.ConfigParser()
    parser.read_string((node.root / "etc/ceph/ceph.conf").read_text())
    assert dict(parser["global"]) == {"mon_host": "10.0.0.1"}
    # No keyring in the configuration: the one already there stays.
    assert (node.root / "etc/ceph/ceph.client.admin.keyring").exists()


def test_no_ceph_does_nothing(node: NodeContext) -> None:
    CephConfigurator().apply(host(ceph=CEPH), node)
    before = snapshot(node.root)
    result = CephConfigurator().apply(host(), node)
    assert result.ok and not result.changed
    assert result.message == "no Ceph cluster configured"
    assert snapshot(node.root) == before


def test_ceph_bad_monitor_keeps_previous_file(node: NodeContext) -> None:
    CephConfigurator().apply(host(ceph=CEPH), node)
    before = snapshot(node.root)
    result = CephConfigurator().apply(host(ceph=CephConfig(mon_host=["a\nb"])), node)
    assert result.ok is False
    assert snapshot(node.root) == before
