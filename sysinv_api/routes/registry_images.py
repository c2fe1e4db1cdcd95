"""``/v1/registry_image``: the local registry's images, in the shapes of StarlingX's
``system registry-image-list``, ``registry-image-tags`` and ``registry-image-delete``.
The conductor talks to the registry; this only shapes the request and the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep
from sysinv_api.openapi import errors
from sysinv_api.params import parse_bool
from sysinv_common.errors import InvalidInput

router = APIRouter(prefix="/v1/registry_image", tags=["registry"], route_class=SysinvRoute)


class RegistryImageOut(BaseModel):
    name: str
    tag: str | None = None


class RegistryImageList(BaseModel):
    registry_images: list[RegistryImageOut]


@router.get(
    "", response_model=RegistryImageList, responses=errors(400, 404),
    summary="List images or an image's tags",
)  # fmt: skip
def list_(
    conductor: ConductorDep, filter_out_untagged: str | None = None, image_name: str | None = None
) -> dict[str, Any]:
    """Without ``image_name``: the repositories of the local registry (``name`` only),
    those without any tag left out when ``filter_out_untagged`` is true. With it: that
    repository's tags, one row per tag."""
    untagged = parse_bool("filter_out_untagged", filter_out_untagged)
    found = conductor.registry_images(image_name, untagged)
    return {"registry_images": [i.model_dump() for i in found.images]}


@router.delete(
    "", status_code=204, response_class=Response, responses=errors(400, 404),
    summary="Delete an image tag",
)  # fmt: skip
def delete(image_name_and_tag: str, conductor: ConductorDep) -> Response:
    """Deletes the manifest ``name:tag`` names (with any other tag of that manifest); its
    blobs are freed by the next garbage collection."""
    conductor.registry_image_delete(image_name_and_tag)
    return Response(status_code=204)


class GarbageCollectedOut(BaseModel):
    bytes_before: int
    bytes_after: int


@router.post(
    "", response_model=GarbageCollectedOut, responses=errors(400),
    summary="Run the registry's garbage collector",
)  # fmt: skip
def garbage_collect(
    request: Request, conductor: ConductorDep, garbage_collect: str | None = None
) -> dict[str, Any]:
    """``?garbage_collect=True`` (StarlingX's form): the registry turns read-only, its
    unreferenced blobs are removed, it turns writable again; answers the storage's size
    before and after."""
    if not parse_bool("garbage_collect", garbage_collect):
        raise InvalidInput("POST /v1/registry_image needs garbage_collect=True")
    timeout = request.app.state.settings.registry.garbage_collect_timeout + 180
    done = conductor.registry_garbage_collect(timeout=timeout)
    return {"bytes_before": done.bytes_before, "bytes_after": done.bytes_after}
