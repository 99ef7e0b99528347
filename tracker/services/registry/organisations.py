"""The one write path for the registry's organisations (admin pages, seed; the import
writes the same columns in bulk): create, update, archive and restore, with their
answers and coalition memberships, each change in the audit log. Reading the registry
is services.registry.search.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import CoalitionMembership, Organisation, OrganisationChoice
from tracker.services.audit import record
from tracker.services.errors import InvalidInput
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue
from tracker.services.registry.links import end_links_of
from tracker.vocabulary import OrganisationKind, label_key

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


@dataclass(kw_only=True)
class WriteCounts:
    """What a run writing many organisations (the survey import, the seed) did to them:
    records created, updated and left unchanged, and coalition memberships added."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    memberships_added: int = 0


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


#: the fields that hold text (their empty value is ""): stripped of surrounding spaces
TEXT_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(OrganisationData)
    if f.default == "" and f.name in SCALAR_FIELDS
)


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
) -> dict[str, list[str]]:
    """The problems of the data, by the name of the field they concern ("" for the data
    as a whole)."""
    problems: dict[str, list[str]] = defaultdict(list)
    name = " ".join((data.name_az or "").split())
    if not label_key(name):
        problems["name_az"].append(_("Enter the organisation's name."))
    elif len(name) > 500:
        problems["name_az"].append(_("The name is longer than 500 characters."))
    else:
        clash = session.scalar(
            select(Organisation.id).where(
                Organisation.name_key == label_key(name),
                Organisation.id != (organisation.id if organisation else -1),
            )
        )
        if clash is not None:
            problems["name_az"].append(_("Another organisation in the registry has this name."))
    if data.kind not in tuple(OrganisationKind):
        problems["kind"].append(_("Choose a kind from the list."))
    labels = catalogue()
    if data.legal_status and data.legal_status not in labels.options["legal_status"]:
        problems["legal_status"].append(_("Choose a legal status from the list."))
    _check_dates(problems, data)
    _check_counts(problems, data)
    for name, messages in implausible_values(vars(data)).items():
        problems[name].extend(messages)
    for list_name, answers in (data.choices or {}).items():
        if list_name not in MULTI_FIELDS:
            problems[""].append(_("Unknown question %(name)s.", name=list_name))
            continue
        unknown = set(answers) - set(labels.options[list_name])
        if unknown:
            problems[list_name].append(_("Choose answers from the list."))
    return dict(problems)


def implausible_values(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Values that each fit their field but cannot be true of one organisation: a survey
    answered in the future or before the founding year, more men and women than staff in
    all, a founding month without its year (kept, but never shown). The admin form and the
    spreadsheet import both refuse them; the import passes a file's row merged over the
    record it updates."""
    problems: dict[str, list[str]] = defaultdict(list)
    completed_on = values.get("completed_on")
    if completed_on is not None and completed_on > clock.today():
        problems["completed_on"].append(_("The survey date cannot be in the future."))
    founded = values.get("founded_year")
    if completed_on is not None and founded is not None and completed_on.year < founded:
        problems["completed_on"].append(
            _("The survey date is before the organisation was founded (%(year)s).", year=founded)
        )
    month = values.get("founded_month")
    if month is not None and 1 <= month <= 12 and values.get("founded_year") is None:
        problems["founded_month"].append(_("Enter the founding year first."))
    total = values.get("staff_total")
    counted = (values.get("staff_male") or 0) + (values.get("staff_female") or 0)
    if total is not None and total >= 0 and counted > total:
        problems["staff_total"].append(
            _(
                "The total staff (%(total)s) is fewer than the men and women counted "
                "(%(counted)s).",
                total=total,
                counted=counted,
            )
        )
    return dict(problems)


def _check_dates(problems: dict[str, list[str]], data: OrganisationData) -> None:
    this_year = clock.today().year
    if data.founded_year is not None and not 1800 <= data.founded_year <= this_year:
        problems["founded_year"].append(
            _("The founding year must be between 1800 and %(year)s.", year=this_year)
        )
    alternative = data.founded_year_alternative
    if alternative is not None and not 1800 <= alternative <= this_year:
        problems["founded_year_alternative"].append(
            _("The founding year must be between 1800 and %(year)s.", year=this_year)
        )
    elif alternative is not None and data.founded_year is None:
        problems["founded_year_alternative"].append(_("Enter the founding year first."))
    if data.founded_month is not None and not 1 <= data.founded_month <= 12:
        problems["founded_month"].append(_("The month must be between 1 and 12."))


def _check_counts(problems: dict[str, list[str]], data: OrganisationData) -> None:
    for name in (*STAFF_FIELDS, "declared_member_count"):
        value = getattr(data, name)
        if value is not None and value < 0:
            problems[name].append(_("Enter a number of 0 or more."))


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


def organisation_problems(
    session: Session, data: OrganisationData, organisation: Organisation | None = None
) -> dict[str, list[str]]:
    """Every problem of the data, the coalitions it names included, by field name."""
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
            problems.setdefault("coalition_ids", []).append(_("Choose coalitions from the list."))
    return problems


def _check(session: Session, data: OrganisationData, organisation: Organisation | None) -> None:
    problems = organisation_problems(session, data, organisation)
    if problems:
        raise InvalidInput(problems=problems)


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
    _record(session, "organisation.created", organisation, actor)
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
        _record(session, "organisation.updated", organisation, actor, fields=changed)
    session.flush()
    return changed


def _record(session: Session, action: str, organisation: Organisation, actor, **details):
    record(
        session,
        action,
        "organisation",
        organisation.id,
        actor=actor,
        summary=organisation.name_az,
        details=details or None,
    )


def archive_organisation(session: Session, organisation: Organisation, *, actor=None) -> int:
    """Hide the organisation from public pages. Its records stay; its open monitoring
    links end today, so that its monitors stop writing. Returns the links ended."""
    if organisation.is_archived:
        return 0
    organisation.is_archived = True
    organisation.archived_dt = clock.now_utc()
    ended = end_links_of(session, organisation, "archived", actor=actor)
    _record(session, "organisation.archived", organisation, actor, links_ended=ended)
    session.flush()
    return ended


def restore_organisation(session: Session, organisation: Organisation, *, actor=None) -> None:
    if not organisation.is_archived:
        return
    organisation.is_archived = False
    organisation.archived_dt = None
    _record(session, "organisation.restored", organisation, actor)
    session.flush()
