"""Review of the claims monitors propose: a reviewer approves a proposal (it becomes
public, and the claim it corrects is archived) or returns it with a reason. The same
rules as for updates: one conditional UPDATE decides, and nobody reviews what they or an
organisation of theirs (current or past) proposed or monitored (`conflicts`). Deciding
settles the reviewers' notices of the proposal and tells the proposing organisation's
monitors, in the decision's transaction (services.reminders)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import GovernmentClaim, Measure
from tracker.services import reminders
from tracker.services.errors import NotAllowed
from tracker.services.monitoring.claims import archive_replaced
from tracker.services.monitoring.conflicts import review_refusal, written_claim
from tracker.services.monitoring.events import record_event
from tracker.services.monitoring.review import clean_text, mark_decided
from tracker.vocabulary import ReviewState


def refusal(session: Session, reviewer, claim: GovernmentClaim):
    """Why this reviewer may not decide on this proposal (a message), or None."""
    return review_refusal(session, reviewer, written_claim(claim))


def _decide(
    session: Session, reviewer, claim: GovernmentClaim, decision: ReviewState, comment: str
) -> None:
    reason = refusal(session, reviewer, claim)
    if reason is not None:
        raise NotAllowed(reason)
    mark_decided(
        session,
        claim,
        decision,
        reviewer,
        comment,
        clock.now_utc(),
        already_decided=_l(
            "This proposal has already been decided. Only submitted ones can be decided."
        ),
    )
    if decision == ReviewState.APPROVED and claim.replaces is not None:
        archive_replaced(session, claim.replaces)
    record_event(session, f"claim.{decision}", claim, reviewer, "measure_id", comment=comment)
    reminders.notify_claim_decided(session, claim)


def approve_claim(session: Session, reviewer, claim: GovernmentClaim, comment: str = "") -> None:
    _decide(session, reviewer, claim, ReviewState.APPROVED, clean_text("comment", comment))


def return_claim(session: Session, reviewer, claim: GovernmentClaim, reason: str) -> None:
    reason = clean_text(
        "reason",
        reason,
        required_message=_l("Say why you return the proposal, so the monitor can fix it."),
    )
    _decide(session, reviewer, claim, ReviewState.RETURNED, reason)


def proposed_claims(session: Session) -> list[GovernmentClaim]:
    """Proposals waiting for a decision, the longest-waiting first (one query)."""
    return list(
        session.scalars(
            select(GovernmentClaim)
            .where(GovernmentClaim.review_state == ReviewState.SUBMITTED)
            .options(
                joinedload(GovernmentClaim.measure).joinedload(Measure.plan),
                joinedload(GovernmentClaim.organisation),
            )
            .order_by(GovernmentClaim.created_dt, GovernmentClaim.id)
        )
    )
