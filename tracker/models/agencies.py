"""Agencies: one canonical body, its spelling variants, and its roles in measures."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, in_language
from tracker.vocabulary import AgencyRole


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: natural key, e.g. "ministry-of-economy"
    key: Mapped[str] = mapped_column(String(120), unique=True)
    name_az: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)

    aliases: Mapped[list[AgencyAlias]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyAlias.name"
    )

    name = in_language("name")


class AgencyAlias(db.Model):
    """Another spelling of an agency's name, as some measure writes it."""

    __tablename__ = "agency_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: the spelling, exactly as written in the source
    name: Mapped[str] = mapped_column(String(500), unique=True)

    agency: Mapped[Agency] = relationship(back_populates="aliases")


class MeasureAgency(db.Model):
    """An agency named by a measure, in one of two roles, with the name as the measure writes it."""

    __tablename__ = "measure_agency"
    __table_args__ = (UniqueConstraint("measure_id", "role", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: AgencyRole: "executor" or "recommended"
    role: Mapped[AgencyRole] = mapped_column(EnumText(AgencyRole, 20))
    #: order within the measure's list for that role
    position: Mapped[int] = mapped_column(Integer)
    #: the agency's name exactly as this measure writes it
    name_as_written: Mapped[str] = mapped_column(Text)

    measure: Mapped[Measure] = relationship(back_populates="agency_links")  # noqa: F821
    agency: Mapped[Agency] = relationship()
