"""The upload step that puts an application's images into the local registry
(sysinv_conductor.images does the moving; this decides whether, and reports progress)."""

from __future__ import annotations

import logging

from armada.documents import DocumentSet
from sysinv_common.conf.registry import ImageSource
from sysinv_common.db.queries.system import get_platform_settings
from sysinv_common.errors import InvalidInput
from sysinv_conductor.bundle.reader import IMAGES_DIR, Bundle
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows.docker_parameters import docker_parameters
from sysinv_conductor.flows.operation import LeasedOperation
from sysinv_conductor.images.copy import Cancelled
from sysinv_conductor.images.publish import (
    Job,
    Published,
    chart_image_refs,
    local_endpoint,
    plan,
    publish,
)
from sysinv_conductor.images.registry import ImageError

LOG = logging.getLogger(__name__)


def local_registry(ctx: ConductorContext) -> tuple[str | None, str | None]:
    """(address, CA file) of the local registry, or (None, None) when there is none."""
    with ctx.db.session() as s:
        platform = get_platform_settings(s)
        address = ctx.settings.registry.address or platform.registry_address
        return address, platform.registry_ca_cert_file


def image_sources(ctx: ConductorContext) -> dict[str, ImageSource]:
    """Where each source registry's images are read from: the docker service parameters'
    mirrors (``system service-parameter-add docker quay-registry url=...``), under the
    conductor's own ``registry.sources``, which win."""
    with ctx.db.session() as s:
        mirrors = docker_parameters(s).mirrors
    return {**mirrors, **ctx.settings.registry.sources}


def push_images(
    ctx: ConductorContext, op: LeasedOperation, bundle: Bundle, docs: DocumentSet
) -> Published | None:
    """Every image the app uses, into the local registry; None when no registry is set or
    ``registry.images_at_upload`` is off."""
    address, ca_file = local_registry(ctx)
    images_dir = bundle.root / IMAGES_DIR
    if not address or not ctx.settings.registry.images_at_upload:
        if images_dir.is_dir() and any(images_dir.iterdir()):
            why = ("no local registry is configured (registry.address)" if not address
                   else "registry.images_at_upload is false")  # fmt: skip
            op.event(None, "images", f"{why}: the images/ archives were not pushed")
        return None
    reg = ctx.settings.registry
    try:
        jobs = plan(images_dir, chart_image_refs(docs, bundle.root / "charts"))
    except ImageError as exc:
        raise InvalidInput(str(exc)) from None
    if not jobs:
        return None
    total = len(jobs)
    op.event(None, "images", f"{total} images into the local registry {address}",
             progress=f"pushing images 0/{total}")  # fmt: skip

    def progress(done: int, total: int, job: Job) -> None:
        op.event(None, "images", f"{job} in the local registry",
                 progress=f"pushing images {done}/{total}")  # fmt: skip

    try:
        local = local_endpoint(ctx.settings, ctx.registry_key.get(), address, ca_file)
        result = publish(jobs, local, image_sources(ctx), reg.platform, reg.parallel_images,
                         progress, op.cancel)  # fmt: skip
    except ImageError as exc:
        raise InvalidInput(f"application images: {exc}") from None
    except Cancelled:
        raise InvalidInput("application images: stopped (the upload was aborted)") from None
    op.event(None, "images", f"images: {result}")
    return result
