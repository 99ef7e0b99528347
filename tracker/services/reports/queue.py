"""Reports asked for on the web, built off the request path and cached.

A download never builds a PDF inside a web request. The request looks up (or adds) a
`ReportRequest` row keyed by the report's scope, "as of" date, language and the public
data's version, and answers at once: the file when it is ready, else a page saying it is
being prepared. The scheduler's frequent job (`scheduled_report_job`) builds the queued
rows one at a time into REPORT_CACHE_FOLDER. Asking again for the same report on the same
data serves the same file; a change to the data makes a new key, so a new build.

The data version is the application's (tracker.data_version), which every write to
public data moves on in its own transaction.

A build that dies (the scheduler stopped mid-build) is retried after BUILD_TIMEOUT; a
build that fails is retried when the report is asked for again, RETRY_FAILED_AFTER later.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tracker import clock
from tracker.data_version import current as current_version
from tracker.database import reads_only
from tracker.dates import show_date
from tracker.models import (
    ReportRequest,
)
from tracker.services.errors import InvalidInput
from tracker.services.reports.archive import write_atomically
from tracker.services.reports.model import (
    ReportSpec,
    ReportSubjectNotFound,
    as_of_range,
    plan_start,
)
from tracker.services.reports.pdf import render_report
from tracker.services.reports.selection import select_measures
from tracker.vocabulary import ReportKind, ReportRequestStatus

logger = logging.getLogger(__name__)

#: a build running longer than this (wall clock) is taken to belong to a dead process
BUILD_TIMEOUT = timedelta(minutes=10)
#: reports built per run of the job; the rest wait for the next run
BUILDS_PER_RUN = 20
#: a failed build is tried again when the report is asked for this long after the failure
RETRY_FAILED_AFTER = timedelta(minutes=1)
#: the column of a ReportRequest row that keeps each field of its ReportSpec
SPEC_COLUMNS = {
    "kind": "kind",
    "plan_key": "plan_key",
    "section": "section",
    "agency_key": "agency_key",
    "organisation_id": "organisation_id",
    "as_of": "as_of_date",
    "locale": "locale",
}


def data_version(session: Session) -> str:
    """The public data's version (tracker.data_version), moved on by every public write in
    the same transaction: a report cached under it is never stale."""
    return current_version(session).token


def cache_key(spec: ReportSpec, version: str) -> str:
    scope = (
        spec.kind,
        spec.plan_key,
        spec.section,
        spec.agency_key,
        spec.organisation_id,
        spec.as_of.isoformat(),
        spec.locale,
        version,
    )
    return hashlib.sha256(repr(scope).encode()).hexdigest()


def cache_folder() -> Path:
    folder = Path(current_app.config["REPORT_CACHE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class RequestedReport:
    """What a download page shows: the report's state and, once ready, its file."""

    status: ReportRequestStatus
    path: Path | None = None


def request_report(session: Session, spec: ReportSpec) -> RequestedReport:
    """The report's state, queueing it if it is new or failed before. Raises
    ReportSubjectNotFound (checked once, when the report is first asked for). Each write
    is a short transaction of its own, begun after the reads have ended (on SQLite a read
    transaction that turns into a write could not wait for the lock)."""
    version = data_version(session)
    key = cache_key(spec, version)
    row = session.scalar(select(ReportRequest).where(ReportRequest.cache_key == key))
    if row is None:
        select_measures(session, spec)
        session.commit()
        _insert_request(session, spec, key, version)
        session.commit()
        return RequestedReport(ReportRequestStatus.QUEUED)
    if row.status == ReportRequestStatus.READY:
        path = cache_folder() / row.file_name
        if path.is_file():
            return RequestedReport(row.status, path)
        logger.error("Cached report %s is missing; building it again", row.file_name)
    if row.status == ReportRequestStatus.FAILED and not _may_retry(row):
        return RequestedReport(row.status)
    if row.status in (ReportRequestStatus.READY, ReportRequestStatus.FAILED):
        row_id, status = row.id, row.status
        session.commit()
        session.execute(
            update(ReportRequest)
            .where(ReportRequest.id == row_id, ReportRequest.status == status)
            .values(status=ReportRequestStatus.QUEUED, error="")
        )
        session.commit()
        return RequestedReport(ReportRequestStatus.QUEUED)
    return RequestedReport(row.status)


def _may_retry(row: ReportRequest) -> bool:
    return row.finished_dt is None or row.finished_dt < clock.now_utc() - RETRY_FAILED_AFTER


