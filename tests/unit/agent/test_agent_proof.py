"""Agent proofs: a report signed with its host's key passes; a wrong key, a changed field,
another host's name, another method, a stale or future ``sent_at`` do not. Key files:
the master created 0600 once, host keys from ``sysinv agent-key``, refused when open to
every user, missing or not a key. The agent's ConductorAPI signs what the conductor
checks once the report has crossed the broker as JSON."""

from __future__ import annotations

import argparse
import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from sysinv_admin.cli import _agent_key
from sysinv_agent.service import Agent
from sysinv_common.agent_proof import (
    MAX_AGE,
    MAX_AHEAD,
    KeyFileError,
    encode_key,
    host_key,
    load_host_key,
    load_master_key,
    sign,
    verify,
)
from sysinv_common.conf import load_settings
from sysinv_common.errors import InvalidInput
from sysinv_common.messaging import rpcapi as rpc

MASTER = bytes(range(32))
NOW = 1_900_000_000


def report(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "rpc_version": "1.1",
        "hostname": "compute-0",
        "queue": "sysinv.agent.compute-0",
        "applied": "t-1",
        "sent_at": NOW,
    }
    fields.update(changes)
    return fields


def check(key: bytes, fields: dict[str, Any], proof: str, hostname: str = "compute-0",
          method: str = "agent_heartbeat", now: float = NOW) -> None:  # fmt: skip
    verify(key, method, hostname, fields, proof, now=now)


NOT_SIGNED = "Refused: the report for compute-0 is not signed by that host's key"


def test_a_report_signed_with_its_host_key_passes() -> None:
    key = host_key(MASTER, "compute-0")
    proof = sign(key, "agent_heartbeat", report())
    check(key, report(), proof)
    # Field order does not matter: the JSON is canonical.
    check(key, dict(reversed(list(report().items()))), proof)


@pytest.mark.parametrize(
    ("key", "fields", "method", "hostname"),
    [
        (host_key(bytes(32), "compute-0"), report(), "agent_heartbeat", "compute-0"),  # key
        (host_key(MASTER, "compute-0"), report(applied="t-2"), "agent_heartbeat", "compute-0"),
        (host_key(MASTER, "compute-0"), report(sent_at=NOW - 1), "agent_heartbeat", "compute-0"),
        (host_key(MASTER, "compute-0"), report(), "agent_config_applied", "compute-0"),
    ],
    ids=["another-master", "tampered-field", "tampered-sent_at", "another-method"],
)
def test_a_proof_that_does_not_match_is_refused(
    key: bytes, fields: dict[str, Any], method: str, hostname: str
) -> None:
    proof = sign(host_key(MASTER, "compute-0"), "agent_heartbeat", report())
    with pytest.raises(InvalidInput) as refused:
        check(key, fields, proof, hostname=hostname, method=method)
    assert (
        refused.value.message
        == f"Refused: the report for {hostname} is not signed by that host's key"
    )


def test_a_host_cannot_sign_for_another_host() -> None:
    # compute-1 holds its own key and the broker: its report in compute-0's name is
    # checked with compute-0's key.
    own = host_key(MASTER, "compute-1")
    forged = report()
    with pytest.raises(InvalidInput, match=NOT_SIGNED):
        check(host_key(MASTER, "compute-0"), forged, sign(own, "agent_heartbeat", forged))
    assert host_key(MASTER, "compute-0") != own


@pytest.mark.parametrize("proof", ["", "0" * 64, "not hex"])
def test_an_unsigned_or_made_up_proof_is_refused(proof: str) -> None:
    with pytest.raises(InvalidInput, match=NOT_SIGNED):
        check(host_key(MASTER, "compute-0"), report(), proof)


@pytest.mark.parametrize(
    ("sent_at", "accepted"),
    [
        (NOW - MAX_AGE, True),
        (NOW + MAX_AHEAD, True),
        (NOW - MAX_AGE - 1, False),  # stale: a replay
        (NOW + MAX_AHEAD + 1, False),  # from the future
        (0, False),
    ],
)
def test_the_window_of_sent_at(sent_at: int, accepted: bool) -> None:
    key = host_key(MASTER, "compute-0")
    fields = report(sent_at=sent_at)
    proof = sign(key, "agent_heartbeat", fields)
    if accepted:
        check(key, fields, proof)
        return
    with pytest.raises(InvalidInput, match="node's clock"):
        check(key, fields, proof)


def test_host_keys_differ_per_host_and_master() -> None:
    keys = {host_key(m, h) for m in (MASTER, bytes(32)) for h in ("a", "b", "a ")}
    assert len(keys) == 6 and all(len(k) == 32 for k in keys)
    assert host_key(MASTER, "a") == host_key(MASTER, "a")


def test_the_master_key_is_created_once_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "agent-master.key"
    first = load_master_key(path)
    assert len(first) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_master_key(path) == first
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"agent.master_key_file .* every user"):
        load_master_key(path)
    (tmp_path / "dir.key").mkdir()
    with pytest.raises(KeyFileError, match="cannot read or create it: Is a directory"):
        load_master_key(tmp_path / "dir.key")


