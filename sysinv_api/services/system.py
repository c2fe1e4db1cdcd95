"""Changes to the system row (``PATCH /v1/isystems/<uuid>``), with sysinv's rules.

StarlingX's ``system modify`` may send any of name, description, location, contact,
timezone, latitude, longitude, system_mode, https_enabled, sdn_enabled, vswitch_type and
security_feature. The first eight are recorded here; the last four describe machinery
this platform does not have, so they are refused with the reason (:data:`REFUSED`).
Every value is checked before anything changes: a refused patch changes nothing.
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemMode, SystemType
from sysinv_common.db.models import System
from sysinv_common.db.queries.hosts import list_hosts
from sysinv_common.errors import InvalidInput
from sysinv_common.states.host import Administrative, Personality

TEXT_FIELDS = ("name", "description", "location", "contact")
UPDATABLE = frozenset({*TEXT_FIELDS, "timezone", "latitude", "longitude", "system_mode"})

#: Attributes StarlingX's client may send that cannot change here, and why.
REFUSED: dict[str, str] = {
    "https_enabled": (
        "https_enabled cannot be changed (it is false): sysinv-api serves plain HTTP and "
        "holds no certificate to switch to; terminate TLS in a proxy in front of it"
    ),
    "sdn_enabled": (
        "sdn_enabled cannot be changed (it is false): this platform has no SDN controller "
        "integration; pod networking is Calico, set up at bootstrap"
    ),
    "vswitch_type": (
        "vswitch_type cannot be changed (it is none): this platform has no vswitch to "
        "change; hosts use the kernel's networking and pods use Calico"
    ),
    "security_feature": (
        "security_feature cannot be changed: sysinv does not manage the nodes' kernel boot "
        "arguments, so it cannot switch spectre/meltdown mitigations; set them in each "
        "node's boot loader configuration"
    ),
}

# Decimal degrees as StarlingX accepts them: an optional sign, then up to 26 decimals.
_DEGREES = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{1,26})?")
_RANGE = {"latitude": Decimal(90), "longitude": Decimal(180)}


def _text(key: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"Invalid {key}: expected a string")
    if key == "name" and not (value or "").strip():
        raise InvalidInput("The system name cannot be empty")
    if value is not None and len(value) > 255:
        raise InvalidInput(f"Invalid {key}: longer than 255 characters")
    return value


def _timezone(value: Any) -> str:
    if value is None:
        raise InvalidInput("The timezone cannot be removed: set it to UTC instead")
    if not isinstance(value, str) or not value:
        raise InvalidInput("Invalid timezone: expected a time zone name such as UTC")
    known = zoneinfo.available_timezones()
    if not known:
        raise InvalidInput(
            "Cannot check the timezone: the server has no time zone database "
            "(install the tzdata package on the sysinv-api hosts)"
        )
    if value not in known:
        raise InvalidInput(
            f"Invalid timezone '{value}': not a name of the IANA time zone database "
            "(for example UTC, Europe/Paris or America/Toronto)"
        )
    return value


def _degrees(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    limit = _RANGE[key]
    if not isinstance(value, str) or not _DEGREES.fullmatch(value) or abs(Decimal(value)) > limit:
        raise InvalidInput(
            f"Invalid {key} {value!r}: {key.capitalize()} must be between -{limit} and "
            f"+{limit} (decimal degrees, such as 45.4215)"
        )
    return value


def _system_mode(session: Session, system: System, value: Any) -> str:
    """StarlingX's transitions: only on All-in-one, never back to simplex, and away from
    simplex only while every controller is locked."""
    try:
        new = SystemMode(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in SystemMode)
        raise InvalidInput(f"Invalid system_mode '{value}': must be one of {allowed}") from None
    if new == system.system_mode:
        return new.value
    if system.system_type != SystemType.ALL_IN_ONE:
        raise InvalidInput(
            f"system_mode can only be modified on an {SystemType.ALL_IN_ONE.value} system "
            f"(this one is {system.system_type})"
        )
    if new is SystemMode.SIMPLEX:
        raise InvalidInput(f"Cannot modify system mode from {system.system_mode} to {new}.")
    if system.system_mode == SystemMode.SIMPLEX:
        for host in list_hosts(session):
            if (
                host.personality == Personality.CONTROLLER
                and host.administrative != Administrative.LOCKED
            ):
                raise InvalidInput(
                    f"Cannot modify system mode if host '{host.hostname}' is not locked."
                )
    return new.value


def update_system(session: Session, system: System, changes: dict[str, Any]) -> System:
    """Apply ``changes`` (attribute → value, from the JSON-Patch) or refuse them all."""
    refused = sorted(changes.keys() & REFUSED.keys())
    if refused:
        raise InvalidInput(REFUSED[refused[0]])
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in TEXT_FIELDS:
            values[key] = _text(key, value)
        elif key == "timezone":
            values[key] = _timezone(value)
        elif key in _RANGE:
            values[key] = _degrees(key, value)
        elif key == "system_mode":
            values[key] = _system_mode(session, system, value)
        else:
            raise InvalidInput(f"Attribute '{key}' cannot be changed")
    for key, value in values.items():
        setattr(system, key, value)
    session.flush()
    return system
