"""Keystone authentication and sysinv's two roles, in front of every route.

keystonemiddleware's ``auth_token`` validates the ``X-Auth-Token`` (cached, so a known
token costs no round trip to Keystone). It is a WSGI middleware: this ASGI middleware
runs it in a worker thread on a minimal WSGI environ and reads the validated token from
what it leaves there (``keystone.token_auth``), never from request headers: identity
headers a client sends itself (``X-Roles``, ``X-User-Id``, ``X-Identity-Status``...) are
removed before any route sees the request.

Roles: ``admin`` reads and writes; ``reader`` reads (GET, HEAD); any other token is
refused with 403; no token, or one Keystone does not accept, with 401 and a
``WWW-Authenticate`` header naming Keystone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sysinv_api.errors import error_response
from sysinv_common.conf.keystone import KeystoneSettings
from sysinv_common.conf.registry import TOKEN_PATH

LOG = logging.getLogger(__name__)

#: Paths anyone may read: the version documents clients start from, and the API's
#: description (no data in either).
PUBLIC_PATHS = frozenset({"/", "/v1", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
#: The API documentation pages' scripts, styles and icon (sysinv_api.docs.ASSETS).
PUBLIC_PREFIXES = ("/docs-assets/",)
#: Paths that authenticate their callers themselves: the registry's token endpoint takes
#: HTTP Basic credentials (Docker's clients send no Keystone token) and checks them with
#: Keystone (sysinv_api/routes/registry.py).
SELF_AUTHENTICATED_PATHS = frozenset({TOKEN_PATH})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN, READER = "admin", "reader"

#: Headers only auth_token may set; a client's own are dropped (lower-case, as ASGI has them).
_IDENTITY_PREFIXES = (
    b"x-identity-status", b"x-service-", b"x-domain-", b"x-project-", b"x-user",
    b"x-roles", b"x-role", b"x-tenant", b"x-is-admin-project", b"x-service-catalog",
)  # fmt: skip


@dataclass(frozen=True)
class Identity:
    user_id: str
    username: str
    project_id: str | None
    project_name: str | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


#: With auth off (embedded mode, or set explicitly): every caller is admin.
ANONYMOUS_ADMIN = Identity("none", "none", None, None, frozenset({ADMIN}))


def identity_of(request: Request) -> Identity:
    found = request.scope.get("sysinv.identity")
    return found if isinstance(found, Identity) else ANONYMOUS_ADMIN


def _strip_identity_headers(scope: Scope) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if not k.startswith(_IDENTITY_PREFIXES)]
    return {**scope, "headers": headers}


def auth_token_conf(ks: KeystoneSettings) -> dict[str, Any]:
    """keystonemiddleware's options, as a paste-deploy section would give them."""
    return {
        "www_authenticate_uri": ks.auth_url,
        "auth_type": "password",
        "auth_url": ks.auth_url,
        "username": ks.username,
        "password": ks.password.get_secret_value(),
        "project_name": ks.project_name,
        "user_domain_name": ks.user_domain_name,
        "project_domain_name": ks.project_domain_name,
        "region_name": ks.region_name,
        "interface": ks.interface,
        "delay_auth_decision": "false",
        "include_service_catalog": "false",
        "token_cache_time": str(ks.token_cache_seconds),
        "http_connect_timeout": str(max(1, round(ks.timeout))),
        "http_request_max_retries": "1",
    }


def _accepted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["sysinv.accepted"] = True
    start_response("204 No Content", [])
    return [b""]


@dataclass(frozen=True)
class _Verdict:
    identity: Identity | None
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


class _KnownNoise(logging.Filter):
    """Two warnings auth_token prints at every start that say nothing about this
    deployment: the password plugin's own option (read, though not its own), and its
    in-process token cache (what sysinv wants: no memcached to run)."""

    PLUGIN = ("auth_url", "username", "password", "project_name", "user_domain_name",
              "project_domain_name")  # fmt: skip
    QUIET = (
        *(f'The option "{o}" is not known' for o in PLUGIN),
        "Using the in-process token cache",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.QUIET)


for _name in ("keystonemiddleware._common.config", "keystonemiddleware.auth_token"):
    logging.getLogger(_name).addFilter(_KnownNoise())


class KeystoneAuth:
    def __init__(self, app: ASGIApp, settings: KeystoneSettings) -> None:
        from keystonemiddleware import auth_token

        self.app = app
        self.protocol = auth_token.AuthProtocol(_accepted, auth_token_conf(settings))

    def _check(self, token: str | None, method: str, path: str) -> _Verdict:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
            "SERVER_NAME": "sysinv", "SERVER_PORT": "6385", "wsgi.url_scheme": "http",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }  # fmt: skip
        if token:
            environ["HTTP_X_AUTH_TOKEN"] = token
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        for _chunk in self.protocol(environ, start_response):
            pass
        if not environ.get("sysinv.accepted"):
            keep = tuple(
                (k, v) for k, v in answer.get("headers", ()) if k.lower() == "www-authenticate"
            )
            return _Verdict(None, answer.get("status", 401), keep)
        user = environ["keystone.token_auth"].user
        return _Verdict(
            Identity(
                user_id=user.user_id,
                username=user.username,
                project_id=user.project_id,
                project_name=user.project_name,
                roles=frozenset(user.role_names),
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _strip_identity_headers(scope)
        path, method = scope["path"], scope["method"]
        public = path.rstrip("/") in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if public or path == "/":
            await self.app(scope, receive, send)
            return
        if path.rstrip("/") in SELF_AUTHENTICATED_PATHS:
            await self.app(scope, receive, send)
            return
        token = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-auth-token"), None
        )
        verdict = await anyio.to_thread.run_sync(self._check, token, method, path)
        refusal = _refusal(verdict, method)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope["sysinv.identity"] = verdict.identity
        await self.app(scope, receive, send)


def _refusal(verdict: _Verdict, method: str) -> ASGIApp | None:
    if verdict.identity is None:
        if verdict.status == 401:
            response = error_response(
                401, "Authentication required: send a valid Keystone token in X-Auth-Token"
            )
            headers = verdict.headers or (("WWW-Authenticate", "Keystone"),)
            for k, v in headers:
                response.headers[k] = v
            return response
        return error_response(503, "Keystone could not be reached to validate the token; try again")
    roles = verdict.identity.roles
    if ADMIN in roles or (READER in roles and method in READ_METHODS):
        return None
    if READER in roles:
        return error_response(
            403, f"Forbidden: the reader role may only read ({method} needs admin)"
        )
    return error_response(403, "Forbidden: this token has neither the admin nor the reader role")
