"""Which reminders are due today, to whom: the rules, from the measures' states
(services.plans, the only source of due dates, completion and overdue), the monitoring
links, the review queue and the admin's settings.

Planning only works out `PlannedReminder`s; services.reminders.outbox records them
(a second planning of the same reminder is a no-op) and services.reminders.jobs runs it.
Every rule takes a constant number of queries, whatever the number of organisations and
measures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from tracker import clock
from tracker.models import (
    Measure,
    MonitoringLink,
    Organisation,
    ReminderOptOut,
    StatusUpdate,
    User,
)
from tracker.services.plans import MeasureState, MilestoneStatus, measure_states
from tracker.services.reminders.notices import returned_occurrence
from tracker.services.reminders.outbox import PlannedReminder
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


@dataclass(frozen=True)
class _Links:
    """Who monitors what today: each organisation's monitors, and for each active link
    (organisation, measure) the date it started."""

    monitors_by_org: dict[int, list[int]]
    start: dict[tuple[int, int], date]

    @property
    def measure_ids(self) -> list[int]:
        return sorted({measure_id for _org, measure_id in self.start})

    def organisations_by_measure(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        for organisation_id, measure_id in self.start:
            found[measure_id].append(organisation_id)
        return found


def plan_reminders(
    session: Session, today: date, now: datetime, settings=None
) -> list[PlannedReminder]:
    """Every reminder the rules call for on `today`, whether or not it is in the outbox.
    A constant number of queries, whatever the number of organisations and measures."""
    settings = settings or load_settings(session)
    add = _Collector(_active_opt_outs(session))
    links = _active_links(session, today)
    measure_ids = links.measure_ids
    measures = (
        session.scalars(select(Measure).where(Measure.id.in_(measure_ids))).all()
        if measure_ids
        else []
    )
    states = measure_states(session, measures, today)
    _plan_linked_measures(session, today, settings, states, links, add)
    if measure_ids:
        _plan_milestones(states, links, add, settings)
    if settings[ReminderKind.UPDATE_RETURNED].is_enabled:
        _plan_returned(session, today, links, add)
    waiting = settings[ReminderKind.REVIEW_WAITING]
    if waiting.is_enabled and waiting.interval_days:
        _plan_review_waiting(session, now, waiting.interval_days, add)
    return add.in_key_order()


def _active_opt_outs(session: Session) -> set[tuple[int, str]]:
    return {
        (user_id, kind)
        for user_id, kind in session.execute(
            select(ReminderOptOut.user_id, ReminderOptOut.kind).where(
                ReminderOptOut.is_active.is_(True)
            )
        )
    }


def _active_links(session: Session, today: date) -> _Links:
    """The links active today of organisations that are not archived and have a monitor."""
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
    rows = session.execute(
        select(MonitoringLink.organisation_id, MonitoringLink.measure_id, MonitoringLink.start_date)
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(
            MonitoringLink.start_date <= today,
            (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= today),
            Organisation.is_archived.is_(False),
        )
        .order_by(MonitoringLink.organisation_id, MonitoringLink.measure_id)
    ).all()
    # One active link per (organisation, measure): the earliest start counts.
    start: dict[tuple[int, int], date] = {}
    for row in rows:
        if row.organisation_id not in monitors_by_org:
            continue
        key = (row.organisation_id, row.measure_id)
        start[key] = min(row.start_date, start.get(key, row.start_date))
    return _Links(monitors_by_org, start)


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
    """Deadline and overdue occurrences of a measure, from its state alone."""
    if state.completion == Completion.COMPLETE:
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


def _stale_occurrence(today: date, last: date, interval_days: int) -> dict | None:
    """An organisation's approved update is older than the cadence: once per cadence."""
    waited = (today - last).days
    if waited < interval_days:
        return None
    occurrence = f"{last.isoformat()}/{waited // interval_days}"
    return _occurrence(ReminderKind.UPDATE_STALE, occurrence, last, waited)


