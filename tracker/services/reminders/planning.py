"""Deadline reminders that arrive exactly once.

A run has two steps, both idempotent:

1. **Plan.** From the measures' states (services.status, the only source of due dates,
   completion and overdue), the monitoring links, the review queue and the admin's
   settings, work out which reminders are due today. Each is inserted into the outbox
   (`ReminderItem`) with INSERT ... ON CONFLICT DO NOTHING on its unique key (recipient,
   measure, kind, occurrence), so planning the same reminder twice is a no-op, whichever
   process or scheduler does it.
2. **Deliver.** Per recipient, claim the items that may be sent now with one conditional
   UPDATE (status pending/retry → sending, with a fresh claim token) and commit, so two
   processes never send the same item. Build one digest email from the claimed items,
   send it, and only when the SMTP server accepted it (250) mark the items sent; commit
   right after each send. A 4xx answer or a connection failure puts the items back to
   "retry" with exponential backoff for a later run; a 5xx answer marks them failed, and
   admins see them on /admin/reminders. After a connection failure the run stops sending:
   the rest stay pending for the next run rather than each waiting for a timeout.

Stale claims: a process that dies between its claim and its commit leaves items in
"sending". A run treats a claim older than CLAIM_TIMEOUT (wall clock) as interrupted and
returns its items to "retry". A live sender finishes a digest in seconds (the SMTP timeout
is 10 s per step), so this never takes items from a process that is still working. The
one case it can send twice is a crash in the milliseconds between the server's 250 and
our commit; losing a reminder silently would be worse, so the policy is at-least-once in
that window and exactly-once everywhere else.

Without SMTP (no SMTP_HOST) the run logs that mail is off, and the items stay in the app
(status in_app_only) instead of being mailed in a burst once mail is switched on.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from tracker import clock
from tracker.models import (
    Measure,
    Milestone,
    MonitoringLink,
    Organisation,
    ReminderDigest,
    ReminderItem,
    ReminderOptOut,
    ReminderSetting,
    StatusUpdate,
    User,
)
from tracker.services import audit
from tracker.services.plans import MeasureState, measure_states
from tracker.vocabulary import (
    Completion,
    DeliveryStatus,
    DigestStatus,
    ReminderKind,
    ReviewState,
    Role,
)

logger = logging.getLogger(__name__)


#: a claim older than this (wall clock) is taken to belong to a process that died
CLAIM_TIMEOUT = timedelta(minutes=15)
#: retry backoff: 15 min, 30 min, 1 h, 2 h, 4 h, then every 6 h
RETRY_BASE = timedelta(minutes=15)
RETRY_CAP = timedelta(hours=6)
#: after this many failed deliveries (about three days) an item is marked failed
MAX_ATTEMPTS = 16
#: rows per INSERT statement when recording planned items
INSERT_CHUNK = 5000
UNSUBSCRIBE_SALT = "unsubscribe"


#: Kinds that go to monitors; review_waiting goes to reviewers.
MONITOR_KINDS = (
    ReminderKind.DEADLINE_APPROACHING,
    ReminderKind.OVERDUE,
    ReminderKind.UPDATE_STALE,
    ReminderKind.UPDATE_RETURNED,
)


SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY)


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindSettings:
    kind: ReminderKind
    is_enabled: bool = True
    #: deadline_approaching: days before the due date
    offsets_days: tuple[int, ...] = ()
    #: overdue: repeat interval; update_stale: the cadence; review_waiting: the wait
    interval_days: int | None = None


def default_settings() -> dict[ReminderKind, KindSettings]:
    cadence = int(current_app.config.get("REPORTING_CADENCE_DAYS") or 90)
    return {
        ReminderKind.DEADLINE_APPROACHING: KindSettings(
            ReminderKind.DEADLINE_APPROACHING, offsets_days=(90, 30, 7)
        ),
        ReminderKind.OVERDUE: KindSettings(ReminderKind.OVERDUE, interval_days=30),
        ReminderKind.UPDATE_STALE: KindSettings(ReminderKind.UPDATE_STALE, interval_days=cadence),
        ReminderKind.UPDATE_RETURNED: KindSettings(ReminderKind.UPDATE_RETURNED),
        ReminderKind.REVIEW_WAITING: KindSettings(ReminderKind.REVIEW_WAITING, interval_days=7),
    }


def load_settings(session: Session) -> dict[ReminderKind, KindSettings]:
    """The settings in force: the admin's rows over the defaults."""
    settings = default_settings()
    for row in session.scalars(select(ReminderSetting)):
        if row.kind not in ReminderKind.__members__.values():
            continue
        kind = ReminderKind(row.kind)
        default = settings[kind]
        settings[kind] = KindSettings(
            kind,
            is_enabled=row.is_enabled,
            offsets_days=tuple(sorted({int(d) for d in row.offsets_days or []}, reverse=True))
            if default.offsets_days
            else (),
            interval_days=row.interval_days if default.interval_days is not None else None,
        )
    return settings


