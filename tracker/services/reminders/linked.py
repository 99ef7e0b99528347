"""The reminders of monitoring links as one set-based statement.

Python decides, from the measures' states (services.plans, the only source of due dates,
completion and overdue) and the admin's settings, what each *measure* calls for today: its
deadline or overdue occurrence, its milestones' occurrences, whether it is still open, and
each organisation's latest approved update on it. Those few rows per measure go into
temporary tables, filled once per run. One SELECT then multiplies them by the active links
and their organisations' monitors, leaving out opt-outs: SQL never decides "overdue" on its
own, it only repeats each measure's decision for every link, and counts the days since an
organisation's last approved update (or the link's start) for "no recent update".

The same SELECT feeds `plan_reminders` (a list, for tests and dry runs) and the outbox
(INSERT ... SELECT of the rows not in it yet, see services.reminders.outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from tracker.models import (
    AWAITING_REVIEW,
    MonitoringLink,
    Organisation,
    ReminderOptOut,
    StatusUpdate,
    User,
)
from tracker.vocabulary import ReminderKind, Role

_metadata = MetaData()
#: the columns of a planned reminder, in the order of the outbox INSERT, with their types
COLUMN_TYPES = {
    "recipient_id": Integer,
    "measure_id": Integer,
    "kind": String(30),
    "occurrence": String(80),
    "organisation_id": Integer,
    "update_id": Integer,
    "milestone_id": Integer,
    "reference_date": Date,
    "day_count": Integer,
}
COLUMNS = tuple(COLUMN_TYPES)


def _temporary(name: str, *columns: Column) -> Table:
    """A temporary table of the run (create_tables makes it anew)."""
    return Table(name, _metadata, *columns, prefixes=["TEMPORARY"])


def _planned(*names: str) -> list[Column]:
    """Columns of a planned reminder, by name."""
    return [Column(name, COLUMN_TYPES[name]) for name in names]


def _link_key() -> list[Column]:
    """(organisation, measure): the key of a table with a row per link."""
    return [
        Column("organisation_id", Integer, primary_key=True),
        Column("measure_id", Integer, primary_key=True),
    ]


#: each measure's deadline, overdue and milestone occurrences for today
OCCURRENCES = _temporary(
    "tmp_reminder_occurrence",
    *_planned("measure_id", "kind", "occurrence", "reference_date", "day_count", "milestone_id"),
)
#: the measures that are not complete (only they get "no recent update")
OPEN_MEASURES = _temporary("tmp_reminder_open", Column("measure_id", Integer, primary_key=True))
#: each organisation's latest approved update on an open measure, from the states
APPROVED = _temporary("tmp_reminder_approved", *_link_key(), Column("approved_on", Date))
#: the active links, one row per (organisation, measure): the earliest start counts
PAIRS = _temporary("tmp_reminder_pair", *_link_key(), Column("start_date", Date))
#: every link reminder due today (the rows of `due_reminders`), before the outbox takes them
DUE = _temporary("tmp_reminder_due", *_planned(*COLUMNS))
TABLES = (OCCURRENCES, OPEN_MEASURES, APPROVED, PAIRS, DUE)


def create_tables(session: Session, today: date, share: Share | None = None) -> set[int]:
    """(Re)create the run's temporary tables, with today's active links in PAIRS (of the
    share's organisations only, when a share is given); returns the measures they link."""
    connection = session.connection()
    for table in TABLES:
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        table.create(connection)
    pairs = active_pairs(today, share)
    connection.execute(PAIRS.insert().from_select(list(pairs.c.keys()), select(pairs)))
    return set(connection.execute(select(PAIRS.c.measure_id).distinct()).scalars())


def fill_tables(
    session: Session, occurrences: list[dict], open_ids: list[int], approved: list[dict]
) -> None:
    """Fill the per-measure tables: a constant number of statements, COPY on PostgreSQL."""
    connection = session.connection()
    open_rows = [{"measure_id": measure_id} for measure_id in open_ids]
    for table, rows in (
        (OCCURRENCES, occurrences),
        (OPEN_MEASURES, open_rows),
        (APPROVED, approved),
    ):
        _load(session, table, rows)
    if connection.dialect.name == "postgresql":
        for table in (OCCURRENCES, OPEN_MEASURES, APPROVED, PAIRS):
            connection.execute(text(f"ANALYZE {table.name}"))


def _load(session: Session, table: Table, rows: list[dict]) -> None:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # one statement either way (the table is new and empty: the DELETE is a no-op)
        connection.execute(table.insert(), rows) if rows else connection.execute(table.delete())
        return
    names = [c.name for c in table.columns]
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def drop_tables(session: Session) -> None:
    connection = session.connection()
    for table in TABLES:
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


@dataclass(frozen=True)
class Share:
    """The organisations whose id leaves `index` when divided by `count`: one of the
    parts a large planning is split into (services.reminders.planning). A person belongs
    to one organisation, so a share's reminders are those of its organisations' monitors."""

    index: int
    count: int

    def holds(self, organisation_id: int) -> bool:
        return organisation_id % self.count == self.index


def active_pairs(today: date, share: Share | None = None):
    """(organisation, measure, start) of the links active today of organisations that are
    not archived (of the share's organisations only, when a share is given); one per pair,
    the earliest start counts."""
    in_share = (
        true() if share is None else MonitoringLink.organisation_id % share.count == share.index
    )
    return (
        select(
            MonitoringLink.organisation_id,
            MonitoringLink.measure_id,
            func.min(MonitoringLink.start_date).label("start_date"),
        )
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(
            MonitoringLink.start_date <= today,
            (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= today),
            Organisation.is_archived.is_(False),
            in_share,
        )
        .group_by(MonitoringLink.organisation_id, MonitoringLink.measure_id)
        .subquery("active_pair")
    )


def monitor_of(organisation_id):
    """The join condition of an organisation's enabled monitors."""
    return and_(
        User.organisation_id == organisation_id,
        User.role == Role.MONITOR,
        User.is_enabled.is_(True),
    )


def _days_since(dialect: str, today: date, day):
    """Whole days from `day` to `today`."""
    if dialect == "postgresql":
        return literal(today, Date) - day
    return cast(func.julianday(literal(today, Date)) - func.julianday(day), Integer)


def _iso(dialect: str, day):
    if dialect == "postgresql":
        return func.to_char(day, "YYYY-MM-DD")
    return cast(day, String)


def _occurrence_rows(pair):
    """Every measure occurrence, for each monitor of each organisation linked to it."""
    return select(
        User.id.label("recipient_id"),
        pair.c.measure_id,
        OCCURRENCES.c.kind,
        OCCURRENCES.c.occurrence,
        pair.c.organisation_id,
        cast(null(), Integer).label("update_id"),
        OCCURRENCES.c.milestone_id,
        OCCURRENCES.c.reference_date,
        OCCURRENCES.c.day_count,
    ).select_from(
        pair.join(OCCURRENCES, OCCURRENCES.c.measure_id == pair.c.measure_id).join(
            User, monitor_of(pair.c.organisation_id)
        )
    )


def _stale_rows(dialect: str, pair, today: date, interval_days: int):
    """Links of open measures whose organisation's last approved update (or the link's
    start, if later) is `interval_days` old or more, with no update waiting for review:
    once per interval."""
    awaiting = exists().where(
        StatusUpdate.organisation_id == pair.c.organisation_id,
        StatusUpdate.measure_id == pair.c.measure_id,
        AWAITING_REVIEW,  # as the partial index has it
    )
    approved = APPROVED.c.approved_on
    last = (
        select(
            pair.c.organisation_id,
            pair.c.measure_id,
            case(
                (and_(approved.is_not(None), approved > pair.c.start_date), approved),
                else_=pair.c.start_date,
            ).label("last"),
        )
        .select_from(
            pair.join(OPEN_MEASURES, OPEN_MEASURES.c.measure_id == pair.c.measure_id).outerjoin(
                APPROVED,
                and_(
                    APPROVED.c.organisation_id == pair.c.organisation_id,
                    APPROVED.c.measure_id == pair.c.measure_id,
                ),
            )
        )
        .where(~awaiting)
        .subquery("last_update")
    )
    waited = _days_since(dialect, today, last.c.last)
    return (
        select(
            User.id.label("recipient_id"),
            last.c.measure_id,
            literal(str(ReminderKind.UPDATE_STALE), String(30)).label("kind"),
            (_iso(dialect, last.c.last) + "/" + cast(waited // interval_days, String)).label(
                "occurrence"
            ),
            last.c.organisation_id,
            cast(null(), Integer).label("update_id"),
            cast(null(), Integer).label("milestone_id"),
            last.c.last.label("reference_date"),
            waited.label("day_count"),
        )
        .select_from(last.join(User, monitor_of(last.c.organisation_id)))
        .where(waited >= interval_days)
    )


def collect_due(session: Session, today: date, stale_interval: int | None) -> int:
    """Put every link reminder due today into DUE (one INSERT ... SELECT from the filled
    tables) and return how many there are."""
    statement = _linked_reminders(session, today, stale_interval)
    session.execute(DUE.insert().from_select(list(COLUMNS), statement))
    return session.scalar(select(func.count()).select_from(DUE))


def due_reminders():
    """The rows of DUE, as a SELECT of the PlannedReminder columns."""
    return select(*(DUE.c[name] for name in COLUMNS))


def _linked_reminders(session: Session, today: date, stale_interval: int | None):
    """The SELECT of every link reminder due today (from the filled tables), without the
    kinds people stopped; one row per outbox key."""
    dialect = session.get_bind().dialect.name
    pair = PAIRS
    parts = [_occurrence_rows(pair)]
    if stale_interval:
        parts.append(_stale_rows(dialect, pair, today, stale_interval))
    rows = union_all(*parts).subquery("due")
    stopped = exists().where(
        ReminderOptOut.user_id == rows.c.recipient_id,
        ReminderOptOut.kind == rows.c.kind,
        ReminderOptOut.is_active.is_(True),
    )
    return select(*(rows.c[name] for name in COLUMNS)).where(~stopped)
