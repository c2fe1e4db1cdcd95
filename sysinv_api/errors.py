"""Every error answers in sysinv's format: ``{"error_message": "<JSON faultstring>"}``.

Domain errors are mapped to HTTP here, once. FastAPI's own errors (unknown path, wrong
method, request validation) use the same body, and validation failures are 400s with a
sentence, not 422 lists. Nothing unexpected ever shows a traceback to the caller.

An outage of the database or the broker is a 503 with ``Retry-After``, logged once when
it begins and once when it ends (``sysinv_common.reachability``), never per request. An
error answer leaves the connection open: only an answer already half sent is cut off.
"""

from __future__ import annotations

import json
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sysinv_common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KubeOperationFailed,
    NotFound,
    SysinvError,
    Unavailable,
)

LOG = logging.getLogger(__name__)

# Most specific first. Conflicts are 400, as sysinv answers them to its own client.
STATUS: tuple[tuple[type[SysinvError], int], ...] = (
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 400),
    (Forbidden, 403),
    (KubeOperationFailed, 502),
    (Unavailable, 503),
    (SysinvError, 500),
)

#: Seconds a client is told to wait before trying a 503 again: an outage is seen within
#: a second of its end, and a restarting database or broker takes a few.
RETRY_AFTER = 5


def error_message(message: str) -> str:
    """The ``error_message`` string of sysinv's error body."""
    return json.dumps({"faultstring": message, "debuginfo": None})


def error_response(status: int, message: str) -> JSONResponse:
    response = JSONResponse(status_code=status, content={"error_message": error_message(message)})
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def status_of(exc: SysinvError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def domain_response(exc: SysinvError) -> JSONResponse:
    return error_response(status_of(exc), exc.message)


def crash_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    LOG.error("request %s %s failed (ref %s)", method, path, ref, exc_info=exc)
    return error_response(500, f"Internal error (ref {ref}); the sysinv-api log has details")


class TrackedSend:
    """``send`` that remembers whether the answer has begun: once it has, an error can
    only close the connection, not answer again."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class Crashes:
    """The outermost layer: what no handler took (a bug, or a middleware's error) is
    answered here, once. Starlette's handler for ``Exception`` would answer the same 500,
    then raise the exception again for uvicorn, which logs a second traceback and closes
    the keep-alive connection, so that the client's next request fails too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if tracked.started:
                # Half an answer is out: only closing the connection tells the client.
                raise
            if isinstance(exc, SysinvError):
                response = domain_response(exc)
            else:
                response = crash_response(scope["method"], scope["path"], exc)
            await response(scope, receive, send)


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
    """The handlers; ``Crashes`` is added last, as the outermost middleware."""

    @app.exception_handler(SysinvError)
    async def _domain(_request: Request, exc: SysinvError) -> JSONResponse:
        return domain_response(exc)

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
