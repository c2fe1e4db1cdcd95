"""The host's state machine: the only place that changes its administrative,
operational and availability state.

A host starts ``locked / disabled / offline`` (``new_host``). Lock and
unlock are compare-and-set updates so that two requests racing on one host cannot both
win; availability and operational state, which follow the agent's reports, are written
compare-and-set too, so that no report or audit overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sysinv_common.db.models import Host, System
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
    UNLOCK = "unlock"
    FORCE_UNLOCK = "force-unlock"
    #: Make the other controller the active one (``swact_controller``); not a lock/unlock.
    SWACT = "swact"

    @property
    def target(self) -> Administrative:
        if self is Action.SWACT:
            raise ValueError("a swact changes no administrative state")
        if self in (Action.UNLOCK, Action.FORCE_UNLOCK):
            return Administrative.UNLOCKED
        return Administrative.LOCKED

    @property
    def forced(self) -> bool:
        return self in (Action.FORCE_LOCK, Action.FORCE_UNLOCK)


_NO_BMC = "sysinv has no board management (BMC) integration"
#: The host actions StarlingX's client sends that this platform does not carry out, and
#: why (``host-lock -f -u``, ``host-swact [-f]``, ``host-reboot``, ``host-power-on``, ...).
UNSUPPORTED_ACTIONS: dict[str, str] = {
    "force-unsafe-lock": (
        "Host action 'force-unsafe-lock' (host-lock -f -u) is not supported: it overrides "
        "the checks a forced lock keeps, and a forced lock here keeps none (locking only "
        "cordons the host's Kubernetes Node, and takes a controller out of the control plane "
        "while another one serves); use host-lock --force"
    ),
    "force-swact": (
        "Host action 'force-swact' (host-swact -f) is not supported: a swact here only moves "
        "the active role, and only to a controller that is unlocked, enabled and available; "
        "use host-swact without --force"
    ),
    "reboot": (
        "Host action 'reboot' (host-reboot) is not supported: sysinv's agent does not "
        "restart nodes and " + _NO_BMC + "; reboot the node from its console or its BMC"
    ),
    "reset": (
        "Host action 'reset' (host-reset) is not supported: " + _NO_BMC + " to reset a "
        "node; reset it through its BMC"
    ),
    "power-on": (
        "Host action 'power-on' (host-power-on) is not supported: " + _NO_BMC + " to "
        "power a node on; power it on through its BMC or by hand"
    ),
    "power-off": (
        "Host action 'power-off' (host-power-off) is not supported: " + _NO_BMC + " to "
        "power a node off; lock it, then power it off through its BMC or by hand"
    ),
    "reinstall": (
        "Host action 'reinstall' (host-reinstall) is not supported: sysinv does not install "
        "the nodes' operating system; reinstall the node with your provisioning tools, "
        "then delete and add it again"
    ),
}


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
    """The action of a ``PATCH [{"path": "/action", ...}]``; the unsupported ones (see
    :data:`UNSUPPORTED_ACTIONS`) are refused with their reason."""
    text = str(value)
    if text in UNSUPPORTED_ACTIONS:
        raise InvalidInput(UNSUPPORTED_ACTIONS[text])
    try:
        return Action(text)
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise InvalidInput(f"Invalid host action '{value}': must be one of {allowed}") from None


#: What may only be done to a locked host, and the refusal when it is not.
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


def is_locked(host: Host) -> bool:
    """The host is administratively locked: its Node, when it exists, is cordoned."""
    return bool(host.administrative == Administrative.LOCKED)


def require_locked(host: Host, operation: str) -> None:
    """Refuse ``operation`` (a key of MUST_BE_LOCKED) unless the host is locked."""
    message = MUST_BE_LOCKED[operation]
    if host.administrative != Administrative.LOCKED:
        raise InvalidState(message.format(hostname=host.hostname))


def check_action_allowed(host: Host, action: Action) -> None:
    """Refuse an action the host's current state makes pointless, in sysinv's words."""
    if action is Action.SWACT:
        if host.personality != Personality.CONTROLLER:
            raise InvalidInput(f"Swact action not allowed for non controller host {host.hostname}")
        return
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
    settle(session, host)


# Availability and operational state follow from the agent's reports; they change here too,
# each as one compare-and-set UPDATE: the row must still be as the change read it, so a
# report (or an audit) that lands in between is never overwritten.

#: The columns a settled state is computed from, and the state itself: a compare-and-set
#: on all of them means the row is still the one the computation read.
_COMPARED = ("administrative", "availability", "operational", "config_target", "config_applied")
#: How often a change is recomputed from a newer row before giving up. Each retry follows
#: another writer's commit, so more than a couple means something is wrong.
_ATTEMPTS = 5


def _settled(host: Host, **changes: Any) -> dict[str, Any]:
    """``changes`` plus the availability and operational state they leave ``host`` in."""
    row = {c: getattr(host, c) for c in _COMPARED} | changes
    unlocked = row["administrative"] == Administrative.UNLOCKED
    availability = str(row["availability"])
    if availability != Availability.OFFLINE:
        availability = (Availability.AVAILABLE if unlocked else Availability.ONLINE).value
    enabled = (
        unlocked
        and availability in (Availability.AVAILABLE, Availability.ONLINE)
        and bool(row["config_target"])
        and row["config_target"] == row["config_applied"]
    )
    operational = Operational.ENABLED if enabled else Operational.DISABLED
    return {**changes, "availability": availability, "operational": operational.value}


def _compare_and_set(
    session: Session, host: Host, expected: dict[str, Any], values: dict[str, Any]
) -> bool:
    """``UPDATE hosts SET values WHERE id = host.id AND <each expected column = value>``.

    True when the row matched. Either way ``host`` is refreshed: it then shows our write,
    or the newer one that made the row differ from ``expected``.
    """
    result = session.execute(
        update(Host)
        .where(Host.id == host.id, *(getattr(Host, c) == v for c, v in expected.items()))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1  # type: ignore[attr-defined]
    session.refresh(host)
    return bool(won)


def _write(session: Session, host: Host, change: Callable[[], dict[str, Any] | None]) -> None:
    """Write what ``change`` computes from ``host`` (None: nothing), compare-and-set.

    On a lost race ``change`` runs again on the newer row, so it builds on that write
    instead of overwriting it.
    """
    # The caller's pending changes (a new host, its inventory) reach the row first, so the
    # comparison reads what the UPDATE will see and the refresh cannot discard them.
    session.flush()
    for _ in range(_ATTEMPTS):
        values = change()
        if values is None:
            return
        # Written even when it looks unchanged: ``host`` may be older than the row, and
        # only the compare-and-set tells (and then recomputes from the row as it is).
        expected = {c: getattr(host, c) for c in _COMPARED}
        if _compare_and_set(session, host, expected, values):
            return
    raise InvalidState(f"Host {host.hostname} kept changing state meanwhile; try again")


def settle(session: Session, host: Host) -> None:
    """Availability and operational state from what the host last reported."""
    _write(session, host, lambda: _settled(host))


def mark_seen(session: Session, host: Host, now: datetime) -> bool:
    """The host's agent reported; True when it was offline until now."""
    came_back = False

    def seen() -> dict[str, Any]:
        nonlocal came_back
        came_back = host.availability == Availability.OFFLINE
        if came_back:
            return _settled(host, last_seen_at=now, availability=Availability.ONLINE.value)
        return _settled(host, last_seen_at=now)

    _write(session, host, seen)
    return came_back


