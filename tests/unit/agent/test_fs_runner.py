"""Atomic writes, rooted paths, the command runners and apply_all."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sysinv_agent.configurators import ALL, NodeContext, apply_all
from sysinv_agent.fs import atomic_write, rooted
from sysinv_agent.runner import RecordingRunner, SubprocessRunner, recorded_commands
from sysinv_common.nodeconfig import ConfiguratorResult, HostConfig
from tests.unit.agent import mode


def test_rooted_joins_under_root(tmp_path: Path) -> None:
    assert rooted(tmp_path, "/etc/docker/daemon.json") == tmp_path / "etc/docker/daemon.json"
    assert rooted(tmp_path, "etc/hostname") == tmp_path / "etc/hostname"


@pytest.mark.parametrize("bad", ["/etc/../../x", "/../etc", "..", "/etc/a\0b"])
def test_rooted_refuses_escapes(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        rooted(tmp_path, bad)


def test_atomic_write_creates_file_and_parents(tmp_path: Path) -> None:
    target = tmp_path / "a/b/file.txt"
    assert atomic_write(target, b"hello\n") is True
    assert target.read_bytes() == b"hello\n"
    assert mode(target) == 0o644
    assert mode(tmp_path / "a") == 0o755
    assert mode(tmp_path / "a/b") == 0o755


def test_private_file_gets_private_directory(tmp_path: Path) -> None:
    target = tmp_path / "etc/secret/key"
    assert atomic_write(target, b"k", 0o600) is True
    assert mode(target) == 0o600
    assert mode(tmp_path / "etc/secret") == 0o700
    assert mode(tmp_path / "etc") == 0o755


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "f"
    atomic_write(target, b"same")
    before = target.stat()
    assert atomic_write(target, b"same") is False
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_changed_content_or_mode_is_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "f"
    atomic_write(target, b"one")
    inode = target.stat().st_ino
    assert atomic_write(target, b"two") is True
    assert target.read_bytes() == b"two"
    assert target.stat().st_ino != inode
    assert atomic_write(target, b"two", 0o600) is True
    assert mode(target) == 0o600
    assert target.read_bytes() == b"two"


def test_mode_is_exact_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "f", b"x", 0o644)
    finally:
        os.umask(old)
    assert mode(tmp_path / "f") == 0o644


def test_temp_file_has_the_final_mode_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_replace = os.replace

    def spying_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(os.stat(src).st_mode & 0o7777)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    atomic_write(tmp_path / "key", b"secret", 0o600)
    assert seen == [0o600]


def test_crash_before_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "daemon.json"
    atomic_write(target, b"old and good\n")

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old and good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json"]


def test_stray_temp_from_a_crash_is_cleaned_up(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    atomic_write(target, b"old\n")
    stray = tmp_path / ".daemon.json.sysinv-tmp-deadbeef"
    stray.write_bytes(b"half-wri")
    other = tmp_path / ".other.sysinv-tmp-1234"
    other.write_bytes(b"not ours to clean here")
    assert atomic_write(target, b"new\n") is True
    assert target.read_bytes() == b"new\n"
    assert not stray.exists()
    assert other.exists()


def test_recording_runner_records_and_fails_on_demand(tmp_path: Path) -> None:
    log = tmp_path / "deep/dir/commands.jsonl"
    runner = RecordingRunner(log, fail=["restart docker"])
    ok = runner.run(["systemctl", "daemon-reload"])
    failed = runner.run(["systemctl", "restart", "docker"])
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.ok and not failed.ok
    assert (failed.returncode, failed.stderr) == (1, "recorded failure")
    assert recorded_commands(log) == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "restart", "docker"],
    ]
    assert mode(log) == 0o600
    first = json.loads(log.read_text().splitlines()[0])
    assert set(first) == {"argv", "time"}
    assert datetime.fromisoformat(first["time"]).tzinfo is not None


def test_recorded_commands_of_a_missing_log(tmp_path: Path) -> None:
    assert recorded_commands(tmp_path / "none.jsonl") == []


def test_subprocess_runner_captures_output_without_a_shell() -> None:
    script = "import sys; print(sys.argv[1]); sys.stderr.write('oops'); sys.exit(3)"
    result = SubprocessRunner().run([sys.executable, "-c", script, "$(echo injected)"])
    assert result.returncode == 3
    assert result.stdout == "$(echo injected)\n"
    assert result.stderr == "oops"


def test_subprocess_runner_timeout_and_missing_program(tmp_path: Path) -> None:
    slow = SubprocessRunner().run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2)
    assert slow.returncode == 124
    assert "timed out" in slow.stderr
    missing = SubprocessRunner().run([str(tmp_path / "no-such-program")])
    assert missing.returncode == 127
    assert "no-such-program" in missing.stderr


class _Exploding:
    name = "exploding"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        raise RuntimeError("disk on fire")


def test_apply_all_order_and_failure_isolation(tmp_path: Path) -> None:
    assert [c.name for c in ALL] == ["docker", "kubernetes", "calico", "ceph", "floating_address"]
    node = NodeContext(tmp_path / "root", RecordingRunner(tmp_path / "cmds.jsonl"))
    config = HostConfig(target="t1", hostname="worker-0")
    results = apply_all(config, node, [_Exploding(), *ALL])
    assert [r.name for r in results] == [
        "exploding",
        "docker",
        "kubernetes",
        "calico",
        "ceph",
        "floating_address",
    ]
    assert results[0].ok is False
    assert "exploding" in results[0].message and "disk on fire" in results[0].message
    assert all(r.ok for r in results[1:])
    assert (tmp_path / "root/etc/docker/daemon.json").exists()
