"""Reading what the drift audit recorded on an app (``sysinv_conductor.drift`` writes it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from sysinv_common.db.models import AppDrift


def drift_of(session: Session, app_id: int) -> dict[str, Any] | None:
    """The app's drift as the API shows it; None when no audit has looked at it (not
    applied, or not audited yet since it was)."""
    row = session.get(AppDrift, app_id)
    if row is None:
        return None
    objects = json.loads(row.objects or "[]")
    return {
        "drifted": bool(objects),
        "since": _iso(row.since) if row.since else None,
        "checked_at": _iso(row.checked_at),
        "error": row.error,
        "objects": objects,
    }


def _iso(value: datetime) -> str:
    """ISO-8601 in UTC, as every time the API answers (SQLite gives naive UTC back)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()
