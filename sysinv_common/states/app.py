"""The application status machine: the only module that changes an app's status.

Statuses are sysinv's. An operation *starts* by moving the app from one of the statuses
that allow it to the operation's in-progress status and taking the app's lease, in one
compare-and-set UPDATE; it *finishes* by moving it from the in-progress status to the
success or failure status, only while its caller still holds the lease. Two requests can
therefore never both start an operation, and a conductor that lost its lease cannot
overwrite the outcome of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete as delete_rows
from sqlalchemy import or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common.db.base import utcnow
from sysinv_common.db.models.app import App
from sysinv_common.errors import Conflict, InvalidInput, InvalidState


class AppStatus(StrEnum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    UPLOAD_FAILED = "upload-failed"
    APPLYING = "applying"
    APPLIED = "applied"
    APPLY_FAILED = "apply-failed"
    REMOVING = "removing"
    REMOVE_FAILED = "remove-failed"
    UPDATING = "updating"
    UPDATE_FAILED = "update-failed"


class AppOperation(StrEnum):
    UPLOAD = "upload"
    APPLY = "apply"
    REMOVE = "remove"
    UPDATE = "update"


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[AppStatus]
    running: AppStatus
    succeeded: AppStatus
    failed: AppStatus


RULES: dict[AppOperation, Rule] = {
    # Upload starts when the API creates the row; nothing can start it again.
    AppOperation.UPLOAD: Rule(
        frozenset(), AppStatus.UPLOADING, AppStatus.UPLOADED, AppStatus.UPLOAD_FAILED
    ),
    AppOperation.APPLY: Rule(
        frozenset(
            {
                AppStatus.UPLOADED,
                AppStatus.APPLIED,
                AppStatus.APPLY_FAILED,
                AppStatus.REMOVE_FAILED,
                AppStatus.UPDATE_FAILED,
            }
        ),
        AppStatus.APPLYING,
        AppStatus.APPLIED,
        AppStatus.APPLY_FAILED,
    ),
    AppOperation.REMOVE: Rule(
        frozenset(
            {
                AppStatus.APPLIED,
                AppStatus.APPLY_FAILED,
                AppStatus.REMOVE_FAILED,
                AppStatus.UPDATE_FAILED,
            }
        ),
        AppStatus.REMOVING,
        AppStatus.UPLOADED,
        AppStatus.REMOVE_FAILED,
    ),
    AppOperation.UPDATE: Rule(
        frozenset({AppStatus.APPLIED}),
        AppStatus.UPDATING,
        AppStatus.APPLIED,
        AppStatus.UPDATE_FAILED,
    ),
}

IN_PROGRESS: dict[AppStatus, AppOperation] = {r.running: op for op, r in RULES.items()}

#: Statuses in which the app may be deleted without force.
DELETABLE = frozenset({AppStatus.UPLOADED, AppStatus.UPLOAD_FAILED})
#: With force, anything that is not running and holds no deployed release claim.
FORCE_DELETABLE = DELETABLE | {AppStatus.APPLY_FAILED, AppStatus.REMOVE_FAILED}


def rejected(op: AppOperation | str, status: str) -> InvalidState:
    return InvalidState(
        f"Application-{op} rejected: operation is not allowed while the current status is {status}."
    )


def check_start(op: AppOperation, status: str) -> None:
    """Refuse, before any work, an operation the app's status does not allow."""
    if AppStatus(status) not in RULES[op].allowed_from:
        raise rejected(op, status)


def create_upload(
    session: Session, name: str, version: str, digest: str, holder: str, lease: timedelta
) -> App:
    """A new app in ``uploading``, its lease reserved for the conductor that claims it."""
    if session.scalars(select(App.id).where(App.name == name)).first() is not None:
        raise Conflict(f"Application-upload rejected: application {name} already exists.")
    rule = RULES[AppOperation.UPLOAD]
    app = App(
        name=name,
        app_version=version,
        status=rule.running.value,
        progress=None,
        active=False,
        tarball_digest=digest,
        operation=AppOperation.UPLOAD.value,
        lease_holder=holder,
        lease_expires_at=utcnow() + lease,
    )
    try:
        with session.begin_nested():
            session.add(app)
    except IntegrityError:
        raise Conflict(f"Application-upload rejected: application {name} already exists.") from None
    return app


