"""Unit tests of ``sysinv_agent``, plus the helpers they share."""

from __future__ import annotations

import os
from pathlib import Path

Snapshot = dict[str, tuple[int, int, int]]


def snapshot(root: Path) -> Snapshot:
    """Inode, mtime and mode of everything under ``root``: equal snapshots mean nothing was
    written, created, replaced or removed (a directory's mtime moves when its entries do)."""
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            st = os.lstat(os.path.join(dirpath, name))
            result[os.path.relpath(os.path.join(dirpath, name), root)] = (
                st.st_ino,
                st.st_mtime_ns,
                st.st_mode,
            )
    return result


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777
