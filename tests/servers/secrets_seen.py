"""Every secret the test run creates (passwords, tokens, generated chart secrets), and the
run's own log file: what ``tests/zz_last`` checks no log line ever shows."""

from __future__ import annotations

import logging
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
