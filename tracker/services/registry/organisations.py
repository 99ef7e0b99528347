"""The NGO registry: the one write path for organisations (admin pages, import, seed) and
the queries behind the public list, organisation page and API.

Personal data (PERSONAL_FIELDS) never leaves this module through `public_record`, which
lists the public fields explicitly rather than removing the personal ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker import clock
from tracker.models import CoalitionMembership, MonitoringLink, Organisation, OrganisationChoice
from tracker.services.audit import record
from tracker.services.registry.labels import (
    MULTI_FIELDS,
    OTHER,
    STAFF_FIELDS,
    catalogue,
)
from tracker.vocabulary import OrganisationKind, fold, label_key

PER_PAGE = 50
#: donor answers whose names are people (Annex 1: "Fərdi donorlar ... ilk üç donoru
#: göstərin"): the names are personal data, so they stay out of public output
PRIVATE_CHOICE_DETAILS = {("donors", "individual")}

#: plain columns an organisation record holds (besides the name and the answer lists)
SCALAR_FIELDS = (
    "kind",
    "name_en",
    "completed_on",
    "founded_year",
    "founded_month",
    "founded_year_alternative",
    "legal_status",
    "legal_status_other",
    "legal_address",
    "phone_fax",
    "email",
    "website",
    "social_media",
    "contact_person",
    "mission",
    *STAFF_FIELDS,
    "member_of_networks",
    "network_names",
    "recommendations",
    "field_group_az",
    "field_group_en",
    "is_interviewed",
    "declared_member_count",
    "declared_member_count_is_minimum",
    "source",
)
TEXT_FIELDS = {
    "name_en",
    "legal_status_other",
    "legal_address",
    "phone_fax",
    "email",
    "website",
    "social_media",
    "contact_person",
    "mission",
    "network_names",
    "recommendations",
    "field_group_az",
    "field_group_en",
    "source",
}


class RegistryError(Exception):
    """The change cannot be made; `problems` are (form field or "", translated message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(str(message) for _, message in problems))


@dataclass(frozen=True)
class OrganisationData:
    """Everything an organisation record holds, as the admin form or a seed entry gives it."""

    name_az: str
    kind: str = OrganisationKind.ORGANISATION
    name_en: str = ""
    aliases: tuple[str, ...] = ()
    completed_on: date | None = None
    founded_year: int | None = None
    founded_month: int | None = None
    #: another founding year a source gives, where the sources disagree
    founded_year_alternative: int | None = None
    legal_status: str | None = None
    legal_status_other: str = ""
    legal_address: str = ""
    phone_fax: str = ""
    email: str = ""
    website: str = ""
    social_media: str = ""
    contact_person: str = ""
    mission: str = ""
    staff_total: int | None = None
    staff_male: int | None = None
    staff_female: int | None = None
    staff_management: int | None = None
    staff_experts: int | None = None
    staff_social_workers: int | None = None
    staff_support: int | None = None
    member_of_networks: bool | None = None
    network_names: str = ""
    recommendations: str = ""
    field_group_az: str = ""
    field_group_en: str = ""
    is_interviewed: bool = False
    declared_member_count: int | None = None
    #: the declared count is a lower bound ("more than 80")
    declared_member_count_is_minimum: bool = False
    #: those of `aliases` that the curator added and no source gives
    curator_aliases: tuple[str, ...] = ()
    source: str = ""
    #: list field → {vocabulary key: free text}; None leaves the answers as they are
    choices: dict[str, dict[str, str]] | None = None
    #: ids of the coalitions it belongs to; None leaves the memberships as they are
    coalition_ids: tuple[int, ...] | None = None

    def scalar_values(self) -> dict:
        values = {name: getattr(self, name) for name in SCALAR_FIELDS}
        for name in TEXT_FIELDS:
            values[name] = (values[name] or "").strip()
        return values


def data_from_organisation(organisation: Organisation) -> OrganisationData:
    """The record as it is, to change a few fields with dataclasses.replace()."""
    values = {name: getattr(organisation, name) for name in SCALAR_FIELDS}
    return OrganisationData(
        name_az=organisation.name_az,
        aliases=tuple(organisation.aliases or ()),
        curator_aliases=tuple(organisation.curator_aliases or ()),
        **values,
    )


def clean_aliases(aliases) -> list[str]:
    seen: set[str] = set()
    kept = []
    for alias in aliases or ():
        alias = " ".join(str(alias).split())
        if alias and label_key(alias) not in seen:
            seen.add(label_key(alias))
            kept.append(alias)
    return kept


