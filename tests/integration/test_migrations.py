"""Migrations run on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sysinv_common.conf import load_settings
from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Base
from sysinv_common.db.prepare import prepare_database
from sysinv_common.db.queries.system import get_platform_settings, get_system


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_db_url"))
    return f"sqlite:///{tmp_path / 'm.db'}"


def test_single_head() -> None:
    assert len(migrate.heads()) == 1


def test_upgrade_matches_models_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db.engine)
        migrate.upgrade(db.engine)  # a second run is a no-op
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert {"system", "platform_settings", "hosts", "labels"} <= set(
            inspect(db.engine).get_table_names()
        )
    finally:
        with db.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        db.dispose()


def test_bootstrap_is_recorded_once(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path / "state")
    settings.bootstrap.system_name = "site-a"
    settings.bootstrap.registry.address = "registry.local:9001"
    db = prepare_database(settings)
    settings.bootstrap.system_name = "changed-later"
    prepare_database(settings, db)
    with db.session() as s:
        assert get_system(s).name == "site-a"
        assert get_platform_settings(s).registry_address == "registry.local:9001"
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    db.dispose()


def test_upgrade_from_previous_head_keeps_data(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db.engine, "0001")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO hosts (hostname, administrative, operational, availability, "
                "location, capabilities, inventory, uuid, created_at) VALUES "
                "('worker-0', 'locked', 'disabled', 'offline', '{}', '{}', '{}', "
                "'0b0c6f0e-0000-4000-8000-000000000001', CURRENT_TIMESTAMP)"
            )
        migrate.upgrade(db.engine)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT hostname FROM hosts").scalar() == "worker-0"
            assert conn.exec_driver_sql("SELECT count(*) FROM apps").scalar() == 0
    finally:
        with db.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        db.dispose()
