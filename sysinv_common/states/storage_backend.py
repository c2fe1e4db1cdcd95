"""The storage backend state machine: the only module that writes a backend's ``state``
and ``reason``.

A backend is created ``configuring``; the conductor's configuration ends it ``configured``
or ``failed`` (with the reason). A modify starts configuring again from either end state.
Every change is one compare-and-set UPDATE on the expected state, so two requests can never
both configure one backend, and a configuration cannot overwrite a newer one's outcome.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sysinv_common.db.models.storage_backend import StorageBackend
from sysinv_common.errors import Conflict, InvalidState


class BackendState(StrEnum):
    CONFIGURING = "configuring"
    CONFIGURED = "configured"
    FAILED = "failed"


#: Allowed transitions: from -> the states it may go to.
RULES: dict[BackendState, frozenset[BackendState]] = {
    BackendState.CONFIGURING: frozenset({BackendState.CONFIGURED, BackendState.FAILED}),
    BackendState.CONFIGURED: frozenset({BackendState.CONFIGURING}),
    BackendState.FAILED: frozenset({BackendState.CONFIGURING}),
}

#: The kinds of Ceph backend; a system has at most one of them.
CEPH_BACKENDS = ("ceph", "ceph-external")


def create(session: Session, **fields: Any) -> StorageBackend:
    """A new backend in ``configuring``; refused when the system has a Ceph backend."""
    existing = session.scalars(
        select(StorageBackend).where(StorageBackend.backend.in_(CEPH_BACKENDS))
    ).first()
    if existing is not None:
        # StarlingX's answer: a failed backend is retried with modify, not added again.
        retry = (
            ": use storage-backend-modify to retry it"
            if existing.state == BackendState.FAILED
            else ""
        )
        raise Conflict(
            f"Storage backend {existing.backend} ({existing.name}) already exists: a system "
            f"has one Ceph backend{retry}"
        )
    if session.scalars(
        select(StorageBackend.id).where(StorageBackend.name == fields["name"])
    ).first():
        raise Conflict(f"Storage backend {fields['name']} already exists")
    row = StorageBackend(state=BackendState.CONFIGURING, reason=None, **fields)
    session.add(row)
    session.flush()
    return row


def transition(
    session: Session,
    backend_id: int,
    expected: BackendState,
    new: BackendState,
    reason: str | None = None,
    **fields: Any,
) -> None:
    """Move the backend from ``expected`` to ``new`` (with ``fields`` written alongside);
    ``InvalidState`` unless it was in ``expected``. ``reason`` is kept for ``failed``
    only."""
    if new not in RULES[expected]:
        raise InvalidState(f"Storage backend: {expected} cannot become {new}")
    done = session.execute(
        update(StorageBackend)
        .where(StorageBackend.id == backend_id, StorageBackend.state == expected)
        .values(state=new, reason=reason if new is BackendState.FAILED else None, **fields)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalars(
            select(StorageBackend.state).where(StorageBackend.id == backend_id)
        ).first()
        raise InvalidState(
            f"Storage backend is {current or 'gone'}, not {expected}: it cannot become {new}"
        )


def record_replication(
    session: Session, backend_id: int, replication: int, min_replication: int
) -> None:
    """A configured backend's pools now have this replication (the audit changed them as
    storage hosts came or went)."""
    session.execute(
        update(StorageBackend)
        .where(StorageBackend.id == backend_id, StorageBackend.state == BackendState.CONFIGURED)
        .values(replication=replication, min_replication=min_replication)
        .execution_options(synchronize_session=False)
    )


def reconfigure(session: Session, backend_id: int, **fields: Any) -> BackendState:
    """Start configuring again from ``configured`` or ``failed``; the state it left."""
    for start in (BackendState.CONFIGURED, BackendState.FAILED):
        try:
            transition(session, backend_id, start, BackendState.CONFIGURING, **fields)
        except InvalidState:
            continue
        return start
    raise InvalidState("Storage backend is being configured: try again when it is done")


def remove(session: Session, backend_id: int) -> None:
    """Delete the row, unless a configuration is under way."""
    done = session.execute(
        delete(StorageBackend)
        .where(StorageBackend.id == backend_id, StorageBackend.state != BackendState.CONFIGURING)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidState("Storage backend is being configured: it cannot be deleted now")