@dataclass(frozen=True)
class NewTarget:
    """A host's next configuration target, for :func:`give_targets`."""

    host: Host
    digest: str
    target: str


def give_targets(session: Session, targets: Sequence[NewTarget], now: datetime) -> list[Host]:
    """Each host gets its new configuration target (digest, target, when, no error) and
    the state that leaves it in, all hosts in one compare-and-set UPDATE (executemany):
    a row still as read takes it. Answers the hosts that lost the race (another write
    landed in between), left as that write made them and refreshed; the others' objects
    show the new values, and no statement is spent per host on reading them back.
    """
    if not targets:
        return []
    session.flush()
    table = Host.__table__
    assert isinstance(table, Table)
    changed = ("config_digest", "config_target", "config_target_at", "config_error",
               "availability", "operational")  # fmt: skip
    stmt = (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            *(table.c[c].is_not_distinct_from(bindparam(f"b_{c}")) for c in _COMPARED),
        )
        .values({c: bindparam(f"v_{c}") for c in changed})
    )
    rows: list[dict[str, Any]] = []
    written: dict[int, dict[str, Any]] = {}
    for t in targets:
        values = _settled(t.host, config_digest=t.digest, config_target=t.target,
                          config_target_at=now, config_error=None)  # fmt: skip
        written[t.host.id] = values
        rows.append({"b_id": t.host.id, **{f"b_{c}": getattr(t.host, c) for c in _COMPARED},
                     **{f"v_{c}": values[c] for c in changed}})  # fmt: skip
    if len(rows) == 1:  # a host's own write (a label assign): its count is exact
        won = session.connection().execute(stmt, rows[0]).rowcount == 1
    else:
        result = session.connection().execute(stmt, rows)
        sane = session.get_bind().dialect.supports_sane_multi_rowcount
        won = sane and result.rowcount == len(rows)
    if won:  # every row took it
        for t in targets:
            for column, value in written[t.host.id].items():
                set_committed_value(t.host, column, value)
        return []
    # Which rows took it: a target is a fresh uuid, so only our UPDATE can have set it.
    query = select(Host.id, Host.config_target).where(Host.id.in_(list(written)))
    now_set = {row[0]: row[1] for row in session.execute(query).all()}
    lost: list[Host] = []
    for t in targets:
        if now_set.get(t.host.id) == t.target:
            for column, value in written[t.host.id].items():
                set_committed_value(t.host, column, value)
        else:
            session.refresh(t.host)
            lost.append(t.host)
    return lost


