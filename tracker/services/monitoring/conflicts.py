"""Who may not review a record although they are a reviewer: its author (or the author of
a version it revises), and anyone whose organisation, current or past, wrote it or
monitored its measure while it was written. The one rule for updates and for proposed
government claims; the review services ask it before deciding, the views to hide buttons,
and the review-queue reminders (`reviewers_allowed`) to pick whom to remind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker import clock
from tracker.models import GovernmentClaim, Measure, MonitoringLink, Organisation, StatusUpdate
from tracker.services.accounts import can_review, organisation_histories, organisation_history

Key = TypeVar("Key")


@dataclass(frozen=True)
class Written:
    """What the rule needs to know of a record under review."""

    author_ids: frozenset[int]
    #: the organisation that wrote it (None for a claim proposed by no organisation)
    organisation_id: int | None
    measure_id: int | None
    started: datetime | None
    finished: datetime | None


def written_updates(session: Session, update_ids: Iterable[int]) -> dict[int, Written]:
    """The updates as the rule sees them, by id (one query): their authors are those of
    every version they revise too, and each was written from its first version's start
    to its submission."""
    ids = sorted(set(update_ids))
    if not ids:
        return {}
    older = aliased(StatusUpdate)
    chain = (
        select(StatusUpdate.id.label("update_id"), StatusUpdate.id.label("version_id"))
        .add_columns(StatusUpdate.replaces_id.label("replaces_id"))
        .where(StatusUpdate.id.in_(ids))
        .cte("revised_chain", recursive=True)
    )
    # UNION, not UNION ALL: a chain that loops back ends at the first repeated version
    chain = chain.union(
        select(chain.c.update_id, older.id, older.replaces_id).join(
            older, older.id == chain.c.replaces_id
        )
    )
    version, target = aliased(StatusUpdate), aliased(StatusUpdate)
    rows = session.execute(
        select(chain.c.update_id, version.author_id, version.created_dt)
        .add_columns(target.organisation_id, target.measure_id, target.submitted_dt)
        .join(version, version.id == chain.c.version_id)
        .join(target, target.id == chain.c.update_id)
    ).all()
    found: dict[int, Written] = {}
    for update_id, author_id, created_dt, organisation_id, measure_id, submitted_dt in rows:
        known = found.get(update_id)
        authors = (known.author_ids if known else frozenset()) | ({author_id} - {None})
        starts = [dt for dt in (created_dt, known and known.started) if dt is not None]
        found[update_id] = Written(
            author_ids=authors,
            organisation_id=organisation_id,
            measure_id=measure_id,
            started=min(starts, default=None),
            finished=submitted_dt,
        )
    return found


def written_claim(claim: GovernmentClaim) -> Written:
    """A proposed claim as the rule sees it: written by its recorder, for its organisation,
    at the moment it was recorded."""
    return Written(
        author_ids=frozenset({claim.recorded_by_id} - {None}),
        organisation_id=claim.organisation_id,
        measure_id=claim.measure_id,
        started=claim.created_dt,
        finished=claim.created_dt,
    )


def _links(session: Session, organisation_ids: Iterable[int], measure_ids: Iterable[int | None]):
    """The monitoring links of these organisations to these measures, at any time."""
    organisation_ids = sorted(set(organisation_ids))
    measure_ids = sorted({m for m in measure_ids if m is not None})
    if not organisation_ids or not measure_ids:
        return []
    return session.execute(
        select(
            MonitoringLink.organisation_id,
            MonitoringLink.measure_id,
            MonitoringLink.start_date,
            MonitoringLink.end_date,
        ).where(
            MonitoringLink.organisation_id.in_(organisation_ids),
            MonitoringLink.measure_id.in_(measure_ids),
        )
    ).all()


def _written_days(written: Written) -> tuple[date, date]:
    """The Baku days it was written on: a link's dates are Baku days, as the admin gave them."""
    today = clock.today()
    start = clock.baku_date(written.started) if written.started else today
    end = clock.baku_date(written.finished) if written.finished else today
    return start, end


@dataclass(frozen=True)
class _Conflict:
    """Why a reviewer may not review a record, before it is put in words."""

    is_author: bool = False
    is_own_organisation: bool = False
    #: the organisation of theirs that monitored the measure while it was written
    monitor_id: int | None = None


def _conflict(
    reviewer_id: int, organisations: set[int], written: Written, links
) -> _Conflict | None:
    """The rule itself, on what was loaded: `organisations` are the reviewer's, current
    and past; `links` hold at least theirs to the record's measure. None: no conflict."""
    if reviewer_id in written.author_ids:
        return _Conflict(is_author=True)
    if written.organisation_id is not None and written.organisation_id in organisations:
        return _Conflict(is_own_organisation=True)
    start, end = _written_days(written)
    monitors = [
        link.organisation_id
        for link in links
        if link.organisation_id in organisations
        and link.measure_id == written.measure_id
        and link.start_date <= end
        and (link.end_date is None or link.end_date >= start)
    ]
    return _Conflict(monitor_id=min(monitors)) if monitors else None


def review_refusal(session: Session, reviewer, written: Written):
    """Why this user may not review the record (a translatable message), or None."""
    if not can_review(reviewer):
        return _l("Only reviewers of the Open Government Platform can review.")
    organisations = organisation_history(session, reviewer)
    links = _links(session, organisations, [written.measure_id])
    conflict = _conflict(reviewer.id, organisations, written, links)
    if conflict is None:
        return None
    if conflict.is_author:
        return _l("You wrote this or a version it revises, so someone else must review it.")
    if conflict.is_own_organisation:
        return _l("You cannot review what your own organisation, current or past, wrote.")
    monitor = session.get(Organisation, conflict.monitor_id)
    measure = session.get(Measure, written.measure_id)
    return _l(
        "%(organisation)s, your organisation now or in the past, monitored measure "
        "%(code)s while this was written, so someone else must review it.",
        organisation=monitor.name(str(get_locale() or "az")),
        code=measure.code,
    )


def reviewers_allowed(
    session: Session, reviewers: Sequence, records: Mapping[Key, Written]
) -> dict[Key, list[int]]:
    """For each record, the ids of the `reviewers` whom `review_refusal` would let review
    it: the same rule, in two queries however many reviewers and records there are."""
    reviewers = [r for r in reviewers if can_review(r)]
    histories = organisation_histories(session, reviewers)
    links = _links(
        session,
        set().union(*histories.values()),
        (written.measure_id for written in records.values()),
    )
    return {
        key: [
            reviewer.id
            for reviewer in reviewers
            if _conflict(reviewer.id, histories[reviewer.id], written, links) is None
        ]
        for key, written in records.items()
    }
