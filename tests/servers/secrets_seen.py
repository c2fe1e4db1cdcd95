"""Every secret the test run creates (passwords, tokens, generated chart secrets), the
run's own log file, and the scan at the end of the run that no log line ever shows one
(``scan_run``, called by the pytest plugin when each test process finishes)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SEEN: set[str] = set()
#: Shorter values would match by chance (and no secret here is that short).
MIN_LENGTH = 12
RUN_LOG = "sysinv-test-run.log"


def remember(*values: str | None) -> None:
    SEEN.update(v for v in values if v and len(v) >= MIN_LENGTH)


def capture_run_log(base: Path) -> None:
    """Every log record of the test process, at INFO and above as production logs them,
    into one file under the run's temporary directory."""
    handler = logging.FileHandler(base / RUN_LOG, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def remember_generated_secrets() -> None:
    """Generated chart secrets, as the conductor reads them back for Helm or an admin."""
    from sysinv_conductor.overrides.secrets import SecretStore

    original = SecretStore.values

    def values(self: SecretStore, names: object) -> dict[str, str]:
        found = original(self, names)  # type: ignore[arg-type]
        remember(*found.values())
        return found

    SecretStore.values = values  # type: ignore[method-assign]


def scan(paths: Iterable[Path], secrets: set[str], base: Path) -> list[str]:
    """``file:line: N secret(s)`` for each line of ``paths`` that holds any of ``secrets``
    (the secrets themselves are never repeated)."""
    found: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                hits = [s for s in secrets if s in line]
                if hits:
                    where = path.relative_to(base) if path.is_relative_to(base) else path
                    found.append(f"{where}:{number}: {len(hits)} secret(s)")
    return found


@dataclass(frozen=True)
class RunScan:
    secrets: int
    files: int
    found: list[str]


def scan_run(base: Path) -> RunScan:
    """Every ``*.log`` under the process's temporary directory (its own records and each
    sysinv process's log file), once its servers and services have stopped."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    logs = sorted(base.rglob("*.log"))
    missing = [] if base / RUN_LOG in logs else [f"{RUN_LOG}: missing, so not scanned"]
    # A process that made no secret (a unit-test run, or pytest-xdist's controller, whose
    # folder holds its workers') has nothing to look for.
    if not SEEN:
        return RunScan(0, 0, missing)
    return RunScan(len(SEEN), len(logs), missing + scan(logs, SEEN, base))
