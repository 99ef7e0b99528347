"""The NGO/CSO registry (fields of the national CSO mapping survey) and who monitors what."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, in_language, utc_now
from tracker.vocabulary import OrganisationKind, collation_sort_key, fold, label_key

#: Columns that hold personal data: never on public pages, in the public API or exports.
PERSONAL_FIELDS = ("contact_person", "phone_fax", "email")

#: a sort key's column: compared byte by byte, as the key is built to be (PostgreSQL's "C";
#: SQLite's default BINARY)
SORT_KEY = Text().with_variant(Text(collation="C"), "postgresql")

#: the coalitions among the organisations (the registry's coalition filter lists them on
#: every request): a partial index, a few entries among thousands
COALITION_ROWS = text("kind = 'coalition'")


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (
        # list_coalitions: the coalitions in name order, without reading every organisation
        Index(
            "ix_organisation_coalition_name",
            "name_key",
            postgresql_where=COALITION_ROWS,
            sqlite_where=COALITION_ROWS,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "organisation" or "coalition" (coalitions, networks and platforms)
    kind: Mapped[OrganisationKind] = mapped_column(
        EnumText(OrganisationKind, 20), default=OrganisationKind.ORGANISATION
    )
    name_az: Mapped[str] = mapped_column(String(500), unique=True)
    name_en: Mapped[str] = mapped_column(String(500), default="")
    #: name_az folded (Azerbaijani-aware, no case, spacing or punctuation): matching and sorting
    name_key: Mapped[str] = mapped_column(String(500), unique=True, default="")
    #: the English name (or name_az when there is none) folded the same way: English sorting
    name_en_key: Mapped[str] = mapped_column(String(500), default="", index=True)
    #: the names' places in the Azerbaijani and the English collation
    #: (vocabulary.collation_sort_key): the registry sorts and pages in the database
    sort_key_az: Mapped[str] = mapped_column(SORT_KEY, default="", index=True)
    sort_key_en: Mapped[str] = mapped_column(SORT_KEY, default="", index=True)
    #: other spellings and abbreviations of the name ("MQF", "QHT Forumu")
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    #: those of the aliases that the registry's curator added, which no source gives
    curator_aliases: Mapped[list] = mapped_column(JSON, default=list)
    #: names, aliases and address folded for search; kept up to date by services.registry
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: Q1: the date the survey was completed
    completed_on: Mapped[date | None] = mapped_column(Date)
    #: Q3: founding month and year
    founded_year: Mapped[int | None] = mapped_column(Integer)
    founded_month: Mapped[int | None] = mapped_column(Integer)
    #: another founding year that a source gives, where the sources disagree ("1999 or 2000")
    founded_year_alternative: Mapped[int | None] = mapped_column(Integer)
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
    #: the declared count is a lower bound ("more than 80"), shown as "80+"
    declared_member_count_is_minimum: Mapped[bool] = mapped_column(default=False)
    #: where the record comes from ("Annex 5", "import: file.xlsx row 12", ...)
    source: Mapped[str] = mapped_column(Text, default="")
    is_archived: Mapped[bool] = mapped_column(default=False, index=True)
    archived_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    choices: Mapped[list[OrganisationChoice]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    name = in_language("name")

    @property
    def declared_members(self) -> str:
        """The declared member count as shown: "80+" where it is a lower bound."""
        if self.declared_member_count is None:
            return ""
        suffix = "+" if self.declared_member_count_is_minimum else ""
        return f"{self.declared_member_count}{suffix}"

    @property
    def founded_years(self) -> list[int]:
        """The founding year, or the two years the sources give, the earlier first."""
        years = {self.founded_year, self.founded_year_alternative} - {None}
        return sorted(years) if self.founded_year is not None else []

    @property
    def report_aliases(self) -> list[str]:
        """The aliases a source gives (the rest are the curator's)."""
        curator = set(self.curator_aliases or [])
        return [alias for alias in self.aliases or [] if alias not in curator]

    def refresh_derived(self) -> None:
        """Recompute name_key, the sort keys and search_text from the names, aliases and address."""
        values = derived_columns(self.name_az, self.name_en, self.aliases, self.legal_address)
        self.name_key = values["name_key"]
        self.name_en_key = values["name_en_key"]
        self.sort_key_az = values["sort_key_az"]
        self.sort_key_en = values["sort_key_en"]
        self.search_text = values["search_text"]


def derived_columns(name_az: str, name_en: str, aliases, legal_address: str) -> dict[str, str]:
    """name_key, name_en_key, the sort keys and search_text for these values (bulk inserts
    and updates, which skip ORM events, call this directly)."""
    parts = [name_az, name_en, *(aliases or []), legal_address]
    return {
        "name_key": label_key(name_az or ""),
        "name_en_key": label_key(name_en or name_az or ""),
        "sort_key_az": collation_sort_key(name_az or "", "az"),
        "sort_key_en": collation_sort_key(name_en or name_az or "", "en"),
        "search_text": " | ".join(fold(p) for p in parts if p),
    }


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def _keep_derived_columns(_mapper, _connection, organisation: Organisation) -> None:
    # Every ORM write keeps the matching and search columns true to the name, whoever writes.
    organisation.refresh_derived()


class OrganisationChoice(db.Model):
    """One answer of a several-answers question (services, beneficiaries, regions, donors,
    training needs), so that filters and statistics are plain SQL on both databases."""

    __tablename__ = "organisation_choice"
    __table_args__ = (
        UniqueConstraint("organisation_id", "field", "key"),
        # The registry's filters ask "which organisations gave this answer".
        Index("ix_organisation_choice_answer", "field", "key", "organisation_id"),
    )

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

    #: when the membership was recorded and, once it ended, when (kept, never deleted)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ended_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