def curator_aliases_among(curator_aliases, aliases) -> list[str]:
    """The curator's aliases, cleaned, that are among the (cleaned) aliases."""
    kept = {label_key(alias) for alias in clean_aliases(aliases)}
    return [alias for alias in clean_aliases(curator_aliases) if label_key(alias) in kept]


def validate_data(
    session: Session, data: OrganisationData, organisation: Organisation | None = None
) -> list[tuple[str, str]]:
    from flask_babel import gettext as _

    problems: list[tuple[str, str]] = []
    name = " ".join((data.name_az or "").split())
    if not label_key(name):
        problems.append(("name_az", _("Enter the organisation's name.")))
    elif len(name) > 500:
        problems.append(("name_az", _("The name is longer than 500 characters.")))
    else:
        clash = session.scalar(
            select(Organisation.id).where(
                Organisation.name_key == label_key(name),
                Organisation.id != (organisation.id if organisation else -1),
            )
        )
        if clash is not None:
            problems.append(("name_az", _("Another organisation in the registry has this name.")))
    if data.kind not in tuple(OrganisationKind):
        problems.append(("kind", _("Choose a kind from the list.")))
    labels = catalogue()
    if data.legal_status and data.legal_status not in labels.options["legal_status"]:
        problems.append(("legal_status", _("Choose a legal status from the list.")))
    this_year = clock.today().year
    if data.founded_year is not None and not 1800 <= data.founded_year <= this_year:
        problems.append(
            (
                "founded_year",
                _("The founding year must be between 1800 and %(year)s.", year=this_year),
            )
        )
    alternative = data.founded_year_alternative
    if alternative is not None and not 1800 <= alternative <= this_year:
        problems.append(
            (
                "founded_year_alternative",
                _("The founding year must be between 1800 and %(year)s.", year=this_year),
            )
        )
    elif alternative is not None and data.founded_year is None:
        problems.append(("founded_year_alternative", _("Enter the founding year first.")))
    if data.founded_month is not None and not 1 <= data.founded_month <= 12:
        problems.append(("founded_month", _("The month must be between 1 and 12.")))
    for name_ in (*STAFF_FIELDS, "declared_member_count"):
        value = getattr(data, name_)
        if value is not None and value < 0:
            problems.append((name_, _("Enter a number of 0 or more.")))
    for list_name, answers in (data.choices or {}).items():
        if list_name not in MULTI_FIELDS:
            problems.append(("", _("Unknown question %(name)s.", name=list_name)))
            continue
        unknown = set(answers) - set(labels.options[list_name])
        if unknown:
            problems.append((list_name, _("Choose answers from the list.")))
    return problems


