"""``/v1/apps``: list, show, upload, update, apply/remove/abort (``?directive=``), delete.

An upload's bytes go into the database (any API replica may receive it, any conductor
process it); every route reaches the conductor at most once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import AppDirective, AppUpdate, AppUpload, errors, request_body
from sysinv_api.params import parse_bool
from sysinv_api.schemas.app import AppDetail, AppList, app_out
from sysinv_api.schemas.app_plan import AppPlanOut, plan_out
from sysinv_common.apps import bundle_store
from sysinv_common.apps.metadata import Metadata, read_metadata_from_tarball
from sysinv_common.conf import Settings
from sysinv_common.db.queries.apps import app_for, get_app, list_apps
from sysinv_common.db.queries.drift import drift_of
from sysinv_common.errors import Forbidden, InvalidInput
from sysinv_common.messaging import rpcapi as rpc
from sysinv_common.states import app as app_states
from sysinv_common.states.app import AppOperation

router = APIRouter(prefix="/v1/apps", tags=["applications"], route_class=SysinvRoute)
JsonBody = Annotated[Any, Body()]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _lease(settings: Settings) -> timedelta:
    """The lease a queued job holds until a conductor claims it: a job waiting behind
    others is not lost, one whose message was lost is failed after this."""
    return timedelta(seconds=settings.apps.queued_seconds)


def _token() -> str:
    """Who holds the lease until a conductor claims the operation's job."""
    return f"api:{uuid.uuid4()}"


