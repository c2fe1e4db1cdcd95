"""``/v1/apps``: list, show, upload, apply/remove/abort (``?directive=``), delete."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.params import parse_bool
from sysinv_api.schemas.app import AppList, AppOut, app_out
from sysinv_common.apps import import_store
from sysinv_common.conf import Settings
from sysinv_common.errors import Forbidden, InvalidInput, InvalidState, NotFound
from sysinv_common.messaging.tasks import ConductorTask
from sysinv_common.services import apps as app_service
from sysinv_common.states import app as app_states
from sysinv_common.states.app import DELETABLE, FORCE_DELETABLE, AppOperation, AppStatus

router = APIRouter(prefix="/v1/apps", tags=["applications"])
JsonBody = Annotated[Any, Body()]

DIRECTIVES = {
    "apply": (AppOperation.APPLY, ConductorTask.APP_APPLY),
    "remove": (AppOperation.REMOVE, ConductorTask.APP_REMOVE),
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.apps.lease_seconds)


@router.get("", response_model=AppList)
def list_(db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return {"apps": [app_out(a, timestamps=False) for a in app_service.list_apps(s)]}


@router.get("/{name}", response_model=AppOut)
def show(name: str, db: DatabaseDep) -> dict[str, Any]:
    with db.session() as s:
        return app_out(app_service.get_app(s, name))


def _store_bundle(settings: Settings, body: dict[str, Any]) -> import_store.StoredBundle:
    cfg = settings.apps
    store = settings.import_store
    tarfile = body.get("tarfile")
    if isinstance(tarfile, str) and tarfile.startswith(("http://", "https://")):
        return import_store.store_url(store, tarfile, cfg.max_bundle_bytes, cfg.url_fetch_timeout)
    data = body.get("binary_data")
    if isinstance(data, str) and data:
        raw = import_store.decode_binary_data(data, cfg.max_bundle_bytes)
        return import_store.store_bytes(store, raw, cfg.max_bundle_bytes)
    if isinstance(tarfile, str) and tarfile:
        return import_store.store_local_file(store, tarfile, cfg.import_dir, cfg.max_bundle_bytes)
    raise InvalidInput("Application-upload rejected: send binary_data or a tarfile path or URL")


@contextmanager
def _received(
    settings: Settings, db: Any, body: Any
) -> Iterator[tuple[import_store.StoredBundle, import_store.BundleMetadata]]:
    """Store the request's bundle and read its metadata; a refusal leaves nothing behind,
    unless another app holds the same bytes."""
    if not isinstance(body, dict):
        raise InvalidInput("Expected a JSON object with tarfile and binary_data")
    bundle = _store_bundle(settings, body)
    try:
        meta = app_service.check_identity(
            import_store.read_metadata(bundle.path, settings.apps.max_metadata_bytes), body
        )
        yield bundle, meta
    except Exception:
        with db.session() as s:
            if not app_service.bundle_in_use(s, bundle.digest):
                bundle.path.unlink(missing_ok=True)
        raise


@router.post("", response_model=AppOut)
def upload(
    body: JsonBody, request: Request, db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    settings = _settings(request)
    with _received(settings, db, body) as (bundle, meta), db.session() as s:
        app, token = app_service.create_upload(s, meta, bundle, _lease(settings))
        out = app_out(app)
        app_id = app.id
    conductor.cast(ConductorTask.APP_UPLOAD, app_id=app_id, token=token)
    return out


@router.post("/update", response_model=AppOut)
def update(
    body: JsonBody, request: Request, db: DatabaseDep, conductor: ConductorDep
) -> dict[str, Any]:
    """Update an applied app to the bundle's version; rolled back if the new one fails."""
    settings = _settings(request)
    if not settings.kubernetes.kubeconfig:
        raise InvalidInput("Application-update rejected: no Kubernetes cluster configured")
    reuse = body.get("reuse_user_overrides") if isinstance(body, dict) else None
    if reuse is not None and not isinstance(reuse, bool):
        reuse = parse_bool("reuse_user_overrides", str(reuse))
    with _received(settings, db, body) as (bundle, meta), db.session() as s:
        app, token = app_service.start_update(s, meta, bundle, _lease(settings), reuse)
        out = app_out(app)
        app_id = app.id
    conductor.cast(ConductorTask.APP_UPDATE, app_id=app_id, token=token)
    return out


@router.patch("/{name}", response_model=AppOut)
def directive(
    name: str,
    request: Request,
    db: DatabaseDep,
    conductor: ConductorDep,
    body: JsonBody = None,
    directive: str | None = None,
    force: str | None = None,
) -> dict[str, Any]:
    settings = _settings(request)
    if directive == "abort":
        with db.session() as s:
            app = _existing(s, name, "abort")
            app_states.request_abort(s, app)
            return app_out(app)
    if directive not in DIRECTIVES:
        raise Forbidden(f"Unknown directive '{directive}': use apply, remove or abort")
    op, task = DIRECTIVES[directive]
    # Checked for the error message only: sysinv's force skips remove checks this
    # service does not make, so it changes nothing here.
    parse_bool("force", force)
    if op is AppOperation.APPLY and not settings.kubernetes.kubeconfig:
        raise InvalidInput(
            f"Application-apply rejected: no Kubernetes cluster configured for {name}; "
            "set kubernetes.kubeconfig (sysinv aio --kubeconfig FILE)"
        )
    mode = body.get("mode") if isinstance(body, dict) else None
    if mode is not None:
        raise InvalidInput(f"Application-{op} rejected: apply modes are not supported ({mode})")
    if op is AppOperation.APPLY:
        with db.session() as s:
            uploaded = _existing(s, name, op.value).manifest_file is not None
        if uploaded:
            # Labels and chart configuration are refused now, with hints, rather than
            # as a failed apply later; the apply checks again under its lease.
            conductor.call(ConductorTask.APP_APPLY_CHECK, app_name=name)
    with db.session() as s:
        _existing(s, name, op.value)
        app, token = app_service.start_operation(s, name, op, _lease(settings))
        out = app_out(app)
        app_id = app.id
    conductor.cast(task, app_id=app_id, token=token)
    return out


def _existing(s: Any, name: str, op: str) -> Any:
    try:
        return app_service.get_app(s, name)
    except NotFound:
        # sysinv answers 400 here (PATCH and DELETE), 404 only on GET.
        raise InvalidInput(f"Application-{op} rejected: application {name} not found.") from None


@router.delete("/{name}", status_code=204, response_class=Response)
def delete(
    name: str, db: DatabaseDep, conductor: ConductorDep, force: str | None = None
) -> Response:
    forced = parse_bool("force", force)
    with db.session() as s:
        app = _existing(s, name, "delete")
        allowed = FORCE_DELETABLE if forced else DELETABLE
        if AppStatus(app.status) not in allowed:
            hint = "" if forced or AppStatus(app.status) not in FORCE_DELETABLE else "; use force"
            raise InvalidState(
                f"Application-delete rejected: operation is not allowed while the current "
                f"status is {app.status}{hint}."
            )
        app_id, status = app.id, app.status
    conductor.call(ConductorTask.APP_DELETE, app_id=app_id, expected_status=status)
    return Response(status_code=204)
