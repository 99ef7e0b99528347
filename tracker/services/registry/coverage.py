"""Coverage: which measures no organisation monitors, and which sections and agencies are
covered least. Three queries whatever the number of links (plus the status service's for
the unmonitored measures' states)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import ActionPlan, Agency, Measure, MeasureAgency, MonitoringLink, Organisation
from tracker.models.types import in_language
from tracker.numbers import percent
from tracker.services.plans import MeasureState, measure_states
from tracker.services.registry.links import active_link_condition


@dataclass(frozen=True)
class GroupCoverage:
    """A section or an agency: how many of its measures are monitored."""

    key: str
    measures: int
    monitored: int

    @property
    def unmonitored(self) -> int:
        return self.measures - self.monitored

    @property
    def share(self) -> float:
        return percent(self.monitored, self.measures)


@dataclass(frozen=True)
class SectionCoverage(GroupCoverage):
    number: int = 0
    title_az: str = ""
    title_en: str = ""

    title = in_language("title")


@dataclass(frozen=True)
class AgencyCoverage(GroupCoverage):
    agency: Agency | None = None


@dataclass(frozen=True)
class Coverage:
    plan: ActionPlan
    as_of: date
    measures: list[Measure]
    #: measure id → organisations monitoring it on as_of
    monitors: dict[int, int]
    unmonitored: list[Measure]
    states: dict[int, MeasureState]
    #: least covered first
    sections: list[SectionCoverage]
    agencies: list[AgencyCoverage]

    @property
    def monitored_count(self) -> int:
        return len(self.measures) - len(self.unmonitored)

    @property
    def share(self) -> float:
        return percent(self.monitored_count, len(self.measures))


def plan_coverage(session: Session, plan: ActionPlan, as_of: date | None = None) -> Coverage:
    as_of = as_of or clock.today()
    measures = list(
        session.scalars(
            select(Measure)
            .where(Measure.plan_id == plan.id)
            .options(joinedload(Measure.section))
            .order_by(Measure.position)
        )
    )
    monitors = _monitor_counts(session, plan, as_of)
    unmonitored = [m for m in measures if not monitors.get(m.id)]
    sections = _section_coverage(measures, monitors)
    agencies = _agency_coverage(session, plan, monitors)
    return Coverage(
        plan=plan,
        as_of=as_of,
        measures=measures,
        monitors=monitors,
        unmonitored=unmonitored,
        states=measure_states(session, unmonitored, as_of),
        sections=sections,
        agencies=agencies,
    )


def _monitor_counts(session: Session, plan: ActionPlan, as_of: date) -> dict[int, int]:
    """Measure id → organisations (not archived) monitoring it on the day."""
    return dict(
        session.execute(
            select(
                MonitoringLink.measure_id, func.count(func.distinct(MonitoringLink.organisation_id))
            )
            .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
            .join(Measure, Measure.id == MonitoringLink.measure_id)
            .where(
                Measure.plan_id == plan.id,
                active_link_condition(as_of),
                Organisation.is_archived.is_(False),
            )
            .group_by(MonitoringLink.measure_id)
        ).all()
    )


def _section_coverage(measures: list[Measure], monitors: dict[int, int]) -> list[SectionCoverage]:
    """The plan's sections, least covered first."""
    by_section: dict[int, list[Measure]] = defaultdict(list)
    for measure in measures:
        by_section[measure.section_id].append(measure)
    sections = [
        SectionCoverage(
            key=str(group[0].section.number),
            measures=len(group),
            monitored=sum(1 for m in group if monitors.get(m.id)),
            number=group[0].section.number,
            title_az=group[0].section.title_az,
            title_en=group[0].section.title_en,
        )
        for group in by_section.values()
    ]
    sections.sort(key=lambda s: (s.share, -s.unmonitored, s.number))
    return sections


def _agency_coverage(
    session: Session, plan: ActionPlan, monitors: dict[int, int]
) -> list[AgencyCoverage]:
    """The agencies the plan's measures name, least covered first."""
    agency_measures: dict[int, set[int]] = defaultdict(set)
    agencies: dict[int, Agency] = {}
    for measure_id, agency in session.execute(
        select(MeasureAgency.measure_id, Agency)
        .join(Agency, Agency.id == MeasureAgency.agency_id)
        .join(Measure, Measure.id == MeasureAgency.measure_id)
        .where(Measure.plan_id == plan.id)
    ):
        agency_measures[agency.id].add(measure_id)
        agencies[agency.id] = agency
    agency_rows = [
        AgencyCoverage(
            key=agencies[agency_id].key,
            measures=len(ids),
            monitored=sum(1 for i in ids if monitors.get(i)),
            agency=agencies[agency_id],
        )
        for agency_id, ids in agency_measures.items()
    ]
    agency_rows.sort(key=lambda a: (a.share, -a.unmonitored, a.key))
    return agency_rows
