"""Engine set-up: SQLite pragmas and write transactions that cannot lose updates."""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from tracker.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000
#: SQLite's page cache per connection (KiB; taken as pages are read). The default, 2 MB,
#: holds little of a large outbox: a reminder run at 5,000 organisations (950,500 items)
#: took 67.7 s with it and 57.7 s with this (benchmarks/reminders_bench.py)
SQLITE_CACHE_KIB = 64 * 1024


def is_sqlite_in_memory(url: URL) -> bool:
    """A SQLite database in memory: one connection's alone (no WAL, no other process)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


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
        # never write, so they keep concurrent readers.
        if (
            has_request_context()
            and request.method in ("GET", "HEAD", "OPTIONS")
            and not g.get("writes_on_safe_request")
        ):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_writes_on_safe_request() -> None:
    """The rest of this GET's transactions take SQLite's write lock up front, for the rare
    GET that writes (a refusal logged). A deferred transaction that has read must upgrade
    to write, and SQLite refuses that at once ("database is locked", without waiting) when
    another process wrote in between."""
    g.writes_on_safe_request = True


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"
