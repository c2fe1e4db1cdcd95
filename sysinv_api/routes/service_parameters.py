"""``/v1/service_parameter``: StarlingX's service parameters (list, show, add, modify,
delete, apply). Reads come from the database with secrets masked; every write is the
conductor's, which checks the values and encrypts the secrets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import JsonPatch, errors, request_body
from sysinv_api.services.patch import parse_patch
from sysinv_common import service_parameters as schema
from sysinv_common.db.models import ServiceParameter
from sysinv_common.errors import InvalidInput, NotFound
from sysinv_common.messaging.rpcapi import (
    ServiceParameterAdd,
    ServiceParameterModify,
    ServiceParameterRow,
    ServiceParameterSection,
)

router = APIRouter(prefix="/v1/service_parameter", tags=["service parameters"],
                   route_class=SysinvRoute)  # fmt: skip
FILTERS = ("service", "section", "name")


class ParameterList(BaseModel):
    parameters: list[ServiceParameterRow]


class ParametersAdded(ParameterList):
    service: str
    section: str


class ServiceApply(BaseModel):
    service: str


def _filters(request: Request) -> dict[str, str]:
    """StarlingX's client filters with ``q.field=service&q.op=eq&q.value=docker`` (the
    lists line up by position); plain ``service=docker`` is taken too."""
    params = request.query_params
    found = {k: params[k] for k in FILTERS if k in params}
    fields, values = params.getlist("q.field"), params.getlist("q.value")
    ops = params.getlist("q.op") or ["eq"] * len(fields)
    if len(fields) != len(values):
        raise InvalidInput("q.field and q.value must come in pairs")
    for field, op, value in zip(fields, ops + ["eq"] * len(fields), values, strict=False):
        if field not in FILTERS:
            raise InvalidInput(f"Cannot filter on '{field}': use {', '.join(FILTERS)}")
        if op not in ("eq", ""):
            raise InvalidInput(f"Unsupported filter operator '{op}': only eq")
        found[field] = value
    return found


@router.get("", response_model=ParameterList, responses=errors(400),
            summary="List service parameters")  # fmt: skip
def list_(request: Request, db: DatabaseDep) -> dict[str, Any]:
    """Every parameter, or those matching the filters; secrets read ``****``."""
    wanted = _filters(request)
    query = select(ServiceParameter).order_by(
        ServiceParameter.service, ServiceParameter.section, ServiceParameter.name
    )
    for field, value in wanted.items():
        query = query.where(getattr(ServiceParameter, field) == value)
    with db.read_session() as s:
        return {"parameters": [schema.row_out(r).model_dump() for r in s.scalars(query)]}


@router.get("/{uuid}", response_model=ServiceParameterRow, responses=errors(404),
            summary="Show a service parameter")  # fmt: skip
def show(uuid: str, db: DatabaseDep) -> dict[str, Any]:
    """The parameter with this uuid; a secret's value reads ``****``."""
    with db.read_session() as s:
        row = s.scalars(select(ServiceParameter).where(ServiceParameter.uuid == uuid)).first()
        if row is None:
            raise NotFound(f"Service parameter not found: {uuid}")
        return schema.row_out(row).model_dump()


@router.post("", response_model=ParametersAdded, responses=errors(400),
             summary="Add service parameters")  # fmt: skip
def add(body: ServiceParameterSection, conductor: ConductorDep) -> dict[str, Any]:
    """One row per ``parameters`` entry of the section; all or none are added."""
    added = conductor.service_parameter_add(ServiceParameterAdd(**body.model_dump()))
    return {"service": body.service, "section": body.section,
            "parameters": [p.model_dump() for p in added.parameters]}  # fmt: skip


@router.patch(
    "/{uuid}", response_model=ServiceParameterRow, responses=errors(400, 404),
    summary="Modify a service parameter", openapi_extra=request_body(JsonPatch),
)  # fmt: skip
def modify(
    uuid: str, body: Annotated[Any, Body()], db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    """JSON-Patch of ``/value`` (and ``/personality``, ``/resource``); ``/name`` may be
    sent as StarlingX's client does, but not changed."""
    changes = parse_patch(body, {"name", "value", "personality", "resource"})
    if not isinstance(changes.get("value"), str):
        raise InvalidInput("Modifying a service parameter needs a /value (a string)")
    name = show(uuid, db)["name"]
    if "name" in changes and changes["name"] != name:
        raise InvalidInput(f"A service parameter's name cannot change (it is {name})")
    request = ServiceParameterModify(
        uuid=uuid, value=changes["value"], personality=changes.get("personality"),
        resource=changes.get("resource"),
    )  # fmt: skip
    return conductor.service_parameter_modify(request).parameters[0].model_dump()


@router.delete("/{uuid}", status_code=204, response_class=Response, responses=errors(404),
               summary="Delete a service parameter")  # fmt: skip
def delete(uuid: str, conductor: ConductorDep) -> Response:
    """Removed at once; the nodes lose it at the next service-parameter-apply."""
    conductor.service_parameter_delete(uuid)
    return Response(status_code=204)


@router.post("/apply", status_code=204, response_class=Response, responses=errors(404),
             summary="Apply a service's parameters")  # fmt: skip
def apply(body: ServiceApply, conductor: ConductorDep) -> Response:
    """Every host whose configuration the parameters change gets a new one."""
    conductor.service_parameter_apply(body.service)
    return Response(status_code=204)
