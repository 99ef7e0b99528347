"""Which reminders are due today, to whom: the rules, from the measures' states
(services.plans, the only source of due dates, completion and overdue), the monitoring
links, the review queue and the admin's settings.

The reminders of monitoring links (deadline, overdue, milestones, no recent update) are
one set-based SELECT (services.reminders.linked) over tables that this module fills from
the measures' states, computed once for the whole batch; the outbox takes them with one
INSERT ... SELECT (`plan_outbox`; on PostgreSQL one per share of the organisations, from
several connections at once), and `plan_reminders` lists them. Returned updates and
the review queue are few and planned in Python. Recording is idempotent (a second planning
of the same reminder is a no-op); services.reminders.jobs runs it. Every rule takes a
constant number of queries, whatever the number of organisations and measures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, select, text
from sqlalchemy.orm import Session, aliased

from tracker import clock, data_version
from tracker.models import GovernmentClaim, Measure, ReminderOptOut, StatusUpdate, User
from tracker.services import monitoring
from tracker.services.plans import MeasureState, MilestoneStatus, measure_states
from tracker.services.reminders import linked
from tracker.services.reminders.notices import returned_occurrence
from tracker.services.reminders.outbox import (
    PlannedReminder,
    analyze_outbox,
    day_planned,
    record_day_planned,
    record_planned,
    record_selected,
)
from tracker.services.reminders.settings import KindSettings, load_settings
from tracker.vocabulary import Completion, MilestoneState, ReminderKind, ReviewState, Role


@dataclass
class _Collector:
    """The reminders planned so far, one per key, leaving out the kinds people stopped."""

    opted_out: set[tuple[int, str]]
    planned: dict[tuple, PlannedReminder] = field(default_factory=dict)

    def __call__(self, recipients: Iterable[int], **values) -> None:
        kind = values["kind"]
        for recipient_id in recipients:
            if (recipient_id, kind) in self.opted_out:
                continue
            reminder = PlannedReminder(recipient_id=recipient_id, **values)
            self.planned.setdefault(reminder.key, reminder)

    def in_key_order(self) -> list[PlannedReminder]:
        return sorted(self.planned.values(), key=lambda r: r.key)


def plan_reminders(
    session: Session, today: date, now: datetime, settings=None
) -> list[PlannedReminder]:
    """Every reminder the rules call for on `today`, whether or not it is in the outbox,
    in key order. A constant number of queries, whatever the number of organisations and
    measures."""
    settings = settings or load_settings(session)
    opted_out = _active_opt_outs(session)
    measure_ids = linked.create_tables(session, today)
    stale_interval = _fill_link_tables([session], today, settings, measure_ids)
    linked.collect_due(session, today, stale_interval)
    found = [
        PlannedReminder(**{**row._mapping, "kind": ReminderKind(row.kind)})
        for row in session.execute(linked.due_reminders())
    ]
    found += _plan_returned_reminders(session, today, settings, opted_out)
    found += _plan_review_reminders(session, today, settings, opted_out)
    linked.drop_tables(session)
    return sorted(found, key=lambda r: r.key)


def plan_outbox(
    session: Session, today: date, now: datetime, settings=None, *, connections: int = 1
) -> tuple[int, int]:
    """Plan today's reminders straight into the outbox with set-based SQL: returns how many
    the rules call for and how many of those were new to the outbox.

    All but the review queue's reminders depend on the day and on the inputs that
    `day_inputs_key` digests, not on the time of day: a run that finds today planned from
    the same inputs (a second run, another scheduler) knows they are all in the outbox and
    skips them. The review queue's few are planned every time: who may review an item
    also depends on the reviewers' past organisations, which the digest leaves out.

    `connections` > 1 (PostgreSQL): the link reminders are written by that many
    connections at once, each for a share of the organisations, and the others commit
    their shares before this returns. One INSERT of a million rows keeps one core busy
    for seconds; shares use the others. Planning is idempotent, so a run that fails after
    they committed leaves reminders that the next planning finds already there. A dry run
    (rolled back) keeps one connection."""
    _one_planner_at_a_time(session)
    settings = settings or load_settings(session)
    opted_out = _active_opt_outs(session)
    inputs_key = day_inputs_key(session, settings, opted_out)
    planned = day_planned(session, today)
    if planned is not None and planned.inputs_key == inputs_key:
        due, new = planned.due_count, 0
    else:
        due, new = _plan_day_reminders(session, today, now, settings, opted_out, connections)
        record_day_planned(session, today, inputs_key, due, now)
    waiting = _plan_review_reminders(session, today, settings, opted_out)
    new += record_planned(session, waiting, now)
    if new >= ANALYZE_AFTER:
        analyze_outbox(session)
    return due + len(waiting), new


def _plan_day_reminders(session, today, now, settings, opted_out, connections: int):
    """(due, new): the reminders of the day, into the outbox: every link reminder (one
    INSERT ... SELECT per share of the organisations) and the returned updates."""
    with _shares(session, connections) as sessions:
        count = len(sessions)

        def create(share_session, index):
            share = linked.Share(index, count) if count > 1 else None
            return linked.create_tables(share_session, today, share)

        measure_ids = set().union(*_each(sessions, create))
        stale_interval = _fill_link_tables(sessions, today, settings, measure_ids)

        def plan_share(share_session, _index):
            due = linked.collect_due(share_session, today, stale_interval)
            new = record_selected(share_session, linked.due_reminders(), now)
            returned = _plan_returned_reminders(share_session, today, settings, opted_out)
            linked.drop_tables(share_session)
            return due, new, returned

        planned = _each(sessions, plan_share)
    returned = sorted((r for _due, _new, share in planned for r in share), key=lambda r: r.key)
    new = sum(share_new for _due, share_new, _returned in planned)
    new += record_planned(session, returned, now)
    return sum(due for due, _new, _returned in planned) + len(returned), new


#: the advisory lock of planning on PostgreSQL ("RMND"); the second key is the schema's hash
PLANNING_LOCK_CLASS = 0x524D4E44


def _one_planner_at_a_time(session: Session) -> None:
    """On PostgreSQL, a planner waits for another's transaction to end (then finds the
    day planned). Two planners at once could otherwise wait on each other for ever: a
    share's connection waits for a row another planner inserted, while that planner's
    shares commit only once all of its shares are done, which the database cannot see as
    a deadlock. SQLite lets one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
            {"k": PLANNING_LOCK_CLASS},
        )


