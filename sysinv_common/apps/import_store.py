"""The import store: bundles as the API received them, named by their sha256.

The API writes here and reads nothing but ``metadata.yaml``; everything else about a
bundle (extraction, checks, charts, images) is the conductor's job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import yaml

from sysinv_common.errors import InvalidInput

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBundle:
    path: Path
    digest: str
    size: int


@dataclass(frozen=True)
class BundleMetadata:
    name: str
    version: str


def _store_stream(store: Path, chunks: BinaryIO | httpx.Response, max_bytes: int) -> StoredBundle:
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=store, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            iterator = (
                chunks.iter_bytes(CHUNK)
                if isinstance(chunks, httpx.Response)
                else iter(lambda: chunks.read(CHUNK), b"")
            )
            for chunk in iterator:
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(
                        f"Application bundle is larger than the limit of {max_bytes} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        final = store / f"{digest.hexdigest()}.tgz"
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredBundle(final, digest.hexdigest(), size)


def store_bytes(store: Path, data: bytes, max_bytes: int) -> StoredBundle:
    import io

    return _store_stream(store, io.BytesIO(data), max_bytes)


def decode_binary_data(data: str, max_bytes: int) -> bytes:
    # StarlingX's client sends URL-safe base64 of the whole tarball.
    if len(data) > max_bytes * 4 // 3 + 4:
        raise InvalidInput(f"Application bundle is larger than the limit of {max_bytes} bytes")
    try:
        return base64.b64decode(data.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidInput("binary_data is not valid URL-safe base64") from None


def store_local_file(
    store: Path, path: str, import_dir: str | None, max_bytes: int
) -> StoredBundle:
    if not import_dir:
        raise InvalidInput(
            f"Tarfile {path} is not readable by the server: send binary_data, a URL, or "
            "configure apps.import_dir"
        )
    root = Path(import_dir).resolve()
    target = Path(path).resolve()
    if not target.is_relative_to(root):
        raise InvalidInput(f"Tarfile {path} is outside the import directory {root}")
    if not target.is_file():
        raise InvalidInput(f"Tarfile {path} does not exist on the server")
    with target.open("rb") as fh:
        return _store_stream(store, fh, max_bytes)


def store_url(store: Path, url: str, max_bytes: int, timeout: float) -> StoredBundle:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise InvalidInput(f"Fetching {url} failed: HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise InvalidInput(
                    f"Application bundle at {url} is larger than the limit of {max_bytes} bytes"
                )
            return _store_stream(store, response, max_bytes)
    except httpx.HTTPError as exc:
        raise InvalidInput(f"Fetching {url} failed: {exc}") from None


def read_metadata(path: Path, max_bytes: int) -> BundleMetadata:
    """Name and version from the bundle's ``metadata.yaml``, without extracting anything."""
    try:
        with tarfile.open(path, "r:*") as tar:
            member = next(
                (m for m in tar if m.name in ("metadata.yaml", "./metadata.yaml") and m.isfile()),
                None,
            )
            if member is None:
                raise InvalidInput("Application bundle has no metadata.yaml at its top level")
            if member.size > max_bytes:
                raise InvalidInput(f"metadata.yaml is larger than {max_bytes} bytes")
            fh = tar.extractfile(member)
            assert fh is not None
            raw = fh.read(max_bytes + 1)
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise InvalidInput("Application bundle is not a readable tar.gz archive") from None
    try:
        meta = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"metadata.yaml is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise InvalidInput("metadata.yaml must be a mapping with app_name and app_version")
    name, version = meta.get("app_name"), meta.get("app_version")
    if not isinstance(name, str) or not name:
        raise InvalidInput("metadata.yaml: app_name is missing or not a string")
    if not isinstance(version, str | int | float) or version == "":
        raise InvalidInput("metadata.yaml: app_version is missing or not a string")
    return BundleMetadata(name, str(version))
