"""Host changes that touch only the database: add and field updates.

Lock, unlock, delete and labels touch Kubernetes, so the conductor owns them
(``sysinv_conductor.flows.hosts``); this module holds the rules they share.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemType
from sysinv_common.db.models import Host
from sysinv_common.db.queries.hosts import host_by_hostname, host_by_mac
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import Conflict, InvalidInput
from sysinv_common.states.host import MUST_BE_LOCKED, Personality, new_host, require_locked
from sysinv_common.validation import normalize_mac, validate_hostname

#: Provisioning facts stored as given (strings, or null).
PLAIN_FIELDS = (
    "bm_ip",
    "bm_type",
    "bm_username",
    "boot_device",
    "rootfs_device",
    "install_output",
    "console",
    "hw_settle",
    "clock_synchronization",
    "mgmt_ip",
)
UPDATABLE = {"hostname", "personality", "subfunctions", "location", "mgmt_mac", *PLAIN_FIELDS}
CREATABLE = UPDATABLE | {"bm_password", "vsc_controllers", "ttys_dcd"}


def _personality(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return Personality(str(value)).value
    except ValueError:
        allowed = ", ".join(p.value for p in Personality)
        raise InvalidInput(f"Invalid personality '{value}': must be one of {allowed}") from None


def _subfunctions(session: Session, personality: str | None, extra: object) -> str | None:
    if personality is None:
        return None
    funcs = [personality]
    system = get_system(session)
    if personality == Personality.CONTROLLER and system.system_type == SystemType.ALL_IN_ONE:
        funcs.append(Personality.WORKER.value)
    if extra not in (None, ""):
        for f in str(extra).split(","):
            f = f.strip()
            if f not in ("lowlatency", *(p.value for p in Personality)):
                raise InvalidInput(
                    f"Invalid subfunction '{f}': must be lowlatency or a personality"
                )
            if f not in funcs:
                funcs.append(f)
    return ",".join(funcs)


def _location(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"locn": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise InvalidInput('Invalid location: expected a string or {"locn": "<text>"}')


def _plain(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise InvalidInput(f"Invalid {name}: expected a string")
    text = str(value)
    # PostgreSQL refuses a longer value (a 500 before); SQLite would have stored it.
    limit: int | None = getattr(Host.__table__.c[name].type, "length", None)
    if limit is not None and len(text) > limit:
        raise InvalidInput(f"Invalid {name}: longer than {limit} characters")
    return text


def _check_unique(
    session: Session, host: Host | None, hostname: str | None, mac: str | None
) -> None:
    if hostname is not None:
        other = host_by_hostname(session, hostname)
        if other is not None and other is not host:
            raise Conflict(f"Host with hostname {hostname} already exists")
    if mac is not None:
        other = host_by_mac(session, mac)
        if other is not None and other is not host:
            raise Conflict(f"Host with mgmt_mac {mac} already exists ({other.hostname})")


def new_host_fields(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """The checked columns of a new host from a host-add body (no uniqueness check);
    InvalidInput names the first problem."""
    unknown = set(body) - CREATABLE
    if unknown:
        raise InvalidInput(f"Unknown host attribute(s): {', '.join(sorted(unknown))}")
    hostname = validate_hostname(body.get("hostname"))
    personality = _personality(body.get("personality"))
    return {
        "hostname": hostname,
        "personality": personality,
        "subfunctions": _subfunctions(session, personality, body.get("subfunctions")),
        "mgmt_mac": normalize_mac(body["mgmt_mac"]) if body.get("mgmt_mac") else None,
        "location": _location(body.get("location")),
        "capabilities": {},
        "inventory": {},
        **{f: _plain(f, body.get(f)) for f in PLAIN_FIELDS},
    }


def create_host(session: Session, body: dict[str, Any]) -> Host:
    """Add a host in its initial state, ``locked / disabled / offline``."""
    fields = new_host_fields(session, body)
    _check_unique(session, None, fields["hostname"], fields["mgmt_mac"])
    host = new_host(**fields)
    session.add(host)
    _flush(session, host.hostname)
    return host


def update_host(session: Session, host: Host, changes: dict[str, Any]) -> Host:
    """Apply field changes (not actions) with sysinv's rules; nothing changes on refusal."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidInput(f"Attribute(s) cannot be changed: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    if "hostname" in changes:
        values["hostname"] = validate_hostname(changes["hostname"])
    if "personality" in changes or "subfunctions" in changes:
        personality = (
            _personality(changes["personality"]) if "personality" in changes else host.personality
        )
        extra = changes.get("subfunctions")
        if extra is None and "personality" not in changes:
            extra = host.subfunctions
        values["personality"] = personality
        values["subfunctions"] = _subfunctions(session, personality, extra)
    if "mgmt_mac" in changes:
        values["mgmt_mac"] = normalize_mac(changes["mgmt_mac"]) if changes["mgmt_mac"] else None
    if "location" in changes:
        values["location"] = _location(changes["location"])
    for f in PLAIN_FIELDS:
        if f in changes:
            values[f] = _plain(f, changes[f])
    changed = {k: v for k, v in values.items() if getattr(host, k) != v}
    for f in changed:
        if f"change {f}" in MUST_BE_LOCKED:
            require_locked(host, f"change {f}")
    _check_unique(session, host, changed.get("hostname"), changed.get("mgmt_mac"))
    for k, v in changed.items():
        setattr(host, k, v)
    _flush(session, host.hostname)
    return host


def _flush(session: Session, hostname: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Two requests raced past the uniqueness checks; the constraint decided.
        raise Conflict(
            f"Host {hostname} conflicts with an existing host (hostname or mgmt_mac)"
        ) from exc