@contextmanager
def _shares(session: Session, connections: int):
    """The sessions that plan a share each: `session` first, then (PostgreSQL only) a
    session of its own per other connection, committed when the block ends without an
    error and rolled back otherwise."""
    if connections <= 1 or session.get_bind().dialect.name != "postgresql":
        yield [session]
        return
    others = [Session(bind=session.get_bind()) for _ in range(connections - 1)]
    try:
        yield [session, *others]
        for other in others:
            other.commit()
    finally:
        for other in others:
            other.close()


def _each(sessions: list[Session], work) -> list:
    """`work(session, index)` for every session at once: the first in this thread, the
    others in threads of their own (the database does the work, so they run in parallel);
    the results in order. An error in any is raised once all have finished."""
    if len(sessions) == 1:
        return [work(sessions[0], 0)]
    with ThreadPoolExecutor(len(sessions) - 1, thread_name_prefix="reminder-plan") as pool:
        others = [pool.submit(work, other, index) for index, other in enumerate(sessions[1:], 1)]
        try:
            first = work(sessions[0], 0)
        finally:
            wait(others)
    return [first, *(future.result() for future in others)]


def day_inputs_key(session: Session, settings, opted_out: set[tuple[int, str]]) -> str:
    """A digest of what the day's reminders (links, returned updates) are planned from,
    besides the day: the public data's version (measures, milestones, links,
    organisations, updates: every write to them moves it, tracker.data_version), the users
    who may receive them (id, role, enabled, organisation), the active opt-outs and the
    settings. Those three are private tables, small enough to read whole."""
    digest = hashlib.sha256(data_version.current(session).token.encode())
    people = select(User.id, User.role, User.is_enabled, User.organisation_id).order_by(User.id)
    digest.update(repr([tuple(row) for row in session.execute(people)]).encode())
    digest.update(repr(sorted((user_id, str(kind)) for user_id, kind in opted_out)).encode())
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()


