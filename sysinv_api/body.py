"""What every route accepts before its own checks: bounded JSON, no NUL in the path or the
query, no NUL in any string of the body.

sysinv's bodies are shallow (a JSON-Patch list of objects, an upload object, a helm
override object), so a body nested more than :data:`MAX_JSON_DEPTH` deep is refused before
anything walks it: 100k nested lists used to reach code that recurses. PostgreSQL refuses a
NUL character in text, which made any string with one a 500 there; no value of this API
has a use for it. JSON's ``NaN`` and ``Infinity`` (which Python accepts and PostgreSQL's
JSON does not) and integers past Python's 4300 digits are refused too. Each refusal is a
400 in sysinv's error format naming what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from sysinv_common.errors import InvalidInput

#: Lists and objects nested in one another in a request body.
MAX_JSON_DEPTH = 32


class _Refused(HTTPException):
    """A 400 raised while FastAPI parses the body: an HTTP error, so that FastAPI passes
    it on (it turns any other exception into "There was an error parsing the body")."""

    def __init__(self, why: str) -> None:
        super().__init__(400, f"Invalid request: {why}")


def _constant(name: str) -> Any:
    raise _Refused(f"the JSON body holds {name}, which JSON does not allow")


def check_json(data: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse (``_Refused``) nesting past ``max_depth`` and NUL in any key or string."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise _Refused("the JSON body holds a NUL character (\\u0000)")
            continue
        if isinstance(value, dict):
            items: list[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            items = value
        else:
            continue
        depth += 1
        if depth > max_depth:
            raise _Refused(f"the JSON body is nested more than {max_depth} levels deep")
        stack.extend((item, depth) for item in items)


def parse_json(body: bytes) -> Any:
    """The body as JSON, within the bounds of this module.

    Invalid JSON raises :class:`json.JSONDecodeError` as ``json.loads`` does, so FastAPI
    reports it as before ("the request body is not valid JSON").
    """
    try:
        data = json.loads(body, parse_constant=_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _Refused(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except UnicodeDecodeError:
        raise _Refused("the request body is not UTF-8") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise _Refused("the JSON body holds an integer of more than 4300 digits") from None
        raise _Refused(f"the JSON body cannot be read: {exc}") from None
    check_json(data)
    return data


class _BoundedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


def _control(text: str) -> bool:
    return any(ch < " " or ch == "\x7f" for ch in text)


def check_text(request: Request) -> None:
    """No NUL (nor other control character) in the path or the query parameters."""
    if _control(request.scope["path"]):
        raise InvalidInput("Invalid request: the path holds a control character")
    for key, value in request.query_params.multi_items():
        if _control(key) or _control(value):
            raise InvalidInput("Invalid request: the query holds a control character")


class SysinvRoute(APIRoute):
    """Every route of the v1 API: the checks of this module before FastAPI's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            check_text(request)
            return await handler(_BoundedRequest(request.scope, request.receive))

        return bounded
