"""The repository stands alone: no code comment or doc points outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("DESIGN.md", "../shared", "shared/TOOLING", "shared/wire-contract", "shared/STYLE")


def test_no_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in tracked:
        if name == "tests/unit/test_no_outside_references.py":
            continue
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".yaml", ".toml", ".sh", ".txt", ""}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(ref in line for ref in OUTSIDE):
                found.append(f"{name}:{number}: {line.strip()[:80]}")
    assert not found, "references outside the repository:\n" + "\n".join(found)
