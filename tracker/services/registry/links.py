"""Who monitors what: links between organisations and measures, with their dates.

Links are history: ending one sets its end date, nothing is deleted, and every change is
in the audit log. A measure has at most one lead monitor at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import ActionPlan, Measure, MonitoringLink, Organisation
from tracker.services.audit import record
from tracker.services.registry.organisations import active_link_condition
from tracker.vocabulary import label_key

CODE_PATTERN = re.compile(r"^\d+\.\d+$")


class LinkError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Monitor:
    """An organisation monitoring a measure, as the measure page lists it."""

    organisation_id: int
    name_az: str
    name_en: str
    is_lead: bool
    since: date

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_az


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
    """The plan's measures with these codes, in the order given; LinkError names the
    unknown ones."""
    found = {
        m.code: m
        for m in session.scalars(
            select(Measure).where(Measure.plan_id == plan.id, Measure.code.in_(codes))
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise LinkError(
            _("Plan %(plan)s has no measure %(codes)s.", plan=plan.key, codes=", ".join(unknown))
        )
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
        record(
            session,
            "link.lead_removed",
            "monitoring_link",
            other.id,
            actor=actor,
            details={
                "measure_id": other.measure_id,
                "organisation_id": other.organisation_id,
                "reason": "another lead",
            },
        )
    link.is_lead = True
    record(
        session,
        "link.lead_set",
        "monitoring_link",
        link.id,
        actor=actor,
        details={"measure_id": link.measure_id, "organisation_id": link.organisation_id},
    )


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
    it already monitors gets no second link; with is_lead it becomes the lead."""
    if organisation.is_archived:
        raise LinkError(_("An archived organisation cannot monitor measures."))
    start = start_date or clock.today()
    result = LinkResult()
    for measure in measures:
        existing = _active_link(session, organisation.id, measure.id, start)
        if existing is None:
            link = MonitoringLink(
                organisation_id=organisation.id, measure_id=measure.id, start_date=start
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
                    "start_date": start.isoformat(),
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
        raise LinkError(_("This link has already ended."))
    if end < link.start_date:
        raise LinkError(
            _("A link cannot end before it starts (%(date)s).", date=link.start_date.isoformat())
        )
    link.end_date = end
    record(
        session,
        "link.ended",
        "monitoring_link",
        link.id,
        actor=actor,
        details={
            "organisation_id": link.organisation_id,
            "measure_id": link.measure_id,
            "end_date": end.isoformat(),
        },
    )
    session.flush()


def set_lead(session: Session, link: MonitoringLink, is_lead: bool, *, actor=None) -> None:
    if not link.is_active_on(clock.today()):
        raise LinkError(_("Only a current link can be made the lead."))
    if is_lead:
        _take_lead(session, link, actor)
    elif link.is_lead:
        link.is_lead = False
        record(
            session,
            "link.lead_removed",
            "monitoring_link",
            link.id,
            actor=actor,
            details={"measure_id": link.measure_id, "organisation_id": link.organisation_id},
        )
    session.flush()


def monitors_of_measure(session: Session, measure_id: int, on: date | None = None) -> list[Monitor]:
    """The organisations monitoring a measure on a day, lead first: one query."""
    on = on or clock.today()
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name_az,
            Organisation.name_en,
            MonitoringLink.is_lead,
            MonitoringLink.start_date,
        )
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(
            MonitoringLink.measure_id == measure_id,
            active_link_condition(on),
            Organisation.is_archived.is_(False),
        )
        .order_by(MonitoringLink.is_lead.desc(), Organisation.name_key)
    )
    return [Monitor(*row) for row in rows]


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
