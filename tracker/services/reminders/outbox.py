"""The outbox: one `ReminderItem` row per reminder, and the steps that move rows between
states, shared by planning, delivery and the admin page.

States: a planned row is "pending"; a run claims it ("sending", with a claim token) and
then marks it "sent", "retry" (with a backoff) or "failed"; without mail it is kept
"in_app_only"; unsubscribing "cancels" it. Planning inserts rows with
INSERT ... ON CONFLICT DO NOTHING on (recipient, measure, kind, occurrence), so the same
reminder is planned once whichever process does it; a claim is one conditional UPDATE,
so two processes never send the same row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tracker import clock
from tracker.models import ReminderDigest, ReminderItem, ReminderPlanning, User
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
#: the states of items with a live claim token (ix_reminder_item_claim_token)
CLAIMED = (DeliveryStatus.SENDING, DeliveryStatus.RETRY)


def in_states(column, states) -> ColumnElement:
    """`column IN (states)` with the states written as literals, as in the partial indexes'
    conditions (models.reminders): SQLite uses a partial index only when the query repeats
    its condition term for term, and a list of bound parameters does not match; PostgreSQL
    needs the values when it plans (a generic plan of a prepared statement cannot use it)."""
    values = [literal_column(f"'{DeliveryStatus(s).value}'", String) for s in states]
    return column == values[0] if len(values) == 1 else column.in_(values)


def holding_claim(columns) -> ColumnElement:
    """The condition that lets a query by claim token use the claim-token index (also
    when it asks for "sending" only)."""
    return in_states(columns.status, CLAIMED)


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


def recover_stale_claims(session: Session, now: datetime) -> int:
    """Items left in "sending" by a process that died go back to retry (see
    services.reminders.jobs for why this is the safe side)."""
    table = ReminderItem.__table__
    return RETRY.recover_stale_claims(session, ReminderItem, now, holding_claim(table.c))


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


def claim_items(session: Session, recipient_id: int, now: datetime) -> tuple[str, list[int]]:
    """Atomically take a recipient's sendable items for this process. Another process
    running the same UPDATE at the same moment gets none of them: PostgreSQL re-checks the
    WHERE clause after the first commit, and SQLite runs writers one at a time."""
    token = uuid.uuid4().hex
    claimed = session.scalars(
        update(ReminderItem)
        .where(ReminderItem.recipient_id == recipient_id, sendable(now))
        .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_dt=clock.now_utc())
        .returning(ReminderItem.id)
    ).all()
    return token, list(claimed)


#: the random part of a batch's claim tokens (a token is this, a dot and the recipient id:
#: at most 40 characters while ids have at most 15 digits)
BATCH_TOKEN_CHARS = 24


def claim_batch(session: Session, recipient_ids: list[int], now: datetime, columns) -> list:
    """Atomically take the sendable items of several recipients with one UPDATE, each
    recipient's items under a claim token of its own (the batch's random part, a dot and
    the recipient id); returns `columns` (and the token, as `claim_token`) of every claimed
    row. Exactly-once holds as for `claim_items`: another process running the same UPDATE
    at the same moment gets none of these rows."""
    if not recipient_ids:
        return []
    batch = uuid.uuid4().hex[:BATCH_TOKEN_CHARS]
    table = ReminderItem.__table__
    token = literal(f"{batch}.", String(40)) + cast(table.c.recipient_id, String(40))
    # by recipient in the sendable items' index, which holds the live rows only (a join
    # on ids against every sendable item scanned the whole outbox on PostgreSQL)
    statement = (
        table.update()
        .where(table.c.recipient_id.in_(recipient_ids), _sendable(table.c, now))
        .values(status=str(DeliveryStatus.SENDING), claim_token=token, claimed_dt=clock.now_utc())
        .returning(*(table.c[c.key] for c in columns), table.c.claim_token)
    )
    return list(session.execute(statement))


def refresh_claims(session: Session, tokens: list[str]) -> int:
    """A live run still holds these claims: their age starts again, so that no other
    process takes them for interrupted (see CLAIM_TIMEOUT)."""
    if not tokens:
        return 0
    table = ReminderItem.__table__
    result = session.execute(
        table.update()
        .where(
            table.c.claim_token.in_(tokens),
            table.c.status == str(DeliveryStatus.SENDING),
            holding_claim(table.c),
        )
        .values(claimed_dt=clock.now_utc())
    )
    return result.rowcount or 0


def release_claims(session: Session, tokens: list[str], now: datetime) -> int:
    """Claims the run did not send (it stopped first): the items wait for the next run."""
    if not tokens:
        return 0
    table = ReminderItem.__table__
    result = session.execute(
        update(ReminderItem)
        .where(
            ReminderItem.claim_token.in_(tokens),
            ReminderItem.status == DeliveryStatus.SENDING,
            holding_claim(table.c),
        )
        .values(status=DeliveryStatus.RETRY, next_attempt_dt=now, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


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
    #: the processes that delivered (services.reminders.delivery.delivery_shares)
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
                f"{self.planned} reminders due on {self.today.isoformat()}",
                f"{self.new_items} new in the outbox",
            ]
        if self.dry_run:
            parts.append(f"{len(self.previews)} digests would go out (dry run, nothing written)")
        else:
            parts += self._delivery_parts()
        return "; ".join(parts) + "."

    def _delivery_parts(self) -> list[str]:
        sent = f"{self.digests_sent} digests sent ({self.items_sent} reminders)"
        if self.delivery_processes > 1:
            sent += f" by {self.delivery_processes} processes"
        parts = [sent]
        if self.items_in_app_only:
            parts.append(f"{self.items_in_app_only} kept in the app only (mail is off)")
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
