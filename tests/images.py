"""Container images for tests, written from bytes: an OCI image layout (the format
``skopeo copy oci:DIR:TAG`` reads) of one small layer, unique per call unless told."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class OciImage:
    layout: Path
    tag: str
    manifest_digest: str
    layer_digest: str
    config_digest: str
    content: bytes

    @property
    def ref(self) -> str:
        """``oci:DIR:TAG`` for skopeo."""
        return f"oci:{self.layout}:{self.tag}"


def _blob(blobs: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def _layer(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def write_oci_image(
    root: Path, tag: str = "latest", content: bytes | None = None, size: int = 0
) -> OciImage:
    """An OCI layout under ``root`` holding one image: a layer with ``/hello.txt``
    (``content``, unique by default) and ``size`` more bytes of random-looking data."""
    content = content if content is not None else f"hello {uuid.uuid4()}\n".encode()
    files = {"hello.txt": content}
    if size:
        files["data.bin"] = b"".join(
            hashlib.sha256(content + i.to_bytes(8, "big")).digest() for i in range(size // 32 + 1)
        )[:size]
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    tar = _layer(files)
    gz = gzip.compress(tar, mtime=0)
    layer_digest, layer_size = _blob(blobs, gz)
    config: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
    }
    config_digest, config_size = _blob(blobs, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer_size}],
    }
    manifest_digest, manifest_size = _blob(blobs, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    }  # fmt: skip
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return OciImage(root, tag, manifest_digest, layer_digest, config_digest, content)
