"""Engines and sessions, one engine per database URL per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sysinv_common.errors import DatabaseUnavailable
from sysinv_common.reachability import Reachability

#: PostgreSQL's SQLSTATEs of a server that cannot take the session: connection exceptions,
#: shutdown (admin, crash), still starting up, too many connections.
UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")

if TYPE_CHECKING:
    from sysinv_common.conf import Settings


def make_engine(
    url: str, echo: bool = False, pool_size: int = 10, max_overflow: int = 30
) -> Engine:
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if make_url(url).database not in (None, "", ":memory:"):
        # SQLite's file databases too: its default pool (5 + 10) is smaller than the API's
        # thread pool, so requests waited for a connection rather than for the database.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    if url.startswith("sqlite"):
        # The API serves requests from a thread pool and the conductor runs beside it.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take it over.
        event.listen(engine, "begin", _sqlite_begin)
    return engine


#: The execution option of a read-only session's connection (``Database.read_session``).
READ_ONLY = "sysinv_read_only"


def _sqlite_begin(conn: Connection) -> None:
    """A writing transaction takes SQLite's write lock at once (``BEGIN IMMEDIATE``): one
    that read first and wrote later could not upgrade its lock while another writer holds
    it (SQLITE_BUSY at once, busy_timeout or not). A read-only one takes no lock (a plain,
    deferred ``BEGIN``): in WAL mode it reads its snapshot beside a running writer."""
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("a read-only session (Database.read_session) cannot write")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def unreachable(error: DBAPIError) -> bool:
    """Whether ``error`` says the database could not be reached (rather than refused a
    statement): the connection failed or was lost, or the server cannot take a session now.
    SQLite's errors (a locked database among them) never are."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    # psycopg's errors carry a SQLSTATE, None for a failure on the client's side (connection
    # refused, lost); the sqlite3 module's have none.
    state = getattr(error.orig, "sqlstate", "")
    return state is None or state.startswith(UNREACHABLE_STATES)


def pool_capacity(settings: Settings) -> int:
    """The connections a process keeps for reuse: one per API request thread and per
    conductor call worker (the embedded mode runs both in one process), or more if
    configured. They are opened on demand, never ahead; keeping fewer than the threads
    that use them at once meant opening and closing a connection per request under load
    (the pool's overflow is closed on return)."""
    threads = settings.api.threads + settings.messaging.call_workers
    return max(settings.database.pool_size, threads)


class Database:
    """An engine and its session factory."""

    def __init__(
        self, url: str, echo: bool = False, pool_size: int = 10, max_overflow: int = 30
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo, pool_size, max_overflow)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # The same pool; its connections carry READ_ONLY, which _sqlite_begin reads.
        read: dict[str, Any] = {READ_ONLY: True}
        if not url.startswith("sqlite"):
            # PostgreSQL's READ COMMITTED gives each statement its own snapshot, inside a
            # transaction or not: a read gains nothing from BEGIN and COMMIT but two
            # round trips.
            read["isolation_level"] = "AUTOCOMMIT"
        self.read_sessionmaker = sessionmaker(
            self.engine.execution_options(**read), expire_on_commit=False
        )
        event.listen(self.read_sessionmaker, "before_flush", _refuse_flush)
        self.reachability = Reachability("database")
        # Every checkout has passed the pre-ping (or made a new connection): it is up.
        event.listen(self.engine, "checkout", lambda *_: self.reachability.seen())

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The service's database: URL, logging and pool as configured, the pool keeping
        as many connections as threads may hold at once (``pool_capacity``)."""
        db = settings.database
        return cls(settings.database_url, db.echo, pool_capacity(settings), db.max_overflow)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error.

        A database that cannot be reached raises ``DatabaseUnavailable`` (logged once per
        outage by ``reachability``), whatever statement found it so."""
        with self._session(self.sessionmaker) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session that only reads (the API's GETs): on SQLite its transaction takes no
        lock, so it never waits behind a writer (see ``_sqlite_begin``); on PostgreSQL it
        runs in autocommit (no BEGIN and COMMIT round trips; READ COMMITTED gives each
        statement its own snapshot either way). A flush in it is a bug and raises."""
        with self._session(self.read_sessionmaker) as session:
            yield session

    @contextmanager
    def _session(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        try:
            with factory() as session, session.begin():
                yield session
        except DBAPIError as exc:
            if not unreachable(exc):
                raise
            self.reachability.lost(exc)
            raise DatabaseUnavailable(
                "The database cannot be reached; try again in a few seconds"
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()
