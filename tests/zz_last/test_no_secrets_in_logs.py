"""Runs last (its folder sorts after every other): no password, token or generated chart
secret that the run created appears in any log line the run wrote — the test process's
own records and every sysinv process's log file under the run's temporary directory."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.servers import secrets_seen


def scan(paths: Iterable[Path], secrets: set[str], base: Path) -> list[str]:
    found: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                hits = [s for s in secrets if s in line]
                if hits:
                    where = path.relative_to(base) if path.is_relative_to(base) else path
                    found.append(f"{where}:{number}: {len(hits)} secret(s)")
    return found


def test_no_secret_in_any_log_line(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    logs = sorted(base.rglob("*.log"))
    assert base / secrets_seen.RUN_LOG in logs
    assert secrets_seen.SEEN, "the run registered no secret to look for"
    for handler in logging.getLogger().handlers:
        handler.flush()
    found = scan(logs, secrets_seen.SEEN, base)
    assert not found, "secrets in the logs:\n" + "\n".join(found[:50])


def test_the_scan_sees_a_planted_secret(tmp_path: Path) -> None:
    # Only worth something if a leak would be caught: plant one in a log of its own.
    log = tmp_path / "planted.txt"
    handler = logging.FileHandler(log)
    logger = logging.getLogger("sysinv.test.planted")
    logger.addHandler(handler)
    try:
        logger.warning("leaking %s on purpose", "canary-" + "k" * 24)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert scan([log], {"canary-" + "k" * 24}, tmp_path) == ["planted.txt:1: 1 secret(s)"]
