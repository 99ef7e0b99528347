"""Who monitors what: links between organisations and measures, with their dates.

Links are history: ending one sets its end date, nothing is deleted, and every change is
in the audit log. A measure has at most one lead monitor at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.dates import show_date
from tracker.models import ActionPlan, Measure, MonitoringLink, Organisation
from tracker.models.types import in_language
from tracker.services.audit import record
from tracker.services.errors import InvalidInput, StateConflict
from tracker.vocabulary import label_key, sort_by_name

CODE_PATTERN = re.compile(r"^\d+\.\d+$")


def active_link_condition(on: date):
    """The links current on a day: started, and not ended before it."""
    return (MonitoringLink.start_date <= on) & (
        MonitoringLink.end_date.is_(None) | (MonitoringLink.end_date >= on)
    )


@dataclass(frozen=True)
class Monitor:
    """An organisation monitoring a measure, as the measure page lists it."""

    organisation_id: int
    name_az: str
    name_en: str
    is_lead: bool
    since: date

    name = in_language("name")


@dataclass
class LinkResult:
    created: list[MonitoringLink] = field(default_factory=list)
    #: codes the organisation already monitored (nothing new was written for them)
    unchanged: list[str] = field(default_factory=list)
    #: codes whose lead monitor became this organisation
    made_lead: list[str] = field(default_factory=list)


def resolve_organisation(session: Session, reference: str) -> Organisation | None:
    """An organisation by id or by exact name (az or en; case, spacing and punctuation
    ignored, the Azerbaijani way)."""
    reference = (reference or "").strip()
    if reference.isdigit():
        found = session.get(Organisation, int(reference))
        if found is not None:
            return found
    key = label_key(reference)
    if not key:
        return None
    found = session.scalar(select(Organisation).where(Organisation.name_key == key))
    if found is not None:
        return found
    # English names are not unique in the schema: accept one only when it is unambiguous.
    candidates = [
        organisation_id
        for organisation_id, name_en in session.execute(
            select(Organisation.id, Organisation.name_en).where(Organisation.name_en != "")
        )
        if label_key(name_en) == key
    ]
    return session.get(Organisation, candidates[0]) if len(candidates) == 1 else None


def parse_codes(text: str) -> list[str]:
    """ "1.1, 2.3 4.1" → ["1.1", "2.3", "4.1"] (order kept, duplicates dropped)."""
    codes: list[str] = []
    for part in re.split(r"[\s,;]+", text or ""):
        if part and part not in codes:
            codes.append(part)
    return codes


def resolve_measures(session: Session, plan: ActionPlan, codes: list[str]) -> list[Measure]:
    """The plan's measures with these codes, in the order given; InvalidInput names the
    unknown ones."""
    found = {
        m.code: m
        for m in session.scalars(
            select(Measure).where(Measure.plan_id == plan.id, Measure.code.in_(codes))
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        message = ngettext(
            "The plan “%(plan)s” has no measure %(codes)s.",
            "The plan “%(plan)s” has no measures %(codes)s.",
            len(unknown),
            plan=plan.title(str(get_locale() or "az")),
            codes=", ".join(unknown),
        )
        raise InvalidInput(problems={"codes": [message]})
    return [found[code] for code in codes]


def _active_link(session: Session, organisation_id: int, measure_id: int, on: date):
    return session.scalar(
        select(MonitoringLink).where(
            MonitoringLink.organisation_id == organisation_id,
            MonitoringLink.measure_id == measure_id,
            active_link_condition(on),
        )
    )


def _take_lead(session: Session, link: MonitoringLink, actor) -> None:
    """Make this link the measure's only active lead."""
    today = clock.today()
    for other in session.scalars(
        select(MonitoringLink).where(
            MonitoringLink.measure_id == link.measure_id,
            MonitoringLink.id != link.id,
            MonitoringLink.is_lead.is_(True),
            MonitoringLink.end_date.is_(None) | (MonitoringLink.end_date >= today),
        )
    ):
        other.is_lead = False
        _record(session, "link.lead_removed", other, actor, reason="another lead")
    link.is_lead = True
    _record(session, "link.lead_set", link, actor)


#: a link may be planned ahead, but not further than this
MAX_START_AHEAD = timedelta(days=366)


def _check_start(start: date, measures: list[Measure]) -> None:
    """A start date within reach: not before the measures' plan began (nobody monitored a
    measure before it existed), and at most a year ahead (a typo, like 9999, would make
    a link that cannot be ended before it starts)."""
    plan_start = max((measure.plan.starts_on for measure in measures), default=None)
    if plan_start is not None and start < plan_start:
        message = _(
            "A link cannot start before its plan began (%(date)s).", date=show_date(plan_start)
        )
    elif start > clock.today() + MAX_START_AHEAD:
        message = _("A link can start a year from today at the latest.")
    else:
        return
    raise InvalidInput(problems={"start_date": [message]})