def write_key(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_host_key_file_round_trip(tmp_path: Path) -> None:
    key = host_key(MASTER, "compute-0")
    path = write_key(tmp_path / "agent.key", encode_key(key) + "\n")
    assert load_host_key(path, "compute-0") == key
    # The url-safe alphabet reads too, and a group may read it (a sysinv group, say).
    path.chmod(0o640)
    write_key(path, base64.urlsafe_b64encode(key).decode(), 0o640)
    assert load_host_key(path, "compute-0") == key


def test_host_key_file_refusals_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(
        KeyFileError, match=r"agent.key_file is not set: run `sysinv agent-key c-0`"
    ):
        load_host_key(None, "c-0")
    with pytest.raises(KeyFileError, match=r"agent.key_file .*: cannot read it: No such file"):
        load_host_key(tmp_path / "missing", "c-0")
    good = encode_key(host_key(MASTER, "c-0"))
    for mode in (0o644, 0o604, 0o602):
        path = write_key(tmp_path / f"k{mode:o}", good, mode)
        with pytest.raises(KeyFileError, match=f"every user .*mode {mode:04o}.*chmod 600"):
            load_host_key(path, "c-0")
    for junk in ("", "not base64!", base64.b64encode(b"short").decode()):
        path = write_key(tmp_path / "junk", junk)
        with pytest.raises(KeyFileError, match="does not hold a key"):
            load_host_key(path, "c-0")


def test_an_unreadable_host_key_file(tmp_path: Path) -> None:
    # (The tests may run as root, who reads any file: a directory cannot be read by anyone.)
    path = tmp_path / "agent.key"
    path.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match=r"agent.key_file .*: cannot read it: Is a directory"):
        load_host_key(path, "c-0")


def agent_key(hostname: str) -> int:
    """``sysinv agent-key HOSTNAME`` (its function: main() would take over SIGTERM)."""
    return _agent_key(argparse.Namespace(hostname=hostname))


def test_sysinv_agent_key_prints_the_host_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SYSINV_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SYSINV_AGENT__MASTER_KEY_FILE", raising=False)
    assert agent_key("compute-0") == 0
    printed = capsys.readouterr().out
    master = load_master_key(tmp_path / "agent-master.key")
    assert printed == encode_key(host_key(master, "compute-0")) + "\n"
    path = write_key(tmp_path / "agent.key", printed)
    assert load_host_key(path, "compute-0") == host_key(master, "compute-0")
    assert agent_key("compute-0 ") == 2
    assert "invalid hostname" in capsys.readouterr().err
    (tmp_path / "agent-master.key").chmod(0o666)
    assert agent_key("compute-0") == 2
    assert "agent.master_key_file" in capsys.readouterr().err


def test_the_current_time_is_the_default_clock() -> None:
    key = host_key(MASTER, "compute-0")
    fields = report(sent_at=int(time.time()))
    verify(key, "agent_heartbeat", "compute-0", fields, sign(key, "agent_heartbeat", fields))


class _Recorder:
    """A ConductorClient that keeps what it would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def call(self, task: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        self.sent.append((task, payload))
        return {"host_uuid": "u"}

    def cast(self, task: str, payload: dict[str, Any], lane: Any = None) -> None:
        self.sent.append((task, payload))


def test_the_agent_api_signs_what_the_conductor_checks_after_the_broker() -> None:
    key = host_key(MASTER, "compute-0")
    client = _Recorder()
    api = rpc.ConductorAPI(client, agent_key=key)  # type: ignore[arg-type]
    inventory = {"hostname": "compute-0", "memory_bytes": 2**40, "os": "Débian 12", "x": 0.1}
    api.agent_register("q", inventory)
    api.agent_heartbeat("compute-0", "q", None)
    api.agent_config_applied("compute-0", "q", "t", [{"name": "docker", "ok": True}])
    methods = {m.task: m for m in rpc.METHODS}
    for task, payload in client.sent:
        method = methods[task]
        assert payload["rpc_version"] == rpc.RPC_VERSION
        received = method.request.model_validate(json.loads(json.dumps(payload)))
        verify(key, method.name, "compute-0", received.signed_fields(), received.proof)
        assert abs(received.sent_at - time.time()) < 5


def test_only_an_agent_api_with_a_key_sends_reports() -> None:
    with pytest.raises(RuntimeError, match="agent_key"):
        rpc.ConductorAPI(_Recorder()).agent_heartbeat("h", "q", None)  # type: ignore[arg-type]


def test_an_agent_without_its_key_file_does_not_start(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    settings.agent.hostname = "compute-0"
    with pytest.raises(KeyFileError, match=r"agent.key_file is not set"):
        Agent(settings)
    settings.agent.key_file = write_key(tmp_path / "agent.key", encode_key(MASTER), 0o644)
    with pytest.raises(KeyFileError, match="every user"):
        Agent(settings)