@dataclass(frozen=True)
class OfflineSweep:
    """What one ``mark_offline`` did, by hostname."""

    #: Went offline.
    offline: list[str]
    #: Their agent reported (or their state changed) between the sweep's read and its
    #: write: left as that newer write made them.
    skipped: list[str]


def mark_offline(session: Session, cutoff: datetime) -> OfflineSweep:
    """Hosts whose agent has not reported since ``cutoff`` go offline."""
    stale = session.scalars(
        select(Host).where(
            Host.availability != Availability.OFFLINE.value,
            Host.last_seen_at.is_not(None),
            Host.last_seen_at < cutoff,
        )
    ).all()
    offline: list[str] = []
    skipped: list[str] = []
    for host in stale:
        (offline if take_offline(session, host) else skipped).append(host.hostname)
    return OfflineSweep(offline, skipped)


def take_offline(session: Session, host: Host) -> bool:
    """``host`` goes offline if its row is still as read; False (row untouched) otherwise.

    ``last_seen_at`` is compared too: a heartbeat that landed after the read wins, even
    one that changed nothing else.
    """
    expected = {
        "availability": host.availability,
        "operational": host.operational,
        "last_seen_at": host.last_seen_at,
    }
    values = _settled(host, availability=Availability.OFFLINE.value)
    return _compare_and_set(session, host, expected, values)


def record_config_applied(session: Session, host: Host, target: str, error: str | None) -> None:
    """The agent applied ``target``; an old target or a failure leaves config_applied."""

    def applied() -> dict[str, Any] | None:
        if target != host.config_target:
            return None
        if error is None:
            return _settled(host, config_applied=target, config_error=None)
        return _settled(host, config_error=error)

    _write(session, host, applied)


# -- the active controller -----------------------------------------------------------------
# Which controller is active (StarlingX's ``Personality: Controller-Active`` capability) is
# ``system.active_controller_id``, written here only, each write a compare-and-set on the
# value read. The first controller unlocked while none is active becomes active; host-swact
# moves the role to the other controller; deleting the active one leaves none (the foreign
# key is SET NULL) until another controller is unlocked or already is (``claim_active``).

CONTROLLER_ACTIVE = "Controller-Active"
CONTROLLER_STANDBY = "Controller-Standby"


def controller_role(personality: str | None, host_id: int, active_id: int | None) -> str | None:
    """The ``Personality`` capability host-show shows for a controller; None otherwise."""
    if personality != Personality.CONTROLLER:
        return None
    return CONTROLLER_ACTIVE if host_id == active_id else CONTROLLER_STANDBY


def _active(session: Session) -> tuple[int, int | None]:
    """The system row's id and its active controller, read now (a row deleted in this
    transaction may have just cleared it, whatever the session's objects say)."""
    row = session.execute(
        select(System.id, System.active_controller_id).order_by(System.id).limit(1)
    ).first()
    if row is None:
        raise InvalidState("System not found: the database has not been bootstrapped")
    return row[0], row[1]


