"""Reading the registry: the search and filters behind the public list, the admin list
and the API, an organisation with its answers, coalitions and their members, and the
public record.

Personal data (PERSONAL_FIELDS) never leaves the registry through `public_record`, which
lists the public fields explicitly rather than removing the personal ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ARRAY, Integer, Select, any_, exists, func, literal, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock, data_version
from tracker.models import CoalitionMembership, MonitoringLink, Organisation, OrganisationChoice
from tracker.pagination import Page
from tracker.services.filters import ListFilter
from tracker.services.registry.labels import MULTI_FIELDS, OTHER, STAFF_FIELDS, catalogue
from tracker.services.registry.links import active_link_condition
from tracker.vocabulary import OrganisationKind, search_words, sort_by_name

PER_PAGE = 50
#: donor answers whose names are people (Annex 1: "Fərdi donorlar ... ilk üç donoru
#: göstərin"): the names are personal data, so they stay out of public output
PRIVATE_CHOICE_DETAILS = {("donors", "individual")}


@dataclass(frozen=True)
class RegistryFilter(ListFilter):
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

    SCOPE_FIELDS = frozenset({"archived"})


def _has_choice(list_name: str, key: str):
    return exists().where(
        OrganisationChoice.organisation_id == Organisation.id,
        OrganisationChoice.field == list_name,
        OrganisationChoice.key == key,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_statement(registry_filter: RegistryFilter, locale: str = "az") -> Select:
    """Organisations matching the filter, in the collation of the names shown in `locale`
    (the stored sort keys: the same order on SQLite and PostgreSQL, whose own orders
    differ and know no Azerbaijani)."""
    statement = select(Organisation)
    f = registry_filter
    if f.archived is not None:
        statement = statement.where(Organisation.is_archived.is_(f.archived))
    for word in search_words(f.query):
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
    key = Organisation.sort_key_en if locale == "en" else Organisation.sort_key_az
    return statement.order_by(key, Organisation.id)


@dataclass
class RegistryPage(Page):
    """One page of the registry, with the number of measures each organisation monitors."""

    #: organisation id → number of measures it monitors today
    measure_counts: dict[int, int] = field(default_factory=dict)


def _among(session: Session, column, ids: list[int]):
    """`column` is one of `ids`. On PostgreSQL one array parameter (= ANY): a page's hundred
    ids in an IN list are a hundred parameters that SQLAlchemy renders and psycopg parses
    again for every page, a statement too long for psycopg's cache. Elsewhere an IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _load_choices(session: Session, organisations: list[Organisation]) -> None:
    """The organisations' answers in one query, as selectinload does, the ids in one
    parameter (`_among`)."""
    if not organisations:
        return
    found: dict[int, list[OrganisationChoice]] = defaultdict(list)
    ids = [o.id for o in organisations]
    for choice in session.scalars(
        select(OrganisationChoice)
        .where(_among(session, OrganisationChoice.organisation_id, ids))
        .order_by(OrganisationChoice.id)
    ):
        found[choice.organisation_id].append(choice)
    for organisation in organisations:
        set_committed_value(organisation, "choices", found[organisation.id])


def monitored_measure_counts(session: Session, organisation_ids: list[int], on: date) -> dict:
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(MonitoringLink.organisation_id, func.count(func.distinct(MonitoringLink.measure_id)))
        .where(
            _among(session, MonitoringLink.organisation_id, organisation_ids),
            active_link_condition(on),
        )
        .group_by(MonitoringLink.organisation_id)
    )
    return dict(rows.all())


def search_organisations(
    session: Session,
    registry_filter: RegistryFilter,
    page: int = 1,
    per_page: int = PER_PAGE,
    locale: str = "az",
    *,
    total_per_data_version: bool = False,
) -> RegistryPage:
    """One page of the registry in four queries, whatever its size: how many match, the
    page (sorted and cut in the database by the stored collation keys of `locale`), the
    page's answers, and the monitored-measure counts.

    `total_per_data_version`: the public pages, which write nothing, keep the number that
    match per version of the public data (one small read of the version instead of the
    count). The admin pages, whose session may hold writes not yet committed, count."""
    statement = filter_statement(registry_filter, locale)
    ids = statement.with_only_columns(Organisation.id)
    if total_per_data_version:
        total = data_version.count_per_version(session, ("registry", registry_filter), ids)
    else:
        total = data_version.count_rows(session, ids)
    result = RegistryPage([], max(1, page), per_page, total)
    result.items = list(session.scalars(statement.limit(per_page).offset(result.offset)))
    _load_choices(session, result.items)
    result.measure_counts = monitored_measure_counts(
        session, [o.id for o in result.items], clock.today()
    )
    return result


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
            _among(session, CoalitionMembership.member_id, organisation_ids),
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


def active_organisations(session: Session, locale: str) -> list[Organisation]:
    """Every organisation that is not archived, by its name in `locale` (an account's
    organisation is chosen from these)."""
    statement = (
        select(Organisation).where(Organisation.is_archived.is_(False)).order_by(Organisation.id)
    )
    return sort_by_name(session.scalars(statement), locale)


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
        # an "other" that older imports stored on a list without one: its text is an answer
        if OTHER in by_field[name] and OTHER not in found[name]:
            found[name][OTHER] = by_field[name][OTHER]
    return found


def staff_figures(organisation: Organisation) -> dict[str, int | None]:
    """The staff counts the survey asks for, None where none was given."""
    return {name: getattr(organisation, name) for name in STAFF_FIELDS}


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
        "staff": staff_figures(o),
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