def link_measures(
    session: Session,
    organisation: Organisation,
    measures: list[Measure],
    *,
    start_date: date | None = None,
    is_lead: bool = False,
    actor=None,
) -> LinkResult:
    """Link the organisation to each measure from start_date (today by default). A measure
    it already monitors gets no second link; with is_lead it becomes the lead. A link that
    ends on the start day (an archived and restored organisation's, say) is continued."""
    if organisation.is_archived:
        raise StateConflict(_("An archived organisation cannot monitor measures."))
    start = start_date or clock.today()
    _check_start(start, measures)
    result = LinkResult()
    for measure in measures:
        begins = start
        existing = _active_link(session, organisation.id, measure.id, begins)
        while existing is not None and existing.end_date == begins:
            # a link that ends on the day the new one would begin (archiving ends them
            # today) is continued from the next day: linking again means monitoring goes
            # on, and the ended link stays in the history as it is. A link set to end
            # later is left to end then.
            begins = existing.end_date + timedelta(days=1)
            existing = _active_link(session, organisation.id, measure.id, begins)
        if existing is None:
            link = MonitoringLink(
                organisation_id=organisation.id, measure_id=measure.id, start_date=begins
            )
            session.add(link)
            session.flush()
            record(
                session,
                "link.created",
                "monitoring_link",
                link.id,
                actor=actor,
                summary=f"{organisation.name_az} → {measure.code}",
                details={
                    "organisation_id": organisation.id,
                    "measure_id": measure.id,
                    "start_date": begins.isoformat(),
                },
            )
            result.created.append(link)
        else:
            link = existing
            result.unchanged.append(measure.code)
        if is_lead and not link.is_lead:
            _take_lead(session, link, actor)
            result.made_lead.append(measure.code)
    session.flush()
    return result


def end_link(session: Session, link: MonitoringLink, end_date: date | None = None, *, actor=None):
    end = end_date or clock.today()
    if link.end_date is not None and link.end_date <= clock.today():
        raise StateConflict(_("This link has already ended."))
    if end < link.start_date:
        message = _(
            "A link cannot end before it starts (%(date)s).", date=link.start_date.isoformat()
        )
        raise InvalidInput(problems={"end_date": [message]})
    _end(session, link, end, actor)
    session.flush()


def _end(session: Session, link: MonitoringLink, end: date, actor, **details) -> None:
    link.end_date = end
    _record(session, "link.ended", link, actor, end_date=end.isoformat(), **details)


def _record(session: Session, action: str, link: MonitoringLink, actor, **details) -> None:
    record(
        session,
        action,
        "monitoring_link",
        link.id,
        actor=actor,
        details={"measure_id": link.measure_id, "organisation_id": link.organisation_id, **details},
    )


def end_links_of(session: Session, organisation: Organisation, reason: str, *, actor=None) -> int:
    """End the organisation's open links today (a link that starts later ends on its start
    day); the number ended."""
    today = clock.today()
    ended = 0
    for link in session.scalars(
        select(MonitoringLink).where(
            MonitoringLink.organisation_id == organisation.id,
            or_(MonitoringLink.end_date.is_(None), MonitoringLink.end_date > today),
        )
    ):
        _end(session, link, max(today, link.start_date), actor, reason=reason)
        ended += 1
    return ended


def set_lead(session: Session, link: MonitoringLink, is_lead: bool, *, actor=None) -> None:
    if not link.is_active_on(clock.today()):
        raise StateConflict(_("Only a current link can be made the lead."))
    if is_lead:
        _take_lead(session, link, actor)
    elif link.is_lead:
        link.is_lead = False
        _record(session, "link.lead_removed", link, actor)
    session.flush()


def _active_monitors(on: date):
    """(measure id, then a Monitor's fields) of the links active on a day, of organisations
    that are not archived, lead first, by name."""
    return (
        select(
            MonitoringLink.measure_id,
            Organisation.id,
            Organisation.name_az,
            Organisation.name_en,
            MonitoringLink.is_lead,
            MonitoringLink.start_date,
        )
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(active_link_condition(on), Organisation.is_archived.is_(False))
        .order_by(MonitoringLink.is_lead.desc(), Organisation.name_key)
    )


def monitors_of_measure(
    session: Session, measure_id: int, on: date | None = None, locale: str = "az"
) -> list[Monitor]:
    """The organisations monitoring a measure on a day, lead first, then by name in the
    collation of `locale`: one query."""
    statement = _active_monitors(on or clock.today()).where(MonitoringLink.measure_id == measure_id)
    rows = session.execute(statement)
    monitors = sort_by_name((Monitor(*monitor) for _measure_id, *monitor in rows), locale)
    return sorted(monitors, key=lambda m: not m.is_lead)  # stable: by name within


def monitors_by_measure(
    session: Session, plan_id: int, on: date | None = None
) -> dict[int, list[Monitor]]:
    """Measure id → the organisations monitoring it on a day, for a whole plan: one query."""
    statement = (
        _active_monitors(on or clock.today())
        .join(Measure, Measure.id == MonitoringLink.measure_id)
        .where(Measure.plan_id == plan_id)
    )
    found: dict[int, list[Monitor]] = {}
    for measure_id, *monitor in session.execute(statement):
        found.setdefault(measure_id, []).append(Monitor(*monitor))
    return found


def links_of_organisation(session: Session, organisation_id: int) -> list[MonitoringLink]:
    """All the organisation's links, current and ended, with their measures and plans:
    one query."""
    return list(
        session.scalars(
            select(MonitoringLink)
            .join(Measure, Measure.id == MonitoringLink.measure_id)
            .where(MonitoringLink.organisation_id == organisation_id)
            .options(joinedload(MonitoringLink.measure).joinedload(Measure.plan))
            .order_by(Measure.plan_id, Measure.position, MonitoringLink.start_date)
        )
    )
