"""Safe extraction of an application tarball into the app's own directory.

A bundle comes from an operator, a URL or another site, so it is read as hostile: we never
let :mod:`tarfile` decide where or what to write. Each member is checked, then written by
our own code:

* names: no absolute path, no ``..`` component, no NUL; ``.`` and empty components are
  dropped (``./charts/x.tgz`` is ``charts/x.tgz``);
* types: regular files and directories only. **Every** link is refused, symbolic or
  hard, whatever its target: a bundle has no use for links, and "links that stay inside
  the tree" is a rule whose checks have been got wrong many times (CVE-2007-4559 and its
  descendants). Devices, FIFOs and anything else are refused too;
* sizes: a cap per member, on the total of all members and on the number of members; the
  decompressed stream itself is capped as well, so a header that claims a huge extended
  (pax) record cannot make us decompress without end;
* modes: files ``0644`` (``0755`` if the owner could execute), directories ``0755``; no
  setuid, setgid or sticky bit, no ownership from the archive.

Members go into a fresh temporary directory beside the destination, which is renamed into
place only when every member passed. On any rejection the temporary directory is removed,
so the destination is left as it was (absent or empty) and nothing was ever written outside
it. ``tarfile.data_filter`` (Python's own "data" policy) is consulted as a second opinion.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sysinv_common.apps import BundleError

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# Decompressed bytes allowed per member beyond its data: its header, a pax or GNU long-name
# record and the padding. Generous for real archives, small beside the data caps.
HEADER_ALLOWANCE = 8 * 1024


@dataclass(frozen=True)
class ExtractLimits:
    """Caps applied while extracting; the defaults suit bundles carrying image archives."""

    #: Sum of the sizes of all members, uncompressed.
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    #: Size of any single member.
    max_member_bytes: int = 1024 * 1024 * 1024
    #: Number of members (files and directories).
    max_members: int = 10_000

    def stream_budget(self) -> int:
        """Decompressed bytes a valid bundle within these limits can never exceed."""
        return self.max_total_bytes + (self.max_members + 2) * HEADER_ALLOWANCE


@dataclass(frozen=True)
class ExtractStats:
    """What an extraction wrote, for the log and the progress message."""

    files: int
    directories: int
    total_bytes: int


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CappedReader:
    """A read-only stream that fails once more than ``budget`` bytes were read from it."""

    def __init__(self, raw: _Readable, budget: int) -> None:
        self._raw = raw
        self._left = budget

    def read(self, size: int = -1) -> bytes:
        # Never ask the inner stream for more than one byte past the budget, so that an
        # oversized read costs at most the budget in memory.
        want = self._left + 1 if size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise BundleError("bundle decompresses to more data than its size limits allow")
        return data


def quote(name: str) -> str:
    """A member name fit for a message: control characters escaped, length bounded."""
    shown = name if name.isprintable() else repr(name)[1:-1]
    return shown if len(shown) <= 200 else shown[:200] + "..."


@contextlib.contextmanager
def open_tar_stream(path: Path, budget: int) -> Iterator[tarfile.TarFile]:
    """Open a gzip-compressed (or plain) tar for one forward pass, decompression capped.

    Stream mode (``r|``) never seeks, so the caps see every byte the archive yields.
    Format errors while opening or reading surface as :class:`BundleError`.
    """
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            inner: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if magic == GZIP_MAGIC else raw
            capped = _CappedReader(inner, budget)
            # tarfile's stubs want an IO[bytes]; stream mode only ever calls read().
            with tarfile.open(fileobj=capped, mode="r|") as tar:  # type: ignore[call-overload]
                yield tar
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BundleError(f"bundle is not a readable tar.gz archive: {exc}") from None


def member_parts(member: tarfile.TarInfo) -> tuple[str, ...]:
    """The member's path as components below the bundle root; ``()`` for the root itself."""
    name = member.name
    if "\x00" in name:
        raise BundleError(f"member '{quote(name)}' has a NUL character in its name")
    if name.startswith("/"):
        raise BundleError(f"member '{quote(name)}' is an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise BundleError(f"member '{quote(name)}' escapes the bundle directory")
    return parts


def _check_type(member: tarfile.TarInfo) -> None:
    name = quote(member.name)
    if member.issym():
        raise BundleError(
            f"member '{name}' is a symbolic link (to '{quote(member.linkname)}'); "
            "links are not allowed in a bundle"
        )
    if member.islnk():
        raise BundleError(
            f"member '{name}' is a hard link (to '{quote(member.linkname)}'); "
            "links are not allowed in a bundle"
        )
    if member.ischr() or member.isblk():
        raise BundleError(f"member '{name}' is a device file; only files and directories")
    if member.isfifo():
        raise BundleError(f"member '{name}' is a FIFO; only files and directories")
    if not (member.isreg() or member.isdir()):
        raise BundleError(
            f"member '{name}' has an unsupported type ({member.type!r}); only files and directories"
        )


def _second_opinion(member: tarfile.TarInfo, root: Path) -> None:
    # Our checks are stricter than Python's "data" filter; if it still objects, our checks
    # have a hole, and refusing is the safe answer.
    try:
        tarfile.data_filter(member, str(root))
    except tarfile.FilterError as exc:
        raise BundleError(f"member '{quote(member.name)}' is not allowed: {exc}") from None


def _make_dirs(root: Path, parts: tuple[str, ...], member: str) -> Path:
    """Create ``root/parts...`` as real directories (0755); refuse anything else in the way."""
    path = root
    for part in parts:
        path = path / part
        try:
            os.mkdir(path, 0o755)
            os.chmod(path, 0o755)  # the umask must not decide
        except FileExistsError:
            # The tree is ours and holds no links, but check rather than trust.
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise BundleError(
                    f"member '{quote(member)}' needs a directory where the bundle has a file"
                ) from None
    return path


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, limit: int) -> int:
    mode = 0o755 if member.mode & 0o100 else 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        if stat.S_ISDIR(os.lstat(target).st_mode):
            raise BundleError(
                f"member '{quote(member.name)}' is a file where the bundle has a directory"
            ) from None
        raise BundleError(
            f"member '{quote(member.name)}' appears more than once in the bundle"
        ) from None
    written = 0
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, mode)
        src = tar.extractfile(member)
        if src is None:  # pragma: no cover - isreg() members always have data
            raise BundleError(f"member '{quote(member.name)}' has no data")
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limit:  # the header lied about the size
                raise BundleError(f"member '{quote(member.name)}' is larger than it declares")
            out.write(chunk)
    return written