def _apply_scalars(organisation: Organisation, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(name)
    return changed


def set_choices(
    session: Session, organisation: Organisation, list_name: str, wanted: dict[str, str]
) -> bool:
    """Make one question's answers exactly `wanted` (key → free text). True if changed."""
    wanted = {key: (detail or "").strip() for key, detail in wanted.items()}
    current = {c.key: c for c in organisation.choices if c.field == list_name}
    changed = False
    for key, choice in current.items():
        if key not in wanted:
            organisation.choices.remove(choice)
            changed = True
        elif choice.detail != wanted[key]:
            choice.detail = wanted[key]
            changed = True
    for key, detail in wanted.items():
        if key not in current:
            organisation.choices.append(OrganisationChoice(field=list_name, key=key, detail=detail))
            changed = True
    return changed


def current_coalition_ids(session: Session, organisation_id: int) -> set[int]:
    return set(
        session.scalars(
            select(CoalitionMembership.coalition_id).where(
                CoalitionMembership.member_id == organisation_id,
                CoalitionMembership.ended_dt.is_(None),
            )
        )
    )


def set_coalitions(
    session: Session, organisation: Organisation, coalition_ids, *, actor=None
) -> bool:
    """Make the organisation's current coalitions exactly `coalition_ids`. An ended
    membership is kept with its end time; joining again reopens it."""
    wanted = {int(i) for i in coalition_ids} - {organisation.id}
    rows = {
        m.coalition_id: m
        for m in session.scalars(
            select(CoalitionMembership).where(CoalitionMembership.member_id == organisation.id)
        )
    }
    changed = False
    now = clock.now_utc()
    for coalition_id, membership in rows.items():
        if membership.ended_dt is None and coalition_id not in wanted:
            membership.ended_dt = now
            record(
                session,
                "coalition.member_removed",
                "organisation",
                coalition_id,
                actor=actor,
                details={"member_id": organisation.id},
            )
            changed = True
    for coalition_id in wanted:
        membership = rows.get(coalition_id)
        if membership is not None and membership.ended_dt is None:
            continue
        if membership is None:
            session.add(CoalitionMembership(coalition_id=coalition_id, member_id=organisation.id))
        else:
            membership.ended_dt = None
        record(
            session,
            "coalition.member_added",
            "organisation",
            coalition_id,
            actor=actor,
            details={"member_id": organisation.id},
        )
        changed = True
    return changed


def _check(session: Session, data: OrganisationData, organisation: Organisation | None) -> None:
    problems = validate_data(session, data, organisation)
    if data.coalition_ids:
        known = set(
            session.scalars(
                select(Organisation.id).where(
                    Organisation.id.in_(data.coalition_ids),
                    Organisation.kind == OrganisationKind.COALITION,
                )
            )
        )
        if set(data.coalition_ids) - known:
            from flask_babel import gettext as _

            problems.append(("coalitions", _("Choose coalitions from the list.")))
    if problems:
        raise RegistryError(problems)


def create_organisation(session: Session, data: OrganisationData, *, actor=None) -> Organisation:
    _check(session, data, None)
    organisation = Organisation(
        name_az=" ".join(data.name_az.split()),
        aliases=clean_aliases(data.aliases),
        curator_aliases=curator_aliases_among(data.curator_aliases, data.aliases),
    )
    _apply_scalars(organisation, data.scalar_values())
    session.add(organisation)
    for list_name, answers in (data.choices or {}).items():
        set_choices(session, organisation, list_name, answers)
    session.flush()
    if data.coalition_ids:
        set_coalitions(session, organisation, data.coalition_ids, actor=actor)
    record(
        session,
        "organisation.created",
        "organisation",
        organisation.id,
        actor=actor,
        summary=organisation.name_az,
    )
    return organisation


def update_organisation(
    session: Session, organisation: Organisation, data: OrganisationData, *, actor=None
) -> list[str]:
    """Apply the data; return the names of what changed (values are not logged: some are
    personal)."""
    _check(session, data, organisation)
    values = data.scalar_values()
    values["name_az"] = " ".join(data.name_az.split())
    values["aliases"] = clean_aliases(data.aliases)
    values["curator_aliases"] = curator_aliases_among(data.curator_aliases, data.aliases)
    changed = _apply_scalars(organisation, values)
    for list_name, answers in (data.choices or {}).items():
        if set_choices(session, organisation, list_name, answers):
            changed.append(list_name)
    if data.coalition_ids is not None and set_coalitions(
        session, organisation, data.coalition_ids, actor=actor
    ):
        changed.append("coalitions")
    if changed:
        record(
            session,
            "organisation.updated",
            "organisation",
            organisation.id,
            actor=actor,
            summary=organisation.name_az,
            details={"fields": changed},
        )
    session.flush()
    return changed


def archive_organisation(session: Session, organisation: Organisation, *, actor=None) -> int:
    """Hide the organisation from public pages. Its records stay; its open monitoring
    links end today, so that its monitors stop writing. Returns the links ended."""
    if organisation.is_archived:
        return 0
    organisation.is_archived = True
    organisation.archived_dt = clock.now_utc()
    today = clock.today()
    ended = 0
    for link in session.scalars(
        select(MonitoringLink).where(
            MonitoringLink.organisation_id == organisation.id,
            or_(MonitoringLink.end_date.is_(None), MonitoringLink.end_date > today),
        )
    ):
        link.end_date = max(today, link.start_date)
        ended += 1
        record(
            session,
            "link.ended",
            "monitoring_link",
            link.id,
            actor=actor,
            details={
                "organisation_id": organisation.id,
                "measure_id": link.measure_id,
                "end_date": link.end_date.isoformat(),
                "reason": "archived",
            },
        )
    record(
        session,
        "organisation.archived",
        "organisation",
        organisation.id,
        actor=actor,
        summary=organisation.name_az,
        details={"links_ended": ended},
    )
    session.flush()
    return ended


def restore_organisation(session: Session, organisation: Organisation, *, actor=None) -> None:
    if not organisation.is_archived:
        return
    organisation.is_archived = False
    organisation.archived_dt = None
    record(
        session,
        "organisation.restored",
        "organisation",
        organisation.id,
        actor=actor,
        summary=organisation.name_az,
    )
    session.flush()


# --- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryFilter:
    query: str = ""
    legal_status: str | None = None
    service: str | None = None
    beneficiary: str | None = None
    region: str | None = None
    #: True: members of networks; False: not members; None: either
    membership: bool | None = None
    kind: str | None = None
    coalition_id: int | None = None
    #: False: active organisations only (public pages); True: archived only; None: both
    archived: bool | None = False

    @property
    def is_active(self) -> bool:
        return any(
            (
                self.query,
                self.legal_status,
                self.service,
                self.beneficiary,
                self.region,
                self.membership is not None,
                self.kind,
                self.coalition_id,
            )
        )


def _has_choice(list_name: str, key: str):
    return exists().where(
        OrganisationChoice.organisation_id == Organisation.id,
        OrganisationChoice.field == list_name,
        OrganisationChoice.key == key,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_statement(registry_filter: RegistryFilter, locale: str = "az") -> Select:
    """Organisations matching the filter, in the order of the names shown in `locale`
    (folded, so "Ə" sorts with "E" the same way on SQLite and PostgreSQL)."""
    statement = select(Organisation)
    f = registry_filter
    if f.archived is not None:
        statement = statement.where(Organisation.is_archived.is_(f.archived))
    for word in fold(f.query).split():
        # Every word must occur in the folded names, aliases or address.
        statement = statement.where(
            Organisation.search_text.like(f"%{_escape_like(word)}%", escape="\\")
        )
    if f.legal_status:
        statement = statement.where(Organisation.legal_status == f.legal_status)
    if f.service:
        statement = statement.where(_has_choice("services", f.service))
    if f.beneficiary:
        statement = statement.where(_has_choice("beneficiaries", f.beneficiary))
    if f.region:
        statement = statement.where(_has_choice("regions", f.region))
    if f.membership is not None:
        statement = statement.where(Organisation.member_of_networks.is_(f.membership))
    if f.kind:
        statement = statement.where(Organisation.kind == f.kind)
    if f.coalition_id:
        statement = statement.where(
            exists().where(
                CoalitionMembership.member_id == Organisation.id,
                CoalitionMembership.coalition_id == f.coalition_id,
                CoalitionMembership.ended_dt.is_(None),
            )
        )
    name = Organisation.name_en_key if locale == "en" else Organisation.name_key
    return statement.order_by(name, Organisation.id)


@dataclass
class RegistryPage:
    organisations: list[Organisation]
    total: int
    page: int
    per_page: int
    #: organisation id → number of measures it monitors today
    measure_counts: dict[int, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def active_link_condition(on: date):
    return (MonitoringLink.start_date <= on) & (
        MonitoringLink.end_date.is_(None) | (MonitoringLink.end_date >= on)
    )


def monitored_measure_counts(session: Session, organisation_ids: list[int], on: date) -> dict:
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(MonitoringLink.organisation_id, func.count(func.distinct(MonitoringLink.measure_id)))
        .where(MonitoringLink.organisation_id.in_(organisation_ids), active_link_condition(on))
        .group_by(MonitoringLink.organisation_id)
    )
    return dict(rows.all())


def search_organisations(
    session: Session,
    registry_filter: RegistryFilter,
    page: int = 1,
    per_page: int = PER_PAGE,
    locale: str = "az",
) -> RegistryPage:
    """One page of the registry in three queries, whatever its size: the count, the page
    with its answers, and the monitored-measure counts."""
    statement = filter_statement(registry_filter, locale)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = max(1, page)
    organisations = list(
        session.scalars(
            statement.options(selectinload(Organisation.choices))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    counts = monitored_measure_counts(session, [o.id for o in organisations], clock.today())
    return RegistryPage(organisations, total or 0, page, per_page, counts)


def get_public_organisation(session: Session, organisation_id: int) -> Organisation | None:
    """The organisation with its answers, unless it is archived."""
    return session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id, Organisation.is_archived.is_(False))
        .options(selectinload(Organisation.choices))
    )


def coalitions_of(session: Session, organisation_ids: list[int]) -> dict[int, list[Organisation]]:
    """The active coalitions each organisation currently belongs to (one query)."""
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(CoalitionMembership.member_id, Organisation)
        .join(Organisation, Organisation.id == CoalitionMembership.coalition_id)
        .where(
            CoalitionMembership.member_id.in_(organisation_ids),
            CoalitionMembership.ended_dt.is_(None),
            Organisation.is_archived.is_(False),
        )
        .order_by(Organisation.name_key)
    )
    found: dict[int, list[Organisation]] = defaultdict(list)
    for member_id, coalition in rows:
        found[member_id].append(coalition)
    return found


def members_of(session: Session, coalition_id: int, limit: int | None = 100) -> tuple[list, int]:
    """A coalition's current members in the registry (the first `limit`) and their number."""
    condition = (
        (CoalitionMembership.coalition_id == coalition_id)
        & CoalitionMembership.ended_dt.is_(None)
        & Organisation.is_archived.is_(False)
    )
    base = select(Organisation).join(
        CoalitionMembership, CoalitionMembership.member_id == Organisation.id
    )
    members = list(
        session.scalars(base.where(condition).order_by(Organisation.name_key).limit(limit))
    )
    total = session.scalar(
        select(func.count())
        .select_from(CoalitionMembership)
        .join(Organisation, Organisation.id == CoalitionMembership.member_id)
        .where(condition)
    )
    return members, total or 0


def list_coalitions(session: Session, include_archived: bool = False) -> list[Organisation]:
    statement = select(Organisation).where(Organisation.kind == OrganisationKind.COALITION)
    if not include_archived:
        statement = statement.where(Organisation.is_archived.is_(False))
    return list(session.scalars(statement.order_by(Organisation.name_key)))


def choices_by_field(organisation: Organisation) -> dict[str, dict[str, str]]:
    """The answers in the questionnaire's order: field → {key: free text}."""
    labels = catalogue()
    found: dict[str, dict[str, str]] = {name: {} for name in MULTI_FIELDS}
    by_field: dict[str, dict[str, str]] = defaultdict(dict)
    for choice in organisation.choices:
        by_field[choice.field][choice.key] = choice.detail
    for name in MULTI_FIELDS:
        for key in labels.options[name]:
            if key in by_field[name]:
                found[name][key] = by_field[name][key]
    return found


def public_choices(organisation: Organisation) -> dict[str, list[dict]]:
    """The answers as the public sees them: keys with their free text, except the names
    of individual donors."""
    result = {}
    for list_name, answers in choices_by_field(organisation).items():
        result[list_name] = [
            {
                "key": key,
                "detail": "" if (list_name, key) in PRIVATE_CHOICE_DETAILS else detail,
            }
            for key, detail in answers.items()
        ]
    return result


def public_record(organisation: Organisation, coalitions: list[Organisation] | None = None) -> dict:
    """The organisation's public fields for the API and exports: an explicit list, so that
    a new personal column can never leak by default."""
    o = organisation
    return {
        "id": o.id,
        "kind": o.kind,
        "name": {"az": o.name_az, "en": o.name_en},
        "aliases": list(o.aliases or []),
        #: the aliases no source gives, which the registry's curator added
        "curator_aliases": list(o.curator_aliases or []),
        "completed_on": o.completed_on.isoformat() if o.completed_on else None,
        "founded": {
            "year": o.founded_year,
            "month": o.founded_month,
            #: another year a source gives: founded in `year` or in `alternative_year`
            "alternative_year": o.founded_year_alternative,
        },
        "legal_status": o.legal_status,
        "legal_status_other": o.legal_status_other,
        "legal_address": o.legal_address,
        "website": o.website,
        "social_media": o.social_media,
        "mission": o.mission,
        **public_choices(o),
        "staff": {name: getattr(o, name) for name in STAFF_FIELDS},
        "member_of_networks": o.member_of_networks,
        "network_names": o.network_names,
        "recommendations": o.recommendations,
        "field_group": {"az": o.field_group_az, "en": o.field_group_en},
        "is_interviewed": o.is_interviewed,
        "declared_member_count": o.declared_member_count,
        #: true: the count is a lower bound ("more than"), shown as "80+"
        "declared_member_count_is_minimum": o.declared_member_count_is_minimum,
        "coalitions": [
            {"id": c.id, "name": {"az": c.name_az, "en": c.name_en}} for c in coalitions or []
        ],
        "source": o.source,
        "updated": o.updated_dt.isoformat() if o.updated_dt else None,
    }


def other_text(organisation: Organisation, list_name: str) -> str:
    for choice in organisation.choices:
        if choice.field == list_name and choice.key == OTHER:
            return choice.detail
    return ""
