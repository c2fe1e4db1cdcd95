"""Copy one image from a source registry into the local registry, blob by blob.

Blobs stream from one registry to the other without touching the disk; a blob the local
registry already holds is not sent again (HEAD first), and an image whose manifest is
already there under its tag with the same digest costs one request per side. A
multi-platform image is copied for the platform the nodes run (``registry.platform``),
as ``docker pull`` and ``skopeo copy`` do: the tag then names that platform's manifest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from dxf import DXF

from sysinv_conductor.images.reference import ImageRef
from sysinv_conductor.images.registry import (
    LISTS,
    Endpoint,
    ImageError,
    Manifest,
    get_manifest,
    has_blob,
    manifest_digest,
    put_manifest,
)

CHUNK = 1024 * 1024
PULL = ("pull",)
PULL_PUSH = ("pull", "push")


@dataclass(frozen=True)
class Moved:
    """What one image cost: blobs and bytes sent, and those the registry already had."""

    blobs_sent: int = 0
    bytes_sent: int = 0
    blobs_present: int = 0
    #: True: the local registry already had this manifest under this tag.
    unchanged: bool = False


class Cancelled(Exception):
    pass


def _platform_manifest(client: DXF, index: Manifest, platform: str) -> Manifest:
    os_name, _, arch = platform.partition("/")
    arch, _, variant = arch.partition("/")
    entries = index.json().get("manifests") or []
    for entry in entries:
        p = entry.get("platform") or {}
        if (
            p.get("os") == os_name
            and p.get("architecture") == arch
            and (not variant or p.get("variant") == variant)
        ):
            return get_manifest(client, entry["digest"])
    platforms = [e.get("platform") or {} for e in entries]
    found = sorted({f"{p.get('os')}/{p.get('architecture')}" for p in platforms})
    raise ImageError(f"no {platform} image in its index (it has {', '.join(found) or 'none'})")


def _blobs(manifest: Manifest) -> list[tuple[str, int]]:
    data = manifest.json()
    if "config" not in data or "layers" not in data:
        raise ImageError(f"unsupported manifest type {manifest.media_type or 'unknown'}")
    return [(d["digest"], int(d.get("size", 0))) for d in [data["config"], *data["layers"]]]


def copy_image(
    ref: ImageRef,
    source: Endpoint,
    source_repository: str,
    local: Endpoint,
    platform: str,
    cancel: threading.Event | None = None,
) -> Moved:
    """Copy ``ref`` (read from ``source_repository`` on ``source``) to
    ``ref.local_repository`` on ``local`` under ``ref.local_tag`` (or its digest)."""
    with source.repository(source_repository, PULL) as src, \
            local.repository(ref.local_repository, PULL_PUSH) as dst:  # fmt: skip
        manifest = get_manifest(src, ref.reference)
        if manifest.media_type in LISTS:
            manifest = _platform_manifest(src, manifest, platform)
        target = ref.digest if ref.digest else ref.local_tag
        if manifest_digest(dst, target) == manifest.digest:
            return Moved(unchanged=True)
        sent = present = size_sent = 0
        for digest, size in _blobs(manifest):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if has_blob(dst, digest):
                present += 1
                continue
            # dxf checks the digest of what it read; the local registry checks it again.
            chunks = cast(Iterable[bytes], src.pull_blob(digest, chunk_size=CHUNK))
            dst.push_blob(data=chunks, digest=digest, check_exists=False)
            sent += 1
            size_sent += size
        if ref.digest and ref.digest != manifest.digest:
            # Pinned to an index: the index's digest cannot name a single-platform manifest.
            target = manifest.digest
        put_manifest(dst, target, manifest)
        return Moved(sent, size_sent, present)
