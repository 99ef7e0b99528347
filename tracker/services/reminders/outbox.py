"""The outbox: one `ReminderItem` row per reminder, and the steps that move rows between
states, shared by planning, delivery and the admin page.

States: a planned row is "pending"; once the server has answered the digest that carried
it, it is "sent", "retry" (with a backoff) or "failed"; without mail it is kept
"in_app_only"; unsubscribing "cancels" it. Planning inserts rows with
INSERT ... ON CONFLICT DO NOTHING on (recipient, measure, kind, occurrence), so the same
reminder is planned once whichever process does it. A run claims recipients, not rows
(one ReminderClaim each, at most one per recipient), so two processes never send the same
row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter

from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tracker import clock
from tracker.models import (
    ReminderClaim,
    ReminderDigest,
    ReminderItem,
    ReminderPlanning,
    User,
)
from tracker.models.types import EnumText
from tracker.numbers import counted
from tracker.services import audit, mail
from tracker.vocabulary import DeliveryStatus, DigestStatus, ReminderKind

#: backoff 15 min, 30 min, 1 h, 2 h, 4 h, then every 6 h; failed after about three days
RETRY = mail.RetryPolicy(
    claim_timeout=timedelta(minutes=15),
    base=timedelta(minutes=15),
    cap=timedelta(hours=6),
    max_attempts=16,
)
CLAIM_TIMEOUT = RETRY.claim_timeout
#: rows per INSERT statement when recording planned items
INSERT_CHUNK = 5000
#: the outbox's unique key
KEY_COLUMNS = ("recipient_id", "measure_id", "kind", "occurrence")
#: the states a run may still send
SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY)


def in_states(column, states) -> ColumnElement:
    """`column IN (states)` with the states written as literals, as in the partial indexes'
    conditions (models.reminders): SQLite uses a partial index only when the query repeats
    its condition term for term, and a list of bound parameters does not match; PostgreSQL
    needs the values when it plans (a generic plan of a prepared statement cannot use it)."""
    values = [literal_column(f"'{DeliveryStatus(s).value}'", String) for s in states]
    return column == values[0] if len(values) == 1 else column.in_(values)


# --- planned rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder the rules call for: a row of the outbox before it is inserted."""

    recipient_id: int
    measure_id: int
    kind: ReminderKind
    occurrence: str
    reference_date: date
    day_count: int
    organisation_id: int | None = None
    update_id: int | None = None
    milestone_id: int | None = None
    claim_id: int | None = None

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.recipient_id, self.measure_id, str(self.kind), self.occurrence)

    def row(self, now: datetime) -> dict:
        """The outbox row, as a new pending item."""
        return {
            "recipient_id": self.recipient_id,
            "measure_id": self.measure_id,
            "kind": str(self.kind),
            "occurrence": self.occurrence,
            "organisation_id": self.organisation_id,
            "update_id": self.update_id,
            "milestone_id": self.milestone_id,
            "claim_id": self.claim_id,
            "reference_date": self.reference_date,
            "day_count": self.day_count,
            "status": str(DeliveryStatus.PENDING),
            "planned_dt": now,
            "next_attempt_dt": now,
            "attempts": 0,
            "last_error": "",
        }


def record_planned(session: Session, planned: list[PlannedReminder], now: datetime) -> int:
    """Insert the planned reminders that are not in the outbox yet; returns how many were
    new. Rows go in key order, so two concurrent planners wait on each other instead of
    deadlocking on PostgreSQL."""
    return len(record_new(session, planned, now))


def record_new(
    session: Session,
    planned: list[PlannedReminder],
    now: datetime,
    status: DeliveryStatus = DeliveryStatus.PENDING,
) -> list[tuple[int, int]]:
    """Insert the planned reminders that are not in the outbox yet, with `status`; returns
    (item id, recipient id) of each new row."""
    if not planned:
        return []
    insert = _insert(session)
    # The table, not the mapped class: a plain executemany, without the ORM's per-row work.
    table = ReminderItem.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        .returning(table.c.id, table.c.recipient_id)
    )
    new: list[tuple[int, int]] = []
    for start in range(0, len(planned), INSERT_CHUNK):
        rows = [r.row(now) | {"status": str(status)} for r in planned[start : start + INSERT_CHUNK]]
        new.extend(tuple(row) for row in session.execute(statement, rows).all())
    return new


