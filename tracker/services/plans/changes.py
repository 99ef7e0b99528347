"""What changed: the approved updates and the government's claims, newest first, by the
date each describes (an update's as-of date, a claim's date). Public material only:
approved, non-archived updates named by organisation (never by person) and non-archived
claims. Used by the "what changed" page and the Atom feeds of a measure or organisation.

Two queries (the page and the total) whatever the number of records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import String, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

from tracker.models import ActionPlan, GovernmentClaim, Measure, Organisation, StatusUpdate
from tracker.models.types import in_language
from tracker.vocabulary import Completion, ReviewState

UPDATE = "update"
CLAIM = "claim"


@dataclass(frozen=True)
class Change:
    kind: str  # UPDATE or CLAIM
    record_id: int
    plan_key: str
    #: "" for a claim about the whole plan
    measure_code: str
    measure_title_az: str
    measure_title_en: str
    #: the organisation whose update it is (None for a claim)
    organisation_id: int | None
    organisation_name_az: str
    organisation_name_en: str
    completion: Completion
    #: the date the record describes
    day: date
    #: when it was approved (update) or recorded (claim)
    moment: datetime
    #: an update's narrative or a claim's note, in each language
    text_az: str
    text_en: str
    #: a claim's source
    source_title: str

    @property
    def is_claim(self) -> bool:
        return self.kind == CLAIM

    @property
    def is_plan_wide(self) -> bool:
        """A claim about the whole plan (it has no measure)."""
        return not self.measure_code

    organisation_name = in_language("organisation_name")
    measure_title = in_language("measure_title")
    text = in_language("text")


@dataclass(frozen=True)
class ChangeQuery:
    plan_id: int | None = None
    measure_id: int | None = None
    organisation_id: int | None = None
    since: date | None = None
    until: date | None = None


def _half(kind: str, record, plan_id, *columns):
    """One half of the union: the record's kind, id, measure and plan, then `columns`
    (labelled as the other half labels them), joined to the record's measure if it has
    one (a claim about the whole plan has none)."""
    return select(
        literal(kind, String).label("kind"),
        record.id.label("record_id"),
        Measure.id.label("measure_id"),
        plan_id.label("plan_id"),
        *columns,
    ).outerjoin(Measure, Measure.id == record.measure_id)


def _updates(query: ChangeQuery):
    statement = _half(
        UPDATE,
        StatusUpdate,
        Measure.plan_id,
        StatusUpdate.organisation_id.label("organisation_id"),
        StatusUpdate.completion.label("completion"),
        StatusUpdate.as_of_date.label("day"),
        func.coalesce(StatusUpdate.decided_dt, StatusUpdate.created_dt).label("moment"),
        StatusUpdate.narrative_az.label("text_az"),
        StatusUpdate.narrative_en.label("text_en"),
        literal("", String).label("source_title"),
    ).where(
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
    )
    if query.organisation_id is not None:
        statement = statement.where(StatusUpdate.organisation_id == query.organisation_id)
    return within_query(statement, query, StatusUpdate.as_of_date)


def _claims(query: ChangeQuery):
    plan_id = func.coalesce(Measure.plan_id, GovernmentClaim.plan_id)
    statement = _half(
        CLAIM,
        GovernmentClaim,
        plan_id,
        null().label("organisation_id"),
        GovernmentClaim.claimed_completion.label("completion"),
        GovernmentClaim.claim_date.label("day"),
        GovernmentClaim.created_dt.label("moment"),
        GovernmentClaim.note.label("text_az"),
        GovernmentClaim.note.label("text_en"),
        GovernmentClaim.source_title.label("source_title"),
    ).where(GovernmentClaim.is_archived.is_(False))
    if query.measure_id is not None:
        # a claim about the whole plan is a claim about each of its measures
        measure = aliased(Measure)
        measures_plan = select(measure.plan_id).where(measure.id == query.measure_id)
        statement = statement.where(
            (GovernmentClaim.measure_id == query.measure_id)
            | (
                GovernmentClaim.measure_id.is_(None)
                & (GovernmentClaim.plan_id == measures_plan.scalar_subquery())
            )
        )
    return within_query(
        statement,
        replace(query, measure_id=None),
        GovernmentClaim.claim_date,
        plan_id=plan_id,
    )


def within_query(statement, query: ChangeQuery, day_column, *, plan_id=Measure.plan_id):
    """The statement narrowed to the query's plan, measure and days (`day_column` holds
    the date a record describes, `plan_id` its plan); the statement joins its record's
    Measure. The organisation is the caller's: claims have none."""
    if query.plan_id is not None:
        statement = statement.where(plan_id == query.plan_id)
    if query.measure_id is not None:
        statement = statement.where(Measure.id == query.measure_id)
    if query.since is not None:
        statement = statement.where(day_column >= query.since)
    if query.until is not None:
        statement = statement.where(day_column <= query.until)
    return statement


def approved_changes(
    session: Session, query: ChangeQuery, *, limit: int | None = None, offset: int = 0
) -> tuple[list[Change], int]:
    """The changes the query asks for, newest first (a page of them), and their number.
    An organisation's changes are its updates only: claims are the government's."""
    parts = [_updates(query)]
    if query.organisation_id is None:
        parts.append(_claims(query))
    changes = union_all(*parts).subquery()
    total = session.scalar(select(func.count()).select_from(changes)) or 0
    statement = (
        select(*_change_columns(changes))
        .outerjoin(Measure, Measure.id == changes.c.measure_id)
        .join(ActionPlan, ActionPlan.id == changes.c.plan_id)
        .outerjoin(Organisation, Organisation.id == changes.c.organisation_id)
        .order_by(
            changes.c.day.desc(),
            changes.c.moment.desc(),
            changes.c.kind,
            changes.c.record_id.desc(),
        )
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [Change(**row._mapping) for row in session.execute(statement)], total


def _change_columns(changes):
    """The union's columns and their measure, plan and organisation, labelled as Change
    names its fields."""
    blank = ""
    return (
        changes.c.kind,
        changes.c.record_id,
        ActionPlan.key.label("plan_key"),
        func.coalesce(Measure.code, blank).label("measure_code"),
        func.coalesce(Measure.title_az, blank).label("measure_title_az"),
        func.coalesce(Measure.title_en, blank).label("measure_title_en"),
        changes.c.organisation_id,
        func.coalesce(Organisation.name_az, blank).label("organisation_name_az"),
        func.coalesce(Organisation.name_en, blank).label("organisation_name_en"),
        changes.c.completion,
        changes.c.day,
        changes.c.moment,
        func.coalesce(changes.c.text_az, blank).label("text_az"),
        func.coalesce(changes.c.text_en, blank).label("text_en"),
        func.coalesce(changes.c.source_title, blank).label("source_title"),
    )
