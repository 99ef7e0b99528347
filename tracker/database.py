"""Engine set-up: SQLite pragmas and write transactions that cannot lose updates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from tracker.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000
#: SQLite's page cache per connection (KiB; taken as pages are read). The default, 2 MB,
#: holds little of a large outbox: a reminder run at 5,000 organisations (950,500 items)
#: took 67.7 s with it and 57.7 s with this (benchmarks/reminders_bench.py)
SQLITE_CACHE_KIB = 64 * 1024
#: the page cache while a report reads its data (KiB; SQLite's default): it reads each
#: page about once, so the large cache would only hold memory (a 2,000-measure report's
#: peak RSS was 325 MB with it, 261 MB with this; benchmarks/reports_bench.py)
SQLITE_READ_ONCE_CACHE_KIB = 2000


#: set inside `reads_only`: the transactions begun there take no write lock
_READS_ONLY: ContextVar[bool] = ContextVar("tracker_reads_only", default=False)


def is_sqlite_in_memory(url: URL) -> bool:
    """A SQLite database in memory: one connection's alone (no WAL, no other process)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


@contextmanager
def reads_only(session: Session) -> Iterator[None]:
    """The block reads in a transaction of its own that takes no write lock. Outside a
    request every SQLite transaction begins IMMEDIATE (see _configure_sqlite), so a long
    read there, such as a report the scheduler builds (16 s for a plan of 2,000 measures),
    would keep every writer waiting past the busy timeout: a monitor's save would fail.
    Here it begins DEFERRED, and SQLite refuses any write in it (PRAGMA query_only).
    PostgreSQL's readers never block writers: nothing changes there. The session must have
    no transaction open (commit first); the block's own ends with a rollback."""
    # a scoped session (Flask-SQLAlchemy's) is called for the session of this context
    if (session() if callable(session) else session).in_transaction():
        raise RuntimeError("reads_only begins a transaction of its own: commit first")
    token = _READS_ONLY.set(True)
    try:
        yield
    finally:
        session.rollback()
        _READS_ONLY.reset(token)


@contextmanager
def read_once_cache(session: Session) -> Iterator[None]:
    """While the block reads, the session's SQLite connection keeps a page cache of
    SQLITE_READ_ONCE_CACHE_KIB (pages beyond it are freed), and SQLITE_CACHE_KIB again
    afterwards; nothing on PostgreSQL. The block must not commit: the setting belongs to
    the connection of the session's transaction."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_READ_ONCE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def refresh_planner_statistics(session: Session) -> bool:
    """Give SQLite's query planner statistics of the tables as they are now (ANALYZE).
    SQLite gathers none by itself, and without them it picks among indexes by rules of
    thumb: at the scale of every OGP plan (1,000,000 updates) the plan, section, agency and
    API pages took 5 to 35 times their seed-scale time, and at most 3.3 times with them. A
    whole ANALYZE took 0.67 s there; a sampled one (PRAGMA analysis_limit=1000) took 0.01 s
    but left pages 5 to 29 times slower. PostgreSQL's autovacuum keeps its own statistics:
    nothing to do there (False). The caller commits."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    connection.exec_driver_sql("ANALYZE main")
    return True


def scheduled_statistics_job(session: Session, _now) -> None:
    """The scheduler's nightly job (tracker.scheduler): the data grows every day."""
    refresh_planner_statistics(session)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not is_sqlite_in_memory(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred transaction that reads and then writes fails or loses the update when
        # another writer got in between; IMMEDIATE takes the write lock up front. Safe GETs
        # never write, so they keep concurrent readers; so do blocks that only read.
        reads_only = _READS_ONLY.get()
        deferred = reads_only or (
            has_request_context()
            and request.method in ("GET", "HEAD", "OPTIONS")
            and not g.get("writes_on_safe_request")
        )
        # what tests read to find a GET that writes after reading (tests/helpers.py)
        connection.info["deferred_transaction"] = deferred
        # query_only belongs to the pooled connection: set for each transaction as needed
        if connection.info.get("query_only", False) != reads_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(reads_only)}")
            connection.info["query_only"] = reads_only
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def begin_writes_on_safe_request(session: Session) -> None:
    """The rest of this GET's transactions take SQLite's write lock up front, for the rare
    GET that writes (a refusal logged, notices seen marked read). A deferred transaction
    that has read must upgrade to write, and SQLite refuses that at once ("database is
    locked", without waiting) when another process wrote in between. The transaction the
    request has begun (loading the user) ends here: a safe request has nothing to keep."""
    session.rollback()
    g.writes_on_safe_request = True


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"
