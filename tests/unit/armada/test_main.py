"""`python -m armada validate` exit codes and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "armada", *args], capture_output=True, text=True, check=False
    )


def test_valid(manifest_text: str, tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(manifest_text)
    res = run("validate", str(f))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "valid: 1 manifest(s), 2 chart group(s), 5 chart(s)" in res.stdout


def test_invalid_exits_1_with_every_error(manifest_text: str, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(manifest_text)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        manifest_text.replace("timeout: 60", "timeout: abc").replace("[db, web]", "[db, x]")
    )
    res = run("validate", str(good), str(bad))
    assert res.returncode == 1
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(str(bad))]
    assert len(lines) == 2
    assert "data.wait.timeout: expected an integer, got 'abc'" in lines[0]
    assert 'no armada/Chart document named "x"' in lines[1]


def test_missing_file_and_usage(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "none.yaml")).returncode == 1
    assert run().returncode == 2
