"""The one place that computes a measure's state and a plan's figures.

Pages, the API, PDFs and reminders all call `measure_states` and `summarize`; nothing
else derives completion, due dates or overdue. Queries are constant in number whatever
the number of measures or updates.

Milestones (not archived) feed the state the way the measure's own due date does:

- a milestone marked final is the measure's due date (the latest, if several are);
- a milestone is overdue when its date has passed, it is not done and the measure is not
  complete, counted in days as the measure is;
- a measure with an overdue milestone is *at risk* until its own due date: not overdue
  yet, but behind its plan. Once the due date has passed it is simply overdue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import GovernmentClaim, Measure, Milestone, Organisation, StatusUpdate
from tracker.models.types import in_language
from tracker.vocabulary import COMPLETION_WEIGHTS, Completion, MilestoneState, ReviewState


def default_due_date(end_year: int) -> date:
    """A period's due date: 31 December of its last year."""
    return date(end_year, 12, 31)


@dataclass(frozen=True)
class OrganisationAssessment:
    """An organisation's latest approved update on a measure."""

    organisation_id: int
    organisation_name_az: str
    organisation_name_en: str
    update_id: int
    completion: Completion
    progress_percent: int | None
    as_of_date: date


def _latest(assessments: Iterable[OrganisationAssessment]) -> OrganisationAssessment | None:
    """The newest assessment (by its date, then by update), which is the Platform's view."""
    return max(assessments, key=lambda a: (a.as_of_date, a.update_id), default=None)


@dataclass(frozen=True)
class ClaimSummary:
    claim_id: int
    completion: Completion
    claim_date: date


@dataclass(frozen=True)
class MilestoneStatus:
    """A milestone of a measure, with where it stands on the state's date."""

    milestone_id: int
    title_az: str
    title_en: str
    due_date: date
    state: MilestoneState
    is_final: bool
    is_overdue: bool
    #: days past its date (0 when not overdue)
    days_overdue: int
    #: days left until its date (0 once it has passed)
    days_remaining: int

    title = in_language("title")


@dataclass(frozen=True)
class MeasureState:
    measure_id: int
    as_of: date
    due_date: date
    #: the Platform's position: the latest approved assessment of any organisation
    completion: Completion
    progress_percent: int | None
    is_overdue: bool
    #: days past the due date (0 when not overdue)
    days_overdue: int
    #: days left until the due date (0 once it has passed)
    days_remaining: int
    has_evidence: bool
    government_claim: ClaimSummary | None
    assessments: tuple[OrganisationAssessment, ...] = field(default_factory=tuple)
    #: the measure's milestones that are not archived, by date
    milestones: tuple[MilestoneStatus, ...] = field(default_factory=tuple)

    @property
    def overdue_milestones(self) -> tuple[MilestoneStatus, ...]:
        return tuple(m for m in self.milestones if m.is_overdue)

    @property
    def is_at_risk(self) -> bool:
        """Not overdue yet, but a milestone is (see the module's docstring)."""
        return not self.is_overdue and bool(self.overdue_milestones)

    @property
    def is_disputed(self) -> bool:
        """The government's claim differs from the Platform's or any organisation's view."""
        if self.government_claim is None:
            return False
        claimed = self.government_claim.completion
        return any(a.completion != claimed for a in self.assessments)

    @property
    def latest_approved_update_id(self) -> int | None:
        latest = _latest(self.assessments)
        return latest.update_id if latest else None


@dataclass(frozen=True)
class PlanSummary:
    total: int
    counts: dict[Completion, int]
    overdue: int
    #: not overdue, but a milestone is
    at_risk: int
    disputed: int
    with_evidence: int
    #: 0–100, the weighted mean of scored measures; None while nothing is scored
    score: float | None
    #: share of measures with at least one approved assessment, 0–100
    evidence_share: float

    @property
    def scored(self) -> int:
        return self.total - self.counts.get(Completion.NO_EVIDENCE, 0)


def _latest_per_group(statement: Select, partition_by: list, order_by: list) -> Select:
    ranked = statement.add_columns(
        func.row_number().over(partition_by=partition_by, order_by=order_by).label("rank")
    ).subquery()
    return select(ranked).where(ranked.c.rank == 1)


def _approved_assessments(
    session: Session, measure_ids: list[int], as_of: date
) -> dict[int, list[OrganisationAssessment]]:
    base = select(
        StatusUpdate.id,
        StatusUpdate.measure_id,
        StatusUpdate.organisation_id,
        StatusUpdate.completion,
        StatusUpdate.progress_percent,
        StatusUpdate.as_of_date,
    ).where(
        StatusUpdate.measure_id.in_(measure_ids),
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
        StatusUpdate.as_of_date <= as_of,
    )
    latest = _latest_per_group(
        base,
        [StatusUpdate.measure_id, StatusUpdate.organisation_id],
        [StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc()],
    ).subquery()
    rows = session.execute(
        select(latest, Organisation.name_az, Organisation.name_en)
        .join(Organisation, Organisation.id == latest.c.organisation_id)
        .order_by(latest.c.measure_id, Organisation.name_az)
    ).all()
    by_measure: dict[int, list[OrganisationAssessment]] = defaultdict(list)
    for row in rows:
        by_measure[row.measure_id].append(
            OrganisationAssessment(
                organisation_id=row.organisation_id,
                organisation_name_az=row.name_az,
                organisation_name_en=row.name_en,
                update_id=row.id,
                completion=Completion(row.completion),
                progress_percent=row.progress_percent,
                as_of_date=row.as_of_date,
            )
        )
    return by_measure


