"""The public archive of monthly plan report snapshots, and the queue of reports asked for
on the web (built by the scheduler, cached by scope, date, language and data version)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, utc_now
from tracker.vocabulary import ReportKind, ReportRequestStatus


class ReportSnapshot(db.Model):
    """A plan report saved as a PDF file for one month and one language. The unique
    constraint and the file name derived from it make a second run in a month a no-op."""

    __tablename__ = "report_snapshot"
    __table_args__ = (UniqueConstraint("plan_id", "period", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id"), index=True)
    #: the month the snapshot belongs to, "YYYY-MM"
    period: Mapped[str] = mapped_column(String(7))
    #: the report's language, "az" or "en"
    locale: Mapped[str] = mapped_column(String(5))
    #: the "as of" date the report was generated for
    as_of_date: Mapped[date] = mapped_column(Date)
    #: the file's name inside REPORT_ARCHIVE_FOLDER, derived from plan, period and locale
    file_name: Mapped[str] = mapped_column(String(200), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    #: hex SHA-256 of the file, published on the archive page
    sha256: Mapped[str] = mapped_column(String(64))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    plan: Mapped[ActionPlan] = relationship()  # noqa: F821


class ReportRequest(db.Model):
    """A report a visitor asked for: one row per scope, "as of" date, language and data
    version (the unique `cache_key` made from them), so asking again for the same report
    on the same data finds the same row, and its file once the scheduler has built it."""

    __tablename__ = "report_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: hex SHA-256 of the scope, date, language and data version
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ReportKind] = mapped_column(EnumText(ReportKind, 20))
    plan_key: Mapped[str] = mapped_column(String(100))
    section: Mapped[int | None] = mapped_column(Integer)
    agency_key: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    as_of_date: Mapped[date] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(5))
    #: the public data's version when the report was asked for
    data_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[ReportRequestStatus] = mapped_column(
        EnumText(ReportRequestStatus, 20), default=ReportRequestStatus.QUEUED, index=True
    )
    #: the built file's name inside REPORT_CACHE_FOLDER
    file_name: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    #: why the build failed, for the logs and admins
    error: Mapped[str] = mapped_column(Text, default="")
    requested_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: wall-clock time the build started: a build older than the limit is retried
    started_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