def record_selected(session: Session, planned, now: datetime) -> int:
    """Insert the rows of `planned` (a SELECT of the PlannedReminder columns) that are not
    in the outbox yet, with one INSERT ... SELECT; returns how many were new. The SELECT
    leaves out the keys already there (so a second run the same day reads and writes
    little) and ON CONFLICT covers a concurrent planner; rows go in key order, as above."""
    table = ReminderItem.__table__
    rows = planned.subquery("planned")
    known = table.alias("known")
    already = exists().where(
        known.c.recipient_id == rows.c.recipient_id,
        known.c.measure_id == rows.c.measure_id,
        known.c.kind == rows.c.kind,
        known.c.occurrence == rows.c.occurrence,
    )
    new_rows = (
        select(
            *rows.c,
            literal(str(DeliveryStatus.PENDING), String(20)).label("status"),
            literal(now, table.c.planned_dt.type).label("planned_dt"),
            literal(now, table.c.next_attempt_dt.type).label("next_attempt_dt"),
            literal(0, Integer).label("attempts"),
            literal("", Text).label("last_error"),
        )
        .where(~already)
        .order_by(rows.c.recipient_id, rows.c.measure_id, rows.c.kind, rows.c.occurrence)
    )
    names = [column.name for column in new_rows.selected_columns]
    statement = (
        _insert(session)(table)
        .from_select(names, new_rows)
        .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        .execution_options(preserve_rowcount=True)
    )
    return session.execute(statement).rowcount


def analyze_outbox(session: Session) -> None:
    """After many new rows, PostgreSQL's statistics of the outbox are out of date until
    autovacuum catches up, and the run's next statements would be planned as for the old
    table: a claim by status (every pending row) instead of by recipient, and the answers'
    UPDATE by a full scan. ANALYZE reads a sample of the table (a fraction of a second at a
    million rows). SQLite plans by its indexes alone."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {ReminderItem.__tablename__}"))


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def day_planned(session: Session, day: date):
    """The day's planning of link reminders (inputs_key, due_count), or None."""
    return session.execute(
        select(ReminderPlanning.inputs_key, ReminderPlanning.due_count).where(
            ReminderPlanning.day == day
        )
    ).first()


def record_day_planned(
    session: Session, day: date, inputs_key: str, due_count: int, now: datetime
) -> None:
    """Note the day's planning, in the transaction that wrote its reminders (one statement:
    two planners at once both end with the row)."""
    values = {"inputs_key": inputs_key, "due_count": due_count, "planned_dt": now}
    session.execute(
        _insert(session)(ReminderPlanning)
        .values(day=day, **values)
        .on_conflict_do_update(index_elements=[ReminderPlanning.day], set_=values)
    )


# --- selecting and claiming ------------------------------------------------------------------


def sendable(now: datetime):
    """The condition of items a run may send at `now`."""
    return and_(in_states(ReminderItem.status, SENDABLE), ReminderItem.next_attempt_dt <= now)


def _sendable(columns, now: datetime):
    """`sendable` on the table's columns (for Core statements)."""
    return and_(in_states(columns.status, SENDABLE), columns.next_attempt_dt <= now)


def recover_stale_claims(session: Session) -> int:
    """Claims left by a process that died (older than CLAIM_TIMEOUT, wall clock) are
    deleted: their recipients' items, still sendable, go out with this run (see
    services.reminders.jobs for why this is the safe side). Returns how many."""
    table = ReminderClaim.__table__
    result = session.execute(
        table.delete().where(table.c.claimed_dt < clock.now_utc() - CLAIM_TIMEOUT)
    )
    return result.rowcount or 0


def keep_in_app_only(session: Session, now: datetime) -> int:
    """Mail is off: the sendable items stay in the app instead of waiting to be mailed in
    a burst once mail is switched on. Returns how many."""
    result = session.execute(
        update(ReminderItem).where(sendable(now)).values(status=DeliveryStatus.IN_APP_ONLY)
    )
    return result.rowcount or 0


def recipients_with_due_items(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(ReminderItem.recipient_id)
            .join(User, User.id == ReminderItem.recipient_id)
            .where(sendable(now), User.is_enabled.is_(True))
            .distinct()
            .order_by(ReminderItem.recipient_id)
        )
    )


