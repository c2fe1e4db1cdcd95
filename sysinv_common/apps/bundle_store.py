"""Uploaded bundles in the database, named by their sha256.

Any API replica stores a bundle (``receive_*`` spools the request's bytes to a private
temporary file while counting and hashing them, :func:`put` writes them as 1 MiB rows in
one transaction); any conductor, on any host, fetches it back (:func:`fetch`) into a cache
of its own that it can always rebuild. No process needs another's filesystem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sysinv_common.db.models import App, AppBundle, AppBundleChunk
from sysinv_common.errors import InvalidInput, SysinvError

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    """A received bundle in a private temporary file, removed when its ``with`` ends."""

    path: Path
    digest: str
    size: int


def _too_large(max_bytes: int) -> InvalidInput:
    return InvalidInput(f"Application bundle is larger than the limit of {max_bytes} bytes")


@contextmanager
def _spool(chunks: Iterable[bytes], max_bytes: int) -> Iterator[Spooled]:
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(prefix="sysinv-bundle-")  # 0600
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                digest.update(chunk)
                out.write(chunk)
        yield Spooled(Path(tmp), digest.hexdigest(), size)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read(fh: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: fh.read(CHUNK), b"")


def decode_binary_data(data: str, max_bytes: int) -> bytes:
    # StarlingX's client sends URL-safe base64 of the whole tarball.
    if len(data) > max_bytes * 4 // 3 + 4:
        raise _too_large(max_bytes)
    try:
        return base64.b64decode(data.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidInput("binary_data is not valid URL-safe base64") from None


@contextmanager
def receive_bytes(data: bytes, max_bytes: int) -> Iterator[Spooled]:
    with _spool((data[i : i + CHUNK] for i in range(0, len(data), CHUNK)), max_bytes) as spooled:
        yield spooled


@contextmanager
def receive_local_file(path: str, import_dirs: Sequence[Path], max_bytes: int) -> Iterator[Spooled]:
    """A tarball on the API host's disk, as StarlingX's client sends from a controller.

    Only under one of ``import_dirs`` (symbolic links resolved); every refusal says where
    to put the file instead, or to send its bytes.
    """
    roots = [d.resolve() for d in import_dirs]
    where = f"copy it under {roots[0]} on the sysinv-api host and give that path"
    instead = "or send the tarball's bytes as binary_data"
    unreadable = f"Tarfile {path} is not readable by the server"
    if not Path(path).is_absolute():
        raise InvalidInput(f"{unreadable}: it is not an absolute path; {where}, {instead}")
    target = Path(path).resolve()
    if not any(target.is_relative_to(root) for root in roots):
        listed = ", ".join(str(r) for r in roots)
        raise InvalidInput(
            f"{unreadable}: it is outside the import directories ({listed}; setting "
            f"apps.import_dir); {where}, {instead}"
        )
    try:
        fh = target.open("rb")
    except FileNotFoundError:
        raise InvalidInput(
            f"{unreadable}: no such file on the sysinv-api host; {where}, {instead}"
        ) from None
    except OSError as exc:
        raise InvalidInput(
            f"{unreadable} ({exc.strerror}): make it a file the sysinv-api user can read, {instead}"
        ) from None
    with fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise InvalidInput(f"{unreadable}: it is not a regular file; {where}, {instead}")
        with _spool(_read(fh), max_bytes) as spooled:
            yield spooled


@contextmanager
def receive_url(url: str, max_bytes: int, timeout: float) -> Iterator[Spooled]:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise InvalidInput(f"Fetching {url} failed: HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise InvalidInput(
                    f"Application bundle at {url} is larger than the limit of {max_bytes} bytes"
                )
            with _spool(response.iter_bytes(CHUNK), max_bytes) as spooled:
                yield spooled
    except httpx.HTTPError as exc:
        raise InvalidInput(f"Fetching {url} failed: {exc}") from None


def put(session: Session, spooled: Spooled) -> None:
    """Store the bundle's bytes under its digest, once; the caller's transaction commits
    them together with the app row that refers to them."""
    if session.get(AppBundle, spooled.digest) is not None:
        return
    with spooled.path.open("rb") as fh:
        seq = 0
        for seq, chunk in enumerate(_read(fh)):
            session.add(AppBundleChunk(digest=spooled.digest, seq=seq, data=chunk))
            if seq % 16 == 15:
                session.flush()  # bounded memory: the rows go out as they are read
        chunks = seq + 1 if spooled.size else 0
    session.add(AppBundle(digest=spooled.digest, size=spooled.size, chunks=chunks))
    session.flush()


def in_use(session: Session, digest: str) -> bool:
    refs = select(App.id).where(
        (App.tarball_digest == digest) | (App.target_tarball_digest == digest)
    )
    return session.scalars(refs).first() is not None


def forget(session: Session, digest: str | None) -> bool:
    """Delete a bundle no app refers to any more; True if it was deleted."""
    if not digest or in_use(session, digest):
        return False
    result = session.execute(delete(AppBundle).where(AppBundle.digest == digest))
    session.execute(delete(AppBundleChunk).where(AppBundleChunk.digest == digest))
    return bool(result.rowcount)  # type: ignore[attr-defined]


class BundleMissing(SysinvError):
    pass


def fetch(session: Session, digest: str, dest: Path) -> Path:
    """Write the bundle to ``dest`` (atomically, 0600), checking its digest; a cached copy
    with the right content is kept as it is."""
    if dest.is_file() and _digest_of(dest) == digest:
        return dest
    bundle = session.get(AppBundle, digest)
    if bundle is None:
        raise BundleMissing(f"the uploaded bundle {digest[:12]} is no longer stored")
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".fetch-")
    try:
        sha = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for seq in range(bundle.chunks):
                data = session.scalar(
                    select(AppBundleChunk.data).where(
                        AppBundleChunk.digest == digest, AppBundleChunk.seq == seq
                    )
                )
                if data is None:
                    raise BundleMissing(f"the uploaded bundle {digest[:12]} is incomplete")
                sha.update(data)
                out.write(data)
        if sha.hexdigest() != digest:
            raise BundleMissing(f"the uploaded bundle {digest[:12]} is corrupt")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _digest_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in _read(fh):
            sha.update(chunk)
    return sha.hexdigest()
