"""The local registry's images as StarlingX's ``system registry-image-*`` commands see
them: repositories, a repository's tags, deleting a tag (by its manifest's digest, as the
registry's API requires; other tags of the same manifest go with it, as in StarlingX),
and the garbage collection that frees the deleted images' blobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import requests
from dxf.exceptions import DXFError

from sysinv_common.errors import InvalidInput, NotFound, Unavailable
from sysinv_common.messaging.rpcapi import (
    Empty,
    GarbageCollected,
    RegistryImage,
    RegistryImageQuery,
    RegistryImages,
)
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows.app_images import local_registry
from sysinv_conductor.images import gc
from sysinv_conductor.images.publish import local_endpoint
from sysinv_conductor.images.reference import valid_repository
from sysinv_conductor.images.registry import Endpoint, describe, manifest_digest

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def _local(ctx: ConductorContext) -> Endpoint:
    address, ca_file = local_registry(ctx)
    if not address:
        raise InvalidInput(
            "no local registry is configured (set registry.address or the bootstrap "
            "registry.address)"
        )
    return local_endpoint(ctx.settings, ctx.registry_key.get(), address, ca_file)


def _asking(local: Endpoint, what: str, call: Callable[[], T]) -> T:
    """``call()``, with the registry's refusals as sysinv's errors."""
    try:
        return call()
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            raise NotFound(f"{what} not found in the local registry") from None
        raise InvalidInput(f"{what}: the local registry answered {describe(exc)}") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Unavailable(
            f"the local registry at {local.address} cannot be reached: {describe(exc)}"
        ) from None
    except DXFError as exc:
        raise InvalidInput(f"{what}: {describe(exc)}") from None


def _tags(local: Endpoint, name: str) -> list[str]:
    with local.repository(name, ("pull",)) as repo:
        tags = repo.list_aliases()
    return sorted(tags or [])


def _tags_of(local: Endpoint, name: str) -> list[str]:
    return _asking(local, f"image {name}", lambda: _tags(local, name))


def images(ctx: ConductorContext, query: RegistryImageQuery) -> RegistryImages:
    local = _local(ctx)
    name = query.image_name
    if name is not None:
        if not valid_repository(name):
            raise InvalidInput(f"{name!r} is not an image name (repository without a tag)")
        tags = _tags_of(local, name)
        return RegistryImages(images=[RegistryImage(name=name, tag=t) for t in tags])

    def catalog() -> list[str]:
        with local.catalog() as base:
            return sorted(base.list_repos())

    repos = _asking(local, "the catalog", catalog)
    if query.filter_out_untagged:
        # A repository whose tags were all deleted stays in the catalog until a garbage
        # collection: StarlingX's --filter-out-untagged hides those.
        repos = [r for r in repos if _tags_of(local, r)]
    return RegistryImages(images=[RegistryImage(name=r) for r in repos])


def delete(ctx: ConductorContext, image_name_and_tag: str) -> Empty:
    name, sep, tag = image_name_and_tag.rpartition(":")
    if not sep or "/" in tag or not name or not valid_repository(name):
        raise InvalidInput(
            f"{image_name_and_tag!r}: image name and tag must be of the form name:tag"
        )
    local = _local(ctx)

    def remove() -> str:
        with local.repository(name, ("pull", "delete")) as repo:
            digest = manifest_digest(repo, tag)
            if digest is None:
                raise NotFound(f"image {image_name_and_tag} not found in the local registry")
            repo.del_alias(tag)
            return digest

    digest = _asking(local, f"image {image_name_and_tag}", remove)
    LOG.info("registry image %s deleted (manifest %s)", image_name_and_tag, digest)
    return Empty()


def garbage_collect(ctx: ConductorContext) -> GarbageCollected:
    done = gc.garbage_collect(ctx.settings.registry, _local(ctx))
    return GarbageCollected(bytes_before=done.bytes_before, bytes_after=done.bytes_after)