def save_settings(session: Session, new: KindSettings, actor: User | None) -> bool:
    """Store one kind's settings and audit the change. Returns False when nothing changed."""
    current = load_settings(session)[new.kind]
    if current == new:
        return False
    row = session.scalar(select(ReminderSetting).where(ReminderSetting.kind == new.kind))
    if row is None:
        row = ReminderSetting(kind=str(new.kind))
        session.add(row)
    row.is_enabled = new.is_enabled
    row.offsets_days = list(new.offsets_days)
    row.interval_days = new.interval_days
    row.updated_by_id = getattr(actor, "id", None)
    audit.record(
        session,
        "reminders.settings_changed",
        "reminder_setting",
        str(new.kind),
        actor=actor,
        details={
            "before": _settings_dict(current),
            "after": _settings_dict(new),
        },
    )
    return True


def _settings_dict(settings: KindSettings) -> dict:
    return {
        "is_enabled": settings.is_enabled,
        "offsets_days": list(settings.offsets_days),
        "interval_days": settings.interval_days,
    }


# --- opting out -----------------------------------------------------------------------------


def opted_out_kinds(session: Session, user_id: int) -> set[ReminderKind]:
    rows = session.scalars(
        select(ReminderOptOut.kind).where(
            ReminderOptOut.user_id == user_id, ReminderOptOut.is_active.is_(True)
        )
    )
    return {ReminderKind(kind) for kind in rows if kind in ReminderKind.__members__.values()}


def set_subscription(session: Session, user: User, kind: ReminderKind, subscribed: bool) -> bool:
    """Stop or restart one kind for one person. Stopping also cancels that kind's items
    that have not gone out yet. Returns False when nothing changed."""
    row = session.scalar(
        select(ReminderOptOut).where(ReminderOptOut.user_id == user.id, ReminderOptOut.kind == kind)
    )
    currently_subscribed = row is None or not row.is_active
    if currently_subscribed == subscribed:
        return False
    if row is None:
        row = ReminderOptOut(user_id=user.id, kind=str(kind))
        session.add(row)
    row.is_active = not subscribed
    if not subscribed:
        session.execute(
            update(ReminderItem)
            .where(
                ReminderItem.recipient_id == user.id,
                ReminderItem.kind == kind,
                ReminderItem.status.in_(SENDABLE),
            )
            .values(status=DeliveryStatus.CANCELLED)
        )
    audit.record(
        session,
        "reminders.subscribed" if subscribed else "reminders.unsubscribed",
        "user",
        user.id,
        actor=user,
        details={"kind": str(kind)},
    )
    return True


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def make_unsubscribe_token(user_id: int, kind: ReminderKind) -> str:
    """A signed token naming one person and one kind. It does not expire: a link in an
    old email must still work."""
    return _unsubscribe_serializer().dumps({"u": user_id, "k": str(kind)})


class InvalidUnsubscribeToken(Exception):
    """The token was not made by this site, or was altered."""


def read_unsubscribe_token(token: str) -> tuple[int, ReminderKind]:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature as error:
        raise InvalidUnsubscribeToken from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), int)
        or data.get("k") not in ReminderKind.__members__.values()
    ):
        raise InvalidUnsubscribeToken
    return data["u"], ReminderKind(data["k"])


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
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


