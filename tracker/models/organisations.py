"""The NGO/CSO registry (fields of the national CSO mapping survey) and who monitors what."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime, utc_now

#: Columns that hold personal data: never on public pages, in the public API or exports.
PERSONAL_FIELDS = ("contact_person", "phone_fax", "email")


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "organisation" or "coalition" (coalitions, networks and platforms)
    kind: Mapped[str] = mapped_column(String(20), default="organisation")
    name_az: Mapped[str] = mapped_column(String(500), unique=True)
    name_en: Mapped[str] = mapped_column(String(500), default="")
    #: Q1: the date the survey was completed
    completed_on: Mapped[date | None] = mapped_column(Date)
    #: Q3: founding month and year
    founded_year: Mapped[int | None] = mapped_column(Integer)
    founded_month: Mapped[int | None] = mapped_column(Integer)
    #: Q4: a vocabulary legal_status key
    legal_status: Mapped[str | None] = mapped_column(String(40))
    legal_status_other: Mapped[str] = mapped_column(Text, default="")
    #: Q5: contact details (phone, email and contact person are personal data)
    legal_address: Mapped[str] = mapped_column(Text, default="")
    phone_fax: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(Text, default="")
    social_media: Mapped[str] = mapped_column(Text, default="")
    contact_person: Mapped[str] = mapped_column(Text, default="")
    mission: Mapped[str] = mapped_column(Text, default="")
    #: Q13: the seven staff counts; None where the survey left them blank
    staff_total: Mapped[int | None] = mapped_column(Integer)
    staff_male: Mapped[int | None] = mapped_column(Integer)
    staff_female: Mapped[int | None] = mapped_column(Integer)
    staff_management: Mapped[int | None] = mapped_column(Integer)
    staff_experts: Mapped[int | None] = mapped_column(Integer)
    staff_social_workers: Mapped[int | None] = mapped_column(Integer)
    staff_support: Mapped[int | None] = mapped_column(Integer)
    #: membership of networks: None = not answered
    member_of_networks: Mapped[bool | None] = mapped_column()
    network_names: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    #: field group of the report's Annex 5 (interviewed organisations)
    field_group_az: Mapped[str] = mapped_column(Text, default="")
    field_group_en: Mapped[str] = mapped_column(Text, default="")
    is_interviewed: Mapped[bool] = mapped_column(default=False)
    #: coalitions: the member count they declare (the report's figure)
    declared_member_count: Mapped[int | None] = mapped_column(Integer)
    #: where the record comes from ("Annex 5", "import: file.xlsx row 12", ...)
    source: Mapped[str] = mapped_column(Text, default="")
    is_archived: Mapped[bool] = mapped_column(default=False, index=True)
    archived_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    choices: Mapped[list[OrganisationChoice]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_az


class OrganisationChoice(db.Model):
    """One answer of a several-answers question (services, beneficiaries, regions, donors,
    training needs), so that filters and statistics are plain SQL on both databases."""

    __tablename__ = "organisation_choice"
    __table_args__ = (UniqueConstraint("organisation_id", "field", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: "services", "beneficiaries", "regions", "donors" or "training_needs"
    field: Mapped[str] = mapped_column(String(40), index=True)
    #: a vocabulary key of that field's list
    key: Mapped[str] = mapped_column(String(60), index=True)
    #: free text that goes with the answer ("Digər" text, donor names, community names)
    detail: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="choices")


class CoalitionMembership(db.Model):
    __tablename__ = "coalition_membership"
    __table_args__ = (UniqueConstraint("coalition_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coalition_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)

    coalition: Mapped[Organisation] = relationship(foreign_keys=[coalition_id])
    member: Mapped[Organisation] = relationship(foreign_keys=[member_id])


class MonitoringLink(db.Model):
    """An organisation monitors a measure from start_date until end_date (open when None).
    Ending a link sets end_date; links are never deleted."""

    __tablename__ = "monitoring_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    #: the measure's lead monitor
    is_lead: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    organisation: Mapped[Organisation] = relationship()
    measure: Mapped[Measure] = relationship()  # noqa: F821

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)