@router.get(
    "",
    response_model=AppList,
    summary="List applications",
    responses=errors(),
    description="``application-list``: every application, its status and progress.",
)
def list_(db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return {"apps": [app_out(a, timestamps=False) for a in list_apps(s)]}


@router.get(
    "/{name}",
    response_model=AppDetail,
    summary="Show an application",
    description=(
        "``application-show``, with ``drift``: what the periodic drift audit last found "
        "(objects of the app's releases changed or deleted outside sysinv)."
    ),
    responses=errors(404),
)
def show(name: str, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        app = get_app(s, name)
        return {**app_out(app), "drift": drift_of(s, app.id)}


@router.get(
    "/{name}/plan",
    response_model=AppPlanOut,
    summary="Plan an apply, a remove or an update (dry run)",
    description=(
        "``application-apply|remove|update --dry-run``: what ``?operation=apply`` "
        "(default), ``remove`` or ``update`` would change, per chart in the order it would "
        "run them: the action (``install``, ``upgrade``, ``unchanged``, ``remove``, with "
        "the ``reason``: ``disabled`` for a chart disabled since it was deployed), the "
        "values that change (by key path, who sets them, secrets masked) and the objects "
        "added, removed or changed field by field, as helm renders the charts against the "
        "live cluster with a server-side dry run. An update names the new bundle with "
        "``tarfile`` (a path under the import directories of the conductor's host, or a "
        "URL of an allowed host) and may set ``reuse_user_overrides`` and "
        "``reuse_attributes`` as ``application-update`` does. Read-only: no release "
        "revision, secret, row or object is written, so a reader may ask. Needs the helm "
        "deployer."
    ),
    responses=errors(400, 502),
)
def plan(
    name: str,
    request: Request,
    conductor: ConductorDep,
    operation: str = "apply",
    tarfile: str | None = None,
    reuse_user_overrides: str | None = None,
    reuse_attributes: str | None = None,
) -> dict[str, Any]:
    ask = rpc.AppPlanRequest(
        name=name, operation=operation, tarfile=tarfile or None,
        reuse_user_overrides=_flag({"reuse_user_overrides": reuse_user_overrides},
                                   "reuse_user_overrides"),
        reuse_attributes=_flag({"reuse_attributes": reuse_attributes}, "reuse_attributes"),
    )  # fmt: skip
    timeout = _settings(request).apps.plan_timeout
    return plan_out(conductor.app_plan(ask, timeout)).model_dump(mode="json")


@contextmanager
def _receive(settings: Settings, body: dict[str, Any]) -> Iterator[bundle_store.Spooled]:
    cfg = settings.apps
    tarfile = body.get("tarfile")
    data = body.get("binary_data")
    if isinstance(tarfile, str) and tarfile.startswith(("http://", "https://")):
        spool = bundle_store.receive_url(
            tarfile, cfg.max_bundle_bytes, cfg.url_fetch_timeout, cfg.url_allowed_hosts
        )
    elif isinstance(data, str) and data:
        raw = bundle_store.decode_binary_data(data, cfg.max_bundle_bytes)
        spool = bundle_store.receive_bytes(raw, cfg.max_bundle_bytes)
    elif isinstance(tarfile, str) and tarfile:
        spool = bundle_store.receive_local_file(tarfile, settings.import_dirs, cfg.max_bundle_bytes)
    else:
        raise InvalidInput("Application-upload rejected: send binary_data or a tarfile path or URL")
    with spool as spooled:
        yield spooled


def _check_identity(meta: Metadata, body: dict[str, Any], op: str) -> None:
    """Name and version are the bundle's; the request may repeat them, not contradict."""
    for key, value in (("name", meta.name), ("app_version", meta.version)):
        given = body.get(key)
        if given not in (None, "") and str(given) != value:
            raise InvalidInput(
                f"Application-{op} rejected: {key} {given} does not match the bundle's "
                f"metadata.yaml ({value})"
            )


@contextmanager
def _received(
    settings: Settings, body: Any, op: str
) -> Iterator[tuple[bundle_store.Spooled, Metadata]]:
    """The request's bundle, spooled, with its metadata.yaml read by the same parser the
    conductor uses: a bundle refused there is refused here, with a 400."""
    if not isinstance(body, dict):
        raise InvalidInput("Expected a JSON object with tarfile and binary_data")
    with _receive(settings, body) as spooled:
        meta = read_metadata_from_tarball(
            spooled.path, settings.apps.max_metadata_bytes, limits=settings.apps.extract_limits()
        )
        _check_identity(meta, body, op)
        yield spooled, meta


@router.post(
    "",
    response_model=AppDetail,
    summary="Upload an application",
    description=(
        "``application-upload``: the bundle is stored and checked; the answer is the app "
        "``uploading``, and a conductor extracts and lints it (status ``uploaded`` or "
        "``upload-failed``, with the reason in ``progress``)."
    ),
    responses=errors(400),
    openapi_extra=request_body(AppUpload),
)
def upload(
    body: JsonBody, request: Request, db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    settings = _settings(request)
    token = _token()
    with _received(settings, body, "upload") as (spooled, meta), db.session() as s:
        bundle_store.put(s, spooled)
        app = app_states.create_upload(
            s, meta.name, meta.version, spooled.digest, token, _lease(settings)
        )
        out, app_id = app_out(app), app.id
    conductor.app_job(rpc.APP_UPLOAD_JOB, app_id, token)
    return out


def _flag(body: Any, key: str) -> bool | None:
    value = body.get(key) if isinstance(body, dict) else None
    if value is None or isinstance(value, bool):
        return value
    try:
        return parse_bool(key, str(value))
    except InvalidInput:
        raise InvalidInput(
            f"Application-update rejected: invalid {key} setting '{value}' (true or false)"
        ) from None


@router.post(
    "/update",
    response_model=AppDetail,
    summary="Update an application",
    description=(
        "``application-update``: an applied app to the bundle's version; rolled back to the "
        "old one if the new one fails."
    ),
    responses=errors(400),
    openapi_extra=request_body(AppUpdate),
)
def update(
    body: JsonBody, request: Request, db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    """Update an applied app to the bundle's version; rolled back if the new one fails."""
    settings = _settings(request)
    # --reuse-user-overrides / --reuse-attributes true|false, sent as typed; absent: the
    # new bundle's metadata decides (maintain_user_overrides / maintain_attributes).
    reuse = _flag(body, "reuse_user_overrides")
    reuse_attributes = _flag(body, "reuse_attributes")
    token = _token()
    with _received(settings, body, "update") as (spooled, meta), db.session() as s:
        app = app_for(s, meta.name, "update")
        bundle_store.put(s, spooled)
        app_states.start_update(
            s, app, meta.version, spooled.digest, token, _lease(settings), reuse,
            reuse_attributes,
        )  # fmt: skip
        out, app_id = app_out(app), app.id
    conductor.app_job(rpc.APP_UPDATE_JOB, app_id, token)
    return out


def _apply_mode(body: Any) -> str | None:
    """``application-apply -m MODE`` sends ``{"values": {"mode": MODE, "client_side": ...}}``."""
    values = body.get("values") if isinstance(body, dict) else None
    if values is None:
        return None
    if not isinstance(values, dict):
        raise InvalidInput('Application-apply rejected: "values" must be a JSON object')
    mode = values.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise InvalidInput("Application-apply rejected: the mode must be a string")
    return mode or None


@router.patch(
    "/{name}",
    response_model=AppDetail,
    summary="Apply, remove or abort an application",
    description=(
        "``?directive=apply`` (``application-apply``: checks, then deploys its charts), "
        "``remove`` (uninstalls its releases) or ``abort`` (stops the running operation). "
        "The operation runs on; the answer is the app as it starts. A missing directive is "
        "a 400, an unknown one a 403, as sysinv answers them."
    ),
    responses=errors(400, 403),
    openapi_extra=request_body(AppDirective, required=False),
)
def directive(
    name: str,
    request: Request,
    db: DatabaseDep,
    conductor: ConductorDep,
    body: JsonBody = None,
    directive: str | None = None,
    force: str | None = None,
) -> dict[str, Any]:
    if not directive:
        raise InvalidInput("Application directive missing: send ?directive=apply, remove or abort")
    if directive not in ("apply", "remove", "abort"):
        raise Forbidden(f"Unknown directive '{directive}': use apply, remove or abort")
    # Checked for the error message only: sysinv's force skips remove checks this
    # service does not make, so it changes nothing here.
    parse_bool("force", force)
    if directive == "apply":
        # One call: the conductor checks (mode, labels, configured charts), starts, queues.
        conductor.app_apply(name, _apply_mode(body))
        with db.session() as s:
            return app_out(app_for(s, name, "apply"))
    with db.session() as s:
        app = app_for(s, name, directive)
        if directive == "abort":
            app_states.request_abort(s, app)
            return app_out(app)
        token = _token()
        app_states.start(s, app, AppOperation.REMOVE, token, _lease(_settings(request)))
        out, app_id = app_out(app), app.id
    conductor.app_job(rpc.APP_REMOVE_JOB, app_id, token)
    return out


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    summary="Delete an application",
    description="``application-delete``: an app that is not deployed, and its bundle.",
    responses=errors(400),
)
def delete(name: str, conductor: ConductorDep, force: str | None = None) -> Response:
    conductor.app_delete(name, parse_bool("force", force))
    return Response(status_code=204)
