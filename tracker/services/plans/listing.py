"""The list of plans, a page at a time: at OGP scale there are hundreds."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import ActionPlan
from tracker.pagination import Page

#: plans listed per page of /plans/
PLANS_PER_PAGE = 50


def plans_page(session: Session, number: int = 1, per_page: int = PLANS_PER_PAGE) -> Page:
    """One page of the plans, newest first (the order of `scorecard.list_plans`), in two
    queries whatever their number: how many there are, and the page. A page past the
    last is empty, as on the other lists."""
    total = session.scalar(select(func.count()).select_from(ActionPlan)) or 0
    page = Page([], number, per_page, total)
    page.items = list(
        session.scalars(
            select(ActionPlan)
            .order_by(ActionPlan.end_year.desc(), ActionPlan.key)
            .limit(per_page)
            .offset(page.offset)
        )
    )
    return page
