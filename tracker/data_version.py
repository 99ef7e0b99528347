"""The public data's version, moved on by every write to public data in one place.

A listener on every SQLAlchemy session notes each write to a public table: rows that the
session flushes (the ORM) and INSERT, UPDATE and DELETE statements run through the session
(bulk writes). Just before such a transaction commits, the one `data_version` row moves on
by one, in that same transaction: a view, a CLI command and a scheduled job alike, and
none of them can forget it. A rolled-back transaction leaves the version as it was.

Public tables are all tables but the private ones listed below: a new table counts as
public until it is listed here, so a forgotten table costs cache hits, never a stale page.
Writes that bypass the session (a raw DBAPI COPY) call `bump()` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cachelib import SimpleCache
from flask import current_app
from sqlalchemy import Select, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from tracker import clock
from tracker.models.data_version import DATA_VERSION_ID, DataVersion

#: tables that no public page, feed or API answer reads: writing them changes no public data
PRIVATE_TABLES = frozenset(
    {
        "data_version",
        "user_account",
        # two-step verification: a public validator must not tell when someone used it
        "recovery_code",
        "login_attempt",
        "used_token",
        "audit_entry",
        "mail_request",
        "reminder_claim",
        "reminder_item",
        "reminder_digest",
        "reminder_opt_out",
        "reminder_planning",
        "reminder_setting",
        "scheduler_job",
        # the report queue: a visitor's request must not move the version its key holds
        "report_request",
        # the reminder run's working tables
        "tmp_reminder_occurrence",
        "tmp_reminder_open",
        "tmp_reminder_approved",
        "tmp_reminder_pair",
        "tmp_reminder_due",
    }
)
#: the session.info flag: this transaction wrote public data
_PENDING = "tracker_public_write"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "COPY", "TRUNCATE", "MERGE"})


@dataclass(frozen=True)
class Version:
    number: int
    changed: datetime

    @property
    def token(self) -> str:
        """Number and time: a database restored from a backup never meets old cache keys."""
        return f"{self.number}.{int(self.changed.timestamp() * 1_000_000)}"


def current(session: Session) -> Version:
    """The version now (0 at the epoch before any write)."""
    row = session.execute(
        select(DataVersion.version, DataVersion.changed_dt).where(DataVersion.id == DATA_VERSION_ID)
    ).first()
    if row is None:
        return Version(0, _EPOCH)
    return Version(int(row.version), row.changed_dt)


#: how many counts each process keeps (one per list, filter and data version)
COUNTS_KEPT = 512


def count_per_version(session: Session, key: object, statement: Select) -> int:
    """How many rows `statement` gives, counted once per version of the public data and
    `key` (the list and its filters), and kept by this process: counting a large list is
    the slowest part of its page, and the number only changes with the public data. The
    version is read before counting, so a count is never older than its key. For sessions
    that hold no uncommitted writes (public pages)."""
    cache_key = repr((current(session).token, key))
    counts = current_app.extensions.setdefault(
        "tracker_counts_per_data_version", SimpleCache(threshold=COUNTS_KEPT, default_timeout=0)
    )
    count = counts.get(cache_key)
    if count is None:
        count = count_rows(session, statement)
        counts.set(cache_key, count)
    return count


def count_rows(session: Session, statement: Select) -> int:
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return session.scalar(counted) or 0


def bump(session: Session) -> None:
    """Move the version on by one, in the session's transaction (the row is made when
    missing). One statement, so two writers never lose a step."""
    now = clock.real_now_utc()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DataVersion).values(id=DATA_VERSION_ID, version=1, changed_dt=now)
    statement = statement.on_conflict_do_update(
        index_elements=[DataVersion.id],
        set_={"version": DataVersion.version + 1, "changed_dt": now},
    )
    session.execute(statement)


def is_public_table(name: str) -> bool:
    return name not in PRIVATE_TABLES


def _touches_public(objects) -> bool:
    return any(is_public_table(getattr(type(obj), "__tablename__", "") or "") for obj in objects)


def _after_flush(session: Session, _context) -> None:
    if _touches_public((*session.new, *session.dirty, *session.deleted)):
        session.info[_PENDING] = True


def _writes_public(statement) -> bool:
    if isinstance(statement, TextClause):
        # Hand-written SQL names no table we can trust: any write counts.
        words = statement.text.split(None, 1)
        return bool(words) and words[0].upper() in _WRITE_WORDS
    if not getattr(statement, "is_dml", False):
        return False
    table = getattr(statement, "table", None)
    return table is None or is_public_table(getattr(table, "name", ""))


def _on_execute(state) -> None:
    if _writes_public(state.statement):
        state.session.info[_PENDING] = True


def _before_commit(session: Session) -> None:
    # The commit flushes what is still pending after this hook: count it now.
    if _touches_public((*session.new, *session.dirty, *session.deleted)):
        session.info[_PENDING] = True
    if session.info.get(_PENDING):
        bump(session)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_PENDING, None)


def listen() -> None:
    """Install the listeners on every session (once per process)."""
    if event.contains(Session, "before_commit", _before_commit):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