def _extract_into(path: Path, root: Path, limits: ExtractLimits) -> ExtractStats:
    files = dirs = total = count = 0
    with open_tar_stream(path, limits.stream_budget()) as tar:
        for member in tar:
            count += 1
            if count > limits.max_members:
                raise BundleError(f"bundle has more than {limits.max_members} members (the limit)")
            parts = member_parts(member)
            _check_type(member)
            if not parts:  # "." or "./": the bundle root itself
                continue
            _second_opinion(member, root)
            name = quote(member.name)
            if member.isdir():
                _make_dirs(root, parts, member.name)
                dirs += 1
                continue
            if member.size > limits.max_member_bytes:
                raise BundleError(
                    f"member '{name}' is {member.size} bytes, over the limit of "
                    f"{limits.max_member_bytes} bytes per member"
                )
            if total + member.size > limits.max_total_bytes:
                raise BundleError(
                    f"bundle is larger than the limit of {limits.max_total_bytes} bytes "
                    f"uncompressed (reached at member '{name}')"
                )
            parent = _make_dirs(root, parts[:-1], member.name)
            target = parent / parts[-1]
            try:
                total += _write_file(tar, member, target, member.size)
            except OSError as exc:
                if exc.errno in (errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR):
                    raise BundleError(
                        f"member '{name}' cannot be written: {exc.strerror}"
                    ) from None
                raise
            files += 1
    return ExtractStats(files, dirs, total)


def _work_prefix(dest: Path) -> str:
    return f".{dest.name}.extract-"


def remove_leftovers(dest: Path) -> None:
    """Remove temporary directories that an extraction into ``dest`` killed midway left.

    Called by :func:`extract_bundle` itself; the per-application lease guarantees that no
    other extraction into the same ``dest`` is running at the time.
    """
    for stale in dest.parent.glob(f"{_work_prefix(dest)}*"):
        LOG.warning("Removing %s, left by an interrupted extraction", stale)
        shutil.rmtree(stale, ignore_errors=True)


def extract_bundle(tarball: Path, dest: Path, limits: ExtractLimits | None = None) -> ExtractStats:
    """Extract ``tarball`` into ``dest``, which must be absent or an empty directory.

    All or nothing: on success ``dest`` holds exactly the bundle's files and directories;
    on a :class:`BundleError` (or any other failure) ``dest`` is as it was and no file was
    written anywhere but a temporary directory beside it, which is removed again. The
    bundle root of the archive (``.``) becomes ``dest``, whose own mode is 0700.
    """
    limits = limits or ExtractLimits()
    dest = Path(dest)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise BundleError(f"destination {dest} exists and is not an empty directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(dest)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=_work_prefix(dest)))
    try:
        stats = _extract_into(tarball, work, limits)
        # rename(2) replaces an empty directory atomically, so there is no moment where
        # another reader sees a half-filled destination.
        os.rename(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    LOG.info(
        "Extracted %s into %s: %d files, %d directories, %d bytes",
        tarball,
        dest,
        stats.files,
        stats.directories,
        stats.total_bytes,
    )
    return stats
