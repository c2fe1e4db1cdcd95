"""The database pool is at least as large as the threads that may hold a connection."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi.testclient import TestClient
from sqlalchemy.pool import QueuePool

from sysinv_api.app import create_app
from sysinv_common.db.engine import Database
from sysinv_common.messaging.app import make_celery
from tests.stack import make_settings


def capacity(db: Database) -> int:
    pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.size() + pool._max_overflow


def test_the_pool_holds_a_connection_per_api_thread_and_call_worker(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)  # SQLite: the embedded mode's database
    threads = settings.api.threads + settings.messaging.call_workers
    assert settings.api.threads == 40  # anyio's default
    db = Database.from_settings(settings)
    assert capacity(db) >= threads
    db.dispose()
    settings.database.pool_size, settings.database.max_overflow = 2, 0
    settings.api.threads = 100
    db = Database.from_settings(settings)
    assert capacity(db) == 100 + settings.messaging.call_workers
    assert db.engine.pool.size() == 2
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