def _smallest_crossed(days_left: int, offsets: Iterable[int]) -> int | None:
    """The reminder window the date is in: of the offsets already reached, the nearest one.
    A run that missed the 90-day day still sends it the next day, and a link created 20
    days before the due date gets the 30-day reminder, not the 90-day one as well."""
    crossed = [o for o in offsets if days_left <= o]
    return min(crossed) if crossed else None


def _measure_occurrences(
    state: MeasureState, settings: dict[ReminderKind, KindSettings]
) -> list[tuple[ReminderKind, str, date, int]]:
    """Deadline and overdue occurrences of a measure, from its state alone."""
    if state.completion == Completion.COMPLETE:
        return []
    found = []
    deadline = settings[ReminderKind.DEADLINE_APPROACHING]
    overdue = settings[ReminderKind.OVERDUE]
    if state.days_remaining > 0:
        if deadline.is_enabled:
            offset = _smallest_crossed(state.days_remaining, deadline.offsets_days)
            if offset is not None:
                found.append(
                    (
                        ReminderKind.DEADLINE_APPROACHING,
                        f"{state.due_date.isoformat()}/{offset}",
                        state.due_date,
                        state.days_remaining,
                    )
                )
    elif overdue.is_enabled and overdue.interval_days:
        # The due date has come and the measure is not complete: on the due date, then
        # every interval. One occurrence per interval, so a missed day is caught up once.
        period = state.days_overdue // overdue.interval_days
        found.append(
            (
                ReminderKind.OVERDUE,
                f"{state.due_date.isoformat()}/{period}",
                state.due_date,
                state.days_overdue,
            )
        )
    return found


def plan_reminders(
    session: Session, today: date, now: datetime, settings=None
) -> list[PlannedReminder]:
    """Every reminder the rules call for on `today`, whether or not it is in the outbox.
    A constant number of queries, whatever the number of organisations and measures."""
    settings = settings or load_settings(session)
    opted_out = {
        (user_id, kind)
        for user_id, kind in session.execute(
            select(ReminderOptOut.user_id, ReminderOptOut.kind).where(
                ReminderOptOut.is_active.is_(True)
            )
        )
    }
    monitors_by_org: dict[int, list[int]] = defaultdict(list)
    for user_id, organisation_id in session.execute(
        select(User.id, User.organisation_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.role == Role.MONITOR,
            User.is_enabled.is_(True),
            Organisation.is_archived.is_(False),
        )
        .order_by(User.id)
    ):
        monitors_by_org[organisation_id].append(user_id)

    links = session.execute(
        select(MonitoringLink.organisation_id, MonitoringLink.measure_id, MonitoringLink.start_date)
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(
            MonitoringLink.start_date <= today,
            (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= today),
            Organisation.is_archived.is_(False),
        )
        .order_by(MonitoringLink.organisation_id, MonitoringLink.measure_id)
    ).all()
    links = [link for link in links if link.organisation_id in monitors_by_org]
    # One active link per (organisation, measure): the earliest start counts.
    link_start: dict[tuple[int, int], date] = {}
    for link in links:
        key = (link.organisation_id, link.measure_id)
        link_start[key] = min(link.start_date, link_start.get(key, link.start_date))

    measure_ids = sorted({measure_id for _org, measure_id in link_start})
    measures = (
        session.scalars(select(Measure).where(Measure.id.in_(measure_ids))).all()
        if measure_ids
        else []
    )
    states = measure_states(session, measures, today)

    planned: dict[tuple, PlannedReminder] = {}

    def add(recipients: Iterable[int], **values) -> None:
        kind = values["kind"]
        for recipient_id in recipients:
            if (recipient_id, kind) in opted_out:
                continue
            reminder = PlannedReminder(recipient_id=recipient_id, **values)
            planned.setdefault(reminder.key, reminder)

    occurrences = {
        measure_id: _measure_occurrences(state, settings) for measure_id, state in states.items()
    }
    stale = settings[ReminderKind.UPDATE_STALE]
    awaiting_review = _organisations_awaiting_review(session, measure_ids) if measure_ids else set()
    # each organisation's latest approved update per measure, from the states
    last_approved = {
        (a.organisation_id, measure_id): a.as_of_date
        for measure_id, state in states.items()
        for a in state.assessments
    }
    for (organisation_id, measure_id), start in link_start.items():
        recipients = monitors_by_org[organisation_id]
        for kind, occurrence, reference, day_count in occurrences[measure_id]:
            add(
                recipients,
                measure_id=measure_id,
                kind=kind,
                occurrence=occurrence,
                reference_date=reference,
                day_count=day_count,
                organisation_id=organisation_id,
            )
        state = states[measure_id]
        if (
            stale.is_enabled
            and stale.interval_days
            and state.completion != Completion.COMPLETE
            and (organisation_id, measure_id) not in awaiting_review
        ):
            approved = last_approved.get((organisation_id, measure_id))
            last = max(start, approved) if approved else start
            waited = (today - last).days
            if waited >= stale.interval_days:
                add(
                    recipients,
                    measure_id=measure_id,
                    kind=ReminderKind.UPDATE_STALE,
                    occurrence=f"{last.isoformat()}/{waited // stale.interval_days}",
                    reference_date=last,
                    day_count=waited,
                    organisation_id=organisation_id,
                )

    deadline = settings[ReminderKind.DEADLINE_APPROACHING]
    if deadline.is_enabled and measure_ids:
        _plan_milestones(
            session, today, measure_ids, states, link_start, monitors_by_org, add, deadline
        )
    if settings[ReminderKind.UPDATE_RETURNED].is_enabled:
        _plan_returned(session, today, link_start, monitors_by_org, add)
    waiting = settings[ReminderKind.REVIEW_WAITING]
    if waiting.is_enabled and waiting.interval_days:
        _plan_review_waiting(session, now, waiting.interval_days, add)
    return sorted(planned.values(), key=lambda r: r.key)


