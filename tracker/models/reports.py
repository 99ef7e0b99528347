"""The public archive of monthly plan report snapshots."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime, utc_now


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
