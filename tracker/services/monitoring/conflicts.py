"""Who may not review a record although they are a reviewer: its author (or the author of
a version it revises), and anyone whose organisation, current or past, wrote it or
monitored its measure while it was written. The one rule for updates and for proposed
government claims; the review services ask it before deciding, the views to hide buttons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import Measure, MonitoringLink, Organisation
from tracker.services.accounts import can_review, organisation_history


@dataclass(frozen=True)
class Written:
    """What the rule needs to know of a record under review."""

    author_ids: frozenset[int]
    #: the organisation that wrote it (None for a claim proposed by no organisation)
    organisation_id: int | None
    measure_id: int | None
    started: datetime | None
    finished: datetime | None


def _monitoring_organisation(
    session: Session, organisation_ids: Iterable[int], written: Written
) -> Organisation | None:
    """One of the organisations that monitored the measure at any time while it was written."""
    if written.measure_id is None or not organisation_ids:
        return None
    today = clock.today()
    start = written.started.date() if written.started else today
    end = written.finished.date() if written.finished else today
    return session.scalar(
        select(Organisation)
        .join(MonitoringLink, MonitoringLink.organisation_id == Organisation.id)
        .where(
            MonitoringLink.organisation_id.in_(organisation_ids),
            MonitoringLink.measure_id == written.measure_id,
            MonitoringLink.start_date <= end,
            MonitoringLink.end_date.is_(None) | (MonitoringLink.end_date >= start),
        )
        .order_by(Organisation.id)
        .limit(1)
    )


def review_refusal(session: Session, reviewer, written: Written):
    """Why this user may not review the record (a translatable message), or None."""
    if not can_review(reviewer):
        return _l("Only reviewers of the Open Government Platform can review.")
    if reviewer.id in written.author_ids:
        return _l("You wrote this or a version it revises, so someone else must review it.")
    organisations = organisation_history(session, reviewer)
    if written.organisation_id is not None and written.organisation_id in organisations:
        return _l("You cannot review what your own organisation, current or past, wrote.")
    monitor = _monitoring_organisation(session, organisations, written)
    if monitor is not None:
        measure = session.get(Measure, written.measure_id)
        return _l(
            "%(organisation)s, your organisation now or in the past, monitored measure "
            "%(code)s while this was written, so someone else must review it.",
            organisation=monitor.name(str(get_locale() or "az")),
            code=measure.code,
        )
    return None
