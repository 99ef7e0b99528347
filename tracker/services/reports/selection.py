"""Which measures a report covers: the first step of stage 1, before anything is put in words.

Each kind of report finds its subject (the plan, a section, an agency or an organisation)
and the plan's measures it covers, or raises `ReportSubjectNotFound`. Nothing here depends
on the report's language, so the caller can raise the error in the reader's language and
then build the report (`tracker.services.reports.content`) in the report's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    Measure,
    MonitoringLink,
    Organisation,
    Section,
    StatusUpdate,
)
from tracker.services.plans import get_plan, load_measures
from tracker.services.reports.model import ReportSpec, ReportSubjectNotFound, as_of_range
from tracker.vocabulary import AgencyRole, ReportKind, ReviewState


@dataclass(frozen=True)
class Selection:
    """A report's subject and the measures it covers, in plan order."""

    plan: ActionPlan
    measures: list[Measure]
    #: the section, agency or organisation; None for a plan report
    subject: Section | Agency | Organisation | None = None
    #: agency report: the agency's roles in each measure (by measure id)
    roles: dict[int, frozenset[AgencyRole]] = field(default_factory=dict)
    #: organisation report: its approved updates on each measure, newest first
    own_updates: dict[int, list[StatusUpdate]] = field(default_factory=dict)


def _plan(session: Session, key: str) -> ActionPlan:
    plan = get_plan(session, key)
    if plan is None:
        raise ReportSubjectNotFound(_("There is no plan %(key)s.", key=key))
    return plan


def _plan_selection(session: Session, spec: ReportSpec) -> Selection:
    plan = _plan(session, spec.plan_key)
    return Selection(plan, load_measures(session, plan))


def _section_selection(session: Session, spec: ReportSpec) -> Selection:
    plan = _plan(session, spec.plan_key)
    measures = [m for m in load_measures(session, plan) if m.section.number == spec.section]
    if not measures:
        raise ReportSubjectNotFound(_("The plan has no section %(number)s.", number=spec.section))
    return Selection(plan, measures, measures[0].section)


def _agency_selection(session: Session, spec: ReportSpec) -> Selection:
    plan = _plan(session, spec.plan_key)
    agency = session.scalar(select(Agency).where(Agency.key == spec.agency_key))
    if agency is None:
        raise ReportSubjectNotFound(_("There is no agency %(key)s.", key=spec.agency_key))
    roles: dict[int, frozenset[AgencyRole]] = {}
    measures = []
    for measure in load_measures(session, plan):
        measure_roles = frozenset(
            AgencyRole(link.role) for link in measure.agency_links if link.agency_id == agency.id
        )
        if measure_roles:
            measures.append(measure)
            roles[measure.id] = measure_roles
    if not measures:
        raise ReportSubjectNotFound(_("The agency has no measures in this plan."))
    return Selection(plan, measures, agency, roles=roles)


def _organisation_selection(session: Session, spec: ReportSpec) -> Selection:
    plan = _plan(session, spec.plan_key)
    organisation = session.get(Organisation, spec.organisation_id)
    if organisation is None or organisation.is_archived:
        raise ReportSubjectNotFound(_("There is no such organisation."))
    plan_measures = load_measures(session, plan)
    plan_ids = [m.id for m in plan_measures]
    # the measures it monitors (links begun by the date, ended ones included: their
    # updates are part of its record) and any measure it has an approved update on
    monitored = set(
        session.scalars(
            select(MonitoringLink.measure_id).where(
                MonitoringLink.organisation_id == organisation.id,
                MonitoringLink.measure_id.in_(plan_ids),
                MonitoringLink.start_date <= spec.as_of,
            )
        )
    )
    own_updates: dict[int, list[StatusUpdate]] = defaultdict(list)
    for update in _approved_updates_by(session, organisation, plan_ids, spec):
        own_updates[update.measure_id].append(update)
    ids = monitored | set(own_updates)
    measures = [m for m in plan_measures if m.id in ids]
    if not measures:
        raise ReportSubjectNotFound(
            _("The organisation monitors no measure of this plan by that date.")
        )
    return Selection(plan, measures, organisation, own_updates=dict(own_updates))


def _approved_updates_by(
    session: Session, organisation: Organisation, measure_ids: list[int], spec: ReportSpec
) -> list[StatusUpdate]:
    """The organisation's approved updates on the measures by the date, newest first."""
    return list(
        session.scalars(
            select(StatusUpdate)
            .where(
                StatusUpdate.organisation_id == organisation.id,
                StatusUpdate.measure_id.in_(measure_ids),
                StatusUpdate.review_state == ReviewState.APPROVED,
                StatusUpdate.is_archived.is_(False),
                StatusUpdate.as_of_date <= spec.as_of,
            )
            .options(
                joinedload(StatusUpdate.organisation),
                selectinload(StatusUpdate.evidence).joinedload(Evidence.request_agency),
            )
            .order_by(StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc())
        )
    )


_SELECTORS = {
    ReportKind.PLAN: _plan_selection,
    ReportKind.SECTION: _section_selection,
    ReportKind.AGENCY: _agency_selection,
    ReportKind.ORGANISATION: _organisation_selection,
}


def select_measures(session: Session, spec: ReportSpec) -> Selection:
    """The report's subject and measures. Raises ReportSubjectNotFound."""
    return _SELECTORS[spec.kind](session, spec)


def _rows_in_plan(model, organisation_id: int, plan: ActionPlan):
    """The ids of the organisation's rows of `model` (links, updates) on the plan's measures."""
    return (
        select(model.id)
        .join(Measure, Measure.id == model.measure_id)
        .where(model.organisation_id == organisation_id, Measure.plan_id == plan.id)
    )


def has_monitoring_record(session: Session, organisation_id: int, plan: ActionPlan) -> bool:
    """Whether the organisation's report on the plan, on the date its reports describe by
    default, has something in it: the same rule as _organisation_selection (a link begun
    by that date, or an approved update dated by then), so that no page offers a report
    that answers 404. One query."""
    as_of = as_of_range(plan.start_year, plan.end_year)[1]
    linked = _rows_in_plan(MonitoringLink, organisation_id, plan).where(
        MonitoringLink.start_date <= as_of
    )
    updated = _rows_in_plan(StatusUpdate, organisation_id, plan).where(
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
        StatusUpdate.as_of_date <= as_of,
    )
    return bool(session.scalar(select(or_(exists(linked), exists(updated)))))
