"""Read models for the public scorecard, shared by the pages and the JSON API.
Figures come from plans.status (`measure_states`, `summarize`); this module only loads,
filters and groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker import clock
from tracker.models import ActionPlan, Agency, Measure, MeasureAgency, Section
from tracker.models.types import in_language
from tracker.services.errors import InvalidInput
from tracker.services.filters import ListFilter
from tracker.services.plans.status import (
    MeasureState,
    PlanSummary,
    default_due_date,
    measure_states,
    measure_states_by_month,
    month_ends,
    summarize,
)
from tracker.vocabulary import AgencyRole, Completion, matches_all_words, sort_by_name

#: the plans' order wherever they are listed: newest first
_PLAN_ORDER = (ActionPlan.end_year.desc(), ActionPlan.key)


def list_plans(session: Session) -> list[ActionPlan]:
    return list(session.scalars(select(ActionPlan).order_by(*_PLAN_ORDER)))


@dataclass(frozen=True)
class PlanChoice:
    """A plan as a chooser offers it: plain columns, for a chooser lists every plan."""

    key: str
    title_az: str
    title_en: str

    title = in_language("title")


def plan_choices(session: Session) -> list[PlanChoice]:
    """Every plan's key and titles, in list_plans' order."""
    rows = session.execute(
        select(ActionPlan.key, ActionPlan.title_az, ActionPlan.title_en).order_by(*_PLAN_ORDER)
    )
    return [PlanChoice(*row) for row in rows]


def has_several_plans(session: Session) -> bool:
    """Whether there is more than one plan (pages then link to the others), without
    loading them."""
    second = select(ActionPlan.id).order_by(ActionPlan.id).offset(1).limit(1)
    return session.scalar(second) is not None


def list_agencies(session: Session, locale: str) -> list[Agency]:
    """Every agency of every plan, by its name in `locale`."""
    return sort_by_name(session.scalars(select(Agency).order_by(Agency.id)), locale)


def get_plan(session: Session, key: str) -> ActionPlan | None:
    return session.scalar(select(ActionPlan).where(ActionPlan.key == key))


def default_plan(session: Session) -> ActionPlan | None:
    """The most recent plan: the one "the latest plan" means everywhere."""
    return session.scalar(
        select(ActionPlan).order_by(ActionPlan.end_year.desc(), ActionPlan.id.desc()).limit(1)
    )


def plan_or_default(session: Session, key: str | None) -> ActionPlan | None:
    """The plan with this key, or the most recent plan when no key is given."""
    return get_plan(session, key) if key else default_plan(session)


def _measure_loading():
    return (
        selectinload(Measure.agency_links).selectinload(MeasureAgency.agency),
        selectinload(Measure.section),
    )


def load_measures(session: Session, plan: ActionPlan) -> list[Measure]:
    """Every measure of a plan in order, with sections and agencies loaded (3 queries)."""
    return list(
        session.scalars(
            select(Measure)
            .where(Measure.plan_id == plan.id)
            .options(*_measure_loading())
            .order_by(Measure.position)
        )
    )


def load_sections(session: Session, plan: ActionPlan) -> list[Section]:
    return list(
        session.scalars(select(Section).where(Section.plan_id == plan.id).order_by(Section.number))
    )


def get_measure(session: Session, plan: ActionPlan, code: str) -> Measure | None:
    return session.scalar(
        select(Measure)
        .where(Measure.plan_id == plan.id, Measure.code == code)
        .options(*_measure_loading())
    )


def measure_id(session: Session, plan: ActionPlan, code: str) -> int | None:
    """The id of the plan's measure with this code (one query; nothing else is loaded)."""
    return session.scalar(
        select(Measure.id).where(Measure.plan_id == plan.id, Measure.code == code)
    )


def _matches_text(measure: Measure, query: str) -> bool:
    texts = [
        measure.code,
        measure.title_az,
        measure.title_en,
        measure.indicator_az,
        measure.indicator_en,
    ]
    for link in measure.agency_links:
        texts += [link.name_as_written, link.agency.name_az, link.agency.name_en]
    return matches_all_words(query, *texts)


@dataclass(frozen=True)
class MeasureFilter(ListFilter):
    section: int | None = None
    agency: str | None = None
    completion: Completion | None = None
    #: past its deadline and not complete (MeasureState.is_late): the page's "Deadline"
    #: filter and the API's overdue=, which still find the unfinished measures after the
    #: plan ended
    late: bool | None = None
    query: str = ""
    #: the government's claim and the CSO assessments disagree, or not
    disputed: bool | None = None
    #: some organisation monitors the measure today, or none does
    monitored: bool | None = None
    #: an organisation (id) that monitors the measure today
    organisation: int | None = None

    def accepts(
        self, measure: Measure, state: MeasureState, monitors: frozenset[int] = frozenset()
    ) -> bool:
        """Whether the measure passes; `monitors` are the ids of the organisations that
        monitor it today (the registry's, given by the caller)."""
        checks = (
            self.section is None or measure.section.number == self.section,
            not self.agency or any(link.agency.key == self.agency for link in measure.agency_links),
            self.completion is None or state.completion == self.completion,
            self.late is None or state.is_late == self.late,
            self.disputed is None or state.is_disputed == self.disputed,
            self.monitored is None or bool(monitors) == self.monitored,
            self.organisation is None or self.organisation in monitors,
        )
        return all(checks) and (not self.query or _matches_text(measure, self.query))