def _insert_request(session: Session, spec: ReportSpec, key: str, version: str) -> None:
    """Add the row; a concurrent request that added it first wins (no error)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "cache_key": key,
        **{column: getattr(spec, name) for name, column in SPEC_COLUMNS.items()},
        "kind": str(spec.kind),
        "data_version": version,
        "status": str(ReportRequestStatus.QUEUED),
        "error": "",
        "requested_dt": clock.now_utc(),
    }
    statement = insert(ReportRequest.__table__).values(values)
    session.execute(statement.on_conflict_do_nothing(index_elements=["cache_key"]))


def spec_of(row: ReportRequest) -> ReportSpec:
    values = {name: getattr(row, column) for name, column in SPEC_COLUMNS.items()}
    return ReportSpec(**values | {"kind": ReportKind(row.kind)})


# --- the scheduler's side --------------------------------------------------------------------


def _recover_stale_builds(session: Session) -> None:
    session.execute(
        update(ReportRequest)
        .where(
            ReportRequest.status == ReportRequestStatus.BUILDING,
            ReportRequest.started_dt < clock.now_utc() - BUILD_TIMEOUT,
        )
        .values(status=ReportRequestStatus.QUEUED)
    )
    session.commit()


def _claim_next(session: Session) -> int | None:
    """Take the oldest queued request with one conditional UPDATE; None when none is left."""
    while True:
        request_id = session.scalar(
            select(ReportRequest.id)
            .where(ReportRequest.status == ReportRequestStatus.QUEUED)
            .order_by(ReportRequest.id)
            .limit(1)
        )
        if request_id is None:
            return None
        claimed = session.execute(
            update(ReportRequest)
            .where(
                ReportRequest.id == request_id, ReportRequest.status == ReportRequestStatus.QUEUED
            )
            .values(status=ReportRequestStatus.BUILDING, started_dt=clock.now_utc())
        ).rowcount
        session.commit()
        if claimed:
            return request_id


def _build(session: Session, request_id: int) -> None:
    row = session.get(ReportRequest, request_id)
    spec, key = spec_of(row), row.cache_key
    session.commit()
    try:
        # a large report reads for seconds: writers must not wait for it (SQLite)
        with reads_only(session):
            data = render_report(session, spec)
    except ReportSubjectNotFound as error:
        _finish(session, request_id, ReportRequestStatus.FAILED, error=str(error))
        return
    except Exception as error:  # recorded; asking again retries
        logger.exception("Report %s could not be built", spec.file_name())
        _finish(session, request_id, ReportRequestStatus.FAILED, error=repr(error)[:2000])
        return
    file_name = f"{key}.pdf"
    write_atomically(cache_folder() / file_name, data)
    _finish(session, request_id, ReportRequestStatus.READY, file_name=file_name, size=len(data))


def _finish(session: Session, request_id: int, status, *, error="", file_name=None, size=None):
    session.execute(
        update(ReportRequest)
        .where(ReportRequest.id == request_id)
        .values(
            status=status,
            error=error,
            file_name=file_name,
            size_bytes=size,
            finished_dt=clock.now_utc(),
        )
    )
    session.commit()


def build_requested(session: Session, limit: int = BUILDS_PER_RUN) -> int:
    """Build the queued reports, oldest first, committing each; returns how many were
    taken. Safe beside another builder: each request is claimed by one UPDATE."""
    _recover_stale_builds(session)
    built = 0
    while built < limit:
        request_id = _claim_next(session)
        if request_id is None:
            break
        _build(session, request_id)
        built += 1
    session.commit()
    return built


def scheduled_report_job(session: Session, now: datetime) -> None:
    """The scheduler's frequent job (tracker.scheduler, REPORT_QUEUE_INTERVAL_SECONDS)."""
    build_requested(session)


def checked_as_of(as_of: date | None, start_year: int, end_year: int) -> date:
    """The date a plan report describes: `as_of`, or the latest the plan allows when it is
    None. InvalidInput for a date in the future, after the plan's end or before its start
    (the web answers 400, the command line exits with the message)."""
    end = as_of_range(start_year, end_year)[1]
    as_of = as_of or end
    if as_of > clock.today():
        raise InvalidInput(_("A report cannot describe a date in the future."))
    if as_of > end:
        raise InvalidInput(
            _("The plan ended on %(date)s: choose a date up to then.", date=show_date(end))
        )
    refuse_before_start(as_of, start_year)
    return as_of


def refuse_before_start(as_of: date, start_year: int) -> None:
    """InvalidInput for a date before the plan's start, which no state describes: the PDF,
    the API and the CSV/XLSX files refuse it with the same message."""
    start = plan_start(start_year)
    if as_of < start:
        raise InvalidInput(
            _("The plan starts on %(date)s: choose a date from then.", date=show_date(start))
        )
