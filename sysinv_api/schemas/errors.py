"""sysinv's error body in the OpenAPI document: ``responses=`` of each route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_MEANING = {
    400: "Invalid request: the faultstring says what is wrong.",
    403: "The token's roles do not allow this.",
    404: "No such resource.",
    503: "The database, the broker or the conductor cannot be reached now; try again "
    "after Retry-After seconds.",
}


class ErrorBody(BaseModel):
    """Every error answer: ``error_message`` is a JSON string holding ``faultstring``
    (what an operator reads) and ``debuginfo`` (always null)."""

    error_message: str = Field(
        examples=['{"faultstring": "Alarm not found: 1b0e...", "debuginfo": null}']
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route, each with sysinv's error body. ``4XX`` stands for
    every other client error, and keeps FastAPI from documenting a 422 with its own
    body: an invalid request is a 400 in sysinv's body here."""
    out: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody, "description": _MEANING[code]} for code in codes
    }
    out["4XX"] = {"model": ErrorBody, "description": "Any other client error."}
    return out
