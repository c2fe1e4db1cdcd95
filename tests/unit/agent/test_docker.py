"""The Docker configurator: daemon.json, the registry CA, the proxy drop-in, restarts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.docker import DockerConfigurator
from sysinv_agent.runner import (
    CommandResult,
    RecordingRunner,
    SubprocessRunner,
    happened,
    recorded_commands,
)
from sysinv_common.nodeconfig import DockerConfig, HostConfig
from tests.unit.agent import mode, snapshot

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
RELOAD = ["systemctl", "daemon-reload"]
RESTART = ["systemctl", "restart", "docker"]


def host(**docker: object) -> HostConfig:
    return HostConfig(target="t", hostname="worker-0", docker=DockerConfig.model_validate(docker))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "commands.jsonl"


def node(root: Path, log: Path, fail: tuple[str, ...] = ()) -> NodeContext:
    return NodeContext(root, RecordingRunner(log, fail=fail))


def daemon(root: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / "etc/docker/daemon.json").read_text())
    return loaded


def test_writes_files_and_restarts(root: Path, log: Path) -> None:
    config = host(
        registry="registry.local:9001",
        registry_ca=PEM,
        registry_mirrors=["https://mirror.example"],
        http_proxy="http://proxy:3128",
        no_proxy="localhost,.local",
        cgroup_driver="cgroupfs",
    )
    result = DockerConfigurator().apply(config, node(root, log))
    assert result.ok and result.changed

    text = (root / "etc/docker/daemon.json").read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert daemon(root) == {
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "log-driver": "json-file",
        "log-opts": {"max-size": "100m", "max-file": "3"},
        "registry-mirrors": ["https://mirror.example"],
    }
    assert mode(root / "etc/docker/daemon.json") == 0o644

    ca = root / "etc/docker/certs.d/registry.local:9001/ca.crt"
    assert ca.read_text() == PEM + "\n"
    assert mode(ca) == 0o644

    dropin = (root / "etc/systemd/system/docker.service.d/http-proxy.conf").read_text()
    assert dropin.splitlines()[1:] == [
        "[Service]",
        'Environment="HTTP_PROXY=http://proxy:3128"',
        'Environment="NO_PROXY=localhost,.local"',
    ]
    assert recorded_commands(log) == [RELOAD, RESTART]
    assert result.commands == [RELOAD, RESTART]
    assert set(result.files) == {
        "/etc/docker/daemon.json",
        "/etc/docker/certs.d/registry.local:9001/ca.crt",
        "/etc/systemd/system/docker.service.d/http-proxy.conf",
    }


def test_insecure_registries_only_when_given(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(registry="r:1", registry_ca=PEM), node(root, log))
    assert "insecure-registries" not in daemon(root)
    assert "registry-mirrors" not in daemon(root)
    DockerConfigurator().apply(
        host(registry="r:1", registry_ca=PEM, insecure_registries=["lab:5000"]), node(root, log)
    )
    assert daemon(root)["insecure-registries"] == ["lab:5000"]


def test_second_apply_writes_and_runs_nothing(root: Path, log: Path) -> None:
    config = host(registry="r:1", registry_ca=PEM, https_proxy="http://p:1")
    DockerConfigurator().apply(config, node(root, log))
    before, commands = snapshot(root), recorded_commands(log)
    result = DockerConfigurator().apply(config, node(root, log))
    assert result.ok and not result.changed
    assert result.files == [] and result.commands == []
    assert snapshot(root) == before
    assert recorded_commands(log) == commands


def test_daemon_change_restarts_without_daemon_reload(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(http_proxy="http://p:1"), node(root, log))
    log.unlink()
    result = DockerConfigurator().apply(
        host(http_proxy="http://p:1", registry_mirrors=["https://m"]), node(root, log)
    )
    assert result.files == ["/etc/docker/daemon.json"]
    assert recorded_commands(log) == [RESTART]


def test_proxy_dropin_removed_when_no_proxy(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(http_proxy="http://p:1"), node(root, log))
    dropin = root / "etc/systemd/system/docker.service.d/http-proxy.conf"
    assert dropin.exists()
    log.unlink()
    result = DockerConfigurator().apply(host(), node(root, log))
    assert not dropin.exists()
    assert result.files == ["/etc/systemd/system/docker.service.d/http-proxy.conf"]
    assert recorded_commands(log) == [RELOAD, RESTART]


def test_no_proxy_no_dropin_no_reload(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(), node(root, log))
    assert not (root / "etc/systemd/system/docker.service.d").exists()
    assert recorded_commands(log) == [RESTART]


def test_registry_change_removes_only_our_stale_ca(root: Path, log: Path) -> None:
    certs = root / "etc/docker/certs.d"
    foreign = certs / "someone-else:5000/ca.crt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("operator's CA\n")

    DockerConfigurator().apply(host(registry="old:9001", registry_ca=PEM), node(root, log))
    assert (certs / "old:9001/ca.crt").exists()
    result = DockerConfigurator().apply(host(registry="new:9001", registry_ca=PEM), node(root, log))
    assert result.ok
    assert not (certs / "old:9001").exists()
    assert (certs / "new:9001/ca.crt").read_text() == PEM + "\n"
    assert foreign.read_text() == "operator's CA\n"
    assert "/etc/docker/certs.d/old:9001/ca.crt" in result.files

    DockerConfigurator().apply(host(), node(root, log))
    assert not (certs / "new:9001").exists()
    assert foreign.exists()


def test_failed_restart_is_reported_and_retried(root: Path, log: Path) -> None:
    config = host(registry_mirrors=["https://m"])
    failed = DockerConfigurator().apply(config, node(root, log, fail=("restart docker",)))
    assert failed.ok is False
    assert "recorded failure" in failed.message
    assert "systemctl restart docker" in failed.message
    assert daemon(root)["registry-mirrors"] == ["https://m"]

    before = snapshot(root)
    log.unlink()
    retried = DockerConfigurator().apply(config, node(root, log))
    assert retried.ok
    assert recorded_commands(log) == [RESTART]
    assert retried.files == []
    assert (root / "etc/docker/daemon.json").stat().st_ino == before["etc/docker/daemon.json"][0]

    log.unlink()
    DockerConfigurator().apply(config, node(root, log))
    assert recorded_commands(log) == []


def test_failed_daemon_reload_skips_restart_and_retries_both(root: Path, log: Path) -> None:
    config = host(http_proxy="http://p:1")
    failed = DockerConfigurator().apply(config, node(root, log, fail=("daemon-reload",)))
    assert not failed.ok
    assert recorded_commands(log) == [RELOAD]
    log.unlink()
    assert DockerConfigurator().apply(config, node(root, log)).ok
    assert recorded_commands(log) == [RELOAD, RESTART]


def test_bad_value_keeps_the_previous_good_files(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(registry_mirrors=["https://good"]), node(root, log))
    before = snapshot(root)
    log.unlink()
    result = DockerConfigurator().apply(
        host(registry_mirrors=["https://other"], registry="evil/../x", registry_ca=PEM),
        node(root, log),
    )
    assert result.ok is False
    assert "invalid registry" in result.message
    assert snapshot(root) == before
    assert daemon(root)["registry-mirrors"] == ["https://good"]
    assert recorded_commands(log) == []


def test_crash_while_writing_keeps_old_file_and_still_restarts_later(
    root: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    DockerConfigurator().apply(host(registry_mirrors=["https://good"]), node(root, log))
    good = (root / "etc/docker/daemon.json").read_bytes()
    log.unlink()
    real_replace = os.replace

    def crash(src: str, dst: str) -> None:
        if str(dst).endswith("daemon.json"):
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    config = host(registry_mirrors=["https://new"])
    with pytest.raises(OSError):
        DockerConfigurator().apply(config, node(root, log))
    assert (root / "etc/docker/daemon.json").read_bytes() == good
    assert recorded_commands(log) == []

    monkeypatch.setattr(os, "replace", real_replace)
    result = DockerConfigurator().apply(config, node(root, log))
    assert result.ok
    assert daemon(root)["registry-mirrors"] == ["https://new"]
    assert recorded_commands(log) == [RESTART]


def test_proxy_values_are_quoted_for_systemd(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(http_proxy='http://u:p%1"x@h:1'), node(root, log))
    dropin = (root / "etc/systemd/system/docker.service.d/http-proxy.conf").read_text()
    assert 'Environment="HTTP_PROXY=http://u:p%%1\\"x@h:1"' in dropin.splitlines()


class _DiesRunning:
    """A runner whose agent dies while the command runs (after the files changed)."""

    def run(self, argv: list[str], *, timeout: float = 300) -> CommandResult:
        raise RuntimeError("agent killed")


def test_agent_dying_after_the_files_changed_still_owes_the_restart(root: Path, log: Path) -> None:
    DockerConfigurator().apply(host(), node(root, log))
    log.unlink()
    config = host(registry_mirrors=["https://new"])
    with pytest.raises(RuntimeError):
        DockerConfigurator().apply(config, NodeContext(root, _DiesRunning()))
    assert daemon(root)["registry-mirrors"] == ["https://new"]

    result = DockerConfigurator().apply(config, node(root, log))
    assert result.ok and result.files == []
    assert recorded_commands(log) == [RESTART]


def test_crash_before_the_state_catches_up_still_owes_the_restart(
    root: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    DockerConfigurator().apply(host(registry="old:1", registry_ca=PEM), node(root, log))
    log.unlink()
    real_replace = os.replace
    state_writes: list[str] = []

    def crash_on_second_state_write(src: str, dst: str) -> None:
        if str(dst).endswith("sysinv-agent/docker.json"):
            state_writes.append(str(dst))
            if len(state_writes) == 2:
                raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_state_write)
    config = host(registry="new:1", registry_ca=PEM)
    with pytest.raises(OSError):
        DockerConfigurator().apply(config, node(root, log))
    # Every file already matches the new configuration...
    assert (root / "etc/docker/certs.d/new:1/ca.crt").exists()
    assert not (root / "etc/docker/certs.d/old:1").exists()
    assert recorded_commands(log) == []

    monkeypatch.setattr(os, "replace", real_replace)
    result = DockerConfigurator().apply(config, node(root, log))
    # ...but the restart owed since before the first file changed is still run.
    assert result.ok and result.files == []
    assert recorded_commands(log) == [RESTART]


def test_a_recorded_restart_is_said_to_be_recorded(root: Path, log: Path) -> None:
    result = DockerConfigurator().apply(host(registry="registry.local:9001"), node(root, log))
    assert recorded_commands(log)[-1] == RESTART
    assert result.message == "configuration changed; docker restart recorded, not run"
    assert "restarted" not in result.message


def test_what_happened_depends_on_the_runner(log: Path) -> None:
    assert happened(SubprocessRunner(), "docker restarted", "recorded") == "docker restarted"
    assert happened(RecordingRunner(log), "docker restarted", "recorded") == "recorded"
