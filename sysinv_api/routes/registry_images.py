"""``/v1/registry_image``: the local registry's images, in the shapes of StarlingX's
``system registry-image-list``, ``registry-image-tags`` and ``registry-image-delete``.
The conductor talks to the registry; this only shapes the request and the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep
from sysinv_api.params import parse_bool

router = APIRouter(prefix="/v1/registry_image", tags=["registry"], route_class=SysinvRoute)


class RegistryImageOut(BaseModel):
    name: str
    tag: str | None = None


class RegistryImageList(BaseModel):
    registry_images: list[RegistryImageOut]


@router.get("", response_model=RegistryImageList, summary="List images or an image's tags")
def list_(
    conductor: ConductorDep, filter_out_untagged: str | None = None, image_name: str | None = None
) -> dict[str, Any]:
    """Without ``image_name``: the repositories of the local registry (``name`` only),
    those without any tag left out when ``filter_out_untagged`` is true. With it: that
    repository's tags, one row per tag."""
    untagged = parse_bool("filter_out_untagged", filter_out_untagged)
    found = conductor.registry_images(image_name, untagged)
    return {"registry_images": [i.model_dump() for i in found.images]}


@router.delete("", status_code=204, response_class=Response, summary="Delete an image tag")
def delete(image_name_and_tag: str, conductor: ConductorDep) -> Response:
    """Deletes the manifest ``name:tag`` names (with any other tag of that manifest); its
    blobs are freed by the next garbage collection."""
    conductor.registry_image_delete(image_name_and_tag)
    return Response(status_code=204)