def _organisations_awaiting_review(session: Session, measure_ids: list[int]) -> set[tuple]:
    """(organisation, measure) pairs with an update in the review queue: the monitor has
    done their part, so no "stale" reminder."""
    return {
        (organisation_id, measure_id)
        for organisation_id, measure_id in session.execute(
            select(StatusUpdate.organisation_id, StatusUpdate.measure_id)
            .where(
                StatusUpdate.review_state == ReviewState.SUBMITTED,
                StatusUpdate.is_archived.is_(False),
                StatusUpdate.measure_id.in_(measure_ids),
            )
            .distinct()
        )
    }


def _plan_milestones(
    session, today, measure_ids, states, link_start, monitors_by_org, add, settings
):
    """Non-final milestones with a date of their own get the same "days before" reminders
    as due dates (a final milestone already is the measure's due date, via status.py)."""
    rows = session.execute(
        select(Milestone.id, Milestone.measure_id, Milestone.due_date).where(
            Milestone.measure_id.in_(measure_ids),
            Milestone.is_final.is_(False),
            Milestone.due_date > today,
        )
    ).all()
    organisations_by_measure: dict[int, list[int]] = defaultdict(list)
    for organisation_id, measure_id in link_start:
        organisations_by_measure[measure_id].append(organisation_id)
    for milestone_id, measure_id, due in rows:
        if states[measure_id].completion == Completion.COMPLETE:
            continue
        days_left = (due - today).days
        offset = _smallest_crossed(days_left, settings.offsets_days)
        if offset is None:
            continue
        for organisation_id in organisations_by_measure[measure_id]:
            add(
                monitors_by_org[organisation_id],
                measure_id=measure_id,
                kind=ReminderKind.DEADLINE_APPROACHING,
                occurrence=f"milestone-{milestone_id}:{due.isoformat()}/{offset}",
                reference_date=due,
                day_count=days_left,
                organisation_id=organisation_id,
                milestone_id=milestone_id,
            )


