"""Images shipped in a bundle's ``images/`` directory, pushed to the local registry.

Two formats, as ``skopeo copy`` and ``docker save`` write them:

- an OCI image layout in a tar (``oci-archive:``): ``index.json`` names each image with
  the ``org.opencontainers.image.ref.name`` annotation (or containerd's
  ``io.containerd.image.name``), and holds manifests and blobs by digest;
- a Docker archive (``docker-archive:``, ``docker save``): ``manifest.json`` lists each
  image's ``RepoTags``, config file and layer tars. Its layers are uncompressed tars whose
  digests are the config's ``rootfs.diff_ids``; the image is pushed with an OCI manifest
  naming them as uncompressed layers, which Docker, containerd and CRI-O all pull.

Nothing is extracted: blobs stream from the archive to the registry.
"""

from __future__ import annotations

import json
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sysinv_conductor.images.copy import CHUNK, PULL_PUSH, Cancelled, Moved
from sysinv_conductor.images.reference import ImageRef, parse
from sysinv_conductor.images.registry import (
    LISTS,
    OCI_MANIFEST,
    Endpoint,
    ImageError,
    Manifest,
    has_blob,
    manifest_digest,
    put_manifest,
    sha256_digest,
)

MAX_INDEX_BYTES = 1024 * 1024
REF_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    member: str


@dataclass(frozen=True)
class ArchiveImage:
    archive: Path
    ref: ImageRef
    manifest: Manifest
    blobs: tuple[Blob, ...]

    def __str__(self) -> str:
        return f"{self.ref} (images/{self.archive.name})"


def _read(tar: tarfile.TarFile, name: str, limit: int = MAX_INDEX_BYTES) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise ImageError(f"it has no {name}") from None
    if not member.isfile() or member.size > limit:
        raise ImageError(f"{name} is not a file of at most {limit} bytes")
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


def _json(tar: tarfile.TarFile, name: str) -> Any:
    try:
        return json.loads(_read(tar, name))
    except ValueError as exc:
        raise ImageError(f"{name} is not JSON: {exc}") from None


def _member(tar: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise ImageError(f"it has no {name}") from None
    if not member.isfile():
        raise ImageError(f"{name} is not a file")
    return member


def _blob_name(digest: str) -> str:
    algorithm, _, hexa = digest.partition(":")
    return f"blobs/{algorithm}/{hexa}"


def _oci_images(path: Path, tar: tarfile.TarFile) -> list[ArchiveImage]:
    images = []
    for entry in _json(tar, "index.json").get("manifests") or []:
        annotations = entry.get("annotations") or {}
        name = next((annotations[a] for a in REF_ANNOTATIONS if a in annotations), None)
        # A bare word ("1.36", "latest") is a tag, which names no repository to push to.
        if not name or not any(c in name for c in "/:@"):
            raise ImageError(
                f"index.json entry {entry.get('digest')} has no image name (annotation "
                f"{REF_ANNOTATIONS[1]} holding a repository, e.g. docker.io/org/name:tag)"
            )
        body = _read(tar, _blob_name(entry["digest"]), 4 * 1024 * 1024)
        media_type = entry.get("mediaType") or json.loads(body).get("mediaType") or OCI_MANIFEST
        if media_type in LISTS:
            raise ImageError(f"{name} is a multi-platform index: save one platform's image")
        manifest = Manifest(body, media_type, entry["digest"])
        data = manifest.json()
        blobs = tuple(
            Blob(d["digest"], int(d["size"]), _blob_name(d["digest"]))
            for d in [data["config"], *data["layers"]]
        )
        for blob in blobs:
            _member(tar, blob.member)
        images.append(ArchiveImage(path, parse(name), manifest, blobs))
    return images


def _docker_images(path: Path, tar: tarfile.TarFile) -> list[ArchiveImage]:
    images = []
    for entry in _json(tar, "manifest.json"):
        config_name, layer_names = entry["Config"], entry["Layers"]
        config_body = _read(tar, config_name, 4 * 1024 * 1024)
        diff_ids = (json.loads(config_body).get("rootfs") or {}).get("diff_ids") or []
        if len(diff_ids) != len(layer_names):
            raise ImageError(f"{config_name} names {len(diff_ids)} layers, the archive "
                             f"{len(layer_names)}")  # fmt: skip
        config = Blob(sha256_digest(config_body), len(config_body), config_name)
        pairs = zip(diff_ids, layer_names, strict=True)
        layers = [Blob(d, _member(tar, n).size, n) for d, n in pairs]
        body = json.dumps({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
            "layers": [{"mediaType": OCI_LAYER, "digest": b.digest, "size": b.size}
                       for b in layers],
        }, separators=(",", ":")).encode()  # fmt: skip
        manifest = Manifest(body, OCI_MANIFEST, sha256_digest(body))
        for tag in entry.get("RepoTags") or []:
            images.append(ArchiveImage(path, parse(tag), manifest, (config, *layers)))
    return images


def read_archive(path: Path) -> list[ArchiveImage]:
    """The images in one archive, named; an archive sysinv cannot push is refused here,
    before anything is sent."""
    try:
        with tarfile.open(path, "r:*") as tar:
            names = set(tar.getnames())
            if "index.json" in names:
                return _oci_images(path, tar)
            if "manifest.json" in names:
                return _docker_images(path, tar)
    except (tarfile.TarError, OSError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(f"images/{path.name}: not a readable image archive: {exc}") from None
    raise ImageError(
        f"images/{path.name}: neither an OCI layout (index.json) nor a Docker archive "
        "(manifest.json)"
    )


def _chunks(tar: tarfile.TarFile, member: str) -> Iterator[bytes]:
    f = tar.extractfile(member)
    assert f is not None
    while chunk := f.read(CHUNK):
        yield chunk


def push_archive_image(
    image: ArchiveImage, local: Endpoint, cancel: threading.Event | None = None
) -> Moved:
    ref = image.ref
    target = ref.digest or ref.local_tag
    with local.repository(ref.local_repository, PULL_PUSH) as dst:
        if manifest_digest(dst, target) == image.manifest.digest:
            return Moved(unchanged=True)
        sent = present = size_sent = 0
        with tarfile.open(image.archive, "r:*") as tar:
            for blob in image.blobs:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if has_blob(dst, blob.digest):
                    present += 1
                    continue
                dst.push_blob(data=_chunks(tar, blob.member), digest=blob.digest,
                              check_exists=False)  # fmt: skip
                sent += 1
                size_sent += blob.size
        put_manifest(dst, target, image.manifest)
    return Moved(sent, size_sent, present)
