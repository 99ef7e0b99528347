"""The monthly archive of plan reports: on the first of each month the scheduler saves a
plan report per plan and language, published with its date and SHA-256.

Idempotent per month: the (plan, period, locale) unique constraint and a file name made
from those three mean a second run, or a second scheduler process, adds no row and no
file. The row is flushed before the file is written and committed after, so a concurrent
run fails on the constraint instead of writing; a run that dies after writing leaves a
file that the next run overwrites under the same name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from tracker import clock
from tracker.database import reads_only
from tracker.models import ActionPlan, ReportSnapshot
from tracker.services import audit
from tracker.services.reports.model import LANGUAGES, ReportSpec, as_of_range
from tracker.services.reports.pdf import render_report


def snapshot_file_name(plan_key: str, period: str, locale: str) -> str:
    return f"{plan_key}-{period}-{locale}.pdf"


def archive_folder() -> Path:
    folder = Path(current_app.config["REPORT_ARCHIVE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _archive_one(
    session: Session, plan: PlanDates, period: str, as_of: date, locale: str
) -> ReportSnapshot | None:
    exists = session.scalar(
        select(ReportSnapshot.id).where(
            ReportSnapshot.plan_id == plan.id,
            ReportSnapshot.period == period,
            ReportSnapshot.locale == locale,
        )
    )
    session.commit()
    if exists is not None:
        return None
    # a plan report reads for seconds: writers must not wait for it (SQLite)
    with reads_only(session):
        data = render_report(session, ReportSpec(plan_key=plan.key, as_of=as_of, locale=locale))
    snapshot = ReportSnapshot(
        plan_id=plan.id,
        period=period,
        locale=locale,
        as_of_date=as_of,
        file_name=snapshot_file_name(plan.key, period, locale),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:
        # another process archived this month in the meantime
        session.rollback()
        return None
    write_atomically(archive_folder() / snapshot.file_name, data)
    audit.record(
        session,
        "report.archived",
        "report_snapshot",
        snapshot.id,
        summary=f"{snapshot.file_name} sha256={snapshot.sha256}",
        details={"plan": plan.key, "period": period, "locale": locale},
        actor=None,
    )
    session.commit()
    return snapshot


@dataclass(frozen=True)
class PlanDates:
    """What archiving needs of a plan, read once: its rows expire at each commit."""

    id: int
    key: str
    start_year: int
    end_year: int


def archive_monthly_snapshot(session: Session, now: datetime) -> list[ReportSnapshot]:
    """Save this month's plan report for every plan that has begun, in each language,
    unless it is saved already. Returns the snapshots it made (none on a second run), each
    committed as it is made. An ended plan's report describes its last day, as on the web:
    the month's snapshot keeps the record as it then stands."""
    today = clock.baku_date(now)
    period = f"{today.year:04d}-{today.month:02d}"
    plans = [
        PlanDates(plan.id, plan.key, plan.start_year, plan.end_year)
        for plan in session.scalars(select(ActionPlan).order_by(ActionPlan.key))
    ]
    made = []
    for plan in plans:
        start, as_of = as_of_range(plan.start_year, plan.end_year, today)
        if today < start:
            continue
        for locale in LANGUAGES:
            snapshot = _archive_one(session, plan, period, as_of, locale)
            if snapshot is not None:
                made.append(snapshot)
    return made


def scheduled_snapshot_job(session: Session, now: datetime) -> None:
    """The scheduler's monthly job (tracker.scheduler calls it and commits)."""
    archive_monthly_snapshot(session, now)


def list_snapshots(session: Session) -> list[ReportSnapshot]:
    return list(
        session.scalars(
            select(ReportSnapshot)
            .join(ActionPlan)
            .options(contains_eager(ReportSnapshot.plan))
            .order_by(ReportSnapshot.period.desc(), ActionPlan.key, ReportSnapshot.locale)
        )
    )


def find_snapshot(session: Session, file_name: str) -> ReportSnapshot | None:
    return session.scalar(select(ReportSnapshot).where(ReportSnapshot.file_name == file_name))
