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

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sysinv_common.db.base import utcnow
from sysinv_common.db.models.app import App
from sysinv_common.errors import InvalidState


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


def start(session: Session, app: App, op: AppOperation, holder: str, lease: timedelta) -> None:
    """Move ``app`` into ``op``'s running status and take its lease, or raise InvalidState."""
    rule = RULES[op]
    if AppStatus(app.status) not in rule.allowed_from:
        raise rejected(op, app.status)
    now = utcnow()
    result = session.execute(
        update(App)
        .where(App.id == app.id, App.status == app.status)
        .values(
            status=rule.running.value,
            operation=op.value,
            lease_holder=holder,
            lease_expires_at=now + lease,
            abort_requested=False,
            progress=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(app)
        raise rejected(op, app.status)
    session.refresh(app)


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
    if AppStatus(app.status) not in IN_PROGRESS:
        raise InvalidState(
            f"Application-abort rejected: no operation is in progress for {app.name} "
            f"(status {app.status})."
        )
    session.execute(
        update(App)
        .where(App.id == app.id, App.status == app.status)
        .values(abort_requested=True)
        .execution_options(synchronize_session=False)
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
