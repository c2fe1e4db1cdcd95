"""Every error answers in sysinv's format: ``{"error_message": "<JSON faultstring>"}``.

Domain errors are mapped to HTTP here, once. FastAPI's own errors (unknown path, wrong
method, request validation) use the same body, and validation failures are 400s with a
sentence, not 422 lists. Nothing unexpected ever shows a traceback to the caller.
"""

from __future__ import annotations

import json
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sysinv_common.errors import (
    ConductorUnavailable,
    Conflict,
    Forbidden,
    InvalidInput,
    KubeOperationFailed,
    NotFound,
    SysinvError,
)

LOG = logging.getLogger(__name__)

# Most specific first. Conflicts are 400, as sysinv answers them to its own client.
STATUS: tuple[tuple[type[SysinvError], int], ...] = (
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 400),
    (Forbidden, 403),
    (KubeOperationFailed, 502),
    (ConductorUnavailable, 503),
    (SysinvError, 500),
)


def error_message(message: str) -> str:
    """The ``error_message`` string of sysinv's error body."""
    return json.dumps({"faultstring": message, "debuginfo": None})


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error_message": error_message(message)})


def status_of(exc: SysinvError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc)
        if err.get("type") == "json_invalid":
            parts.append("the request body is not valid JSON")
        elif err.get("type") == "missing" and not where:
            parts.append("a JSON request body is required")
        else:
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "Invalid request: " + "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(SysinvError)
    async def _domain(_request: Request, exc: SysinvError) -> JSONResponse:
        return error_response(status_of(exc), exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"Resource not found: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        response = error_response(exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        LOG.error(
            "request %s %s failed (ref %s)", request.method, request.url.path, ref, exc_info=exc
        )
        return error_response(500, f"Internal error (ref {ref}); the sysinv-api log has details")