def active_controller_id(session: Session) -> int | None:
    return _active(session)[1]


def _set_active(session: Session, system_id: int, expected: int | None, new: int | None) -> bool:
    column = System.__table__.c.active_controller_id
    match = column.is_(None) if expected is None else column == expected
    result = session.execute(
        update(System)
        .where(System.id == system_id, match)
        .values(active_controller_id=new)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for obj in list(session.identity_map.values()):  # nor may a System object it holds
        if isinstance(obj, System) and obj.id == system_id:
            set_committed_value(obj, "active_controller_id", new)
    return True


def _ready(host: Host) -> bool:
    """Unlocked, enabled and available: a controller that can serve as the active one."""
    return (
        host.administrative == Administrative.UNLOCKED
        and host.operational == Operational.ENABLED
        and host.availability == Availability.AVAILABLE
    )


def _other_controllers(session: Session, host: Host) -> list[Host]:
    return list(
        session.scalars(
            select(Host)
            .where(Host.id != host.id, Host.personality == Personality.CONTROLLER.value)
            .order_by(Host.hostname)
        ).all()
    )


def claim_active(session: Session) -> Host | None:
    """With no active controller, make an unlocked controller active (an enabled one
    first, then by hostname); return it, or None when one was already active or none is
    unlocked. Idempotent."""
    system_id, active = _active(session)
    if active is not None:
        return None
    unlocked = session.scalars(
        select(Host)
        .where(
            Host.personality == Personality.CONTROLLER.value,
            Host.administrative == Administrative.UNLOCKED.value,
        )
        .order_by(Host.hostname)
    ).all()
    if not unlocked:
        return None
    chosen = sorted(unlocked, key=lambda h: h.operational != Operational.ENABLED)[0]
    return chosen if _set_active(session, system_id, None, chosen.id) else None


def check_controller_lock(session: Session, host: Host, forced: bool, redundant: bool) -> None:
    """A plain lock of a controller of a redundant system (``redundant``: not simplex) is
    refused when no other controller is unlocked and enabled, or when it is the active one
    (StarlingX's rules; ``forced``: host-lock --force, which skips both)."""
    if forced or not redundant or host.personality != Personality.CONTROLLER:
        return
    others = _other_controllers(session, host)
    if not any(
        h.administrative == Administrative.UNLOCKED and h.operational == Operational.ENABLED
        for h in others
    ):
        raise InvalidState(
            f"Rejected: cannot lock {host.hostname}: it is the only unlocked and enabled "
            "controller; use host-lock --force to lock it anyway"
        )
    if active_controller_id(session) == host.id:
        raise InvalidState(
            f"Rejected: Can not lock an active controller: {host.hostname} is active; "
            f"make the other controller active first (host-swact {host.hostname}), or use "
            "host-lock --force"
        )


def swact_controller(session: Session, host: Host, redundant: bool) -> Host:
    """Make the controller other than ``host`` (the active one) active; return it.

    Refused (InvalidState, with the reason) on a simplex system, when ``host`` is not the
    active controller, when there is no other controller, or when that one is not
    unlocked, enabled and available. A concurrent swact makes this one fail, not both win.
    """
    if host.personality != Personality.CONTROLLER:
        raise InvalidInput(f"Swact action not allowed for non controller host {host.hostname}")
    if not redundant:
        raise InvalidState("Swact action not allowed for a simplex system.")
    system_id, active = _active(session)
    if active != host.id:
        raise InvalidState(
            f"Swact action not allowed: {host.hostname} is not the active controller"
        )
    others = _other_controllers(session, host)
    if not others:
        raise InvalidState(f"Swact action not allowed: no other controller than {host.hostname}")
    ready = [h for h in others if _ready(h)]
    if not ready:
        states = ", ".join(
            f"{h.hostname} is {h.administrative}-{h.operational}-{h.availability}" for h in others
        )
        raise InvalidState(
            f"Swact action not allowed: the other controller must be "
            f"unlocked-enabled-available; {states}"
        )
    target = ready[0]
    if not _set_active(session, system_id, host.id, target.id):
        raise InvalidState(f"The active controller changed during the swact of {host.hostname}")
    return target
