"""Kubernetes authentication through Keystone: a TokenReview webhook for kube-apiserver.

kube-apiserver (``--authentication-token-webhook-config-file``) posts each bearer token
it does not know; the webhook asks Keystone about it and answers who the token belongs
to, mapped as k8s-keystone-auth maps it, so RBAC bindings written for that mapping work:
username = the Keystone user's name, uid = its id, groups = the token's project id and
the user's Keystone group names, extra = roles and project/domain names and ids.

Every answer is 200 with the TokenReview's own version (``authentication.k8s.io/v1`` or
``v1beta1``): a bad, expired or revoked token, and Keystone being unreachable, are
``authenticated: false`` with a reason, never a 5xx. Nothing is cached here: a revoked
token stops working once kube-apiserver's caches forget it, its webhook cache
(``--authentication-token-webhook-cache-ttl``, 2 minutes by default) and its own 10 s
cache of every successful token authentication (docs/auth.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sysinv_common.conf.keystone import KeystoneSettings

LOG = logging.getLogger(__name__)

VERSIONS = ("authentication.k8s.io/v1", "authentication.k8s.io/v1beta1")
EXTRA = "alpha.kubernetes.io/identity/"


class Rejected(Exception):
    """The token is not accepted; the message is the review's ``error``."""


@dataclass(frozen=True)
class ReviewedUser:
    username: str
    uid: str
    groups: list[str]
    extra: dict[str, list[str]]


class KeystoneTokens:
    """Validates other users' tokens with sysinv's own service credentials."""

    def __init__(self, settings: KeystoneSettings) -> None:
        self.session = settings.service_session()
        self.base = settings.auth_url.rstrip("/")

    def _get(self, path: str, **headers: str) -> Any:
        from keystoneauth1 import exceptions

        try:
            response = self.session.get(f"{self.base}{path}", headers=headers, raise_exc=False)
        except (exceptions.ConnectFailure, exceptions.ConnectTimeout):
            raise Rejected("Keystone is unreachable") from None
        except exceptions.ClientException as exc:
            raise Rejected(f"Keystone could not be asked: {type(exc).__name__}") from None
        if response.status_code in (401, 404):
            return None
        if response.status_code != 200:
            raise Rejected(f"Keystone answered {response.status_code}")
        return response.json()

    def review(self, token: str) -> ReviewedUser:
        found = self._get("/auth/tokens", **{"X-Subject-Token": token})
        if found is None:
            raise Rejected("the token is invalid, expired or revoked")
        data = found["token"]
        user, project = data["user"], data.get("project") or {}
        groups_doc = self._get(f"/users/{user['id']}/groups") or {"groups": []}
        groups = [project["id"]] if project.get("id") else []
        groups += sorted(g["name"] for g in groups_doc["groups"])
        domain = user.get("domain") or {}
        extra = {
            f"{EXTRA}roles": sorted(r["name"] for r in data.get("roles", [])),
            f"{EXTRA}project/id": [project.get("id", "")],
            f"{EXTRA}project/name": [project.get("name", "")],
            f"{EXTRA}user/domain/id": [domain.get("id", "")],
            f"{EXTRA}user/domain/name": [domain.get("name", "")],
        }
        return ReviewedUser(user["name"], user["id"], groups, extra)


def _answer(version: str, status: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"apiVersion": version, "kind": "TokenReview", "status": status})


def create_webhook_app(tokens: KeystoneTokens) -> FastAPI:
    app = FastAPI(title="sysinv Kubernetes authentication webhook", docs_url=None, redoc_url=None)

    @app.post("/webhook")
    async def token_review(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            body = None
        version = body.get("apiVersion") if isinstance(body, dict) else None
        if version not in VERSIONS:
            refusal = {
                "authenticated": False,
                "error": "not a TokenReview of authentication.k8s.io",
            }
            return _answer(VERSIONS[0], refusal)
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        token = spec.get("token")
        if not isinstance(token, str) or not token:
            return _answer(version, {"authenticated": False, "error": "no token to review"})
        try:
            user = await anyio.to_thread.run_sync(tokens.review, token)
        except Rejected as exc:
            LOG.info("token review refused: %s", exc)
            return _answer(version, {"authenticated": False, "error": str(exc)})
        except Exception:
            LOG.exception("token review failed")
            return _answer(version, {"authenticated": False, "error": "internal error"})
        return _answer(version, {
            "authenticated": True,
            "user": {"username": user.username, "uid": user.uid, "groups": user.groups,
                     "extra": user.extra},
        })  # fmt: skip

    return app
