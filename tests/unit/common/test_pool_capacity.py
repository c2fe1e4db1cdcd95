"""The database pool is at least as large as the threads that may hold a connection."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from sysinv_common.db.engine import Database
from sysinv_common.messaging.app import make_celery
from tests.stack import make_settings


def test_the_pool_holds_a_connection_per_api_thread_and_call_worker(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)  # SQLite: the embedded mode's database
    threads = settings.api.threads + settings.messaging.call_workers
    assert settings.api.threads == 40  # anyio's default
    db = Database.from_settings(settings)
    assert db.engine.pool.size() >= threads
    db.dispose()
    settings.database.pool_size, settings.database.max_overflow = 2, 0
    settings.api.threads = 100
    db = Database.from_settings(settings)
    # Kept, not overflow: an overflow connection is closed when it comes back.
    assert db.engine.pool.size() == 100 + settings.messaging.call_workers
    db.dispose()


def test_the_api_thread_pool_is_api_threads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.api.threads = 7
    db = Database.from_settings(settings)
    app = create_app(settings, db, celery=make_celery(settings.messaging, name="t-threads"))
    with TestClient(app) as client:
        assert client.portal is not None
        total = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    assert total == 7
    db.dispose()
