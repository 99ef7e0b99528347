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
from datetime import date, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import (
    APPROVED_CURRENT,
    ActionPlan,
    GovernmentClaim,
    Measure,
    Milestone,
    Organisation,
    StatusUpdate,
    StoredFile,
)
from tracker.models.types import in_language
from tracker.numbers import percent, round_half_up
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

    organisation_name = in_language("organisation_name")


def _latest(assessments: Iterable[OrganisationAssessment]) -> OrganisationAssessment | None:
    """The newest assessment (by its date, then by update), which is the Platform's view."""
    return max(assessments, key=lambda a: (a.as_of_date, a.update_id), default=None)


@dataclass(frozen=True)
class ClaimSummary:
    """The government's claim that speaks for a measure: its own latest, or else its
    plan's latest plan-wide claim; approved and current ones only."""

    claim_id: int
    completion: Completion
    claim_date: date
    is_plan_wide: bool = False
    source_title: str = ""
    source_url: str | None = None
    #: the public id of the uploaded source, for its download address
    file_public_id: str | None = None


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
    #: the plan ended with it not done (its state is final: no day counts)
    ended_undone: bool = False

    title = in_language("title")


@dataclass(frozen=True)
class MeasureState:
    measure_id: int
    as_of: date
    due_date: date
    #: the Platform's position: the latest approved assessment of any organisation
    completion: Completion
    progress_percent: int | None
    #: overdue while the plan runs; once it has ended, the state is final and nothing
    #: is overdue any more (see `ended_incomplete`)
    is_overdue: bool
    #: days past the due date (0 when not overdue)
    days_overdue: int
    #: days left until the due date (0 once it has passed)
    days_remaining: int
    has_evidence: bool
    government_claim: ClaimSummary | None
    assessments: tuple[OrganisationAssessment, ...] = field(default_factory=tuple)
    #: the last day the measure runs: the plan's end, or a later due date of its own
    closes_on: date | None = None
    #: the plan (and the measure) has ended: its state is final, days no longer count
    #: (see `_has_ended`)
    is_closed: bool = False

    @property
    def ended_incomplete(self) -> bool:
        """The plan has ended and the measure was not complete."""
        return self.is_closed and self.completion != Completion.COMPLETE

    @property
    def is_late(self) -> bool:
        """Past its deadline and not complete: overdue while the plan runs, not complete
        when it ended once it has."""
        return self.is_overdue or self.ended_incomplete

    @property
    def last_updated(self) -> date | None:
        """The date of the newest approved assessment or government claim about this
        measure (a plan-wide claim that stands for it says nothing new about it)."""
        dates = [a.as_of_date for a in self.assessments]
        claim = self.government_claim
        if claim is not None and not claim.is_plan_wide:
            dates.append(claim.claim_date)
        return max(dates, default=None)

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
    #: measures not complete when their plan ended (0 while it runs)
    ended_incomplete: int = 0
    #: every measure's plan has ended: the figures are final
    is_closed: bool = False

    @property
    def scored(self) -> int:
        """The measures the score is computed over: those with an assessment."""
        return self.total - self.counts.get(Completion.NO_EVIDENCE, 0)

    @property
    def late(self) -> int:
        """The measures past their deadline and not complete (MeasureState.is_late): the
        overdue ones while the plan runs, those not complete when it ended once it has."""
        return self.overdue + self.ended_incomplete


def _latest_per_group(statement: Select, partition_by: list, order_by: list) -> Select:
    ranked = statement.add_columns(
        func.row_number().over(partition_by=partition_by, order_by=order_by).label("rank")
    ).subquery()
    return select(ranked).where(ranked.c.rank == 1)


def _latest_approved(measure_ids: list[int], until: date, *per) -> Select:
    """The latest approved, non-archived assessment dated up to `until` of each measure and
    organisation (and of each group of `per`, when given), with the organisation's names:
    plain columns, for a plan's history runs to thousands of rows."""
    approved = select(
        StatusUpdate.id,
        StatusUpdate.measure_id,
        StatusUpdate.organisation_id,
        StatusUpdate.completion,
        StatusUpdate.progress_percent,
        StatusUpdate.as_of_date,
    ).where(
        StatusUpdate.measure_id.in_(measure_ids),
        APPROVED_CURRENT,  # as ix_status_update_latest_approved has it
        StatusUpdate.as_of_date <= until,
    )
    latest = _latest_per_group(
        approved,
        [StatusUpdate.measure_id, StatusUpdate.organisation_id, *per],
        [StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc()],
    ).subquery()
    return select(latest, Organisation.name_az, Organisation.name_en).join(
        Organisation, Organisation.id == latest.c.organisation_id
    )


def _assessment(row) -> OrganisationAssessment:
    return OrganisationAssessment(
        organisation_id=row.organisation_id,
        organisation_name_az=row.name_az,
        organisation_name_en=row.name_en,
        update_id=row.id,
        completion=Completion(row.completion),
        progress_percent=row.progress_percent,
        as_of_date=row.as_of_date,
    )


