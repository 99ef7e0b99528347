"""Milestones of a measure, edited by admins: add, change, archive. A milestone is never
deleted: archiving keeps it for history, and services.plans.status no longer counts it.
What milestones do to a measure's state is decided in status.py alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker.dates import show_date
from tracker.models import Measure, Milestone
from tracker.services import audit
from tracker.services.accounts import is_admin
from tracker.services.errors import InvalidInput, NotAllowed, StateConflict
from tracker.vocabulary import MilestoneState

MAX_TITLE_LENGTH = 500
#: a milestone may fall this many years after the plan's end (late measures)
YEARS_AFTER_PLAN = 5


@dataclass(frozen=True)
class MilestoneInput:
    title_az: str
    title_en: str
    due_date: date | None
    state: str
    is_final: bool = False


def _check_admin(actor) -> None:
    if not is_admin(actor):
        raise NotAllowed(_l("Only administrators can edit milestones."))


def _clean(measure: Measure, data: MilestoneInput) -> dict:
    """The values to store, or InvalidInput naming every input that is wrong."""
    problems: dict[str, list] = {}
    title_az, title_en = (data.title_az or "").strip(), (data.title_en or "").strip()
    if not title_az:
        problems["title_az"] = [_l("Give the milestone a title in Azerbaijani.")]
    for name, text in (("title_az", title_az), ("title_en", title_en)):
        if len(text) > MAX_TITLE_LENGTH:
            problems[name] = [_l("Use at most %(count)d characters.", count=MAX_TITLE_LENGTH)]
    first = measure.plan.starts_on
    last = date(measure.plan.end_year + YEARS_AFTER_PLAN, 12, 31)
    if data.due_date is None:
        problems["due_date"] = [_l("Enter the milestone's due date.")]
    elif not first <= data.due_date <= last:
        problems["due_date"] = [
            _l(
                "Choose a date from %(first)s to %(last)s.",
                first=show_date(first),
                last=show_date(last),
            )
        ]
    if data.state not in MilestoneState.__members__.values():
        problems["state"] = [_l("Choose one of the options in the list.")]
    if problems:
        raise InvalidInput(problems=problems)
    return {
        "title_az": title_az,
        "title_en": title_en,
        "due_date": data.due_date,
        "state": MilestoneState(data.state),
        "is_final": bool(data.is_final),
    }


def _record(milestone: Milestone) -> dict:
    return {
        "title_az": milestone.title_az,
        "title_en": milestone.title_en,
        "due_date": milestone.due_date.isoformat(),
        "state": str(milestone.state),
        "is_final": milestone.is_final,
    }


def _audit(session: Session, actor, action: str, milestone: Milestone, **details) -> None:
    """Record what happened to a milestone in the audit log, with its measure's id."""
    audit.record(
        session,
        action,
        "milestone",
        milestone.id,
        actor=actor,
        details={"measure_id": milestone.measure_id, **details},
    )


def add_milestone(session: Session, actor, measure: Measure, data: MilestoneInput) -> Milestone:
    _check_admin(actor)
    milestone = Milestone(measure_id=measure.id, **_clean(measure, data))
    session.add(milestone)
    session.flush()
    _audit(session, actor, "milestone.added", milestone, **_record(milestone))
    return milestone


def edit_milestone(session: Session, actor, milestone: Milestone, data: MilestoneInput) -> bool:
    """Change a milestone; False when nothing changed."""
    _check_admin(actor)
    if milestone.is_archived:
        raise StateConflict(_l("This milestone is archived; it can no longer be changed."))
    before = _record(milestone)
    for name, value in _clean(milestone.measure, data).items():
        setattr(milestone, name, value)
    after = _record(milestone)
    if after == before:
        return False
    _audit(session, actor, "milestone.changed", milestone, before=before, after=after)
    return True


def archive_milestone(session: Session, actor, milestone: Milestone) -> None:
    """Set a milestone aside: kept, shown to admins, counted nowhere."""
    _check_admin(actor)
    if milestone.is_archived:
        raise StateConflict(_l("This milestone is archived already."))
    milestone.is_archived = True
    _audit(session, actor, "milestone.archived", milestone)


def milestone_input(milestone: Milestone) -> MilestoneInput:
    """A milestone's values as an input (to fill the edit form)."""
    return MilestoneInput(
        milestone.title_az,
        milestone.title_en,
        milestone.due_date,
        str(milestone.state),
        milestone.is_final,
    )
