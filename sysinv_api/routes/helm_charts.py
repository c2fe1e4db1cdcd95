"""``/v1/helm_charts``: list an app's charts, show, update and delete their overrides.

Shapes and messages follow StarlingX's helm-override commands. The overrides themselves are
computed and merged by the conductor, which holds the plugins and the secrets key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from sysinv_api.auth import identity_of
from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import ChartUpdateIn, errors, request_body
from sysinv_api.params import parse_bool
from sysinv_api.schemas.app import ChartList, ChartOverridesOut, ChartUpdatedOut
from sysinv_api.services import helm_charts as chart_service
from sysinv_common.errors import Forbidden, InvalidInput
from sysinv_common.messaging.rpcapi import ChartShow, ChartUpdate
from sysinv_common.validation import has_unescaped_comma

router = APIRouter(prefix="/v1/helm_charts", tags=["helm charts"], route_class=SysinvRoute)

FLAGS = ("reapply", "reapply_all", "reset_values", "reuse_values")
ATTRIBUTES = ("enabled",)
COMMA_MESSAGE = (
    "Invalid input: One (or more) set overrides contains multiple values. "
    "Consider using --values option instead."
)


def _name_and_namespace(name: str | None, namespace: str | None) -> tuple[str, str]:
    if not name:
        raise InvalidInput("Name must be specified.")
    if not namespace:
        raise InvalidInput("Namespace must be specified.")
    return name, namespace


def _is_admin(request: Request) -> bool:
    return identity_of(request).is_admin


@router.get(
    "",
    summary="List an application's charts",
    responses={200: {"model": ChartList}, **errors(400)},
    description="``helm-override-list APP``: its charts, their namespaces, enabled or not.",
)
def list_(db: DatabaseDep, app_name: str | None = None) -> dict[str, Any]:
    with db.read_session() as s:
        return {"charts": chart_service.list_charts(s, app_name)}


@router.get(
    "/{app_name}",
    summary="Show a chart's overrides",
    description=(
        "``helm-override-show APP CHART NAMESPACE``: the system, user and combined "
        "overrides, as YAML; generated secrets masked unless ``show_secrets=true`` (admin)."
    ),
    responses={200: {"model": ChartOverridesOut}, **errors(400, 403)},
)
def show(
    app_name: str,
    request: Request,
    conductor: ConductorDep,
    name: str | None = None,
    namespace: str | None = None,
    show_secrets: str | None = None,
) -> dict[str, Any]:
    chart, ns = _name_and_namespace(name, namespace)
    reveal = parse_bool("show_secrets", show_secrets)
    if reveal and not _is_admin(request):
        raise Forbidden("Only an admin may see secrets (show_secrets=true).")
    result = conductor.helm_chart_show(
        ChartShow(app_name=app_name, chart=chart, namespace=ns, show_secrets=reveal)
    )
    return result.model_dump(exclude={"rpc_version"}, exclude_none=True) | {
        k: None for k in ("system_overrides", "user_overrides", "combined_overrides")
        if getattr(result, k) is None
    }  # fmt: skip


def _flags(raw: Any) -> dict[str, bool]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput("Invalid input: flags must be an object")
    flags: dict[str, bool] = {}
    for key, value in raw.items():
        if key not in FLAGS:
            raise InvalidInput(f"Invalid flag: {key} must be one of [{','.join(FLAGS)}]")
        if not isinstance(value, bool):
            value = parse_bool(key, str(value))
        flags[key] = value
    if flags.get("reuse_values") and flags.get("reset_values"):
        raise InvalidInput("Invalid flags: reuse_values and reset_values cannot both be true")
    return flags


def _string_list(values: dict[str, Any], key: str) -> list[str]:
    raw = values.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise InvalidInput(f"Invalid input: values.{key} must be a list of strings")
    return raw


def _enabled(raw: Any) -> bool | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("Invalid input: attributes must be an object")
    enabled: bool | None = None
    for key, value in raw.items():
        if key not in ATTRIBUTES:
            raise InvalidInput(
                f"Invalid chart attribute: {key} must be one of [{','.join(ATTRIBUTES)}]"
            )
        enabled = value if isinstance(value, bool) else parse_bool(key, str(value))
    return enabled


@router.patch(
    "/{app_name}",
    summary="Update a chart's overrides or attributes",
    description=(
        "``helm-override-update`` (user overrides from values files and --set "
        "expressions) and ``helm-chart-attribute-modify`` (enabled). The body is sysinv's "
        "object of flags, values and attributes, not a JSON Patch."
    ),
    responses={200: {"model": ChartUpdatedOut}, **errors(400)},
    openapi_extra=request_body(ChartUpdateIn),
)
def update(
    app_name: str,
    conductor: ConductorDep,
    body: Annotated[Any, Body()] = None,
    name: str | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    chart, ns = _name_and_namespace(name, namespace)
    if not isinstance(body, dict):
        raise InvalidInput(
            "Invalid input: the body must be an object with flags, values, attributes"
        )
    flags = _flags(body.get("flags"))
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise InvalidInput("Invalid input: values must be an object")
    files, sets = _string_list(values, "files"), _string_list(values, "set")
    if any(has_unescaped_comma(expr) for expr in sets):
        raise InvalidInput(COMMA_MESSAGE)
    enabled = _enabled(body.get("attributes"))
    result = conductor.helm_chart_update(
        ChartUpdate(app_name=app_name, chart=chart, namespace=ns, flags=flags, files=files,
                    sets=sets, enabled=enabled)
    )  # fmt: skip
    return result.model_dump(exclude={"rpc_version"}, exclude_unset=True)


@router.delete(
    "/{app_name}",
    status_code=204,
    summary="Delete a chart's user overrides",
    description="``helm-override-delete``: clearing overrides that do not exist is no error.",
    responses=errors(400),
)
def delete(
    app_name: str, db: DatabaseDep, name: str | None = None, namespace: str | None = None
) -> Response:
    chart, ns = _name_and_namespace(name, namespace)
    with db.session() as s:
        chart_service.clear_user_overrides(s, app_name, chart, ns)
    return Response(status_code=204)
