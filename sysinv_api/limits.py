"""``api.max_request_bytes``, enforced while the body arrives: a request over the limit
is answered 413 (sysinv's error body) before the API has read more than the limit."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sysinv_api.errors import TrackedSend, error_response


class _TooLarge(HTTPException):
    """An HTTP error, so that FastAPI's body parsing passes it on (it turns any other
    exception into a 400) and the error handlers render it in sysinv's format."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        limit = self.max_bytes
        return f"Request body is larger than the limit of {limit} bytes (api.max_request_bytes)"

    def _refusal(self) -> ASGIApp:
        return error_response(413, self._message())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refusal()(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(413, self._message())
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not tracked.started:
                await self._refusal()(scope, receive, send)
