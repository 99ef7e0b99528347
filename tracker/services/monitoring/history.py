"""The read side of status updates: one update, its versions and review decisions, the
monitor's dashboard, an organisation's list and the public history of a measure (who may
download a file: file_access.py). Every read here takes a fixed number of queries, however
many rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import clock
from tracker.models import (
    Evidence,
    Measure,
    MonitoringLink,
    Organisation,
    ReviewDecision,
    StatusUpdate,
)
from tracker.services.plans import MeasureState, measure_states
from tracker.services.registry import active_link_condition
from tracker.vocabulary import ReviewState

#: how many approved updates the public measure page lists (the API has them all)
PUBLIC_HISTORY_LIMIT = 50


def _evidence_loading():
    return selectinload(StatusUpdate.evidence).options(
        joinedload(Evidence.file), joinedload(Evidence.request_agency)
    )


def _newest_first():
    return StatusUpdate.created_dt.desc(), StatusUpdate.id.desc()


def load_update(session: Session, update_id: int) -> StatusUpdate | None:
    """One update with its measure, organisation and evidence."""
    return session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.id == update_id)
        .options(
            joinedload(StatusUpdate.measure).joinedload(Measure.plan),
            joinedload(StatusUpdate.organisation),
            _evidence_loading(),
        )
    )


def live_successor(session: Session, update_id: int) -> StatusUpdate | None:
    """A draft or submitted update that already revises or corrects this one."""
    return session.scalar(
        select(StatusUpdate)
        .where(
            StatusUpdate.replaces_id == update_id,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.review_state.in_([ReviewState.DRAFT, ReviewState.SUBMITTED]),
        )
        .limit(1)
    )


def newest_version(session: Session, update_id: int) -> StatusUpdate | None:
    """The update that replaced this one, or the one that replaced that, and so on: where
    a stale link to this update should lead. A set-aside draft replaces nothing. None when
    nothing replaced it."""
    newest = None
    while True:
        successor = session.scalar(
            select(StatusUpdate)
            .where(
                StatusUpdate.replaces_id == update_id,
                ~(StatusUpdate.is_archived & (StatusUpdate.review_state == ReviewState.DRAFT)),
            )
            .order_by(StatusUpdate.id.desc())
            .limit(1)
        )
        if successor is None:
            return newest
        # ids only grow along the chain (a successor is made after what it replaces)
        newest, update_id = successor, successor.id


def version_history(
    session: Session, target: StatusUpdate, *, with_drafts: bool = False
) -> list[StatusUpdate]:
    """Every update of the same organisation on the same measure, newest first (one query).
    Reviewers see every non-draft version, archived ones included."""
    statement = (
        select(StatusUpdate)
        .where(
            StatusUpdate.measure_id == target.measure_id,
            StatusUpdate.organisation_id == target.organisation_id,
        )
        .order_by(*_newest_first())
    )
    if not with_drafts:
        statement = statement.where(StatusUpdate.review_state != ReviewState.DRAFT)
    return list(session.scalars(statement))


def decisions_by_update(session: Session, update_ids: list[int]) -> dict[int, list]:
    if not update_ids:
        return {}
    grouped: dict[int, list[ReviewDecision]] = defaultdict(list)
    for decision in session.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.update_id.in_(update_ids))
        .options(joinedload(ReviewDecision.reviewer))
        .order_by(ReviewDecision.decided_dt, ReviewDecision.id)
    ):
        grouped[decision.update_id].append(decision)
    return grouped


# --- the monitor's dashboard ---------------------------------------------------------------


@dataclass
class MonitoredMeasure:
    measure: Measure
    state: MeasureState
    is_lead: bool
    #: the organisation's newest non-archived update on the measure, if any
    latest_update: StatusUpdate | None = None


@dataclass
class MonitorHome:
    organisation: Organisation
    measures: list[MonitoredMeasure]
    #: drafts and returned updates: the organisation's to-do list
    drafts: list[StatusUpdate] = field(default_factory=list)
    returned: list[StatusUpdate] = field(default_factory=list)
    submitted: list[StatusUpdate] = field(default_factory=list)


def _current_links(session: Session, organisation_id: int, today: date) -> list[MonitoringLink]:
    """The organisation's monitoring links in force today, with their measures."""
    return list(
        session.scalars(
            select(MonitoringLink)
            .where(MonitoringLink.organisation_id == organisation_id, active_link_condition(today))
            .options(joinedload(MonitoringLink.measure).joinedload(Measure.plan))
        )
    )


