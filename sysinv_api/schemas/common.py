"""Helpers shared by the wire schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel
from pydantic_core import to_json


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC; SQLite hands back naive datetimes, which are UTC here."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def json_answer(content: Any) -> Response:
    """``content`` (built by the handler, already of its response model's shape) as the
    JSON answer, serialized once. FastAPI validates a returned dict against the
    operation's ``response_model`` again and then serializes it: for a list of a thousand
    hosts that doubled the work. The ``response_model`` stays, for the OpenAPI document."""
    return Response(to_json(content), media_type="application/json")


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
