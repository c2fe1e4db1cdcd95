"""The only writer of ``app_drift``: what the audit found on an app, and since when.

Each object keeps the time it was first seen drifted across audits, so that application-
show says since when; the app's ``since`` is the oldest of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sysinv_common.db.models import AppDrift
from sysinv_conductor.drift.finder import ObjectDrift


def _key(entry: dict[str, Any]) -> str:
    where = f"{entry['namespace']}/" if entry.get("namespace") else ""
    return f"{entry['kind']}/{where}{entry['name']}"


def store(
    s: Session, app_id: int, found: Iterable[ObjectDrift], now: datetime,
    error: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Record ``found`` as the app's drift at ``now``; the entries as stored."""
    row = s.get(AppDrift, app_id)
    before: dict[str, str] = {}
    if row is not None:
        before = {_key(e): e["since"] for e in json.loads(row.objects or "[]")}
    entries = []
    for o in found:
        entry: dict[str, Any] = asdict(o)
        entry["fields"] = list(o.fields)
        entry["since"] = before.get(o.key, now.isoformat())
        entries.append(entry)
    since = min((datetime.fromisoformat(e["since"]) for e in entries), default=None)
    if row is None:
        row = AppDrift(app_id=app_id)
        s.add(row)
    row.objects = json.dumps(entries, sort_keys=True)
    row.since = since
    row.checked_at = now
    row.error = error
    return entries


def forget(s: Session, app_ids: Iterable[int]) -> None:
    """An app no longer applied has no drift to speak of."""
    ids = list(app_ids)
    if ids:
        s.execute(delete(AppDrift).where(AppDrift.app_id.in_(ids)))
