"""``/v1/ihosts``: list, show, add, update (fields and lock/unlock), delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from sqlalchemy.orm import Session

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.schemas.host import HostList, HostOut, LabelList, host_out, label_out
from sysinv_api.services import hosts as host_service
from sysinv_api.services.patch import parse_patch
from sysinv_common.db.models import Host
from sysinv_common.db.queries.hosts import find_host, labels_of, list_hosts
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import InvalidInput
from sysinv_common.states.host import check_action_allowed, parse_action

router = APIRouter(prefix="/v1/ihosts", tags=["hosts"], route_class=SysinvRoute)

JsonBody = Annotated[Any, Body()]


def render(session: Session, host: Host) -> dict[str, Any]:
    system = get_system(session)
    return host_out(host, system.uuid, system.software_version)


@router.get("", response_model=HostList)
def list_(db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        system = get_system(s)
        return {
            "ihosts": [host_out(h, system.uuid, system.software_version) for h in list_hosts(s)]
        }


@router.get("/{ident}", response_model=HostOut)
def show(ident: str, db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return render(s, find_host(s, ident))


@router.post("", response_model=HostOut)
def add(body: JsonBody, db: DatabaseDep, conductor: ConductorDep) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("Expected a JSON object with the host's attributes")
    with db.session() as s:
        host = host_service.create_host(s, body)
    # The Node may already exist (a re-added host): let the conductor look and record it.
    conductor.host_sync(host.id)
    with db.session() as s:
        return render(s, find_host(s, str(host.id)))


@router.patch("/{ident}", response_model=HostOut)
def update(ident: str, body: JsonBody, db: DatabaseDep, conductor: ConductorDep) -> dict[str, Any]:
    changes = parse_patch(body, host_service.UPDATABLE | {"action"})
    with db.session() as s:
        host = find_host(s, ident)
        host_id = host.id
        if "action" in changes:
            if len(changes) > 1:
                raise InvalidInput("A host action cannot be combined with other changes")
            action = parse_action(changes["action"])
            check_action_allowed(host, action)
        else:
            old_name = host.hostname
            host_service.update_host(s, host, changes)
            renamed = host.hostname != old_name
    if "action" in changes:
        conductor.host_action(host_id, action.value)
    elif renamed:
        conductor.host_sync(host_id)
    with db.session() as s:
        return render(s, find_host(s, str(host_id)))


@router.delete("/{ident}", status_code=204, response_class=Response)
def delete(ident: str, db: DatabaseDep, conductor: ConductorDep) -> Response:
    with db.session() as s:
        host_id = find_host(s, ident).id
    conductor.host_delete(host_id)  # which refuses an unlocked host
    return Response(status_code=204)


@router.get("/{ident}/labels", response_model=LabelList)
def labels(ident: str, db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        host = find_host(s, ident)
        return {"labels": [label_out(lb, host.uuid) for lb in labels_of(s, host.id)]}