def check_section(measures: Iterable[Measure], number: int | None) -> None:
    """InvalidInput unless `number` is None or the section of one of the plan's `measures`:
    the page's form offers only those, and an API client must not read a typo as "none"."""
    if number is not None and all(m.section.number != number for m in measures):
        raise InvalidInput(_("The plan has no section %(number)s.", number=number))


def check_agency(measures: Iterable[Measure], key: str | None) -> None:
    """InvalidInput unless `key` is None or names an agency of one of the plan's
    `measures` (their links are loaded): a typo must not read as "no measure"."""
    if key is not None and all(
        link.agency.key != key for measure in measures for link in measure.agency_links
    ):
        raise InvalidInput(_("There is no agency %(key)s.", key=key))


@dataclass
class SectionGroup:
    section: Section
    measures: list[Measure] = field(default_factory=list)
    summary: PlanSummary | None = None


@dataclass
class Scorecard:
    plan: ActionPlan
    measures: list[Measure]
    states: dict[int, MeasureState]
    summary: PlanSummary
    sections: list[SectionGroup]
    as_of: date
    #: the measures the filter kept, grouped by section (empty sections left out)
    filtered_sections: list[SectionGroup]
    filtered_count: int


def build_scorecard(
    session: Session, plan: ActionPlan, measure_filter: MeasureFilter | None = None
) -> Scorecard:
    measures = load_measures(session, plan)
    as_of = clock.today()
    states = measure_states(session, measures, as_of)
    groups: dict[int, SectionGroup] = {}
    for measure in measures:
        groups.setdefault(measure.section_id, SectionGroup(measure.section)).measures.append(
            measure
        )
    for group in groups.values():
        group.summary = summarize(states[m.id] for m in group.measures)
    card = Scorecard(
        plan=plan,
        measures=measures,
        states=states,
        summary=summarize(states.values()),
        sections=sorted(groups.values(), key=lambda g: g.section.number),
        as_of=as_of,
        filtered_sections=[],
        filtered_count=0,
    )
    return apply_filter(card, measure_filter or MeasureFilter())


def apply_filter(
    card: Scorecard,
    measure_filter: MeasureFilter,
    monitors: dict[int, frozenset[int]] | None = None,
) -> Scorecard:
    """Keep the measures the filter accepts, in memory: no queries. `monitors` maps a
    measure id to the organisations monitoring it (for the monitoring filters)."""
    monitors = monitors or {}
    filtered: dict[int, SectionGroup] = {}
    for measure in card.measures:
        kept = measure_filter.accepts(
            measure, card.states[measure.id], monitors.get(measure.id, frozenset())
        )
        if kept:
            group = filtered.setdefault(measure.section_id, SectionGroup(measure.section))
            group.measures.append(measure)
    for group in filtered.values():
        group.summary = summarize(card.states[m.id] for m in group.measures)
    card.filtered_sections = sorted(filtered.values(), key=lambda g: g.section.number)
    card.filtered_count = sum(len(g.measures) for g in filtered.values())
    return card


@dataclass
class AgencyFigures:
    agency: Agency
    #: measures naming the agency as executor / as recommended (variants merged)
    executor_measures: list[Measure] = field(default_factory=list)
    recommended_measures: list[Measure] = field(default_factory=list)
    #: the spellings the plan uses for this agency
    spellings: set[str] = field(default_factory=set)
    summary: PlanSummary | None = None

    @property
    def overdue(self) -> int:
        return self.summary.overdue if self.summary else 0

    @property
    def measures(self) -> list[Measure]:
        seen: dict[int, Measure] = {}
        for measure in [*self.executor_measures, *self.recommended_measures]:
            seen.setdefault(measure.id, measure)
        return sorted(seen.values(), key=lambda m: m.position)


def agency_figures(measures: list[Measure], states: dict[int, MeasureState]) -> list[AgencyFigures]:
    """Per-agency figures over a plan's measures, with spelling variants merged onto the
    canonical agency. Works on already loaded measures: no queries."""
    by_agency: dict[int, AgencyFigures] = {}
    for measure in measures:
        for link in measure.agency_links:
            figures = by_agency.setdefault(link.agency_id, AgencyFigures(link.agency))
            figures.spellings.add(link.name_as_written)
            target = (
                figures.executor_measures
                if link.role == AgencyRole.EXECUTOR
                else figures.recommended_measures
            )
            if measure not in target:
                target.append(measure)
    for figures in by_agency.values():
        agency_states = [states[m.id] for m in figures.measures]
        figures.summary = summarize(agency_states)
    return sorted(by_agency.values(), key=lambda f: (-len(f.measures), f.agency.name_az))


def completion_by_section(scorecard: Scorecard) -> list[tuple[Section, dict[Completion, int]]]:
    """Each section with its measures counted by completion (from its summary)."""
    return [(group.section, group.summary.counts) for group in scorecard.sections]


@dataclass(frozen=True)
class MonthFigures:
    month_end: date
    counts: dict[Completion, int]
    summary: PlanSummary


def progress_by_month(
    session: Session, plan: ActionPlan, measures: list[Measure]
) -> list[MonthFigures]:
    """The state of all the plan's measures at the end of each month, from the plan's first
    month to the current one (or the plan's last, once it has ended), from the approved
    history: plans.status computes every month (four queries in all)."""
    today = clock.today()
    last = min(today, default_due_date(plan.end_year))
    first = plan.starts_on
    if last < first:
        return []
    ends = month_ends(first, last)
    if ends[-1] > today:
        ends[-1] = today  # the current month: as of today
    by_month = measure_states_by_month(session, measures, ends)
    figures = []
    for day in ends:
        summary = summarize(by_month[day].values())
        figures.append(MonthFigures(day, summary.counts, summary))
    return figures
