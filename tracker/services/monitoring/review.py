"""Review: reviewers approve or return submitted updates, and comment. They never change
an update's content.

A decision is one conditional UPDATE ... WHERE review_state = 'submitted': of any number
of simultaneous decisions on one update exactly one changes a row, and only that one writes
a ReviewDecision and an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import Measure, ReviewDecision, StatusUpdate
from tracker.services import reminders
from tracker.services.accounts import can_review
from tracker.services.errors import InvalidInput, NotAllowed, StateConflict
from tracker.services.monitoring.conflicts import (
    review_refusal,
    reviewers_allowed,
    written_updates,
)
from tracker.services.monitoring.events import record_event
from tracker.vocabulary import ReviewAction, ReviewState

MAX_COMMENT_LENGTH = 5000


def refusal(session: Session, reviewer, target: StatusUpdate):
    """Why this reviewer may not review this update (a message), or None."""
    return review_refusal(session, reviewer, written_updates(session, [target.id])[target.id])


def _check_reviewer(session: Session, reviewer, target: StatusUpdate) -> None:
    reason = refusal(session, reviewer, target)
    if reason is not None:
        raise NotAllowed(reason)


def clean_text(name: str, text: str | None, *, required_message=None) -> str:
    """The text stripped; InvalidInput naming the input `name` when it is missing or too
    long."""
    text = (text or "").strip()
    if required_message is not None and not text:
        raise InvalidInput(problems={name: [required_message]})
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            problems={name: [_l("Use at most %(count)d characters.", count=MAX_COMMENT_LENGTH)]}
        )
    return text


def mark_decided(
    session: Session,
    target,
    decision: ReviewState,
    reviewer,
    comment: str,
    now,
    *,
    already_decided,
    conditions=(),
) -> None:
    """Decide a submitted update or claim with one conditional UPDATE, so that of two
    reviewers deciding at once only the first succeeds: StateConflict(`already_decided`)
    when the row is no longer submitted (or fails `conditions`)."""
    model = type(target)
    result = session.execute(
        update(model)
        .where(model.id == target.id, model.review_state == ReviewState.SUBMITTED, *conditions)
        .values(
            review_state=decision,
            decided_dt=now,
            decided_by_id=reviewer.id,
            return_reason=comment if decision == ReviewState.RETURNED else "",
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateConflict(already_decided)
    session.expire(target)


def _decide(
    session: Session, reviewer, target: StatusUpdate, decision: ReviewState, comment: str
) -> ReviewDecision:
    _check_reviewer(session, reviewer, target)
    now = clock.now_utc()
    mark_decided(
        session,
        target,
        decision,
        reviewer,
        comment,
        now,
        already_decided=_l(
            "This update has already been decided. Only submitted updates can be decided."
        ),
        conditions=(StatusUpdate.is_archived.is_(False),),
    )
    entry = ReviewDecision(
        update_id=target.id,
        reviewer_id=reviewer.id,
        decision=str(decision),
        comment=comment,
        decided_dt=now,
    )
    session.add(entry)
    if decision == ReviewState.APPROVED:
        _archive_superseded(session, target, reviewer)
    record_event(session, f"update.{decision}", target, reviewer, "measure_id", "organisation_id")
    reminders.notify_decided(session, target)
    return entry


def _archive_superseded(session: Session, approved: StatusUpdate, actor) -> None:
    """An approved correction takes the place of every approved update it replaces,
    directly or through returned revisions in between."""
    seen: set[int] = set()
    replaced_id = approved.replaces_id
    while replaced_id is not None and replaced_id not in seen:
        seen.add(replaced_id)
        replaced = session.get(StatusUpdate, replaced_id)
        if replaced is None:
            break
        if replaced.review_state == ReviewState.APPROVED and not replaced.is_archived:
            replaced.is_archived = True
            record_event(session, "update.superseded", replaced, actor, by_update_id=approved.id)
        replaced_id = replaced.replaces_id


def approve(session: Session, reviewer, target: StatusUpdate, comment: str = "") -> ReviewDecision:
    return _decide(session, reviewer, target, ReviewState.APPROVED, clean_text("comment", comment))


def return_update(session: Session, reviewer, target: StatusUpdate, reason: str) -> ReviewDecision:
    reason = clean_text(
        "reason",
        reason,
        required_message=_l("Say why you return the update, so the monitor can fix it."),
    )
    return _decide(session, reviewer, target, ReviewState.RETURNED, reason)


def add_comment(session: Session, reviewer, target: StatusUpdate, text: str) -> ReviewDecision:
    """A comment the monitor sees; it changes nothing else."""
    _check_reviewer(session, reviewer, target)
    if target.review_state == ReviewState.DRAFT:
        raise StateConflict(_l("A draft cannot be commented on before it is submitted."))
    text = clean_text("text", text, required_message=_l("Write a comment before sending it."))
    entry = ReviewDecision(
        update_id=target.id, reviewer_id=reviewer.id, decision=ReviewAction.COMMENT, comment=text
    )
    session.add(entry)
    session.flush()
    record_event(session, "update.commented", target, reviewer, decision_id=entry.id)
    return entry


@dataclass
class QueueItem:
    update: StatusUpdate
    waiting: timedelta
    #: whether the reviewer reading the queue may decide it (the review rule, `refusal`)
    may_decide: bool = True

    @property
    def waiting_days(self) -> int:
        return self.waiting.days


def review_queue(session: Session, reader=None, now: datetime | None = None) -> list[QueueItem]:
    """Submitted updates, the longest-waiting first, each marked with whether `reader` (a
    reviewer) may decide it: four queries however long the queue."""
    now = now or clock.now_utc()
    items = session.scalars(
        select(StatusUpdate)
        .where(
            StatusUpdate.review_state == ReviewState.SUBMITTED,
            StatusUpdate.is_archived.is_(False),
        )
        .options(
            joinedload(StatusUpdate.measure).joinedload(Measure.plan),
            joinedload(StatusUpdate.organisation),
        )
        .order_by(StatusUpdate.submitted_dt, StatusUpdate.id)
    ).all()
    allowed = _decidable(session, reader, items)
    return [
        QueueItem(item, max(now - (item.submitted_dt or now), timedelta(0)), item.id in allowed)
        for item in items
    ]


def _decidable(session: Session, reader, items: list[StatusUpdate]) -> set[int]:
    """The ids of the `items` that `reader` may decide; all of them for a reader who does
    not review (an admin reading the queue is told nothing it cannot act on anyway)."""
    ids = [item.id for item in items]
    if not ids or reader is None or not can_review(reader):
        return set(ids)
    allowed = reviewers_allowed(session, [reader], written_updates(session, ids))
    return {update_id for update_id, reviewers in allowed.items() if reader.id in reviewers}


def recent_decisions(session: Session, limit: int = 20) -> list[ReviewDecision]:
    """The latest approvals and returns, for the queue page (one query)."""
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.decision != ReviewAction.COMMENT)
            .options(
                joinedload(ReviewDecision.update).joinedload(StatusUpdate.measure),
                joinedload(ReviewDecision.update).joinedload(StatusUpdate.organisation),
            )
            .order_by(ReviewDecision.decided_dt.desc(), ReviewDecision.id.desc())
            .limit(limit)
        )
    )
