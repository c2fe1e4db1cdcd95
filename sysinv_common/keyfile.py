"""Key files: created once, 0600, and never replaced by a second process racing the first.

A key is kept as text (base64), so reading it back may strip a trailing newline an
editor or ``echo`` added without cutting into the key's own bytes.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

from sysinv_common.errors import SysinvError


class KeyFileError(SysinvError):
    """A key file is missing, unreadable, readable by others, or does not hold a key."""


def random_key() -> bytes:
    """32 random bytes, base64 (url-safe): the same form as a Fernet key."""
    return base64.urlsafe_b64encode(os.urandom(32))


def load_or_create_key(path: Path, generate: Callable[[], bytes] = random_key) -> bytes:
    """The key in ``path``; created 0600 (its directory 0700) with ``generate()`` when
    missing. Two processes creating it at once both end up with the same key."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate()
    # Unique per caller: threads of one process may race too.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        # link, not rename: if another process created the key first, keep theirs.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes().strip()


def check_private(path: Path, setting: str) -> None:
    """Refuse a key file that users other than its owner and group may read or write."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise KeyFileError(f"{setting} {path}: cannot read it: {exc.strerror}") from None
    if mode & (stat.S_IRWXO):
        raise KeyFileError(
            f"{setting} {path} is accessible to every user (mode {stat.S_IMODE(mode):04o}); "
            f"a key must not be: chmod 600 {path}"
        )


def read_private_key(path: Path | None, setting: str, how: str) -> bytes:
    """The base64 key of 32 bytes in ``path``, named by ``setting`` in every error;
    ``how`` says where such a key comes from."""
    if path is None:
        raise KeyFileError(f"{setting} is not set: {how}")
    check_private(path, setting)
    try:
        text = path.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(f"{setting} {path}: cannot read it: {exc.strerror}") from None
    return decode_key(text, f"{setting} {path}")


def decode_key(text: bytes | str, where: str) -> bytes:
    """32 bytes from their base64 (standard or url-safe alphabet)."""
    raw = text.encode() if isinstance(text, str) else text
    try:
        key = base64.b64decode(raw.replace(b"-", b"+").replace(b"_", b"/"), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyFileError(f"{where} does not hold a key (the base64 of 32 bytes)")
    return key
