"""``/v1/ihosts``: list, show, add, update (fields and lock/unlock), delete, and the bulk
add and export of StarlingX's XML hosts file.

``bulk_add`` and ``bulk_export`` are actions, never host identifiers: their routes come
before ``/{ident}``, answer 405 to any other method, and :func:`_ident` keeps them from
every host lookup.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
from typing import Annotated, Any, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import HostCreate, HostsFile, JsonPatch, errors, request_body
from sysinv_api.schemas.common import json_answer
from sysinv_api.schemas.host import (
    BulkAddResult,
    BulkExport,
    HostList,
    HostOut,
    LabelList,
    host_out,
    label_out,
)
from sysinv_api.services import hosts as host_service
from sysinv_api.services import hosts_bulk
from sysinv_api.services.patch import parse_patch
from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host
from sysinv_common.db.queries.hosts import (
    find_host,
    host_row,
    labels_of,
    list_hosts,
    page_of_hosts,
)
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import BrokerUnavailable, ConductorUnavailable, InvalidInput, NotFound
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_common.states.host import Action, check_action_allowed, parse_action

router = APIRouter(prefix="/v1/ihosts", tags=["hosts"], route_class=SysinvRoute)
LOG = logging.getLogger(__name__)


def sync_after_commit(conductor: ConductorAPI, host_id: int, hostname: str) -> None:
    """Ask the conductor to look at the host's Node now. The host is already saved, so the
    answer is success either way: without a conductor its audits do this later."""
    try:
        conductor.host_sync(host_id)
    except (ConductorUnavailable, BrokerUnavailable) as exc:
        LOG.warning("host %s saved; its Node is synced by the conductor's audit: %s",
                    hostname, exc)  # fmt: skip


JsonBody = Annotated[Any, Body()]

#: The actions under /v1/ihosts/, and the one method each answers.
RESERVED = {"bulk_add": "POST", "bulk_export": "GET"}


async def _ident(ident: str) -> str:
    """A host's id, uuid or hostname: never one of the action names (async: no thread
    pool hop for it)."""
    if ident in RESERVED:
        raise NotFound(f"Resource not found: /v1/ihosts/{ident} is the {ident} action")
    return ident


Ident = Annotated[str, Depends(_ident)]


def render(session: Session, host: Host) -> dict[str, Any]:
    system = get_system(session)
    return host_out(host, system.uuid, system.software_version, system.active_controller_id)


@router.get(
    "",
    response_model=HostList,
    summary="List hosts",
    responses=errors(400),
    description=(
        "``host-list``: hosts, as ``host-show`` shows each. Paged as StarlingX's API: "
        "``limit`` hosts (at most ``api.limit_max``, 1000) after the host whose uuid is "
        "``marker``, sorted by ``sort_key`` (``id``) in ``sort_dir`` (``asc``); ``next`` is "
        "the URL of the next page, present only when more hosts follow. Without ``limit``, "
        "every host."
    ),
)
def list_(
    request: Request,
    db: DatabaseDep,
    limit: Annotated[int | None, Query(description="Hosts per page.")] = None,
    marker: Annotated[str | None, Query(description="The last uuid of the page before.")] = None,
    sort_key: Annotated[str, Query(description="A host attribute: id, hostname, ...")] = "id",
    sort_dir: Annotated[str, Query(description="asc or desc.")] = "asc",
) -> Response:
    settings: Settings = request.app.state.settings
    if limit is not None and limit > settings.api.limit_max:
        limit = settings.api.limit_max
    with db.read_session() as s:
        page, more = page_of_hosts(s, limit, marker, sort_key, sort_dir)
    hosts = [
        host_out(h, h.system_uuid, h.system_software_version, h.system_active_controller_id)
        for h in page
    ]
    answer: dict[str, Any] = {"ihosts": hosts}
    if more and limit is not None:
        query = urlencode(
            {"sort_key": sort_key, "sort_dir": sort_dir, "limit": limit, "marker": page[-1].uuid}
        )
        answer["next"] = f"{str(request.base_url).rstrip('/')}/v1/ihosts?{query}"
    return json_answer(answer)


@router.get(
    "/bulk_export",
    summary="Export the hosts file",
    description="``host-bulk-export``: every host as the XML hosts file host-bulk-add reads.",
    responses={200: {"model": BulkExport}, **errors()},
)
def bulk_export(db: DatabaseDep) -> dict[str, str]:
    """``host-bulk-export``: ``{"content": "<hosts ...>"}``, the hosts as a bulk-add file."""
    with db.read_session() as s:
        system = get_system(s)
        return {"content": hosts_bulk.export_hosts(list_hosts(s), system.software_version)}


@router.post(
    "/bulk_add",
    summary="Add the hosts of a hosts file",
    description=(
        "``host-bulk-add FILE``: the XML file as the ``file`` part of a multipart form (or as "
        "the body). Answered 200 with sysinv's ``success`` and ``error``, whether or not "
        "every host was added."
    ),
    responses={200: {"model": BulkAddResult}, **errors(400)},
    openapi_extra=request_body(HostsFile, "multipart/form-data"),
)
async def bulk_add(request: Request, db: DatabaseDep, conductor: ConductorDep) -> dict[str, str]:
    """``host-bulk-add FILE``: the file as the ``file`` part of a multipart form, as
    StarlingX's client sends it (or, from other callers, as an XML body). The answer is
    sysinv's ``{"success", "error"}``, with status 200 even when no host was added: the
    client reads those two keys and nothing else."""
    content = _hosts_file(request.headers.get("content-type", ""), await request.body())
    if content is None:
        return {"success": "", "error": "Error: No file uploaded (no 'file' part in the form)"}
    # The database and the broker are reached synchronously: off the event loop.
    return await run_in_threadpool(_bulk_add, db, conductor, content)


def _bulk_add(db: Database, conductor: ConductorAPI, content: bytes) -> dict[str, str]:
    result = hosts_bulk.add_hosts(db, content)
    for host_id in result.added:
        # As for one host: the Node may already exist; the conductor records how it is.
        conductor.host_sync(host_id)
    return result.answer()


def _hosts_file(content_type: str, body: bytes) -> bytes | None:
    """The hosts file of the request; None for a form without it."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/xml", "text/xml"):
        return body
    if media != "multipart/form-data":
        raise InvalidInput(
            "host-bulk-add expects the hosts file as the 'file' part of a multipart/form-data "
            "request (or an application/xml body)"
        )
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in form.iter_parts() if form.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "file":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and part.get_filename():
                return data
    return None


