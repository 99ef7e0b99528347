"""The open data's list of approved updates (the JSON API's /updates): filtered as the
"what changed" page is (plans.ChangeQuery: plan, measure, organisation, as-of dates),
newest decision first, a page at a time, by number or after a given update."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from tracker import data_version
from tracker.models import StatusUpdate
from tracker.services.plans import ChangeQuery, within_query
from tracker.services.reports.exports import approved_updates_statement
from tracker.vocabulary import ReviewState


@dataclass(frozen=True)
class UpdatesPage:
    updates: list[StatusUpdate]
    #: how many updates the query matches in all
    total: int
    has_next: bool


def approved_updates_page(
    session: Session, query: ChangeQuery, per_page: int, *, page: int = 1, after: int | None = None
) -> UpdatesPage:
    """Page `page` of the updates that match, or with `after`, the page that follows that
    update (keyset paging, which reads the order's index however deep the page)."""
    statement = _matching(query)
    # counted once per data version (a million rows at OGP scale); the query's fields are
    # plain values, so it is its own key
    total = data_version.count_per_version(session, ("api.updates", query), statement)
    if after is not None:
        statement = _after(statement, after)
    else:
        statement = statement.offset((page - 1) * per_page)
    # one more than a page: whether there is a next page
    rows = list(session.scalars(statement.limit(per_page + 1)).unique())
    return UpdatesPage(rows[:per_page], total, has_next=len(rows) > per_page)


def approved_update(session: Session, update_id: int) -> StatusUpdate | None:
    """The update if it is approved and not archived, with what the open data shows."""
    return session.scalar(approved_updates_statement().where(StatusUpdate.id == update_id))


def _matching(query: ChangeQuery) -> Select:
    statement = within_query(approved_updates_statement(), query, StatusUpdate.as_of_date)
    if query.organisation_id is not None:
        statement = statement.where(StatusUpdate.organisation_id == query.organisation_id)
    return statement


def _after(statement: Select, after: int) -> Select:
    """The updates that come after the approved update `after` in the list's order (newest
    decision first). An update that is not approved (or no update) has nothing after it."""
    position = func.coalesce(StatusUpdate.decided_dt, StatusUpdate.created_dt)
    cursor = aliased(StatusUpdate)
    cursor_position = (
        select(func.coalesce(cursor.decided_dt, cursor.created_dt))
        .where(cursor.id == after, cursor.review_state == ReviewState.APPROVED)
        .scalar_subquery()
    )
    return statement.where(tuple_(position, StatusUpdate.id) < tuple_(cursor_position, after))