def _plan_returned(session, today, link_start, monitors_by_org, add):
    """A returned update that has not been revised: once per return, to the monitors of
    the organisation whose update it is, while it still monitors the measure."""
    newer = aliased(StatusUpdate)
    rows = session.execute(
        select(
            StatusUpdate.id,
            StatusUpdate.measure_id,
            StatusUpdate.organisation_id,
            StatusUpdate.decided_dt,
            StatusUpdate.created_dt,
        ).where(
            StatusUpdate.review_state == ReviewState.RETURNED,
            StatusUpdate.is_archived.is_(False),
            ~exists().where(
                and_(newer.replaces_id == StatusUpdate.id, newer.is_archived.is_(False))
            ),
        )
    ).all()
    for update_id, measure_id, organisation_id, decided_dt, created_dt in rows:
        if (organisation_id, measure_id) not in link_start:
            continue
        returned_on = clock.baku_date(decided_dt or created_dt)
        add(
            monitors_by_org[organisation_id],
            measure_id=measure_id,
            kind=ReminderKind.UPDATE_RETURNED,
            occurrence=f"update-{update_id}/{(decided_dt or created_dt):%Y%m%dT%H%M%S}",
            reference_date=returned_on,
            day_count=max((today - returned_on).days, 0),
            organisation_id=organisation_id,
            update_id=update_id,
        )


def _plan_review_waiting(session, now, wait_days, add):
    """Items that have waited in the review queue for more than `wait_days`: to every
    reviewer, once per `wait_days` of waiting."""
    reviewers = session.scalars(
        select(User.id).where(User.role == Role.REVIEWER, User.is_enabled.is_(True))
    ).all()
    if not reviewers:
        return
    limit = now - timedelta(days=wait_days)
    rows = session.execute(
        select(
            StatusUpdate.id,
            StatusUpdate.measure_id,
            StatusUpdate.organisation_id,
            StatusUpdate.submitted_dt,
        ).where(
            StatusUpdate.review_state == ReviewState.SUBMITTED,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.submitted_dt.is_not(None),
            StatusUpdate.submitted_dt < limit,
        )
    ).all()
    for update_id, measure_id, organisation_id, submitted_dt in rows:
        waited = (now - submitted_dt).days
        add(
            reviewers,
            measure_id=measure_id,
            kind=ReminderKind.REVIEW_WAITING,
            occurrence=f"update-{update_id}/{waited // wait_days}",
            reference_date=clock.baku_date(submitted_dt),
            day_count=waited,
            organisation_id=organisation_id,
            update_id=update_id,
        )


def record_planned(session: Session, planned: list[PlannedReminder], now: datetime) -> int:
    """Insert the planned reminders that are not in the outbox yet; returns how many were
    new. Rows go in key order, so two concurrent planners wait on each other instead of
    deadlocking on PostgreSQL."""
    if not planned:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # The table, not the mapped class: a plain executemany, without the ORM's per-row work.
    table = ReminderItem.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["recipient_id", "measure_id", "kind", "occurrence"])
        .returning(table.c.id)
    )
    new = 0
    for start in range(0, len(planned), INSERT_CHUNK):
        rows = [
            {
                "recipient_id": r.recipient_id,
                "measure_id": r.measure_id,
                "kind": str(r.kind),
                "occurrence": r.occurrence,
                "organisation_id": r.organisation_id,
                "update_id": r.update_id,
                "milestone_id": r.milestone_id,
                "reference_date": r.reference_date,
                "day_count": r.day_count,
                "status": str(DeliveryStatus.PENDING),
                "planned_dt": now,
                "next_attempt_dt": now,
                "attempts": 0,
                "last_error": "",
            }
            for r in planned[start : start + INSERT_CHUNK]
        ]
        new += len(session.execute(statement, rows).all())
    return new


# --- delivery -------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed delivery."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def recover_stale_claims(session: Session, now: datetime) -> int:
    """Items left in "sending" by a process that died go back to retry (see the module's
    doc for why this is the safe side)."""
    wall_now = clock.now_utc()
    result = session.execute(
        update(ReminderItem)
        .where(
            ReminderItem.status == DeliveryStatus.SENDING,
            ReminderItem.claimed_dt < wall_now - CLAIM_TIMEOUT,
        )
        .values(
            status=DeliveryStatus.RETRY,
            next_attempt_dt=now,
            last_error="interrupted while sending; the claim was recovered",
        )
    )
    return result.rowcount or 0


