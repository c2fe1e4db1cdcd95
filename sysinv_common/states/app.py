"""The application status machine: the only module that changes an app's status.

Statuses are sysinv's. An operation *starts* by moving the app from one of the statuses
that allow it to the operation's in-progress status and taking the app's lease, in one
compare-and-set UPDATE; it *finishes* by moving it from the in-progress status to the
success or failure status, only while its caller still holds the lease. Two requests can
therefore never both start an operation, and a conductor that lost its lease cannot
overwrite the outcome of another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy import delete as sql_delete
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


@dataclass(frozen=True)
class DeletedApp:
    """What remains to clean up after an app's row is gone."""

    id: int
    name: str
    version: str
    #: The stored bundles it referred to (its own and an update's target); each may go
    #: once no other app refers to it.
    digests: tuple[str, ...]


def delete(session: Session, name: str, forced: bool) -> DeletedApp:
    """Delete the app ``name`` in one statement, if its status allows (DELETABLE, or with
    ``forced`` FORCE_DELETABLE); its charts, releases and events go with it (ON DELETE
    CASCADE). Raises InvalidInput when there is no such app, InvalidState otherwise."""
    allowed = FORCE_DELETABLE if forced else DELETABLE
    deleted = session.execute(
        sql_delete(App)
        .where(App.name == name, App.status.in_([s.value for s in allowed]))
        .returning(App.id, App.app_version, App.tarball_digest, App.target_tarball_digest)
    ).all()
    if len(deleted) == 1:
        app_id, version, digest, target_digest = deleted[0]
        digests = tuple(d for d in (digest, target_digest) if d)
        return DeletedApp(app_id, name, version, digests)
    status = session.scalar(select(App.status).where(App.name == name))
    if status is None:
        raise InvalidInput(f"Application-delete rejected: application {name} not found.")
    hint = "; use force" if not forced and status in FORCE_DELETABLE else ""
    raise InvalidState(
        "Application-delete rejected: operation is not allowed while the current "
        f"status is {status}{hint}."
    )


def rejected(op: AppOperation | str, status: str) -> InvalidState:
    return InvalidState(
        f"Application-{op} rejected: operation is not allowed while the current status is {status}."
    )


def start(session: Session, app: App, op: AppOperation, holder: str, lease: timedelta) -> None:
    """Move ``app`` into ``op``'s running status and take its lease, or raise InvalidState."""
    _start(session, app, op, holder, lease, lambda: _check_start(app, op))


def _check_start(app: App, op: AppOperation) -> None:
    if AppStatus(app.status) not in RULES[op].allowed_from:
        raise rejected(op, app.status)


def _start(
    session: Session,
    app: App,
    op: AppOperation,
    holder: str,
    lease: timedelta,
    check: Callable[[], None],
    also: tuple[ColumnElement[bool], ...] = (),
    **values: object,
) -> None:
    """The compare-and-set start of ``op``: ``check`` refuses on the app as read, and again
    (with the row as it now is) when the UPDATE found it changed. ``also``: more conditions
    the row must still meet; ``values``: more columns set in the same statement."""
    check()
    result = session.execute(
        update(App)
        .where(App.id == app.id, App.status == app.status, *also)
        .values(
            status=RULES[op].running.value,
            operation=op.value,
            lease_holder=holder,
            lease_expires_at=utcnow() + lease,
            abort_requested=False,
            progress=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(app)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        check()
        raise rejected(op, app.status)  # changed meanwhile, to something ``check`` allows


def start_update(
    session: Session,
    app: App,
    version: str,
    bundle_digest: str,
    holder: str,
    lease: timedelta,
    reuse_user_overrides: bool | None,
) -> None:
    """Start moving an applied ``app`` to ``version`` (the stored bundle ``bundle_digest``).

    The target is written by the same UPDATE that starts the operation, so no update is
    ever seen in progress without it, nor a target without its update.
    """

    def check() -> None:
        _check_start(app, AppOperation.UPDATE)
        if app.app_version == version:
            raise InvalidInput(
                f"Application-update rejected: {app.name} is already at version {version}."
            )

    _start(
        session, app, AppOperation.UPDATE, holder, lease, check,
        # An update that completed meanwhile leaves the app applied at another version.
        also=(App.app_version == app.app_version,),
        target_version=version,
        # Bundles are found by their digest; a path left by an earlier update must not be.
        target_tarball_path=None,
        target_tarball_digest=bundle_digest,
        target_reuse_user_overrides=reuse_user_overrides,
    )  # fmt: skip


def create_upload(
    session: Session, name: str, version: str, bundle_digest: str, holder: str, lease: timedelta
) -> App:
    """A new app row, already ``uploading`` under ``holder``'s lease: the upload's start."""
    app = App(
        name=name,
        app_version=version,
        status=RULES[AppOperation.UPLOAD].running.value,
        progress=None,
        active=False,
        tarball_path=None,
        tarball_digest=bundle_digest,
        operation=AppOperation.UPLOAD.value,
        lease_holder=holder,
        lease_expires_at=utcnow() + lease,
        abort_requested=False,
    )
    try:
        # The unique name decides between two uploads of one app; the savepoint leaves
        # the caller's transaction usable after the refusal.
        with session.begin_nested():
            session.add(app)
    except IntegrityError:
        raise Conflict(f"Application-upload rejected: application {name} already exists.") from None
    return app


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
    """Ask the conductor running ``app``'s operation to stop, if one still runs."""

    def check() -> None:
        if AppStatus(app.status) not in IN_PROGRESS:
            raise InvalidState(
                f"Application-abort rejected: no operation is in progress for {app.name} "
                f"(status {app.status})."
            )

    check()
    result = session.execute(
        update(App)
        .where(App.id == app.id, App.status == app.status)
        .values(abort_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.refresh(app)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        check()  # the operation ended meanwhile
        raise InvalidState(
            f"Application-abort rejected: the status of {app.name} changed to {app.status} "
            "meanwhile; try again."
        )


def abort_requested(session: Session, app_id: int) -> bool:
    return bool(session.scalar(select(App.abort_requested).where(App.id == app_id)))


def recover(session: Session, holder: str, now: datetime | None = None) -> list[int]:
    """Fail the operations a dead conductor left behind.

    Only operations whose lease expired, or whose holder is ``holder`` itself (this
    conductor, restarted), are touched: another live conductor's work is left alone.
    Returns the ids of the apps moved to their failed status.
    """
    now = now or utcnow()
    apps = session.scalars(
        select(App).where(
            App.status.in_([s.value for s in IN_PROGRESS]),
            or_(App.lease_holder == holder, App.lease_expires_at < now),
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
                progress="operation aborted: conductor restarted",
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