#: new outbox rows after which planning refreshes the outbox's statistics
ANALYZE_AFTER = 10_000


def _plan_returned_reminders(session, today, settings, opted_out) -> list[PlannedReminder]:
    """Returned updates not revised yet (needs the link tables: today's active links)."""
    add = _Collector(opted_out)
    if settings[ReminderKind.UPDATE_RETURNED].is_enabled:
        _plan_returned(session, today, add)
    return add.in_key_order()


def _plan_review_reminders(session, today, settings, opted_out) -> list[PlannedReminder]:
    """Updates that have waited too long in the review queue, as of `today`."""
    add = _Collector(opted_out)
    waiting = settings[ReminderKind.REVIEW_WAITING]
    if waiting.is_enabled and waiting.interval_days:
        _plan_review_waiting(session, today, waiting.interval_days, add)
    return add.in_key_order()


def _fill_link_tables(sessions: list[Session], today: date, settings, measure_ids) -> int | None:
    """Fill the per-measure tables of services.reminders.linked, in every share's session,
    from the states of the linked measures (one call of the state function for the whole
    batch). Returns the "no recent update" interval, or None when that kind is off."""
    session = sessions[0]
    measures = session.scalars(select(Measure).where(Measure.id.in_(sorted(measure_ids)))).all()
    states = measure_states(session, measures, today, today=today)
    occurrences = [
        {"measure_id": measure_id, "milestone_id": None, **values}
        for measure_id, state in states.items()
        for values in _measure_occurrences(state, settings)
    ]
    occurrences += _milestone_occurrences(states, settings)
    stale = settings[ReminderKind.UPDATE_STALE]
    # a closed plan's measures are final: no "stale" reminder either
    open_states = [
        s for s in states.values() if s.completion != Completion.COMPLETE and not s.is_closed
    ]
    approved = [
        {
            "organisation_id": a.organisation_id,
            "measure_id": s.measure_id,
            "approved_on": a.as_of_date,
        }
        for s in open_states
        for a in s.assessments
    ]
    open_ids = [s.measure_id for s in open_states]
    for index, share_session in enumerate(sessions):
        # a share's links are its organisations' only: their approved updates suffice
        share = linked.Share(index, len(sessions))
        approved_here = [a for a in approved if share.holds(a["organisation_id"])]
        linked.fill_tables(share_session, occurrences, open_ids, approved_here)
    return stale.interval_days if stale.is_enabled and stale.interval_days else None


def _active_opt_outs(session: Session) -> set[tuple[int, str]]:
    return {
        (user_id, kind)
        for user_id, kind in session.execute(
            select(ReminderOptOut.user_id, ReminderOptOut.kind).where(
                ReminderOptOut.is_active.is_(True)
            )
        )
    }


# --- due dates, overdue and stale updates, per link ------------------------------------------


def _smallest_crossed(days_left: int, offsets: Iterable[int]) -> int | None:
    """The reminder window the date is in: of the offsets already reached, the nearest one.
    A run that missed the 90-day day still sends it the next day, and a link created 20
    days before the due date gets the 30-day reminder, not the 90-day one as well."""
    crossed = [o for o in offsets if days_left <= o]
    return min(crossed) if crossed else None


def _occurrence(kind: ReminderKind, occurrence: str, reference: date, day_count: int) -> dict:
    return {
        "kind": kind,
        "occurrence": occurrence,
        "reference_date": reference,
        "day_count": day_count,
    }


