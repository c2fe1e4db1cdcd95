"""What an outage of the database or the broker looks like from the code: which errors are
outages, how often they are logged, how the API answers them."""

from __future__ import annotations

import logging
import sqlite3
import threading

import psycopg
import pytest
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from sysinv_api.errors import RETRY_AFTER, error_response, status_of
from sysinv_common.db.engine import unreachable
from sysinv_common.errors import (
    BrokerUnavailable,
    ConductorUnavailable,
    DatabaseUnavailable,
    SysinvError,
    Unavailable,
)
from sysinv_common.messaging.broker import broker_error
from sysinv_common.messaging.client import error, unwrap
from sysinv_common.reachability import Reachability, reason

STATEMENT = "SELECT secret FROM hosts WHERE password = %(pw)s"


def wrapped(driver_error: Exception, invalidated: bool = False) -> OperationalError:
    return OperationalError(
        STATEMENT, {"pw": "hunter2"}, driver_error, connection_invalidated=invalidated
    )


def test_an_outage_is_logged_when_it_begins_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sysinv_common.reachability")
    db = Reachability("database")
    db.seen()
    assert not caplog.records and not db.down

    def requests() -> None:
        for _ in range(200):
            db.lost(wrapped(psycopg.OperationalError("connection failed: refused")))

    threads = [threading.Thread(target=requests) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.down
    for _ in range(50):
        db.seen()
    assert not db.down
    db.lost(RedisConnectionError("again"))

    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0][0] == "ERROR"
    assert lines[0][1].startswith(
        "database unavailable (OperationalError: connection failed: refused)"
    )
    assert lines[1][0] == "INFO" and lines[1][1].startswith("database is back after ")
    assert lines[2][1].startswith("database unavailable (ConnectionError: again)")


def test_the_reason_is_the_drivers_error_in_one_line_without_the_statement() -> None:
    said = reason(wrapped(psycopg.OperationalError("connection failed:\n\tIs it running?")))
    assert said == "OperationalError: connection failed: Is it running?"
    assert "hunter2" not in said and "SELECT" not in said
    assert len(reason(RuntimeError("x" * 1000))) < 320


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        # Client side, no SQLSTATE: refused, lost, timed out.
        (wrapped(psycopg.OperationalError("connection failed: Connection refused")), True),
        (wrapped(psycopg.OperationalError("consuming input failed"), invalidated=True), True),
        (wrapped(psycopg.errors.AdminShutdown()), True),  # 57P01
        (wrapped(psycopg.errors.CannotConnectNow()), True),  # 57P03: starting up
        (wrapped(psycopg.errors.TooManyConnections()), True),  # 53300
        (wrapped(psycopg.errors.DeadlockDetected()), False),  # 40P01: the statement's
        (wrapped(psycopg.errors.QueryCanceled()), False),
        (wrapped(sqlite3.OperationalError("database is locked")), False),
        (IntegrityError(STATEMENT, {}, psycopg.errors.UniqueViolation()), False),
    ],
    ids=lambda v: type(getattr(v, "orig", v)).__name__ if not isinstance(v, bool) else "",
)
def test_which_database_errors_are_outages(error: OperationalError, outage: bool) -> None:
    assert unreachable(error) is outage


def test_broker_errors_and_what_stands_for_them() -> None:
    lost = RedisConnectionError("Connection refused")
    assert broker_error(lost) is lost
    assert broker_error(KombuOperationalError("refused")) is not None
    assert broker_error(ConnectionRefusedError()) is not None
    # Celery's result consumer, its reconnection attempts spent.
    try:
        raise RuntimeError("Retry limit exceeded") from lost
    except RuntimeError as exc:
        assert broker_error(exc) is lost
    assert broker_error(RuntimeError("a bug")) is None
    assert broker_error(KeyError("x")) is None


def test_outages_are_503s_with_retry_after_and_travel_from_the_conductor() -> None:
    for cls in (Unavailable, ConductorUnavailable, BrokerUnavailable, DatabaseUnavailable):
        assert status_of(cls("x")) == 503
        with pytest.raises(cls):
            unwrap(error(cls("down")))
    assert status_of(SysinvError("x")) == 500
    response = error_response(503, "The database cannot be reached")
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert "retry-after" not in error_response(500, "boom").headers


def test_a_lost_broker_costs_one_line_per_running_task_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    log = logging.getLogger("celery.worker.request")
    try:
        raise RedisConnectionError("Connection closed by server.")
    except RedisConnectionError:
        log.critical("Couldn't ack %r, reason:%r", "tag", "lost", exc_info=True)
    try:
        raise ValueError("not the broker")
    except ValueError:
        log.critical("Couldn't ack %r, reason:%r", "tag", "bug", exc_info=True)
    warned = logging.getLogger("py.warnings")
    warned.warning(
        "%s",
        "/x/celery/app/trace.py:809: RuntimeWarning: Exception raised outside body: "
        "network:ConnectionError:\nTraceback (most recent call last):\n  File ...",
    )
    warned.warning("%s", "/x/y.py:1: RuntimeWarning: something else:\nits detail")
    lost, bug, outside, other = caplog.records
    assert lost.exc_info is None
    assert bug.exc_info is not None and bug.exc_info[0] is ValueError
    assert outside.getMessage().endswith("outside body: network:ConnectionError:")
    assert other.getMessage().endswith("its detail")
