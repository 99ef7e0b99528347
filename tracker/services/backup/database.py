"""The database part of a backup: SQLite's online backup API, or `pg_dump` in custom
format; and bringing one back into an empty database. Both take a consistent snapshot
while other connections write: the backup API restarts a copy that a writer overtook,
and pg_dump reads from one snapshot."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

#: SQLite pages copied per step of the backup (the progress bar moves per step)
SQLITE_PAGES_PER_STEP = 1024
DUMP_TIMEOUT_SECONDS = 6 * 3600


class DatabaseBackupError(RuntimeError):
    """pg_dump or pg_restore failed, or is missing."""


def dump_name(engine: Engine) -> str:
    return "database.sqlite3" if engine.dialect.name == "sqlite" else "database.pgdump"


def app_schema(engine: Engine) -> str | None:
    """The PostgreSQL schema the app's tables live in (its search_path), else None."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return connection.execute(text("SELECT current_schema()")).scalar()


def table_names(engine: Engine, schema: str | None) -> list[str]:
    """The tables already in the database (in `schema` on PostgreSQL)."""
    return inspect(engine).get_table_names(schema=schema)


def _libpq_url(url: URL) -> str:
    """The SQLAlchemy URL as libpq takes it (pg_dump, pg_restore), query options kept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise DatabaseBackupError(
            f"{name} is not installed (Debian: apt-get install postgresql-client)"
        )
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 (pg_dump/pg_restore from PATH, no shell)
        command, capture_output=True, text=True, timeout=DUMP_TIMEOUT_SECONDS, env=os.environ
    )
    if result.returncode != 0:
        raise DatabaseBackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def dump(engine: Engine, target: Path, schema: str | None, progress) -> None:
    """Write the database to `target` (the file dump_name names)."""
    if engine.dialect.name == "sqlite":
        _sqlite_copy(Path(engine.url.database), target, progress)
        return
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            f"--schema={schema}",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={_libpq_url(engine.url)}",
        ]
    )


def load(engine: Engine, source: Path, progress) -> None:
    """Bring a dump back into the (empty) database of `engine`."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        _sqlite_copy(source, Path(engine.url.database), progress)
        return
    _run(
        [
            _pg_tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={_libpq_url(engine.url)}",
            str(source),
        ]
    )


def _sqlite_copy(source: Path, target: Path, progress) -> None:
    """SQLite's online backup API, page by page; a write to the source in between makes
    SQLite start the copy again, so the result is one consistent state."""
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_connection = sqlite3.connect(target)
    try:
        pages = source_connection.execute("PRAGMA page_count").fetchone()[0]
        with progress("Database", pages) as bar:
            copied = [0]

            def step(_status, remaining, total):
                bar.update(max(total - remaining - copied[0], 0))
                copied[0] = total - remaining

            source_connection.backup(target_connection, pages=SQLITE_PAGES_PER_STEP, progress=step)
    finally:
        target_connection.close()
        source_connection.close()
