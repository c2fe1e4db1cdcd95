"""The host's administrative state machine: the only place that changes it.

A host starts ``locked / disabled / offline`` (DESIGN.md §11). Lock and unlock are
compare-and-set updates so that two requests racing on one host cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sysinv_common.db.models import Host
from sysinv_common.errors import InvalidInput, InvalidState


class Administrative(StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"


class Operational(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class Availability(StrEnum):
    AVAILABLE = "available"
    ONLINE = "online"
    OFFLINE = "offline"
    DEGRADED = "degraded"


class Personality(StrEnum):
    CONTROLLER = "controller"
    WORKER = "worker"
    STORAGE = "storage"


class Action(StrEnum):
    LOCK = "lock"
    FORCE_LOCK = "force-lock"
    FORCE_UNSAFE_LOCK = "force-unsafe-lock"
    UNLOCK = "unlock"
    FORCE_UNLOCK = "force-unlock"

    @property
    def target(self) -> Administrative:
        if self in (Action.UNLOCK, Action.FORCE_UNLOCK):
            return Administrative.UNLOCKED
        return Administrative.LOCKED

    @property
    def forced(self) -> bool:
        return self in (Action.FORCE_LOCK, Action.FORCE_UNSAFE_LOCK, Action.FORCE_UNLOCK)


INITIAL = (Administrative.LOCKED, Operational.DISABLED, Availability.OFFLINE)
_STATE_COLUMNS = frozenset({"administrative", "operational", "availability"})


def new_host(**fields: Any) -> Host:
    """A Host in its initial state, whoever adds it (the API or an agent's registration).

    ``fields`` are its other columns; its state is not theirs to choose.
    """
    given = _STATE_COLUMNS & fields.keys()
    if given:
        raise TypeError(f"new_host() sets the initial state itself, not {sorted(given)}")
    administrative, operational, availability = INITIAL
    return Host(
        administrative=administrative.value,
        operational=operational.value,
        availability=availability.value,
        **fields,
    )


def parse_action(value: object) -> Action:
    try:
        action = Action(str(value))
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise InvalidInput(f"Invalid host action '{value}': must be one of {allowed}") from None
    if action is Action.FORCE_UNSAFE_LOCK:
        raise InvalidInput("Host action 'force-unsafe-lock' is not supported")
    return action


#: What may only be done to a locked host (DESIGN.md §11), and the refusal when it is not.
MUST_BE_LOCKED: dict[str, str] = {
    "delete": "Cannot delete host {hostname}: it is unlocked; lock it first",
    "change hostname": (
        "Cannot change the hostname of host {hostname} while it is unlocked; lock it first"
    ),
    "change personality": (
        "Cannot change the personality of host {hostname} while it is unlocked; lock it first"
    ),
    "change subfunctions": (
        "Cannot change the subfunctions of host {hostname} while it is unlocked; lock it first"
    ),
}


def require_locked(host: Host, operation: str) -> None:
    """Refuse ``operation`` (a key of MUST_BE_LOCKED) unless the host is locked."""
    message = MUST_BE_LOCKED[operation]
    if host.administrative != Administrative.LOCKED:
        raise InvalidState(message.format(hostname=host.hostname))


def check_action_allowed(host: Host, action: Action) -> None:
    """Refuse an action the host's current state makes pointless, in sysinv's words."""
    if action.target is Administrative.LOCKED and host.administrative == Administrative.LOCKED:
        raise InvalidState(f"Avoiding lock action on already 'locked' host {host.hostname}")
    if action.target is Administrative.UNLOCKED and host.administrative == Administrative.UNLOCKED:
        raise InvalidState(f"Avoiding unlock action on already 'unlocked' host {host.hostname}")
    if action.target is Administrative.UNLOCKED and not host.personality:
        raise InvalidInput(
            f"Cannot unlock host {host.hostname}: it has no personality; "
            "set one with host-update first"
        )


def transition(session: Session, host: Host, action: Action) -> None:
    """Move ``host`` to ``action.target`` if, and only if, nobody changed it meanwhile.

    Raises InvalidState when another request won the race. The caller's transaction
    commits (or rolls back) the change together with its side effects.
    """
    check_action_allowed(host, action)
    expected = host.administrative
    target = action.target
    result = session.execute(
        update(Host)
        .where(Host.id == host.id, Host.administrative == expected)
        .values(administrative=target)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidState(
            f"Host {host.hostname} changed state while the {action.value} was in progress; "
            "try again"
        )
    session.refresh(host)
    settle(host)


# Availability and operational state follow from the agent's reports; they change here too.


def settle(host: Host) -> None:
    """Availability and operational state from what the host last reported."""
    if host.availability != Availability.OFFLINE:
        host.availability = (
            Availability.AVAILABLE
            if host.administrative == Administrative.UNLOCKED
            else Availability.ONLINE
        )
    enabled = (
        host.administrative == Administrative.UNLOCKED
        and host.availability in (Availability.AVAILABLE, Availability.ONLINE)
        and bool(host.config_target)
        and host.config_target == host.config_applied
    )
    host.operational = Operational.ENABLED if enabled else Operational.DISABLED


def mark_seen(host: Host, now: datetime) -> bool:
    """The host's agent reported; True when it was offline until now."""
    came_back = host.availability == Availability.OFFLINE
    host.last_seen_at = now
    if came_back:
        host.availability = Availability.ONLINE
    settle(host)
    return came_back


def mark_offline(session: Session, cutoff: datetime) -> list[str]:
    """Hosts whose agent has not reported since ``cutoff`` go offline."""
    stale = session.scalars(
        select(Host).where(
            Host.availability != Availability.OFFLINE.value,
            Host.last_seen_at.is_not(None),
            Host.last_seen_at < cutoff,
        )
    ).all()
    for host in stale:
        host.availability = Availability.OFFLINE
        settle(host)
    return [h.hostname for h in stale]


def record_config_applied(host: Host, target: str, error: str | None) -> None:
    """The agent applied ``target``; an old target or a failure leaves config_applied."""
    if target != host.config_target:
        return
    if error is None:
        host.config_applied = target
        host.config_error = None
    else:
        host.config_error = error
    settle(host)
