"""Image references rewritten to the local registry.

An image ``quay.io/org/name:tag`` is served by the local registry as
``<registry>/quay.io/org/name:tag`` (the original registry kept as the first path part,
as StarlingX's registry.local does), so images from different registries never clash.
"""

from __future__ import annotations

from typing import Any

from helm_overrides.snapshot import ChartInput, ModelSnapshot

DEFAULT_REGISTRY = "docker.io"


def _registry_part(first: str) -> bool:
    # Docker's rule: the first component names a registry if it has a dot or a port,
    # or is "localhost".
    return "." in first or ":" in first or first == "localhost"


def qualified(ref: str) -> str:
    """``ref`` with its registry named, as Docker reads it: ``busybox:1.36`` is
    ``docker.io/library/busybox:1.36``, ``org/name`` is ``docker.io/org/name``."""
    first, _, rest = ref.partition("/")
    if rest and _registry_part(first):
        return ref
    if not rest:
        ref = f"library/{ref}"
    return f"{DEFAULT_REGISTRY}/{ref}"


def local_image(registry: str, ref: str) -> str:
    if ref.startswith(registry + "/"):
        return ref
    return f"{registry}/{qualified(ref)}"


def local_image_tags(registry: str | None, tags: Any) -> dict[str, str]:
    """``images.tags`` of a chart with every reference served by ``registry``."""
    if not registry or not isinstance(tags, dict):
        return {}
    return {
        name: local_image(registry, ref)
        for name, ref in sorted(tags.items())
        if isinstance(ref, str) and ref
    }


def image_overrides(snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
    """``{"images": {"tags": ...}}`` for the chart's own image references, or nothing."""
    images = chart.base_values.get("images")
    tags = local_image_tags(
        snap.registry_address, images.get("tags") if isinstance(images, dict) else None
    )
    return {"images": {"tags": tags}} if tags else {}