@router.api_route(
    "/bulk_add",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    response_model=None,
)
@router.api_route(
    "/bulk_export",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    response_model=None,
)
def _action_wrong_method(request: Request) -> NoReturn:
    action = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    raise HTTPException(405, headers={"Allow": RESERVED[action]})


@router.get(
    "/{ident}",
    response_model=HostOut,
    summary="Show a host",
    responses=errors(404),
    description="``host-show``: a host by id, uuid or hostname.",
)
def show(ident: Ident, db: DatabaseDep) -> Response:
    with db.read_session() as s:
        row = host_row(s, ident)
    return json_answer(
        host_out(row, row.system_uuid, row.system_software_version, row.system_active_controller_id)
    )


@router.post(
    "",
    response_model=HostOut,
    summary="Add a host",
    responses=errors(400),
    description=(
        "``host-add``: a new host, locked. If its Kubernetes Node exists, the conductor "
        "cordons it and records how in ``kube_node``."
    ),
    openapi_extra=request_body(HostCreate),
)
def add(body: JsonBody, db: DatabaseDep, conductor: ConductorDep) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("Expected a JSON object with the host's attributes")
    with db.session() as s:
        host = host_service.create_host(s, body)
    # The Node may already exist (a re-added host): let the conductor look and record it.
    sync_after_commit(conductor, host.id, host.hostname)
    with db.session() as s:
        return render(s, find_host(s, str(host.id)))


@router.patch(
    "/{ident}",
    response_model=HostOut,
    summary="Update, lock, unlock or swact a host",
    description=(
        "``host-update``: a JSON Patch of ``replace`` operations on its attributes (a locked "
        "host's hostname or personality); or one operation on ``/action``: lock, unlock, "
        "force-lock, force-unlock, which cordon or uncordon its Kubernetes Node (a plain "
        "lock of the active controller, or of the only unlocked and enabled one, is "
        "refused); or swact (``host-swact``), which makes the other controller the active "
        "one when it is unlocked, enabled and available."
    ),
    responses=errors(400, 404, 502),
    openapi_extra=request_body(JsonPatch),
)
def update(
    ident: Ident, body: JsonBody, db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
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
    if "action" in changes and action is Action.SWACT:
        conductor.host_swact(host_id)
    elif "action" in changes:
        conductor.host_action(host_id, action.value)
    elif renamed:
        sync_after_commit(conductor, host_id, old_name)
    with db.session() as s:
        return render(s, find_host(s, str(host_id)))


@router.delete(
    "/{ident}",
    status_code=204,
    response_class=Response,
    summary="Delete a host",
    description="``host-delete``: a locked host, and its Kubernetes Node.",
    responses=errors(400, 404, 502),
)
def delete(ident: Ident, db: DatabaseDep, conductor: ConductorDep) -> Response:
    with db.session() as s:
        host_id = find_host(s, ident).id
    conductor.host_delete(host_id)  # which refuses an unlocked host
    return Response(status_code=204)


@router.get(
    "/{ident}/labels",
    response_model=LabelList,
    summary="List a host's labels",
    description="``host-label-list``.",
    responses=errors(404),
)
def labels(ident: Ident, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        host = find_host(s, ident)
        return {"labels": [label_out(lb, host.uuid) for lb in labels_of(s, host.id)]}
