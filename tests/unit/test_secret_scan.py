"""The end-of-run scan for secrets in the logs (tests/servers/secrets_seen.py) finds one
when a log shows it: only then is its silence at the end of a run worth something."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.servers import secrets_seen

CANARY = "canary-" + "k" * 24


def test_the_scan_sees_a_planted_secret(tmp_path: Path) -> None:
    log = tmp_path / "planted.txt"
    handler = logging.FileHandler(log)
    logger = logging.getLogger("sysinv.test.planted")
    logger.addHandler(handler)
    try:
        logger.warning("leaking %s on purpose", CANARY)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert secrets_seen.scan([log], {CANARY}, tmp_path) == ["planted.txt:1: 1 secret(s)"]


def test_a_runs_scan_reads_every_log_under_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secrets_seen, "SEEN", {CANARY})
    (tmp_path / secrets_seen.RUN_LOG).write_text("nothing here\n")
    (tmp_path / "test_x0" / "sysinv").mkdir(parents=True)
    (tmp_path / "test_x0" / "sysinv" / "conductor.log").write_text(f"a\nb {CANARY}\n")
    (tmp_path / "notes.txt").write_text(CANARY)  # not a log: not read
    scan = secrets_seen.scan_run(tmp_path)
    assert scan == secrets_seen.RunScan(1, 2, ["test_x0/sysinv/conductor.log:2: 1 secret(s)"])


def test_a_run_without_its_own_log_fails_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secrets_seen, "SEEN", set())
    assert secrets_seen.scan_run(tmp_path).found == [
        f"{secrets_seen.RUN_LOG}: missing, so not scanned"
    ]
