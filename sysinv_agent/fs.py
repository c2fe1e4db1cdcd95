"""Crash-safe file writes under the agent's root directory.

Every file the agent manages goes through :func:`atomic_write`, so a reader (dockerd, kubelet,
calico-node, an operator) sees either the previous complete file or the new complete one, and
an unchanged file is never rewritten (its mtime and inode stay put, and "changed" means
something to the configurators that decide on restarts). :func:`rooted` maps the absolute
paths a real node uses onto the agent's root, which is ``/`` on a node and a temporary
directory in tests and the embedded mode. The small JSON state files the configurators keep
(what they wrote, which restart is still owed) are read and written here as well.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import secrets
import stat
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

#: Where configurators keep their state files (an absolute node path; pass it to ``rooted``).
STATE_DIR = "/var/lib/sysinv-agent"

# Temp files are hidden and named after their target so a later write of the same target can
# recognise (and remove) what a crash left behind, without touching anything else.
_TMP_MARK = ".sysinv-tmp-"


def rooted(root: Path, absolute: str) -> Path:
    """``absolute`` (a path as the node sees it, e.g. ``/etc/docker/daemon.json``) under ``root``.

    Raises ValueError for a ``..`` component or a NUL byte, so a value that reached a path
    from the configuration (a registry name, say) can never escape the root.
    """
    if "\0" in absolute:
        raise ValueError(f"path contains a NUL byte: {absolute!r}")
    parts = PurePosixPath(absolute).parts
    if ".." in parts:
        raise ValueError(f"path must not contain '..': {absolute!r}")
    relative = [p for p in parts if p != "/"]
    return root.joinpath(*relative)


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}{_TMP_MARK}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_parents(directory: Path, private: bool) -> None:
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir()
        # Only the file's own directory is private: its ancestors (/etc, /var/lib) are shared.
        # mkdir's mode is narrowed by the umask; set it exactly, but only on what we created.
        os.chmod(d, 0o700 if private and d == directory else 0o755)


def matches(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """True if ``path`` is a regular file holding exactly ``data`` with permissions ``mode``."""
    mode = stat.S_IMODE(mode)
    try:
        st = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode or st.st_size != len(data):
        return False
    return path.read_bytes() == data


def _remove_stray_temps(path: Path) -> None:
    prefix = _tmp_prefix(path)
    for stray in path.parent.glob(f"{glob.escape(prefix)}*"):
        with contextlib.suppress(OSError):
            stray.unlink()
            log.info("removed %s, left by an interrupted write", stray)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Make ``path`` hold exactly ``data`` with permissions ``mode``; True if anything changed.

    Nothing is written when the file already matches. Otherwise the bytes go to a temp file in
    the same directory, created with ``mode`` from the start (a key is never briefly readable
    by others), fsynced, renamed over the target and the directory fsynced: a crash leaves
    the old file or the new one, never a mix, at worst plus a stray temp file that the next
    write of the same target removes. Missing parent directories are created 0755; the file's
    own directory is 0700 instead when ``mode`` gives the group and others nothing.
    """
    mode = stat.S_IMODE(mode)
    if matches(path, data, mode):
        return False
    parent = path.parent
    _make_parents(parent, private=not mode & 0o077)
    _remove_stray_temps(path)
    tmp = parent / f"{_tmp_prefix(path)}{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            # The umask may have narrowed the creation mode; this only widens it up to ``mode``.
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(parent)
    return True


def remove_file(path: Path) -> bool:
    """Remove ``path`` if it exists (durably); True if it did."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    return True


def read_state(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; empty when the file is missing or unreadable.

    A damaged state file must not wedge a configurator: losing it at worst means a stale file
    of ours is left in place or one restart is skipped, which the operator can see in the log.
    """
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.warning("ignoring unreadable state file %s", path, exc_info=True)
        return {}
    if not isinstance(loaded, dict):
        log.warning("ignoring state file %s: not a JSON object", path)
        return {}
    return loaded


def write_state(path: Path, state: dict[str, Any]) -> bool:
    """Store ``state`` as JSON in ``path`` (0600); True if it changed."""
    text = json.dumps(state, indent=2, sort_keys=True) + "\n"
    return atomic_write(path, text.encode(), 0o600)