def _measure_occurrences(
    state: MeasureState, settings: dict[ReminderKind, KindSettings]
) -> list[dict]:
    """Deadline and overdue occurrences of a measure, from its state alone. A measure whose
    plan has ended has a final state: nothing more to remind of."""
    if state.completion == Completion.COMPLETE or state.is_closed:
        return []
    deadline = settings[ReminderKind.DEADLINE_APPROACHING]
    overdue = settings[ReminderKind.OVERDUE]
    due = state.due_date
    if state.days_remaining > 0:
        offset = _smallest_crossed(state.days_remaining, deadline.offsets_days)
        if not deadline.is_enabled or offset is None:
            return []
        kind, day_count = ReminderKind.DEADLINE_APPROACHING, state.days_remaining
        return [_occurrence(kind, f"{due.isoformat()}/{offset}", due, day_count)]
    if overdue.is_enabled and overdue.interval_days:
        # The due date has come and the measure is not complete: on the due date, then
        # every interval. One occurrence per interval, so a missed day is caught up once.
        period = state.days_overdue // overdue.interval_days
        occurrence = f"{due.isoformat()}/{period}"
        return [_occurrence(ReminderKind.OVERDUE, occurrence, due, state.days_overdue)]
    return []


# --- milestones, returned updates and the review queue ---------------------------------------


def _milestone_occurrence(
    milestone: MilestoneStatus, settings: dict[ReminderKind, KindSettings]
) -> dict | None:
    """A milestone's reminder, from its status alone: "days before" while its date is
    ahead, and once it has passed undone, overdue every interval (as measures)."""
    deadline = settings[ReminderKind.DEADLINE_APPROACHING]
    overdue = settings[ReminderKind.OVERDUE]
    due = milestone.due_date
    prefix = f"milestone-{milestone.milestone_id}:{due.isoformat()}"
    if milestone.days_remaining > 0:
        offset = _smallest_crossed(milestone.days_remaining, deadline.offsets_days)
        if not deadline.is_enabled or offset is None:
            return None
        kind, days = ReminderKind.DEADLINE_APPROACHING, milestone.days_remaining
        return _occurrence(kind, f"{prefix}/{offset}", due, days)
    if milestone.is_overdue and overdue.is_enabled and overdue.interval_days:
        period = milestone.days_overdue // overdue.interval_days
        occurrence = f"{prefix}/overdue-{period}"
        return _occurrence(ReminderKind.OVERDUE, occurrence, due, milestone.days_overdue)
    return None


def _milestone_occurrences(states: dict[int, MeasureState], settings) -> list[dict]:
    """Milestones that are not final (a final one is the measure's due date already) and
    not done, of measures neither complete nor closed, from the measures' states
    (services.plans.status): due soon or overdue; the SQL gives them to each link."""
    found = []
    for measure_id, state in states.items():
        if state.completion == Completion.COMPLETE or state.is_closed:
            continue
        for milestone in state.milestones:
            if milestone.is_final or milestone.state == MilestoneState.DONE:
                continue
            values = _milestone_occurrence(milestone, settings)
            if values is not None:
                found.append(
                    {"measure_id": measure_id, "milestone_id": milestone.milestone_id, **values}
                )
    return found


#: an update, its measure and its organisation
_UPDATE_KEY = (StatusUpdate.id, StatusUpdate.measure_id, StatusUpdate.organisation_id)


