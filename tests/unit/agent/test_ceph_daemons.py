"""The Ceph configurator for a platform-managed cluster: files, modes, commands recorded,
and nothing made twice (real daemons run these in tests/integration/test_ceph_node_config.py)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.ceph import CephConfigurator
from sysinv_agent.runner import CommandResult, RecordingRunner
from sysinv_common.nodeconfig import CephConfig, CephDaemons, CephMonitor, CephOsd, HostConfig
from tests.unit.agent import mode

SECRET = "AQBhJ0xlAAAAABAAqKmMXkdgPBcEu5Z+Wx8nGA=="
DAEMONS = CephDaemons(
    monitors=[CephMonitor(name="controller-0", addr="[v2:10.0.0.2:3300,v1:10.0.0.2:6789]")],
    monitor="controller-0",
    mon_keyring=f"[mon.]\n\tkey = {SECRET}\n",
    osds=[CephOsd(id=0, uuid="5f0c1a52-3b6c-4f0e-9b0e-0d6f2b1c7a11", secret=SECRET)],
    pool_size=1,
    pool_min_size=1,
    public_network="10.0.0.0/24",
)


@pytest.fixture
def node(tmp_path: Path) -> NodeContext:
    return NodeContext(root=tmp_path / "root", runner=RecordingRunner(tmp_path / "cmds.log"))


def config(daemons: CephDaemons = DAEMONS) -> HostConfig:
    ceph = CephConfig(fsid="0b7ab2f6-7b5c-4bd3-9a8f-2d9ba1e0a3c1", mon_host=["10.0.0.2:6789"],
                      keyring=f"[client.admin]\n\tkey = {SECRET}\n", daemons=daemons)  # fmt: skip
    return HostConfig(target="t", hostname="controller-0", ceph=ceph)


def test_daemon_files_and_commands(node: NodeContext) -> None:
    result = CephConfigurator().apply(config(), node)
    assert result.ok, result.message
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string((node.root / "etc/ceph/ceph.conf").read_text())
    glob = parser["global"]
    assert (glob["osd pool default size"], glob["osd pool default min size"]) == ("1", "1")
    assert glob["mon allow pool size one"] == "true"
    assert glob["mon host"] == "[v2:10.0.0.2:3300,v1:10.0.0.2:6789]"
    assert "keyring" not in glob  # a [global] keyring breaks the daemons' authentication
    assert parser["osd"]["crush location"] == "root=default host=controller-0"
    for private in ("var/lib/ceph/bootstrap-mon/ceph.mon.keyring",
                    "var/lib/ceph/osd/ceph-0/keyring", "var/lib/ceph/osd/ceph-0/new.json",
                    "etc/ceph/ceph.client.admin.keyring"):  # fmt: skip
        assert mode(node.root / private) == 0o600, private
    first = [c[0] if c[0] != "systemctl" else c[-1] for c in result.commands]
    assert first == ["monmaptool", "ceph-mon", "ceph-mon@controller-0", "ceph",
                     "ceph-mgr@controller-0", "ceph", "ceph-osd", "ceph-osd@0"]  # fmt: skip
    assert SECRET not in repr(result.commands) and SECRET not in result.message


def test_made_daemons_are_not_made_again(node: NodeContext) -> None:
    CephConfigurator().apply(config(), node)
    # As ceph-mon --mkfs and ceph-osd --mkfs leave them.
    (node.root / "var/lib/ceph/mon/ceph-controller-0").mkdir(parents=True)
    (node.root / "var/lib/ceph/mon/ceph-controller-0/keyring").write_text("k")
    (node.root / "var/lib/ceph/osd/ceph-0/whoami").write_text("0")
    again = CephConfigurator().apply(config(), node)
    assert again.ok and again.commands == [] and not again.changed


def test_a_bad_value_is_refused(node: NodeContext) -> None:
    bad = DAEMONS.model_copy(update={"public_network": "10.0.0.0/24\n[osd]"})
    result = CephConfigurator().apply(config(bad), node)
    assert result.ok is False and "invalid network" in result.message
    assert result.commands == []


def leaving() -> HostConfig:
    return HostConfig(target="t2", hostname="controller-0", kubernetes={"leave": True})


def test_a_leaving_host_stops_the_daemons_sysinv_runs_there_once(node: NodeContext) -> None:
    CephConfigurator().apply(config(), node)
    # A daemon sysinv did not make is none of its business.
    (node.root / "var/lib/ceph/osd/ceph-7").mkdir(parents=True)
    (node.root / "var/lib/ceph/osd/ceph-7/whoami").write_text("7")
    result = CephConfigurator().apply(leaving(), node)
    assert result.ok and result.changed, result.message
    assert result.commands == [
        ["systemctl", "disable", "--now", unit]
        for unit in ("ceph-osd@0", "ceph-mgr@controller-0", "ceph-mon@controller-0")
    ]
    assert "ceph-osd@0" in result.message
    again = CephConfigurator().apply(leaving(), node)
    assert again.ok and not again.changed and again.commands == []


def test_a_failed_stop_is_retried_and_the_stopped_ones_are_not(
    node: NodeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    CephConfigurator().apply(config(), node)
    real = node.runner.run

    def mgr_fails(argv: list[str], **kwargs: object) -> CommandResult:
        if argv[-1].startswith("ceph-mgr@"):
            return CommandResult(argv=argv, returncode=1, stdout="", stderr="unit busy")
        return real(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(node.runner, "run", mgr_fails)
    first = CephConfigurator().apply(leaving(), node)
    assert not first.ok and "unit busy" in first.message
    assert [c[-1] for c in first.commands] == ["ceph-osd@0", "ceph-mgr@controller-0"]
    monkeypatch.undo()
    second = CephConfigurator().apply(leaving(), node)
    assert second.ok
    assert [c[-1] for c in second.commands] == ["ceph-mgr@controller-0", "ceph-mon@controller-0"]


def test_a_host_that_ran_no_daemon_leaves_without_a_command(node: NodeContext) -> None:
    result = CephConfigurator().apply(leaving(), node)
    assert result.ok and not result.changed and result.commands == []
