"""The FastAPI application: routers, error format, and the trailing-slash rule."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio.to_thread
from celery import Celery
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from sysinv_api import docs, errors, openapi
from sysinv_api.auth import KeystoneAuth
from sysinv_api.limits import BodyLimit
from sysinv_api.registry_auth import AnyoneIsAdmin, CredentialChecker, KeystoneCredentials
from sysinv_api.routes import (
    alarms,
    apps,
    helm_charts,
    hosts,
    labels,
    registry,
    registry_images,
    service_parameters,
    storage_backends,
    system,
)
from sysinv_api.routes.registry import RegistryTokens
from sysinv_api.schemas.common import VersionRoot, VersionV1
from sysinv_common.conf import AuthMode, Settings
from sysinv_common.db.engine import Database
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_common.version import SOFTWARE_VERSION

LOG = logging.getLogger(__name__)


class StripTrailingSlash:
    """Route ``/v1/x/`` as ``/v1/x``: sysinv's clients use both and must not see a 307."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


def thread_limit(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan that sizes the thread pool the handlers run in to ``api.threads``; the
    database pool is at least that large (``sysinv_common.db.engine.pool_capacity``)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def create_app(settings: Settings, db: Database, celery: Celery | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=thread_limit(settings.api.threads),
        title="sysinv",
        version=SOFTWARE_VERSION,
        description="Configuration service for Kubernetes-based edge clouds (sysinv v1 API).",
        redirect_slashes=False,
        # Served by sysinv_api.docs with local assets instead of FastAPI's CDN ones.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.conductor = ConductorAPI(
        ConductorClient(
            celery or make_celery(settings.messaging, name="sysinv-api"),
            settings.messaging.call_timeout,
        )
    )
    checker: CredentialChecker = (
        KeystoneCredentials(settings.keystone, settings.registry)
        if settings.api.auth is AuthMode.KEYSTONE
        else AnyoneIsAdmin()
    )
    app.state.registry_tokens = RegistryTokens(settings, checker)
    errors.install(app)
    docs.install(app)
    openapi.install(app)
    for module in (
        system, hosts, labels, apps, helm_charts, registry, registry_images, service_parameters,
        storage_backends,
        alarms,
    ):  # fmt: skip
        app.include_router(module.router)

    @app.get(
        "/",
        tags=["version"],
        response_model=VersionRoot,
        summary="The service",
        description="Its name, version and API versions (public).",
    )
    def root() -> dict[str, Any]:
        return {"name": "sysinv", "version": SOFTWARE_VERSION, "versions": [{"id": "v1"}]}

    @app.get(
        "/v1",
        tags=["version"],
        response_model=VersionV1,
        summary="The v1 API",
        description="Its links (public).",
    )
    def v1() -> dict[str, Any]:
        return {"id": "v1", "links": [{"rel": "self", "href": "/v1/"}]}

    # Outermost last: what no handler took, the slash rule, then authentication (before
    # any body is read), then the body's size.
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_request_bytes)
    if settings.api.auth is AuthMode.KEYSTONE:
        app.add_middleware(KeystoneAuth, settings=settings.keystone)
    else:
        LOG.warning(
            "AUTHENTICATION IS OFF (api.auth=none): every caller is treated as admin, "
            "and gets admin registry tokens; set api.auth=keystone for anything but a "
            "local trial"
        )
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(errors.Crashes)
    return app
