"""The public reads of government claims: the approved, current claims that speak for a
measure (its own and its plan's plan-wide ones), for the measure pages and the footer.

Kept apart from claims.py, the write path: that one tells a proposal's reviewers through
services.reminders, whose notices import this package, so the package's __init__ names
these reads from here, not from claims.py (an import cycle)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.models import GovernmentClaim, Measure
from tracker.vocabulary import ReviewState


def _public():
    return (
        GovernmentClaim.review_state == ReviewState.APPROVED,
        GovernmentClaim.is_archived.is_(False),
    )


def current_claims(session: Session, measure: Measure) -> list[GovernmentClaim]:
    """The public claims that speak for the measure: its own and its plan's plan-wide ones
    (current and approved), newest first, with their files."""
    return list(
        session.scalars(
            select(GovernmentClaim)
            .where(
                (GovernmentClaim.measure_id == measure.id)
                | (
                    (GovernmentClaim.plan_id == measure.plan_id)
                    & GovernmentClaim.measure_id.is_(None)
                ),
                *_public(),
            )
            .options(joinedload(GovernmentClaim.file))
            .order_by(GovernmentClaim.claim_date.desc(), GovernmentClaim.id.desc())
        )
    )


def plan_wide_claims(session: Session) -> list[GovernmentClaim]:
    """The latest public plan-wide claim of each plan that has one (for the footer)."""
    claims = session.scalars(
        select(GovernmentClaim)
        .where(GovernmentClaim.measure_id.is_(None), *_public())
        .options(joinedload(GovernmentClaim.file), joinedload(GovernmentClaim.plan))
        .order_by(GovernmentClaim.claim_date.desc(), GovernmentClaim.id.desc())
    )
    latest: dict[int, GovernmentClaim] = {}
    for claim in claims:
        latest.setdefault(claim.plan_id, claim)
    return list(latest.values())
