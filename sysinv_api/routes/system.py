"""``/v1/isystems`` (show, modify), the read-only ``/v1/platform_settings`` and the
(empty) ``/v1/certificate`` list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import DatabaseDep
from sysinv_api.openapi import JsonPatch, errors, request_body
from sysinv_api.schemas.system import (
    CertificateList,
    PlatformOut,
    SystemList,
    SystemOut,
    platform_out,
    system_out,
)
from sysinv_api.services.patch import parse_patch
from sysinv_api.services.system import REFUSED, UPDATABLE, update_system
from sysinv_common.db.queries.system import get_platform_settings, get_system

router = APIRouter(tags=["system"], route_class=SysinvRoute)


@router.get(
    "/v1/isystems",
    response_model=SystemList,
    summary="List the system",
    responses=errors(),
    description="The one system this sysinv manages, in a list (StarlingX's ``system show``).",
)
def list_(db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return {"isystems": [system_out(get_system(s))]}


@router.get(
    "/v1/isystems/{ident}",
    response_model=SystemOut,
    summary="Show the system",
    description="The system, by its uuid.",
    responses=errors(404),
)
def show(ident: str, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return system_out(get_system(s, ident))


@router.patch(
    "/v1/isystems/{ident}",
    response_model=SystemOut,
    summary="Modify the system",
    description=(
        "``system modify``: a JSON Patch of ``replace`` operations on the name, description, "
        "contact, location, timezone, latitude, longitude or system mode (simplex to duplex). "
        "Attributes that cannot change here are refused with the reason."
    ),
    responses=errors(400, 404),
    openapi_extra=request_body(JsonPatch),
)
def modify(ident: str, body: Annotated[Any, Body()], db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        changes = parse_patch(body, UPDATABLE, REFUSED.keys())
        return system_out(update_system(s, get_system(s, ident), changes))


@router.get(
    "/v1/platform_settings",
    summary="Show the platform settings",
    description="The networks, registry and external Ceph recorded at bootstrap (read-only).",
    responses={200: {"model": PlatformOut}, **errors()},
)
def platform(db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return platform_out(get_platform_settings(s))


@router.get(
    "/v1/certificate",
    summary="List the certificates",
    description="Always empty: sysinv installs no certificates.",
    responses={200: {"model": CertificateList}, **errors()},
)
def certificates() -> dict[str, Any]:
    """sysinv installs no certificates: an empty list. StarlingX's ``system modify
    --https_enabled true`` lists them before it sends its PATCH, which then explains why
    HTTPS cannot be switched on here."""
    return {"certificates": []}