def _approved_assessments(
    session: Session, measure_ids: list[int], as_of: date
) -> dict[int, list[OrganisationAssessment]]:
    latest = _latest_approved(measure_ids, as_of)
    by_measure: dict[int, list[OrganisationAssessment]] = defaultdict(list)
    for row in session.execute(latest.order_by("measure_id", Organisation.name_az)):
        by_measure[row.measure_id].append(_assessment(row))
    return by_measure


def _claim_summary(row) -> ClaimSummary:
    return ClaimSummary(
        claim_id=row.id,
        completion=Completion(row.claimed_completion),
        claim_date=row.claim_date,
        is_plan_wide=row.measure_id is None,
        source_title=row.source_title,
        source_url=row.source_url,
        file_public_id=row.public_id,
    )


def _public_claims(measures: list[Measure], as_of: date) -> Select:
    """The approved, current claims up to a day that speak for these measures: their own
    and their plans' plan-wide ones."""
    measure_ids = [m.id for m in measures]
    plan_ids = {m.plan_id for m in measures}
    return (
        select(
            GovernmentClaim.id,
            GovernmentClaim.measure_id,
            GovernmentClaim.plan_id,
            GovernmentClaim.claimed_completion,
            GovernmentClaim.claim_date,
            GovernmentClaim.source_title,
            GovernmentClaim.source_url,
            StoredFile.public_id,
        )
        .outerjoin(StoredFile, StoredFile.id == GovernmentClaim.file_id)
        .where(
            GovernmentClaim.measure_id.in_(measure_ids)
            | (GovernmentClaim.measure_id.is_(None) & GovernmentClaim.plan_id.in_(plan_ids)),
            GovernmentClaim.review_state == ReviewState.APPROVED,
            GovernmentClaim.is_archived.is_(False),
            GovernmentClaim.claim_date <= as_of,
        )
    )


def _latest_claims(
    session: Session, measures: list[Measure], as_of: date
) -> dict[int, ClaimSummary]:
    """Each measure's claim: its own latest public claim, or its plan's plan-wide one."""
    group = func.coalesce(GovernmentClaim.measure_id, -GovernmentClaim.plan_id)
    base = _public_claims(measures, as_of)
    latest = _latest_per_group(
        base, [group], [GovernmentClaim.claim_date.desc(), GovernmentClaim.id.desc()]
    )
    own, plan_wide = {}, {}
    for row in session.execute(latest):
        if row.measure_id is None:
            plan_wide[row.plan_id] = _claim_summary(row)
        else:
            own[row.measure_id] = _claim_summary(row)
    return {
        m.id: own[m.id] if m.id in own else plan_wide[m.plan_id]
        for m in measures
        if m.id in own or m.plan_id in plan_wide
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


def _milestone_status(row, as_of: date, measure_complete: bool, closed: bool) -> MilestoneStatus:
    state = MilestoneState(row.state)
    undone = state != MilestoneState.DONE and not measure_complete
    is_overdue = not closed and as_of > row.due_date and undone
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
        ended_undone=closed and undone,
    )


def _plan_end_dates(session: Session, measures: list[Measure]) -> dict[int, date]:
    """Each plan's last day, keyed by plan id (one query)."""
    plan_ids = {m.plan_id for m in measures}
    rows = session.execute(
        select(ActionPlan.id, ActionPlan.end_year).where(ActionPlan.id.in_(plan_ids))
    )
    return {plan_id: default_due_date(end_year) for plan_id, end_year in rows}


def _has_ended(closes_on: date | None, as_of: date, today: date) -> bool:
    """Whether a measure that runs until `closes_on` has ended, in its state on `as_of`
    looked at on `today`: from the next day on, and on that last day itself once the day is
    over. A report of an ended plan describes its last day, and then a measure due that day
    and not complete was not complete when the plan ended, as today's scorecard says; on
    the day itself it is still running."""
    if closes_on is None:
        return False
    return as_of > closes_on or (as_of == closes_on < today)


def _state(
    measure: Measure,
    as_of: date,
    assessments: list[OrganisationAssessment],
    claim: ClaimSummary | None,
    milestones: list,
    plan_end: date | None,
    today: date,
) -> MeasureState:
    latest = _latest(assessments)
    if latest:
        completion, progress = latest.completion, latest.progress_percent
    else:
        completion, progress = Completion.NO_EVIDENCE, None
    final_dates = [m.due_date for m in milestones if m.is_final]
    due = max(final_dates) if final_dates else measure.due_date
    complete = completion == Completion.COMPLETE
    # A measure runs until its plan ends, or until its own due date when that is later.
    closes_on = max(plan_end, due) if plan_end else None
    is_closed = _has_ended(closes_on, as_of, today)
    is_overdue = not is_closed and as_of > due and not complete
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
        closes_on=closes_on,
        is_closed=is_closed,
        # once closed, nothing is overdue any more: milestones neither
        milestones=tuple(_milestone_status(m, as_of, complete, is_closed) for m in milestones),
    )


