"""Application requests the API handles itself before casting to the conductor.

The API only records intent: the app row in its new status with a lease reserved
under a token; the conductor claims the token and does the work.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common.apps.import_store import BundleMetadata, StoredBundle
from sysinv_common.db.base import utcnow
from sysinv_common.db.models import App
from sysinv_common.errors import Conflict, InvalidInput, NotFound
from sysinv_common.states import app as app_states
from sysinv_common.states.app import AppOperation, AppStatus

_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?$")


def new_token() -> str:
    return f"api:{uuid.uuid4()}"


def get_app(session: Session, name: str) -> App:
    app = session.scalars(select(App).where(App.name == name)).first()
    if app is None:
        raise NotFound(f"Application {name} not found.")
    return app


def list_apps(session: Session) -> list[App]:
    return list(session.scalars(select(App).order_by(App.name)).all())


def bundle_in_use(session: Session, digest: str) -> bool:
    return (
        session.scalars(
            select(App.id).where(
                (App.tarball_digest == digest) | (App.target_tarball_digest == digest)
            )
        ).first()
        is not None
    )


def check_identity(meta: BundleMetadata, body: dict[str, Any]) -> BundleMetadata:
    """Name and version: the bundle's, which the request may repeat but not contradict."""
    name, version = meta.name, meta.version
    for key, value in (("name", name), ("app_version", version)):
        given = body.get(key)
        if given not in (None, "") and str(given) != value:
            raise InvalidInput(
                f"Application-upload rejected: {key} {given} does not match the bundle's "
                f"metadata.yaml ({value})"
            )
    if not _NAME.match(name):
        raise InvalidInput(
            f"Application-upload rejected: invalid application name '{name}' (lower-case "
            "letters, digits, '.', '_' and '-', at most 128 characters)"
        )
    if not _VERSION.match(version):
        raise InvalidInput(f"Application-upload rejected: invalid application version '{version}'")
    return meta


def create_upload(
    session: Session, meta: BundleMetadata, bundle: StoredBundle, lease: timedelta
) -> tuple[App, str]:
    """A new app row in ``uploading``, with a lease reserved for the conductor."""
    if session.scalars(select(App.id).where(App.name == meta.name)).first() is not None:
        raise Conflict(f"Application-upload rejected: application {meta.name} already exists.")
    token = new_token()
    app = App(
        name=meta.name,
        app_version=meta.version,
        status=AppStatus.UPLOADING.value,
        progress=None,
        active=False,
        tarball_path=str(bundle.path),
        tarball_digest=bundle.digest,
        operation=AppOperation.UPLOAD.value,
        lease_holder=token,
        lease_expires_at=utcnow() + lease,
    )
    session.add(app)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"Application-upload rejected: application {meta.name} already exists."
        ) from None
    return app, token


def start_operation(
    session: Session, name: str, op: AppOperation, lease: timedelta
) -> tuple[App, str]:
    app = get_app(session, name)
    token = new_token()
    app_states.start(session, app, op, token, lease)
    return app, token


def start_update(
    session: Session,
    meta: BundleMetadata,
    bundle: StoredBundle,
    lease: timedelta,
    reuse_user_overrides: bool | None = None,
) -> tuple[App, str]:
    """Move an applied app to ``updating`` toward the bundle's version."""
    app = session.scalars(select(App).where(App.name == meta.name)).first()
    if app is None:
        raise InvalidInput(f"Application-update rejected: application {meta.name} not found.")
    if app.status != AppStatus.APPLIED:
        raise app_states.rejected(AppOperation.UPDATE, app.status)
    if app.app_version == meta.version:
        raise InvalidInput(
            f"Application-update rejected: {meta.name} is already at version {meta.version}."
        )
    token = new_token()
    app_states.start(session, app, AppOperation.UPDATE, token, lease)
    app.target_version = meta.version
    app.target_tarball_path = str(bundle.path)
    app.target_tarball_digest = bundle.digest
    app.target_reuse_user_overrides = reuse_user_overrides
    session.flush()
    return app, token