def _latest_claims(
    session: Session, measure_ids: list[int], as_of: date
) -> dict[int, ClaimSummary]:
    base = select(
        GovernmentClaim.id,
        GovernmentClaim.measure_id,
        GovernmentClaim.claimed_completion,
        GovernmentClaim.claim_date,
    ).where(
        GovernmentClaim.measure_id.in_(measure_ids),
        GovernmentClaim.is_archived.is_(False),
        GovernmentClaim.claim_date <= as_of,
    )
    latest = _latest_per_group(
        base,
        [GovernmentClaim.measure_id],
        [GovernmentClaim.claim_date.desc(), GovernmentClaim.id.desc()],
    )
    return {
        row.measure_id: ClaimSummary(row.id, Completion(row.claimed_completion), row.claim_date)
        for row in session.execute(latest)
    }


def _milestones(session: Session, measure_ids: list[int]) -> dict[int, list]:
    """The milestones of the measures that are not archived, by measure, by date."""
    rows = session.execute(
        select(
            Milestone.id,
            Milestone.measure_id,
            Milestone.title_az,
            Milestone.title_en,
            Milestone.due_date,
            Milestone.state,
            Milestone.is_final,
        )
        .where(Milestone.measure_id.in_(measure_ids), Milestone.is_archived.is_(False))
        .order_by(Milestone.measure_id, Milestone.due_date, Milestone.id)
    ).all()
    by_measure: dict[int, list] = defaultdict(list)
    for row in rows:
        by_measure[row.measure_id].append(row)
    return by_measure


def _milestone_status(row, as_of: date, measure_complete: bool) -> MilestoneStatus:
    state = MilestoneState(row.state)
    is_overdue = as_of > row.due_date and state != MilestoneState.DONE and not measure_complete
    return MilestoneStatus(
        milestone_id=row.id,
        title_az=row.title_az,
        title_en=row.title_en or "",
        due_date=row.due_date,
        state=state,
        is_final=row.is_final,
        is_overdue=is_overdue,
        days_overdue=(as_of - row.due_date).days if is_overdue else 0,
        days_remaining=max((row.due_date - as_of).days, 0),
    )


def _state(
    measure: Measure,
    as_of: date,
    assessments: list[OrganisationAssessment],
    claim: ClaimSummary | None,
    milestones: list,
) -> MeasureState:
    latest = _latest(assessments)
    if latest:
        completion, progress = latest.completion, latest.progress_percent
    else:
        completion, progress = Completion.NO_EVIDENCE, None
    final_dates = [m.due_date for m in milestones if m.is_final]
    due = max(final_dates) if final_dates else measure.due_date
    complete = completion == Completion.COMPLETE
    is_overdue = as_of > due and not complete
    return MeasureState(
        measure_id=measure.id,
        as_of=as_of,
        due_date=due,
        completion=completion,
        progress_percent=progress,
        is_overdue=is_overdue,
        days_overdue=(as_of - due).days if is_overdue else 0,
        days_remaining=max((due - as_of).days, 0),
        has_evidence=bool(assessments),
        government_claim=claim,
        assessments=tuple(assessments),
        milestones=tuple(_milestone_status(m, as_of, complete) for m in milestones),
    )


def measure_states(
    session: Session, measures: Iterable[Measure], as_of: date | None = None
) -> dict[int, MeasureState]:
    """Each measure's state on `as_of` (today by default), keyed by measure id.

    Uses three queries however many measures and updates there are (four with milestones).
    """
    as_of = as_of or clock.today()
    measures = list(measures)
    if not measures:
        return {}
    ids = [m.id for m in measures]
    assessments = _approved_assessments(session, ids, as_of)
    claims = _latest_claims(session, ids, as_of)
    milestones = _milestones(session, ids)
    return {
        m.id: _state(
            m, as_of, assessments.get(m.id, []), claims.get(m.id), milestones.get(m.id, [])
        )
        for m in measures
    }


def measure_state(session: Session, measure: Measure, as_of: date | None = None) -> MeasureState:
    return measure_states(session, [measure], as_of)[measure.id]


def summarize(states: Iterable[MeasureState]) -> PlanSummary:
    """Plan-level figures from measure states: counts, overdue, disputed, score, evidence."""
    states = list(states)
    counts = Counter(s.completion for s in states)
    full_counts = {level: counts.get(level, 0) for level in Completion}
    weights = [COMPLETION_WEIGHTS[s.completion] for s in states]
    scored = [w for w in weights if w is not None]
    total = len(states)
    with_evidence = sum(1 for s in states if s.has_evidence)
    return PlanSummary(
        total=total,
        counts=full_counts,
        overdue=sum(1 for s in states if s.is_overdue),
        at_risk=sum(1 for s in states if s.is_at_risk),
        disputed=sum(1 for s in states if s.is_disputed),
        with_evidence=with_evidence,
        score=round(100 * sum(scored) / len(scored), 1) if scored else None,
        evidence_share=round(100 * with_evidence / total, 1) if total else 0.0,
    )