def _plan_linked_measures(session, today, settings, states, links: _Links, add) -> None:
    """For each active link: the measure's deadline or overdue reminder, and a "stale"
    one when the organisation's last approved update (or the link's start) is too old."""
    occurrences = {
        measure_id: _measure_occurrences(state, settings) for measure_id, state in states.items()
    }
    stale = settings[ReminderKind.UPDATE_STALE]
    measure_ids = links.measure_ids
    awaiting_review = _organisations_awaiting_review(session, measure_ids) if measure_ids else set()
    # each organisation's latest approved update per measure, from the states
    last_approved = {
        (a.organisation_id, measure_id): a.as_of_date
        for measure_id, state in states.items()
        for a in state.assessments
    }
    for (organisation_id, measure_id), start in links.start.items():
        found = list(occurrences[measure_id])
        if (
            stale.is_enabled
            and stale.interval_days
            and states[measure_id].completion != Completion.COMPLETE
            and (organisation_id, measure_id) not in awaiting_review
        ):
            approved = last_approved.get((organisation_id, measure_id))
            last = max(start, approved) if approved else start
            found.append(_stale_occurrence(today, last, stale.interval_days))
        for values in filter(None, found):
            add(
                links.monitors_by_org[organisation_id],
                measure_id=measure_id,
                organisation_id=organisation_id,
                **values,
            )


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


def _plan_milestones(states, links: _Links, add, settings) -> None:
    """Milestones that are not final (a final one is the measure's due date already) and
    not done, of measures that are not complete, from the measures' states
    (services.plans.status): due soon or overdue, to the monitors of the measure."""
    organisations_by_measure = links.organisations_by_measure()
    for measure_id, state in states.items():
        if state.completion == Completion.COMPLETE:
            continue
        for milestone in state.milestones:
            if milestone.is_final or milestone.state == MilestoneState.DONE:
                continue
            values = _milestone_occurrence(milestone, settings)
            if values is None:
                continue
            for organisation_id in organisations_by_measure[measure_id]:
                add(
                    links.monitors_by_org[organisation_id],
                    measure_id=measure_id,
                    organisation_id=organisation_id,
                    milestone_id=milestone.milestone_id,
                    **values,
                )


#: an update, its measure and its organisation
_UPDATE_KEY = (StatusUpdate.id, StatusUpdate.measure_id, StatusUpdate.organisation_id)


def _plan_returned(session, today, links: _Links, add) -> None:
    """A returned update that has not been revised: once per return, to the monitors of
    the organisation whose update it is, while it still monitors the measure."""
    newer = aliased(StatusUpdate)
    rows = session.execute(
        select(*_UPDATE_KEY, StatusUpdate.decided_dt, StatusUpdate.created_dt).where(
            StatusUpdate.review_state == ReviewState.RETURNED,
            StatusUpdate.is_archived.is_(False),
            ~exists().where(
                and_(newer.replaces_id == StatusUpdate.id, newer.is_archived.is_(False))
            ),
        )
    ).all()
    for update_id, measure_id, organisation_id, decided_dt, created_dt in rows:
        if (organisation_id, measure_id) not in links.start:
            continue
        returned_dt = decided_dt or created_dt
        returned_on = clock.baku_date(returned_dt)
        occurrence = returned_occurrence(update_id, returned_dt)
        days = max((today - returned_on).days, 0)
        add(
            links.monitors_by_org[organisation_id],
            measure_id=measure_id,
            organisation_id=organisation_id,
            update_id=update_id,
            **_occurrence(ReminderKind.UPDATE_RETURNED, occurrence, returned_on, days),
        )


def _plan_review_waiting(session, now, wait_days, add) -> None:
    """Items that have waited in the review queue for more than `wait_days`: to every
    reviewer, once per `wait_days` of waiting."""
    reviewers = session.scalars(
        select(User.id).where(User.role == Role.REVIEWER, User.is_enabled.is_(True))
    ).all()
    if not reviewers:
        return
    limit = now - timedelta(days=wait_days)
    rows = session.execute(
        select(*_UPDATE_KEY, StatusUpdate.submitted_dt).where(
            StatusUpdate.review_state == ReviewState.SUBMITTED,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.submitted_dt.is_not(None),
            StatusUpdate.submitted_dt < limit,
        )
    ).all()
    for update_id, measure_id, organisation_id, submitted_dt in rows:
        waited = (now - submitted_dt).days
        occurrence = f"update-{update_id}/{waited // wait_days}"
        submitted_on = clock.baku_date(submitted_dt)
        add(
            reviewers,
            measure_id=measure_id,
            organisation_id=organisation_id,
            update_id=update_id,
            **_occurrence(ReminderKind.REVIEW_WAITING, occurrence, submitted_on, waited),
        )
