"""An action plan, its sections, measures and milestones."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, in_language, utc_now
from tracker.vocabulary import MilestoneState


class Titled:
    """A title of the plan's own text: the Azerbaijani original and its English version,
    and `title(locale)` to show the one the page's language wants."""

    title_az: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)

    title = in_language("title")


class ActionPlan(Titled, db.Model):
    __tablename__ = "action_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: natural key, e.g. "az-nap-2020-2022"
    key: Mapped[str] = mapped_column(String(80), unique=True)
    #: ISO 3166 country code
    country: Mapped[str] = mapped_column(String(2))
    #: the period as written, e.g. "2020–2022"
    period: Mapped[str] = mapped_column(String(20))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    #: where the text comes from (the document's title or file)
    source: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    sections: Mapped[list[Section]] = relationship(
        back_populates="plan", order_by="Section.number", cascade="all, delete-orphan"
    )

    @property
    def starts_on(self) -> date:
        """The plan's first day: nothing it describes happens before it."""
        return date(self.start_year, 1, 1)


class Section(Titled, db.Model):
    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)

    plan: Mapped[ActionPlan] = relationship(back_populates="sections")
    measures: Mapped[list[Measure]] = relationship(
        back_populates="section", order_by="Measure.position"
    )


class Measure(Titled, db.Model):
    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    #: "1.1" … "9.4"
    code: Mapped[str] = mapped_column(String(20))
    #: order within the plan
    position: Mapped[int] = mapped_column(Integer)
    indicator_az: Mapped[str] = mapped_column(Text)
    indicator_en: Mapped[str] = mapped_column(Text)
    #: the implementation period as written, e.g. "2020–2022"
    deadline: Mapped[str] = mapped_column(String(20))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    #: 31 December of end_year unless a milestone sets another (see services.status)
    due_date: Mapped[date] = mapped_column(Date)

    section: Mapped[Section] = relationship(back_populates="measures")
    plan: Mapped[ActionPlan] = relationship()
    agency_links: Mapped[list[MeasureAgency]] = relationship(  # noqa: F821
        back_populates="measure",
        order_by="(MeasureAgency.role, MeasureAgency.position)",
        cascade="all, delete-orphan",
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="measure", order_by="Milestone.due_date", cascade="all, delete-orphan"
    )

    indicator = in_language("indicator")


class Milestone(db.Model):
    """An intermediate step of a measure with its own date and state, edited by admins. A
    milestone marked `is_final` sets the measure's due date; an archived one is kept for
    history and counts for nothing (services.plans.status)."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    title_az: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date] = mapped_column(Date)
    #: when true, this milestone's date is the measure's due date
    is_final: Mapped[bool] = mapped_column(default=False)
    #: MilestoneState key: planned, in progress or done
    state: Mapped[MilestoneState] = mapped_column(
        EnumText(MilestoneState, 20), default=MilestoneState.PLANNED
    )
    is_archived: Mapped[bool] = mapped_column(default=False)

    measure: Mapped[Measure] = relationship(back_populates="milestones")

    title = in_language("title")
