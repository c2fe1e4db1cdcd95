"""``GET /v1/registry/token``: Docker's token endpoint for the local registry.

The registry (``auth.token.realm``) sends clients here with ``service`` and the ``scope``
they need; they authenticate with HTTP Basic, which Keystone checks, and get a JWT
granting what their role allows of those scopes (docs/registry.md). No Keystone token
is asked for: ``sysinv_api.auth`` lets this one path through.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from sysinv_api.body import SysinvRoute
from sysinv_api.errors import error_message
from sysinv_api.openapi import errors
from sysinv_api.registry_auth import BadCredentials, CredentialChecker, IdentityUnavailable
from sysinv_api.schemas.registry import RegistryTokenOut
from sysinv_common.conf import Settings
from sysinv_common.conf.registry import TOKEN_PATH
from sysinv_common.errors import InvalidInput
from sysinv_common.keyfile import KeyFileError
from sysinv_common.registry_token import SigningKey, SigningKeyFile, grant, parse_scopes

LOG = logging.getLogger(__name__)
REALM = "sysinv registry token"

router = APIRouter(tags=["registry"], route_class=SysinvRoute)


class RegistryTokens:
    """What the route needs: the settings, the credential checker, and the signing key,
    loaded (or created) at its first use."""

    def __init__(self, settings: Settings, checker: CredentialChecker) -> None:
        self.settings = settings
        self.checker = checker
        self._key = SigningKeyFile(
            settings.registry_signing_key_path, settings.registry_certificate_path
        )

    def signing_key(self) -> SigningKey:
        return self._key.get()


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    """sysinv's error body, with Docker's ``errors`` list beside it for Docker's clients."""
    body: dict[str, Any] = {
        "error_message": error_message(message),
        "errors": [{"code": code, "message": message, "detail": None}],
    }
    refusal = JSONResponse(status_code=status, content=body)
    if status == 401:
        refusal.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return refusal


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = text.partition(":")
    if not sep or not username or "\x00" in text:
        return None
    return username, password


@router.get(
    TOKEN_PATH,
    summary="Issue a registry token",
    description=(
        "Docker's token authentication for the local registry: HTTP Basic with a Keystone "
        "user; the token grants what the user's roles allow of the ``scope`` asked for. "
        "Refusals carry sysinv's error body and Docker's ``errors`` list."
    ),
    responses={200: {"model": RegistryTokenOut}, **errors(400, 401, 503, always=())},
)
def token(
    request: Request,
    service: str | None = None,
    scope: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    tokens: RegistryTokens = request.app.state.registry_tokens
    registry = tokens.settings.registry
    try:
        if service is not None and service != registry.service:
            raise InvalidInput(
                f"Unknown service {service[:100]!r}: this endpoint issues tokens for "
                f"{registry.service!r} only (setting registry.service)"
            )
        requested = parse_scopes(scope or [])
    except InvalidInput as exc:
        return _refusal(400, "INVALID_REQUEST", exc.message)
    credentials = _basic(request)
    anonymous = tokens.checker.anonymous_roles
    if credentials is None and anonymous is None:
        return _refusal(
            401, "UNAUTHORIZED", "Authentication required: HTTP Basic with a Keystone user"
        )
    username, password = credentials or ("anonymous", "")
    try:
        roles = (
            tokens.checker.roles_of(username, password)
            if credentials is not None or anonymous is None
            else anonymous
        )
    except BadCredentials:
        LOG.info("registry token refused: Keystone refused the password of %r", username)
        return _refusal(401, "UNAUTHORIZED", "Invalid username or password")
    except IdentityUnavailable as exc:
        LOG.warning("registry token for %r not issued: %s", username, exc)
        return _refusal(503, "UNAVAILABLE", f"{exc}; try again")
    granted = grant(requested, roles)
    try:
        key = tokens.signing_key()
    except (KeyFileError, OSError) as exc:
        LOG.error("registry token signing key: %s", exc)
        return _refusal(503, "UNAVAILABLE", "The registry token signing key cannot be used; "
                                            "the sysinv-api log says why")  # fmt: skip
    issued = key.issue(
        issuer=registry.issuer, subject=username, audience=registry.service,
        access=granted, lifetime=registry.token_lifetime,
    )  # fmt: skip
    LOG.info(
        "registry token for %r: %s",
        username,
        " ".join(f"{a.type}:{a.name}:{','.join(a.actions)}" for a in granted) or "no access",
    )
    body = {
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": issued.issued_at.isoformat().replace("+00:00", "Z"),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