def _current(organisation_id: int):
    return (
        StatusUpdate.organisation_id == organisation_id,
        StatusUpdate.is_archived.is_(False),
    )


def _add_open_work(session: Session, home: MonitorHome) -> None:
    """Sort the organisation's drafts, returned and submitted updates onto the dashboard."""
    open_work = session.scalars(
        select(StatusUpdate)
        .where(
            *_current(home.organisation.id),
            StatusUpdate.review_state.in_(
                [ReviewState.DRAFT, ReviewState.RETURNED, ReviewState.SUBMITTED]
            ),
        )
        .options(joinedload(StatusUpdate.measure).joinedload(Measure.plan))
        .order_by(*_newest_first())
    )
    lists = {
        ReviewState.DRAFT: home.drafts,
        ReviewState.RETURNED: home.returned,
        ReviewState.SUBMITTED: home.submitted,
    }
    for item in open_work:
        lists[item.review_state].append(item)


def _latest_by_measure(session: Session, organisation_id: int) -> dict[int, StatusUpdate]:
    """The organisation's newest non-archived update on each measure (one query)."""
    ranked = (
        select(
            StatusUpdate.id,
            func.row_number()
            .over(partition_by=StatusUpdate.measure_id, order_by=_newest_first())
            .label("rank"),
        )
        .where(*_current(organisation_id))
        .subquery()
    )
    return {
        item.measure_id: item
        for item in session.scalars(
            select(StatusUpdate)
            .join(ranked, ranked.c.id == StatusUpdate.id)
            .where(ranked.c.rank == 1)
        )
    }


def monitor_home(session: Session, organisation: Organisation) -> MonitorHome:
    """The monitor's dashboard in a fixed number of queries: the measures the organisation
    monitors today (overdue first, then by due date), their state, and its open work."""
    today = clock.today()
    links = [] if organisation.is_archived else _current_links(session, organisation.id, today)
    measures = {link.measure_id: link.measure for link in links}
    is_lead = {link.measure_id: link.is_lead for link in links if link.is_lead}
    states = measure_states(session, measures.values(), today)
    home = MonitorHome(organisation=organisation, measures=[])
    _add_open_work(session, home)
    latest = _latest_by_measure(session, organisation.id)
    home.measures = sorted(
        (
            MonitoredMeasure(
                measure=m,
                state=states[m.id],
                is_lead=is_lead.get(m.id, False),
                latest_update=latest.get(m.id),
            )
            for m in measures.values()
        ),
        key=lambda row: (not row.state.is_overdue, row.state.due_date, row.measure.position),
    )
    return home


def organisation_updates(
    session: Session, organisation_id: int, page: int, per_page: int = 50
) -> tuple[list[StatusUpdate], int]:
    """All of an organisation's updates, newest first, one page at a time, and how many
    there are in all (two queries)."""
    total = session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(StatusUpdate.organisation_id == organisation_id)
    )
    items = list(
        session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.organisation_id == organisation_id)
            .options(joinedload(StatusUpdate.measure).joinedload(Measure.plan))
            .order_by(*_newest_first())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return items, total or 0


# --- what the public sees ------------------------------------------------------------------


@dataclass
class PublicHistory:
    """What the public may see of a measure's monitoring: approved, current updates only."""

    updates: list[StatusUpdate]
    total: int
    #: non-private evidence per update id
    evidence_by_update: dict[int, list[Evidence]]
    #: how many private items each update has (shown as a count, never their content)
    private_counts: dict[int, int]


def public_history(
    session: Session, measure_id: int, limit: int | None = PUBLIC_HISTORY_LIMIT, offset: int = 0
) -> PublicHistory:
    """Approved, non-archived updates of a measure, newest first, with their public evidence,
    in a fixed number of queries whatever the number of updates: `limit` of them after the
    first `offset` (a page of the JSON API), or all of them (limit None)."""
    condition = (
        StatusUpdate.measure_id == measure_id,
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
    )
    statement = (
        select(StatusUpdate)
        .where(*condition)
        .options(joinedload(StatusUpdate.organisation), _evidence_loading())
        .order_by(StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    approved = list(session.scalars(statement))
    # Counted even when the page holds them all, so the number of queries never varies.
    total = (
        len(approved)
        if limit is None
        else session.scalar(select(func.count()).select_from(StatusUpdate).where(*condition))
    )
    evidence_by_update = {u.id: [e for e in u.evidence if not e.is_private] for u in approved}
    private_counts = {u.id: sum(1 for e in u.evidence if e.is_private) for u in approved}
    return PublicHistory(approved, total or 0, evidence_by_update, private_counts)
