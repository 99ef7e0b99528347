"""iCalendar (RFC 5545) feeds of due dates, for a plan and for the measures an
organisation monitors, so monitors can subscribe in their calendar app.

Due dates come from services.status (final milestones included); non-final milestones
are added as their own events. The feeds are public: plan facts only, no personal data.
UIDs are stable per measure and milestone, so a calendar app updates an event in place
when a due date moves instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.dates import show_date
from tracker.models import ActionPlan, Measure, Milestone, MonitoringLink, Organisation
from tracker.services.plans import measure_states
from tracker.vocabulary import COMPLETION_LABELS
from tracker.web.links import language_arg, public_host, public_url


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    day: date
    summary: str
    description: str
    url: str


def plan_measures(session: Session, plan: ActionPlan) -> list[Measure]:
    return list(
        session.scalars(
            select(Measure)
            .options(joinedload(Measure.plan), joinedload(Measure.milestones))
            .where(Measure.plan_id == plan.id)
            .order_by(Measure.position)
        ).unique()
    )


def organisation_measures(
    session: Session, organisation: Organisation, on: date | None = None
) -> list[Measure]:
    """The measures the organisation monitors on a day (today by default)."""
    on = on or clock.today()
    monitored = (
        select(MonitoringLink.measure_id)
        .where(
            MonitoringLink.organisation_id == organisation.id,
            MonitoringLink.start_date <= on,
            (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= on),
        )
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Measure)
            .options(joinedload(Measure.plan), joinedload(Measure.milestones))
            .where(Measure.id.in_(monitored))
            .order_by(Measure.plan_id, Measure.position)
        ).unique()
    )


def plan_calendar(session: Session, plan: ActionPlan, locale: str) -> bytes:
    """The feed of a plan's due dates."""
    events = feed_events(session, plan_measures(session, plan), locale)
    return render_ics(_("Due dates: %(plan)s", plan=plan.title(locale)), events)


def organisation_calendar(session: Session, organisation: Organisation, locale: str) -> bytes:
    """The feed of the due dates an organisation monitors today."""
    events = feed_events(session, organisation_measures(session, organisation), locale)
    name = _("Due dates monitored by %(organisation)s", organisation=organisation.name(locale))
    return render_ics(name, events)


def feed_events(session: Session, measures: list[Measure], locale: str) -> list[FeedEvent]:
    """One event per measure on its due date, and one per non-final milestone. Links go
    to the measure's public page on PUBLIC_BASE_URL, like the emails': a calendar app
    keeps them."""
    states = measure_states(session, measures, clock.today())
    domain = public_host()
    events: list[FeedEvent] = []
    for measure in measures:
        state = states[measure.id]
        title = measure.title(locale)
        url = public_url(
            "public.measure", key=measure.plan.key, code=measure.code, **language_arg(locale)
        )
        status_line = _(
            "Status on %(date)s: %(completion)s.",
            date=show_date(state.as_of),
            completion=COMPLETION_LABELS[state.completion],
        )
        description = "\n".join(
            [
                title,
                _("Implementation period: %(period)s.", period=measure.deadline),
                status_line,
                url,
            ]
        )
        events.append(
            FeedEvent(
                uid=f"measure-{measure.id}-due@{domain}",
                day=state.due_date,
                summary=_("Due: %(code)s %(title)s", code=measure.code, title=title),
                description=description,
                url=url,
            )
        )
        for milestone in measure.milestones:
            if milestone.is_final:
                continue
            events.append(_milestone_event(measure, milestone, locale, url, domain))
    return events


def _milestone_event(
    measure: Measure, milestone: Milestone, locale: str, url: str, domain: str
) -> FeedEvent:
    name = milestone.title(locale)
    return FeedEvent(
        uid=f"milestone-{milestone.id}@{domain}",
        day=milestone.due_date,
        summary=_("Milestone: %(code)s %(title)s", code=measure.code, title=name),
        description="\n".join([measure.title(locale), url]),
        url=url,
    )


def render_ics(name: str, events: list[FeedEvent], stamp: datetime | None = None) -> bytes:
    """The feed as RFC 5545 text: CRLF line ends, lines folded at 75 octets, text escaped
    (the icalendar package does all three)."""
    stamp = stamp or clock.now_utc()
    calendar = Calendar()
    calendar.add("prodid", "-//Open Government Tracker//Due dates//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # Ask subscribing apps to refresh daily.
    calendar.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "P1D")
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical()
