"""``/v1/labels``: assign labels to a host, show one label, remove one label."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import Labels, errors, request_body
from sysinv_api.params import parse_bool
from sysinv_api.schemas.host import LabelAssignOut, LabelOut, label_out
from sysinv_common.db.queries.hosts import find_host, get_label
from sysinv_common.errors import InvalidInput, NotFound
from sysinv_common.validation import validate_labels

router = APIRouter(prefix="/v1/labels", tags=["labels"], route_class=SysinvRoute)


@router.post(
    "/{host_ident}",
    response_model=LabelAssignOut,
    summary="Assign labels to a host",
    description=(
        "``host-label-assign``: the labels of the body on the host (by id, uuid or hostname), "
        "and on its Kubernetes Node; ``kube_node`` says how that went. An existing key is "
        "refused unless ``overwrite=true``."
    ),
    responses=errors(400, 502),
    openapi_extra=request_body(Labels),
)
def assign(
    host_ident: str,
    body: Annotated[Any, Body()],
    db: DatabaseDep,
    conductor: ConductorDep,
    overwrite: str | None = None,
) -> dict[str, Any]:
    labels = validate_labels(body)
    force = parse_bool("overwrite", overwrite)
    with db.session() as s:
        try:
            host = find_host(s, host_ident)
        except NotFound as exc:
            raise InvalidInput(f"Cannot assign labels: {exc.message}") from None
        host_id = host.id
    # One call: the answer carries the labels as committed, nothing is read back here.
    result = conductor.labels_assign(host_id, labels, force)
    return {"labels": [r.model_dump() for r in result.labels], "kube_node": result.kube_node}


@router.get(
    "/{label_uuid}",
    response_model=LabelOut,
    summary="Show a label",
    description="One label, by its uuid.",
    responses=errors(404),
)
def show(label_uuid: str, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        label = get_label(s, label_uuid)
        return label_out(label, label.host.uuid)


@router.delete(
    "/{label_uuid}",
    status_code=204,
    response_class=Response,
    summary="Remove a label",
    description="``host-label-remove``: from the host and its Kubernetes Node.",
    responses=errors(400, 502),
)
def remove(label_uuid: str, conductor: ConductorDep) -> Response:
    conductor.label_remove(label_uuid)
    return Response(status_code=204)
