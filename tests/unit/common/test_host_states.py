"""The host state machine on a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host
from sysinv_common.errors import InvalidState
from sysinv_common.states import host as states


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'hosts.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def row(db: Database, host_id: int) -> Host:
    with db.session() as s:
        host = s.get(Host, host_id)
        assert host is not None
        return host


def test_a_new_host_starts_locked_disabled_offline(db: Database) -> None:
    with db.session() as s:
        host = states.new_host(hostname="worker-0", personality="worker")
        s.add(host)
        s.flush()
        host_id = host.id
    h = row(db, host_id)
    assert (h.administrative, h.operational, h.availability) == ("locked", "disabled", "offline")
    assert (h.hostname, h.personality) == ("worker-0", "worker")


def test_a_new_host_state_is_not_the_callers_to_choose() -> None:
    with pytest.raises(TypeError, match="availability"):
        states.new_host(hostname="worker-0", availability="available")


@pytest.mark.parametrize("operation", sorted(states.MUST_BE_LOCKED))
def test_what_must_be_locked_is_refused_on_an_unlocked_host(operation: str) -> None:
    host = states.new_host(hostname="worker-0")
    states.require_locked(host, operation)
    host.administrative = "unlocked"  # a detached object: only the check is under test
    with pytest.raises(InvalidState, match=r"worker-0.*lock it first"):
        states.require_locked(host, operation)


def test_an_operation_missing_from_the_table_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        states.require_locked(states.new_host(hostname="worker-0"), "reinstall")
