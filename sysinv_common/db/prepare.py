"""The pre-start step every service shares: state directory, schema, bootstrap record."""

from __future__ import annotations

import logging
import os

from sysinv_common.conf import Settings
from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.queries.system import record_bootstrap

LOG = logging.getLogger(__name__)


def ensure_state_dir(settings: Settings) -> None:
    # It will hold keys and secrets: private to the service user from the start.
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state_dir, 0o700)


def prepare_database(settings: Settings, db: Database | None = None) -> Database:
    """Upgrade the schema to head and record the bootstrap section if not yet recorded."""
    ensure_state_dir(settings)
    db = db or Database.from_settings(settings)
    migrate.upgrade(db.engine)
    with db.session() as session:
        record_bootstrap(session, settings.bootstrap)
    return db
