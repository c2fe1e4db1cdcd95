"""Changes to the system row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sysinv_common.db.models import System
from sysinv_common.errors import InvalidInput


def update_system(session: Session, system: System, changes: dict[str, Any]) -> System:
    for key, value in changes.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"Invalid {key}: expected a string")
        if key == "name" and not (value or "").strip():
            raise InvalidInput("The system name cannot be empty")
        if value is not None and len(value) > 255:
            raise InvalidInput(f"Invalid {key}: longer than 255 characters")
        setattr(system, key, value)
    session.flush()
    return system
