"""``/v1/labels``: assign labels to a host, show one label, remove one label."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import Labels, errors, request_body
from sysinv_api.params import parse_bool
from sysinv_api.schemas.host import LabelAssignOut, LabelOut, label_out
from sysinv_common.db.queries.hosts import get_label, host_id_of
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
    conductor: ConductorDep,
    overwrite: str | None = None,
) -> dict[str, Any]:
    labels = validate_labels(body)
    force = parse_bool("overwrite", overwrite)
    host_id_of(host_ident)  # an id out of range is refused here, as every route does
    # One call: the conductor finds the host in the transaction that writes the labels
    # (an unknown one is refused there), and its answer carries the labels as committed;
    # nothing is read here.
    result = conductor.labels_assign(host_ident, labels, force)
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