#: the random part of a batch's claim tokens (a token is this, a dot and the recipient id:
#: at most 40 characters while ids have at most 15 digits)
BATCH_TOKEN_CHARS = 24


def claim_batch(
    session: Session, recipient_ids: list[int], now: datetime, columns
) -> dict[str, list]:
    """Claim several recipients at once (ReminderClaim: one row each, a token of its own,
    the batch's random part, a dot and the recipient id) and read their sendable items;
    returns each claimed recipient's items (`columns`, which include recipient_id, by id)
    under its claim token, recipients in ascending order, and keeps a claim only for
    recipients with items. A recipient another process holds is skipped: its claim is
    already there, and the INSERT ... ON CONFLICT DO NOTHING leaves it (on PostgreSQL it
    waits for that process's transaction; SQLite runs writers one at a time). The caller
    commits before it sends anything."""
    if not recipient_ids:
        return {}
    batch = uuid.uuid4().hex[:BATCH_TOKEN_CHARS]
    claimed_dt = clock.now_utc()
    claims = ReminderClaim.__table__
    statement = (
        _insert(session)(claims)
        .values(
            [
                {"recipient_id": r, "token": f"{batch}.{r}", "claimed_dt": claimed_dt}
                for r in recipient_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["recipient_id"])
        .returning(claims.c.recipient_id, claims.c.token)
    )
    held = dict(session.execute(statement).all())
    if not held:
        return {}
    items = ReminderItem.__table__
    keys = [column.key for column in columns]
    # ordered by the database (in the sendable items' index, which holds the live rows
    # only), so that the rows come grouped by recipient: sorting a batch's hundred
    # thousand rows in Python cost more than reading them
    rows = session.execute(
        select(*(_as_read(items.c[key]) for key in keys))
        .where(items.c.recipient_id.in_(list(held)), _sendable(items.c, now))
        .order_by(items.c.recipient_id, items.c.id)
    ).all()
    by_token = {
        held[recipient_id]: list(group)
        for recipient_id, group in groupby(rows, key=itemgetter(keys.index("recipient_id")))
    }
    release_claims(session, sorted(set(held.values()) - by_token.keys()))
    return by_token


def _as_read(column):
    """An enum column as its plain text (StrEnum members equal their values, and a
    DigestItem's kind is a str): a run reads a million rows, and the enum type's
    conversion cost twice as much as the rest of reading them."""
    if isinstance(column.type, EnumText):
        return type_coerce(column, String).label(column.key)
    return column


def refresh_claims(session: Session, tokens: list[str]) -> int:
    """A live run still holds these claims: their age starts again, so that no other
    process takes them for interrupted (see CLAIM_TIMEOUT)."""
    if not tokens:
        return 0
    table = ReminderClaim.__table__
    result = session.execute(
        table.update().where(table.c.token.in_(tokens)).values(claimed_dt=clock.now_utc())
    )
    return result.rowcount or 0


def release_claims(session: Session, tokens: list[str]) -> int:
    """Claims the run will not send (it stopped first, or found nothing to send): their
    recipients' items wait for the next run as they are."""
    if not tokens:
        return 0
    table = ReminderClaim.__table__
    result = session.execute(table.delete().where(table.c.token.in_(tokens)))
    return result.rowcount or 0


def in_ids(session: Session, column, name: str):
    """`column` is one of a list of ids given as one parameter `name`, so that an
    executemany can give each statement a list of its own: an array on PostgreSQL, a JSON
    array on SQLite, written as text by `id_list` (the driver dumps a Python list of a
    run's million ids one element at a time; str.join does it in C)."""
    if session.get_bind().dialect.name == "postgresql":
        ids = cast(bindparam(name, type_=String), postgresql.ARRAY(Integer))
        return column == any_(ids)
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def id_list(session: Session, ids: list[int]):
    """The value of an `in_ids` parameter: an array literal on PostgreSQL ("{1,2}"), a
    JSON array on SQLite ("[1,2]")."""
    listed = ",".join(map(str, map(int, ids)))
    if session.get_bind().dialect.name == "postgresql":
        return f"{{{listed}}}"
    return f"[{listed}]"


# --- a run's figures -------------------------------------------------------------------------


#: the counts of delivery, which each delivery process keeps for its share
_DELIVERY_COUNTS = ("digests_sent", "items_sent", "digests_retry", "digests_failed")


@dataclass
class RunReport:
    """What one run did (or, dry, would do): filled by planning and by delivery."""

    now: datetime
    today: date
    dry_run: bool
    mail_enabled: bool
    #: reminders the rules call for today (already in the outbox or not)
    planned: int = 0
    #: of those, how many were new to the outbox
    new_items: int = 0
    recovered_claims: int = 0
    digests_sent: int = 0
    items_sent: int = 0
    digests_retry: int = 0
    digests_failed: int = 0
    #: items kept in the app only because mail is off
    items_in_app_only: int = 0
    #: a connection failure ended the sending early; the rest wait for the next run
    stopped_early: bool = False
    #: dry run: the digests that would go out
    previews: list = field(default_factory=list)
    #: False for a delivery-only run (the retry job)
    planning: bool = True
    #: the processes that delivered (services.reminders.delivery.delivery_processes)
    delivery_processes: int = 1

    def delivery_figures(self) -> dict:
        """What delivery counted: a delivery process sends these to its run."""
        counts = {name: getattr(self, name) for name in _DELIVERY_COUNTS}
        return counts | {"stopped_early": self.stopped_early}

    def add_delivery(self, figures: dict) -> None:
        """Add a delivery process's figures to the run's (one process stopping early
        marks the run)."""
        for name in _DELIVERY_COUNTS:
            setattr(self, name, getattr(self, name) + figures[name])
        self.stopped_early = self.stopped_early or figures["stopped_early"]

    def summary(self) -> str:
        parts = []
        if self.planning:
            parts += [
                f"{counted(self.planned, 'reminder')} due on {self.today.isoformat()}",
                f"{self.new_items} new in the outbox",
            ]
        if self.dry_run:
            digests = counted(len(self.previews), "digest")
            parts.append(f"{digests} would go out (dry run, nothing written)")
        else:
            parts += self._delivery_parts()
        return "; ".join(parts) + "."

    def _delivery_parts(self) -> list[str]:
        sent = (
            f"{counted(self.digests_sent, 'digest')} sent ({counted(self.items_sent, 'reminder')})"
        )
        if self.delivery_processes > 1:
            sent += f" by {counted(self.delivery_processes, 'process', 'processes')}"
        parts = [sent]
        if self.items_in_app_only:
            kept = counted(self.items_in_app_only, "reminder")
            parts.append(f"{kept} kept in the app only (mail is off)")
        return parts + mail.run_summary_parts(
            self.digests_retry, self.digests_failed, self.recovered_claims, self.stopped_early
        )


# --- the admin's view of the outbox ----------------------------------------------------------


def failed_digests(session: Session, limit: int = 200) -> list[ReminderDigest]:
    """Digests the mail server refused for good whose items have not been requeued."""
    still_failed = exists().where(
        ReminderItem.digest_id == ReminderDigest.id,
        in_states(ReminderItem.status, [DeliveryStatus.FAILED]),
    )
    return list(
        session.scalars(
            select(ReminderDigest)
            .where(ReminderDigest.status == DigestStatus.FAILED, still_failed)
            .order_by(ReminderDigest.created_dt.desc(), ReminderDigest.id.desc())
            .limit(limit)
        )
    )


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(ReminderItem.status, func.count()).group_by(ReminderItem.status))
    counts = {str(status): 0 for status in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    return counts


def requeue_failed_digest(session: Session, digest: ReminderDigest, actor: User | None) -> int:
    """An admin sends a failed digest's items again (say, after fixing the address): they
    go back to retry with a fresh count of attempts. Returns how many were requeued."""
    result = session.execute(
        update(ReminderItem)
        .where(
            ReminderItem.digest_id == digest.id,
            in_states(ReminderItem.status, [DeliveryStatus.FAILED]),
        )
        .values(
            status=DeliveryStatus.RETRY,
            attempts=0,
            next_attempt_dt=clock.now_utc(),
            last_error="",
        )
    )
    count = result.rowcount or 0
    if count:
        audit.record(
            session,
            "reminders.requeued",
            "reminder_digest",
            digest.id,
            actor=actor,
            details={"items": count, "email": digest.email},
        )
    return count
