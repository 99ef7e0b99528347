"""Deadline reminders: the outbox of reminder items, the digests that carried them, the
admin's settings per kind, people's opt-outs, and the scheduler's persistent job store."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, utc_now
from tracker.vocabulary import DeliveryStatus, DigestStatus, ReminderKind


def status_in(*states: DeliveryStatus):
    """The SQL condition "status in these states", the states written as literals: the
    WHERE of a partial index, which a query must repeat to use it (SQLite matches the
    terms as written, and a bound list would not match)."""
    values = ", ".join(f"'{state.value}'" for state in states)
    condition = f"status IN ({values})" if len(states) > 1 else f"status = {values}"
    return text(condition)


#: the partial indexes' conditions: each index holds only the rows of live states, so the
#: rows a run has sent (almost all of the table) leave them
SENDABLE_WHERE = status_in(DeliveryStatus.PENDING, DeliveryStatus.RETRY)
QUEUED_WHERE = status_in(DeliveryStatus.QUEUED)
FAILED_WHERE = status_in(DeliveryStatus.FAILED)
#: only a proposed claim's notices name a claim: the index of the rows that settle when it
#: is decided holds those few rows, and no write of a planned reminder touches it
CLAIM_WHERE = text("claim_id IS NOT NULL")
#: the same for the rows that name a status update (its reminders and notices): deciding
#: the update settles the reviewers' ones, found by this index and not by reading the table
UPDATE_WHERE = text("update_id IS NOT NULL")


def _partial(name: str, columns: list[str], where) -> Index:
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


def _reference(target: str, column: str, **options):
    """A many-to-one relationship of an outbox row by an id column without a foreign-key
    constraint (see ReminderItem)."""
    return relationship(
        target, primaryjoin=f"foreign(ReminderItem.{column}) == {target}.id", **options
    )


class ReminderItem(db.Model):
    """One reminder for one person: the outbox row. The unique key (recipient, measure, kind,
    occurrence) makes planning the same reminder twice a no-op. The same rows are the
    person's in-app notifications.

    Every row is written twice (planned, then sent, retried or failed: a run claims the
    recipient, not the rows, see ReminderClaim), each time in every index whose condition
    it meets, so the table has only the indexes a query needs: the unique key (also a
    person's notifications, by recipient) and partial indexes of the live states: sendable
    items by recipient and due time (the run's recipients, in order, and a claim's read),
    queued notices, and failed items by digest (the admin page). Sent rows are in none of
    the partial ones. Two more hold only the rows that name a proposed government claim, or
    a status update, by that record (settled when it is decided).

    No foreign-key constraints. A run plans about a million rows and writes each again
    when it claims and when it records the answer, and the database checks a foreign key
    row by row: on PostgreSQL those checks were 8.7 s of the 14.7 s INSERT at 5,000
    organisations × 100 links (EXPLAIN ANALYZE). Every id a row holds is read from its
    table by the statement that writes it (the planning SELECT joins the users, links and
    organisations; the digest id comes back from the digest's own INSERT), and those
    tables' rows are never deleted (deleting is archiving), so a row cannot point at
    nothing. tests/reminders/test_outbox_references.py checks it after every kind of
    write."""

    __tablename__ = "reminder_item"
    __table_args__ = (
        UniqueConstraint("recipient_id", "measure_id", "kind", "occurrence"),
        _partial("ix_reminder_item_sendable", ["recipient_id", "next_attempt_dt"], SENDABLE_WHERE),
        _partial("ix_reminder_item_queued", ["id"], QUEUED_WHERE),
        _partial("ix_reminder_item_failed_digest", ["digest_id"], FAILED_WHERE),
        _partial("ix_reminder_item_claim", ["claim_id"], CLAIM_WHERE),
        _partial("ix_reminder_item_update", ["update_id"], UPDATE_WHERE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: user_account.id
    recipient_id: Mapped[int] = mapped_column(Integer)
    #: measure.id
    measure_id: Mapped[int] = mapped_column(Integer)
    #: ReminderKind key
    kind: Mapped[ReminderKind] = mapped_column(EnumText(ReminderKind, 30))
    #: which occurrence of the kind this is, e.g. "2022-12-31/90" (due date / days before)
    occurrence: Mapped[str] = mapped_column(String(80))
    #: the organisation the reminder is about (monitors' kinds), if any
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    #: the status update the reminder is about (returned, waiting for review), if any
    update_id: Mapped[int | None] = mapped_column(Integer)
    #: the proposed government claim the notice is about (government_claim.id), if any
    claim_id: Mapped[int | None] = mapped_column(Integer)
    #: the milestone whose date the reminder is about, if any
    milestone_id: Mapped[int | None] = mapped_column(Integer)
    #: the date the reminder counts towards or from (due date, last update, submission)
    reference_date: Mapped[date] = mapped_column(Date)
    #: days left (deadline_approaching) or days past it (overdue, stale, waiting)
    day_count: Mapped[int] = mapped_column(Integer, default=0)
    #: DeliveryStatus: pending → sent | retry | failed; in_app_only when mail is off
    status: Mapped[DeliveryStatus] = mapped_column(
        EnumText(DeliveryStatus, 20), default=DeliveryStatus.PENDING
    )
    #: the run's time when the item was planned
    planned_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: not before this time may a run send it (planning time, then the retry backoff)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    #: failed deliveries so far
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: the digest that carried it (or last tried to): reminder_digest.id
    digest_id: Mapped[int | None] = mapped_column(Integer)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the latest delivery error (SMTP code and text), for admins
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: when the person marked it read in the app
    read_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = _reference("User", "recipient_id")  # noqa: F821
    measure: Mapped[Measure] = _reference("Measure", "measure_id")  # noqa: F821
    organisation: Mapped[Organisation | None] = _reference(  # noqa: F821
        "Organisation", "organisation_id"
    )
    milestone: Mapped[Milestone | None] = _reference("Milestone", "milestone_id")  # noqa: F821
    digest: Mapped[ReminderDigest | None] = _reference(
        "ReminderDigest", "digest_id", back_populates="items"
    )

    @property
    def is_read(self) -> bool:
        return self.read_dt is not None


class ReminderClaim(db.Model):
    """A delivery run's hold on one recipient while it sends the recipient's digest: at
    most one per recipient (the key), so two processes never send the same items. A run
    inserts the claims of a batch of recipients (a recipient already claimed is skipped),
    reads the claimed recipients' sendable items, and commits before it sends anything;
    recording the server's answer marks those items and deletes the claim in one
    transaction. A claim older than CLAIM_TIMEOUT (wall clock) was left by a process that
    died, and a later run deletes it: the items, still sendable, go out again.

    A lock, not history: the digests (ReminderDigest) record every attempt. Claiming the
    recipient instead of the items spares a write of every item: at 950,500 items the
    claim's UPDATE was a third of the outbox's writes."""

    __tablename__ = "reminder_claim"

    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id"), primary_key=True, autoincrement=False
    )
    #: the batch's random part, a dot and the recipient id (the digest's Message-ID)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    #: wall-clock time of the claim (or of the run's latest refresh of it)
    claimed_dt: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderDigest(db.Model):
    """One email to one person: one attempt to deliver the items claimed together."""

    __tablename__ = "reminder_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the claim that gathered the items; also the Message-ID's unique part
    claim_token: Mapped[str] = mapped_column(String(40), unique=True)
    #: DigestStatus: sending → sent | retry | failed, or interrupted (a stale claim)
    status: Mapped[DigestStatus] = mapped_column(
        EnumText(DigestStatus, 20), default=DigestStatus.SENDING, index=True
    )
    #: the address and language it was written for
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the SMTP server's reply code when it refused (4xx, 5xx); None when accepted or unreachable
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = relationship()  # noqa: F821
    items: Mapped[list[ReminderItem]] = relationship(
        primaryjoin="ReminderDigest.id == foreign(ReminderItem.digest_id)",
        back_populates="digest",
    )


class ReminderSetting(db.Model):
    """The admin's settings for one kind of reminder. A kind without a row uses the
    defaults in services.reminders.DEFAULT_SETTINGS."""

    __tablename__ = "reminder_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ReminderKind key
    kind: Mapped[ReminderKind] = mapped_column(EnumText(ReminderKind, 30), unique=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: deadline_approaching: days before the due date, e.g. [90, 30, 7]
    offsets_days: Mapped[list] = mapped_column(JSON, default=list)
    #: overdue: repeat every N days; update_stale: the cadence; review_waiting: the wait
    interval_days: Mapped[int | None] = mapped_column(Integer)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ReminderOptOut(db.Model):
    """A person has stopped one kind of reminder (by the email's unsubscribe link or on the
    notifications page). Subscribing again clears `is_active`; the row is kept."""

    __tablename__ = "reminder_opt_out"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: ReminderKind key
    kind: Mapped[ReminderKind] = mapped_column(EnumText(ReminderKind, 30))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ReminderPlanning(db.Model):
    """A day's planning of the reminders that depend on the day (deadlines, overdue,
    milestones, no recent update, returned updates): what it was planned from, and how
    many were due. A second run the same day from the same inputs would plan the same
    reminders, all already in the outbox, so it skips that work
    (services.reminders.planning)."""

    __tablename__ = "reminder_planning"

    #: the Baku date planned for
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: a digest of the inputs: the public data's version, the people who receive link
    #: reminders (role, enabled, organisation), their opt-outs and the admin's settings
    inputs_key: Mapped[str] = mapped_column(String(64))
    #: reminders the rules called for
    due_count: Mapped[int] = mapped_column(Integer)
    planned_dt: Mapped[datetime] = mapped_column(UTCDateTime)


#: APScheduler 3's persistent job store (SQLAlchemyJobStore, tablename "scheduler_job"),
#: declared here so that create_all and the migrations know it. APScheduler declares the
#: same columns on its own metadata and finds the table already there. Keeping the jobs'
#: next run times in the database is what lets a scheduler that was down catch up once.
scheduler_job_table = Table(
    "scheduler_job",
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
