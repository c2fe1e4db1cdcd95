"""``/v1/isystems`` (show, modify), the read-only ``/v1/platform_settings`` and the
(empty) ``/v1/certificate`` list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import DatabaseDep
from sysinv_api.schemas.system import SystemList, SystemOut, platform_out, system_out
from sysinv_api.services.patch import parse_patch
from sysinv_api.services.system import REFUSED, UPDATABLE, update_system
from sysinv_common.db.queries.system import get_platform_settings, get_system

router = APIRouter(tags=["system"], route_class=SysinvRoute)


@router.get("/v1/isystems", response_model=SystemList)
def list_(db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return {"isystems": [system_out(get_system(s))]}


@router.get("/v1/isystems/{ident}", response_model=SystemOut)
def show(ident: str, db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return system_out(get_system(s, ident))


@router.patch("/v1/isystems/{ident}", response_model=SystemOut)
def modify(ident: str, body: Annotated[Any, Body()], db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        changes = parse_patch(body, UPDATABLE, REFUSED.keys())
        return system_out(update_system(s, get_system(s, ident), changes))


@router.get("/v1/platform_settings")
def platform(db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return platform_out(get_platform_settings(s))


@router.get("/v1/certificate")
def certificates() -> dict[str, Any]:
    """sysinv installs no certificates: an empty list. StarlingX's ``system modify
    --https_enabled true`` lists them before it sends its PATCH, which then explains why
    HTTPS cannot be switched on here."""
    return {"certificates": []}