def _plan_returned(session, today, add) -> None:
    """A returned update that has not been revised: once per return, to the monitors of
    the organisation whose update it is, while it still monitors the measure."""
    newer = aliased(StatusUpdate)
    pair = linked.PAIRS
    rows = session.execute(
        select(*_UPDATE_KEY, StatusUpdate.decided_dt, StatusUpdate.created_dt, User.id)
        .join(
            pair,
            and_(
                pair.c.organisation_id == StatusUpdate.organisation_id,
                pair.c.measure_id == StatusUpdate.measure_id,
            ),
        )
        .join(User, linked.monitor_of(StatusUpdate.organisation_id))
        .where(
            StatusUpdate.review_state == ReviewState.RETURNED,
            StatusUpdate.is_archived.is_(False),
            ~exists().where(
                and_(newer.replaces_id == StatusUpdate.id, newer.is_archived.is_(False))
            ),
        )
    ).all()
    for update_id, measure_id, organisation_id, decided_dt, created_dt, monitor_id in rows:
        returned_dt = decided_dt or created_dt
        returned_on = clock.baku_date(returned_dt)
        occurrence = returned_occurrence(update_id, returned_dt)
        days = max((today - returned_on).days, 0)
        add(
            [monitor_id],
            measure_id=measure_id,
            organisation_id=organisation_id,
            update_id=update_id,
            **_occurrence(ReminderKind.UPDATE_RETURNED, occurrence, returned_on, days),
        )


def _plan_review_waiting(session, today, wait_days, add) -> None:
    """Updates and proposed government claims that have waited in their review queues for
    `wait_days` days or more (Baku calendar days, as the other kinds count): once per
    `wait_days` of waiting, to each reviewer whom the review rule lets review the item
    (services.monitoring). The same few queries, however many items and reviewers."""
    reviewers = session.scalars(
        select(User).where(User.role == Role.REVIEWER, User.is_enabled.is_(True))
    ).all()
    if not reviewers:
        return
    # submitted before this Baku midnight: waited `wait_days` calendar days or more
    limit = datetime.combine(today - timedelta(days=wait_days - 1), time(), tzinfo=clock.BAKU)
    updates = session.execute(
        select(*_UPDATE_KEY, StatusUpdate.submitted_dt).where(
            StatusUpdate.review_state == ReviewState.SUBMITTED,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.submitted_dt.is_not(None),
            StatusUpdate.submitted_dt < limit,
        )
    ).all()
    claims = _waiting_claims(session, limit)
    written = {
        ("update", key): record
        for key, record in monitoring.written_updates(session, [row.id for row in updates]).items()
    }
    written |= {("claim", claim.id): monitoring.written_claim(claim) for claim in claims}
    if not written:
        return
    allowed = monitoring.reviewers_allowed(session, reviewers, written)
    waiting = _Waiting(add, today, wait_days)
    for update_id, measure_id, organisation_id, submitted_dt in updates:
        item = f"update-{update_id}"
        about = (submitted_dt, measure_id, organisation_id)
        waiting(item, allowed[("update", update_id)], *about, update_id=update_id)
    for claim in claims:
        item = f"claim-{claim.id}"
        about = (claim.created_dt, claim.measure_id, claim.organisation_id)
        waiting(item, allowed[("claim", claim.id)], *about, claim_id=claim.id)


def _waiting_claims(session, limit: datetime) -> list[GovernmentClaim]:
    """The proposed government claims waiting for review since before `limit`. A monitor
    proposes claims on measures only (services.monitoring.claims), and an outbox row names
    a measure: a claim on a whole plan is recorded by a reviewer, and never waits."""
    return session.scalars(
        select(GovernmentClaim).where(
            GovernmentClaim.review_state == ReviewState.SUBMITTED,
            GovernmentClaim.is_archived.is_(False),
            GovernmentClaim.measure_id.is_not(None),
            GovernmentClaim.created_dt < limit,
        )
    ).all()


@dataclass(frozen=True)
class _Waiting:
    """Plans the review queue's reminder of one item: its occurrence names the item
    ("update-<id>/<n>" or "claim-<id>/<n>") and the `wait_days` it has waited n times."""

    add: _Collector
    today: date
    wait_days: int

    def __call__(
        self, item: str, recipients, since_dt, measure_id, organisation_id, **item_id
    ) -> None:
        since = clock.baku_date(since_dt)
        waited = (self.today - since).days
        occurrence = f"{item}/{waited // self.wait_days}"
        self.add(
            recipients,
            measure_id=measure_id,
            organisation_id=organisation_id,
            **item_id,
            **_occurrence(ReminderKind.REVIEW_WAITING, occurrence, since, waited),
        )