def _sendable(now: datetime):
    return and_(ReminderItem.status.in_(SENDABLE), ReminderItem.next_attempt_dt <= now)


def recipients_with_due_items(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(ReminderItem.recipient_id)
            .join(User, User.id == ReminderItem.recipient_id)
            .where(_sendable(now), User.is_enabled.is_(True))
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
        .where(ReminderItem.recipient_id == recipient_id, _sendable(now))
        .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_dt=clock.now_utc())
        .returning(ReminderItem.id)
    ).all()
    return token, list(claimed)


@dataclass
class RunReport:
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
            parts.append(f"{self.digests_sent} digests sent ({self.items_sent} reminders)")
            if self.digests_retry:
                parts.append(f"{self.digests_retry} to retry")
            if self.digests_failed:
                parts.append(f"{self.digests_failed} failed")
            if self.items_in_app_only:
                parts.append(f"{self.items_in_app_only} kept in the app only (mail is off)")
            if self.recovered_claims:
                parts.append(f"{self.recovered_claims} interrupted sends recovered")
            if self.stopped_early:
                parts.append("stopped early: the mail server could not be reached")
        return "; ".join(parts) + "."


def run_reminders(
    session: Session,
    now: datetime,
    today: date | None = None,
    *,
    dry_run: bool = False,
    plan: bool = True,
) -> RunReport:
    """Plan today's reminders and deliver every digest that is due. `now` is the run's
    time (aware); `today` defaults to its date in Asia/Baku. A dry run rolls back."""
    from tracker.services.reminders import digests as delivery

    if now.tzinfo is None:
        raise ValueError("run_reminders needs an aware datetime")
    today = today or clock.baku_date(now)
    report = RunReport(
        now=now, today=today, dry_run=dry_run, mail_enabled=delivery.mail_enabled(), planning=plan
    )

    if plan:
        planned = plan_reminders(session, today, now)
        report.planned = len(planned)
        report.new_items = record_planned(session, planned, now)
    if dry_run:
        report.previews = delivery.preview_digests(session, now)
        session.rollback()
        return report
    report.recovered_claims = recover_stale_claims(session, now)
    session.commit()
    if not report.mail_enabled:
        logger.info("Mail is off (SMTP_HOST is not set): reminders stay in the app only.")
        result = session.execute(
            update(ReminderItem).where(_sendable(now)).values(status=DeliveryStatus.IN_APP_ONLY)
        )
        report.items_in_app_only = result.rowcount or 0
        session.commit()
        return report
    delivery.deliver_due(session, now, report)
    logger.info("Reminder run: %s", report.summary())
    return report


def scheduled_reminders_job(session: Session, now: datetime) -> None:
    """The daily job (see tracker.scheduler): plan and deliver."""
    run_reminders(session, now, clock.today())


def scheduled_retry_job(session: Session, now: datetime) -> None:
    """The frequent job: deliver what is due (retries after backoff), without planning."""
    run_reminders(session, now, clock.today(), plan=False)


def failed_digests(session: Session, limit: int = 200) -> list[ReminderDigest]:
    """Digests the mail server refused for good whose items have not been requeued."""
    still_failed = exists().where(
        ReminderItem.digest_id == ReminderDigest.id,
        ReminderItem.status == DeliveryStatus.FAILED,
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
    from sqlalchemy import func

    rows = session.execute(select(ReminderItem.status, func.count()).group_by(ReminderItem.status))
    counts = {str(status): 0 for status in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    return counts


def requeue_failed_digest(session: Session, digest: ReminderDigest, actor: User | None) -> int:
    """An admin sends a failed digest's items again (say, after fixing the address): they
    go back to retry with a fresh count of attempts. Returns how many were requeued."""
    result = session.execute(
        update(ReminderItem)
        .where(ReminderItem.digest_id == digest.id, ReminderItem.status == DeliveryStatus.FAILED)
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
