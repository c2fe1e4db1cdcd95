"""Helpers shared by the wire schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC; SQLite hands back naive datetimes, which are UTC here."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


class Link(BaseModel):
    rel: str
    href: str


class VersionRoot(BaseModel):
    """``GET /``: the service and its API versions."""

    name: str
    version: str
    versions: list[dict[str, str]]


class VersionV1(BaseModel):
    """``GET /v1``: the v1 API."""

    id: str
    links: list[Link]
