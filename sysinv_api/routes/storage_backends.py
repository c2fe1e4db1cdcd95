"""``/v1/storage_backend``: the Ceph storage backend (StarlingX's ``storage-backend-*``).

Reads come from the database; ``show`` adds the cluster's health and usage, asked of the
conductor (which talks to Ceph). Every write is the conductor's: an add or a modify answers
once the backend is ``configured`` or ``failed`` (with the reason).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import JsonPatch, errors, request_body
from sysinv_api.services.patch import parse_patch
from sysinv_common.db.models import StorageBackend
from sysinv_common.errors import NotFound, Unavailable
from sysinv_common.messaging.rpcapi import (
    CephHealth,
    StorageBackendAdd,
    StorageBackendModify,
    StorageBackendRow,
)
from sysinv_common.storage_backends import row_out

router = APIRouter(prefix="/v1/storage_backend", tags=["storage backends"],
                   route_class=SysinvRoute)  # fmt: skip


class BackendList(BaseModel):
    storage_backends: list[StorageBackendRow]


class BackendShown(StorageBackendRow):
    #: The cluster's health (HEALTH_OK, HEALTH_WARN, HEALTH_ERR), or why it is unknown.
    health: str | None = None
    ceph: CephHealth | None = None


class BackendAdd(BaseModel):
    backend: str = Field(description="ceph (platform-managed) or ceph-external")
    name: str | None = None
    services: str | None = None
    monitors: list[str] = Field(default_factory=list, description="ceph-external: host:port")
    fsid: str | None = None
    keyring_path: str | None = Field(
        None, description="ceph-external: path of its client.admin keyring on the controllers"
    )
    #: StarlingX's client sends these; sysinv takes its replication from the hosts.
    capabilities: dict[str, Any] = Field(default_factory=dict)
    confirmed: bool = False


def _row(db: DatabaseDep, ref: str) -> StorageBackendRow:
    with db.read_session() as s:
        row = s.scalars(
            select(StorageBackend).where(
                or_(StorageBackend.uuid == ref, StorageBackend.name == ref)
            )
        ).first()
        if row is None:
            raise NotFound(f"Storage backend not found: {ref}")
        return row_out(row)


@router.get("", response_model=BackendList, responses=errors(),
            summary="List storage backends")  # fmt: skip
def list_(db: DatabaseDep) -> dict[str, Any]:
    """Every storage backend with its state (and, when failed, the reason)."""
    with db.read_session() as s:
        rows = s.scalars(select(StorageBackend).order_by(StorageBackend.name))
        return {"storage_backends": [row_out(r).model_dump() for r in rows]}


@router.get("/{ref}", response_model=BackendShown, responses=errors(404),
            summary="Show a storage backend")  # fmt: skip
def show(ref: str, db: DatabaseDep, conductor: ConductorDep) -> dict[str, Any]:
    """The backend (by uuid or name) with the cluster's health and usage read from Ceph
    once it is configured; when Ceph cannot be reached (or the backend is not configured),
    ``health`` says why and ``ceph`` is null."""
    row = _row(db, ref)
    out: dict[str, Any] = row.model_dump()
    if row.state != "configured":
        # A failed backend's cluster may be unreachable: no wait on it for a show.
        out["health"] = f"unknown: the backend is {row.state}"
        return out
    try:
        got = conductor.storage_backend_health(row.uuid)
    except Unavailable as exc:
        out["health"] = f"unknown: {exc.message}"
    else:
        out["health"] = got.health
        out["ceph"] = got.model_dump(exclude={"rpc_version"})
    return out


@router.post("", response_model=StorageBackendRow, responses=errors(400, 503),
             summary="Add a storage backend")  # fmt: skip
def add(body: BackendAdd, conductor: ConductorDep) -> dict[str, Any]:
    """Create the backend and configure it (pool, client key, Kubernetes Secrets); the
    answer is the backend ``configured``, or ``failed`` with the reason and nothing of it
    left in Ceph or Kubernetes."""
    request = StorageBackendAdd(**body.model_dump(exclude={"capabilities", "confirmed"}))
    return conductor.storage_backend_add(request).model_dump()


@router.patch(
    "/{ref}", response_model=StorageBackendRow, responses=errors(400, 404, 503),
    summary="Modify a storage backend", openapi_extra=request_body(JsonPatch),
)  # fmt: skip
def modify(
    ref: str, body: Annotated[Any, Body()], db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    """JSON-Patch of ``/services`` and, for ceph-external, ``/monitors``, ``/fsid``,
    ``/keyring_path``; the backend is configured again (replication included). An empty
    ``/fsid`` (or its ``remove``) clears the fsid. An empty patch ``[]`` retries a
    ``failed`` backend as it is (StarlingX's modify with no changes); for any other state
    it is refused."""
    # An empty list is the retry; parse_patch refuses it for every other resource.
    changes = (
        {} if body == [] else parse_patch(body, {"services", "monitors", "fsid", "keyring_path"})
    )
    uuid = _row(db, ref).uuid
    if isinstance(changes.get("monitors"), str):
        changes["monitors"] = changes["monitors"].split(",")
    if "fsid" in changes and changes["fsid"] is None:
        changes["fsid"] = ""  # remove: the conductor's None means "unchanged"
    request = StorageBackendModify(uuid=uuid, **changes)
    return conductor.storage_backend_modify(request).model_dump()


@router.delete("/{ref}", status_code=204, response_class=Response, responses=errors(400, 404),
               summary="Delete a storage backend")  # fmt: skip
def delete(ref: str, db: DatabaseDep, conductor: ConductorDep) -> Response:
    """Refused while an applied application uses its pool; otherwise its Secrets, client
    key and (empty) pool are removed with it."""
    conductor.storage_backend_delete(_row(db, ref).uuid)
    return Response(status_code=204)