def measure_states(
    session: Session,
    measures: Iterable[Measure],
    as_of: date | None = None,
    *,
    today: date | None = None,
) -> dict[int, MeasureState]:
    """Each measure's state on `as_of` (today by default), keyed by measure id. `today` is
    the day it is looked at (the clock's by default; the reminder jobs pass the day they
    plan for).

    A measure's days count only while its plan runs: once the plan has ended, its state
    is final (`is_closed`, `ended_incomplete`) and it is no longer overdue.
    Uses five queries however many measures and updates there are.
    """
    today = today or clock.today()
    as_of = as_of or today
    measures = list(measures)
    if not measures:
        return {}
    ids = [m.id for m in measures]
    assessments = _approved_assessments(session, ids, as_of)
    claims = _latest_claims(session, measures, as_of)
    milestones = _milestones(session, ids)
    plan_ends = _plan_end_dates(session, measures)
    return {
        m.id: _state(
            m,
            as_of,
            assessments.get(m.id, []),
            claims.get(m.id),
            milestones.get(m.id, []),
            plan_ends.get(m.plan_id),
            today,
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
        score=round_half_up(100 * sum(scored) / len(scored)) if scored else None,
        evidence_share=percent(with_evidence, total),
        ended_incomplete=sum(1 for s in states if s.ended_incomplete),
        is_closed=bool(states) and all(s.is_closed for s in states),
    )


# --- month by month ---------------------------------------------------------------------------


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from `first`'s month to `last`'s (inclusive)."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - timedelta(days=1))
        year, month = following.year, following.month
    return ends


def _month_of(column, ends: list[date]):
    """Which of the days in `ends` (ascending) is the first on or after `column`'s date:
    its index, as SQL (a CASE; the same on PostgreSQL and SQLite)."""
    return case(*((column <= day, index) for index, day in enumerate(ends)), else_=len(ends))


def _assessment_history(
    session: Session, ids: list[int], ends: list[date]
) -> dict[int, list[OrganisationAssessment]]:
    """The approved assessments of the measures up to the last of `ends`, oldest first (one
    query). Of an organisation's assessments of a measure, only the latest up to each day of
    `ends` can be seen on that day: the database keeps those (the last one per measure,
    organisation and day), so a long history is not read row by row."""
    last = _latest_approved(ids, ends[-1], _month_of(StatusUpdate.as_of_date, ends))
    updates: dict[int, list[OrganisationAssessment]] = defaultdict(list)
    for row in session.execute(last.order_by("as_of_date", "id")):
        updates[row.measure_id].append(_assessment(row))
    return updates


def _history(
    session: Session, measures: list[Measure], ends: list[date]
) -> tuple[dict[int, list[OrganisationAssessment]], dict[int, list[ClaimSummary]]]:
    """The approved assessments (see `_assessment_history`) and every public claim up to the
    last of `ends`, oldest first (two queries)."""
    updates = _assessment_history(session, [m.id for m in measures], ends)
    until = ends[-1]
    # own claims under the measure's id, plan-wide ones under minus the plan's id
    claims: dict[int, list[ClaimSummary]] = defaultdict(list)
    for row in session.execute(
        _public_claims(measures, until).order_by(GovernmentClaim.claim_date, GovernmentClaim.id)
    ):
        claims[row.measure_id if row.measure_id is not None else -row.plan_id].append(
            _claim_summary(row)
        )
    return updates, claims


def measure_states_by_month(
    session: Session, measures: Iterable[Measure], ends: list[date]
) -> dict[date, dict[int, MeasureState]]:
    """Each measure's state on each of the days in `ends` (ascending), from one load of the
    history: the same `_state` as `measure_states`, fed the approved assessments and claims
    as of each day. Four queries however many days, measures and updates there are."""
    measures = list(measures)
    if not measures or not ends:
        return {}
    ids = [m.id for m in measures]
    updates, claims = _history(session, measures, ends)
    milestones = _milestones(session, ids)
    plan_ends = _plan_end_dates(session, measures)
    today = clock.today()
    # each measure's latest assessment per organisation and latest claim, so far
    latest: dict[int, dict[int, OrganisationAssessment]] = defaultdict(dict)
    latest_claim: dict[int, ClaimSummary] = {}
    seen_updates: Counter[int] = Counter()
    seen_claims: Counter[int] = Counter()
    by_day = {}
    for day in ends:
        states = {}
        for m in measures:
            pending = updates.get(m.id, [])
            while (
                seen_updates[m.id] < len(pending) and pending[seen_updates[m.id]].as_of_date <= day
            ):
                assessment = pending[seen_updates[m.id]]
                latest[m.id][assessment.organisation_id] = assessment
                seen_updates[m.id] += 1
            for key in (m.id, -m.plan_id):  # its own claims, and its plan's plan-wide ones
                keyed = claims.get(key, [])
                while seen_claims[key] < len(keyed) and keyed[seen_claims[key]].claim_date <= day:
                    latest_claim[key] = keyed[seen_claims[key]]
                    seen_claims[key] += 1
            assessments = sorted(latest[m.id].values(), key=lambda a: a.organisation_name_az)
            states[m.id] = _state(
                m,
                day,
                assessments,
                latest_claim.get(m.id) or latest_claim.get(-m.plan_id),
                milestones.get(m.id, []),
                plan_ends.get(m.plan_id),
                today,
            )
        by_day[day] = states
    return by_day
