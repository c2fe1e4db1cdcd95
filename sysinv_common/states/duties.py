"""The conductors' singleton duties: which one conductor runs the periodic audits.

The only module that writes ``conductor_leases`` and ``conductor_duties``. A lease names
its holder (a conductor id), the host that conductor runs on, and when it expires; every
write is a compare-and-set on its ``generation``, so two conductors racing for it cannot
both win. The rules, applied by each conductor at each round (:func:`claim`):

- the conductor on the active controller (``system.active_controller_id``) takes the lease
  from a conductor of any other host at once, and keeps it while it renews it;
- any other conductor takes it only when it is free or expired (its holder stopped, or no
  conductor runs on the active controller), and keeps it by renewing it;
- a swact hands it to the new active controller's host (:func:`hand_over`), in the swact's
  own transaction: from then on the old one's conductor no longer holds it, and the new
  one's takes it at its next round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common.db.models import ConductorDuty, ConductorLease, Host, System

#: The lease of the periodic audits (sysinv_conductor.periodic).
AUDITS = "audits"


@dataclass(frozen=True)
class Conductor:
    """A conductor as the lease knows it: its id, and the host it runs on."""

    id: str
    host: str


def aware(when: datetime | None) -> datetime | None:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


def active_hostname(session: Session) -> str | None:
    """The active controller's hostname; None when none is recorded."""
    return session.scalars(
        select(Host.hostname)
        .join(System, System.active_controller_id == Host.id)
        .order_by(System.id)
        .limit(1)
    ).first()


def _create(session: Session, name: str, me: Conductor, expires: datetime) -> bool:
    """The lease's first row, held by ``me``; False when another conductor created it
    first (the caller's transaction is unharmed: the insert ran in a savepoint)."""
    try:
        with session.begin_nested():
            session.add(ConductorLease(
                name=name, holder=me.id, holder_host=me.host, expires_at=expires, generation=1
            ))  # fmt: skip
    except IntegrityError:
        return False
    return True


def claim(session: Session, name: str, me: Conductor, lease: timedelta, now: datetime) -> bool:
    """Take or renew lease ``name`` for ``me`` if the rules (module docstring) let it;
    True when ``me`` holds it until ``now + lease``."""
    row = session.execute(
        select(ConductorLease.holder, ConductorLease.holder_host, ConductorLease.expires_at,
               ConductorLease.generation).where(ConductorLease.name == name)
    ).first()  # fmt: skip
    if row is None:
        return _create(session, name, me, now + lease)
    holder, holder_host, expires_at, generation = row
    expires_at = aware(expires_at)
    mine = holder == me.id
    expired = expires_at is None or expires_at <= now
    # A conductor of the active controller outranks any other host's; two conductors of
    # one host follow the lease (one handed over by a swact names the host, no holder).
    outranks = active_hostname(session) == me.host and (holder_host != me.host or holder is None)
    if not (mine or expired or outranks):
        return False
    result = session.execute(
        update(ConductorLease)
        .where(ConductorLease.name == name, ConductorLease.generation == generation)
        .values(holder=me.id, holder_host=me.host, expires_at=now + lease,
                generation=generation + 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def hand_over(session: Session, name: str, host: str, lease: timedelta, now: datetime) -> None:
    """A swact: lease ``name`` goes to ``host``'s conductor, whichever conductor held it.

    Written unconditionally (and first created if need be): a swact's transaction decides.
    Until a conductor of ``host`` takes it, nobody holds it; if none does before
    ``now + lease``, any conductor may take it then.
    """
    values = {"holder": None, "holder_host": host, "expires_at": now + lease}
    result = session.execute(
        update(ConductorLease)
        .where(ConductorLease.name == name)
        .values(**values, generation=ConductorLease.generation + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ConductorLease(name=name, generation=1, **values))


def lease_holder(session: Session, name: str) -> tuple[str | None, str | None]:
    """Who holds lease ``name`` (conductor id, host); (None, None) when nobody ever did."""
    row = session.execute(
        select(ConductorLease.holder, ConductorLease.holder_host).where(ConductorLease.name == name)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def record_run(session: Session, duty: str, me: Conductor, now: datetime) -> None:
    """``me`` ran ``duty`` once more at ``now``. Only ``me`` writes its own row."""
    result = session.execute(
        update(ConductorDuty)
        .where(ConductorDuty.duty == duty, ConductorDuty.holder == me.id)
        .values(runs=ConductorDuty.runs + 1, last_run_at=now, host=me.host)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ConductorDuty(
            duty=duty, holder=me.id, host=me.host, runs=1, first_run_at=now, last_run_at=now
        ))  # fmt: skip
