"""An in-process sysinv for tests: API (TestClient), conductor worker, database.

The conductor is a real Celery worker thread consuming the in-memory transport (or a
real Redis when a broker URL is given), never eager mode, so requests are serialized
and routed as in production.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from sysinv_api.app import create_app
from sysinv_common.conf import AuthMode, Settings, load_settings
from sysinv_common.db.engine import Database
from sysinv_common.db.models import App, AppBundle, Host
from sysinv_common.db.prepare import prepare_database
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_conductor.service import ConductorService


class Stack:
    def __init__(
        self, settings: Settings, db: Database, client: TestClient, conductor: ConductorService
    ):
        self.settings = settings
        self.db = db
        self.client = client
        self.conductor = conductor
        self.rpc = ConductorAPI(ConductorClient(conductor.app, 30))

    def reset(self) -> None:
        # An upload an earlier test left running would store its bundle after the wipe: it
        # is waited out first. (Other operations may be ones a test only queued, with no
        # conductor behind them.)
        with self.db.session() as s:
            running = list(s.scalars(select(App.name).where(App.status == "uploading")))
        for name in running:
            wait_done(self, name, timeout=120)
        with self.db.session() as s:
            s.execute(delete(Host))
            s.execute(delete(App))
            s.execute(delete(AppBundle))
        for path in (self.settings.bundle_cache, self.settings.apps_dir):
            shutil.rmtree(path, ignore_errors=True)

    def stored_bundles(self) -> list[str]:
        """Bundles kept anywhere: rows in the database, copies in the conductor's cache."""
        with self.db.session() as s:
            rows = list(s.scalars(select(AppBundle.digest)))
        return rows + [p.name for p in self.settings.bundle_cache.glob("*.tgz")]

    def add_host(
        self, hostname: str, personality: str | None = "worker", **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"hostname": hostname, **extra}
        if personality:
            body["personality"] = personality
        r = self.client.post("/v1/ihosts", json=body)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def action(self, host: dict[str, Any], action: str) -> Any:
        return self.client.patch(
            f"/v1/ihosts/{host['id']}", json=[{"op": "replace", "path": "/action", "value": action}]
        )


def make_settings(tmp: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    settings = load_settings(state_dir=tmp, **overrides)
    # The tests of authentication turn it on themselves, against the test Keystone.
    settings.api.auth = AuthMode.NONE
    if database_url:
        settings.database.url = database_url
    settings.messaging.call_timeout = 30
    # The in-memory transport is one per process: keep each stack's queues apart.
    settings.messaging.queue_prefix = f"t{uuid.uuid4().hex[:8]}.sysinv"
    return settings


@contextmanager
def running_stack(settings: Settings) -> Iterator[Stack]:
    db = prepare_database(settings)
    celery = make_celery(settings.messaging, name=f"test-{uuid.uuid4().hex[:6]}")
    conductor = ConductorService(settings, app=celery, db=db)
    conductor.start_in_thread()
    app = create_app(settings, db, celery=celery)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            stack = Stack(settings, db, client, conductor)
            stack.rpc.ping(timeout=30)
            yield stack
    finally:
        conductor.stop()
        db.dispose()


#: App statuses in which an operation is still running.
RUNNING = {"uploading", "applying", "removing", "updating"}


def wait_done(stack: Stack, name: str, timeout: float = 240) -> dict[str, Any]:
    """The app once its operation has ended."""
    deadline = time.monotonic() + timeout
    while True:
        app: dict[str, Any] = stack.client.get(f"/v1/apps/{name}").json()
        if app["status"] not in RUNNING:
            return app
        assert time.monotonic() < deadline, f"{name} still {app['status']}: {app['progress']}"
        time.sleep(0.2)


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    """``check()``'s first truthy result, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result