def start(
    session: Session,
    app: App,
    op: AppOperation,
    holder: str,
    lease: timedelta,
    **extra: object,
) -> None:
    """Move ``app`` into ``op``'s running status and take its lease, or raise InvalidState;
    ``extra`` columns (an update's target) are written in the same statement."""
    rule = RULES[op]
    check_start(op, app.status)
    now = utcnow()
    # The version too: an update that started and ended meanwhile changes only that.
    result = session.execute(
        update(App)
        .where(App.id == app.id, App.status == app.status, App.app_version == app.app_version)
        .values(
            status=rule.running.value,
            operation=op.value,
            lease_holder=holder,
            lease_expires_at=now + lease,
            abort_requested=False,
            progress=None,
            **extra,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        expected = app.app_version
        session.refresh(app)
        if op is AppOperation.UPDATE and app.app_version != expected:
            version = extra.get("target_version", app.app_version)
            if app.app_version == version:
                raise InvalidInput(
                    f"Application-update rejected: {app.name} is already at version {version}."
                )
        raise rejected(op, app.status)
    session.refresh(app)


def start_update(
    session: Session,
    app: App,
    version: str,
    digest: str,
    holder: str,
    lease: timedelta,
    reuse_user_overrides: bool | None,
    reuse_attributes: bool | None = None,
) -> None:
    """Start moving an applied app to ``version``: the target in the same compare-and-set.

    ``reuse_*``: keep the user overrides / chart attributes; None: as the new bundle says.
    """
    if app.app_version == version and AppStatus(app.status) is AppStatus.APPLIED:
        raise InvalidInput(
            f"Application-update rejected: {app.name} is already at version {version}."
        )
    target = {"target_version": version, "target_tarball_digest": digest,
              "target_reuse_user_overrides": reuse_user_overrides,
              "target_reuse_attributes": reuse_attributes}  # fmt: skip
    start(session, app, AppOperation.UPDATE, holder, lease, **target)


@dataclass(frozen=True)
class DeletedApp:
    id: int
    name: str
    version: str
    #: The bundles it referred to, to forget where nothing else refers to them.
    digests: tuple[str, ...]


def delete(session: Session, name: str, forced: bool) -> DeletedApp:
    """Delete the app if, and only if, its status allows it at the moment of the DELETE."""
    app = session.scalars(select(App).where(App.name == name)).first()
    if app is None:
        raise InvalidInput(f"Application-delete rejected: application {name} not found.")
    allowed = FORCE_DELETABLE if forced else DELETABLE
    status = AppStatus(app.status)
    gone = DeletedApp(
        app.id,
        app.name,
        app.app_version,
        tuple(d for d in (app.tarball_digest, app.target_tarball_digest) if d),
    )
    if status in allowed:
        result = session.execute(
            delete_rows(App)
            .where(App.id == app.id, App.status.in_([s.value for s in allowed]))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.expunge(app)
            return gone
        session.refresh(app)
        status = AppStatus(app.status)
    hint = "" if forced or status not in FORCE_DELETABLE else "; use force"
    raise InvalidState(
        f"Application-delete rejected: operation is not allowed while the current "
        f"status is {status}{hint}."
    )


def claim(session: Session, app_id: int, token: str, holder: str, lease: timedelta) -> bool:
    """Take over the lease the API reserved under ``token`` when it started the operation."""
    result = session.execute(
        update(App)
        .where(App.id == app_id, App.lease_holder == token, App.status.in_(list(IN_PROGRESS)))
        .values(lease_holder=holder, lease_expires_at=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def renew(session: Session, app_id: int, holder: str, lease: timedelta) -> bool:
    """Extend the lease while the work runs; False when another holder took it over."""
    result = session.execute(
        update(App)
        .where(App.id == app_id, App.lease_holder == holder)
        .values(lease_expires_at=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish(
    session: Session, app_id: int, op: AppOperation, holder: str, ok: bool, progress: str
) -> bool:
    """Record the outcome of ``op``; False (and nothing changed) if the lease was lost."""
    rule = RULES[op]
    values: dict[str, object] = {
        "status": (rule.succeeded if ok else rule.failed).value,
        "progress": progress,
        "operation": None,
        "lease_holder": None,
        "lease_expires_at": None,
        "abort_requested": False,
    }
    if op in (AppOperation.APPLY, AppOperation.UPDATE):
        values["active"] = ok
    elif op is AppOperation.REMOVE and ok:
        values["active"] = False
    result = session.execute(
        update(App)
        .where(App.id == app_id, App.status == rule.running.value, App.lease_holder == holder)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def request_abort(session: Session, app: App) -> None:
    """Ask the running operation to stop; refused when none is running any more."""
    if AppStatus(app.status) in IN_PROGRESS:
        result = session.execute(
            update(App)
            .where(App.id == app.id, App.status == app.status)
            .values(abort_requested=True)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(app)
            return
        before = app.status
        session.refresh(app)
        if AppStatus(app.status) in IN_PROGRESS and app.status != before:
            raise InvalidState(
                f"Application-abort rejected: the status of {app.name} changed to "
                f"{app.status} meanwhile; abort again to stop that operation."
            )
    raise InvalidState(
        f"Application-abort rejected: no operation is in progress for {app.name} "
        f"(status {app.status})."
    )


def abort_requested(session: Session, app_id: int) -> bool:
    return bool(session.scalar(select(App.abort_requested).where(App.id == app_id)))


def recover(
    session: Session, holder: str | None, now: datetime | None = None, everything: bool = False
) -> list[int]:
    """Fail the operations a dead conductor left behind.

    Only operations whose lease expired, or whose holder is ``holder`` itself (this
    conductor, restarted; None from the periodic audit), are touched: another live
    conductor's work is left alone. ``everything``: every operation in progress (the
    embedded mode at start: its one process held them all). Returns the ids of the apps
    moved to their failed status.
    """
    now = now or utcnow()
    abandoned = true() if everything else App.lease_expires_at < now
    apps = session.scalars(
        select(App).where(
            App.status.in_([s.value for s in IN_PROGRESS]),
            or_(App.lease_holder == holder, abandoned) if holder else abandoned,
        )
    ).all()
    failed = []
    for app in apps:
        op = IN_PROGRESS[AppStatus(app.status)]
        result = session.execute(
            update(App)
            .where(App.id == app.id, App.status == app.status, App.lease_holder == app.lease_holder)
            .values(
                status=RULES[op].failed.value,
                progress=(
                    "operation aborted: conductor restarted"
                    if app.lease_holder == holder or everything
                    else "operation aborted: its conductor stopped (lease expired)"
                ),
                operation=None,
                lease_holder=None,
                lease_expires_at=None,
                abort_requested=False,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            failed.append(app.id)
    return failed
