"""Loads the seeded registry (seed/registry.yaml): validated first, then upserted by name
in one transaction. Running it twice changes nothing; `update=True` applies edits from the
file to the seeded fields and never touches anything else an admin or an import wrote."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import PROJECT_ROOT
from tracker.models import Organisation
from tracker.services.plans import load_in_one_transaction, read_yaml_document
from tracker.services.registry.labels import catalogue
from tracker.services.registry.organisations import (
    OrganisationData,
    WriteCounts,
    archive_organisation,
    clean_aliases,
    create_organisation,
    current_coalition_ids,
    data_from_organisation,
    set_coalitions,
    update_organisation,
)
from tracker.vocabulary import OrganisationKind, label_key

DEFAULT_REGISTRY_FILE = PROJECT_ROOT / "seed" / "registry.yaml"


@dataclass
class RegistrySeedResult(WriteCounts):
    #: earlier entries the file withdraws, archived by this run (update only)
    archived: int = 0
    created_names: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.memberships_added or self.archived)

    def describe(self) -> str:
        described = (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"
            f", memberships added {self.memberships_added}"
        )
        if self.archived:
            described += f", withdrawn entries archived {self.archived}"
        return described


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_registry_document(document: Any) -> list[str]:
    """Every problem in a registry document, each as "path: what is wrong"."""
    if not isinstance(document, dict) or not isinstance(document.get("organisations"), list):
        return ["(top): expected a mapping with an 'organisations' list"]
    problems: list[str] = []
    owner_of: dict[str, int] = {}
    for i, entry in enumerate(document["organisations"]):
        path = f"organisations[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{path}: expected a mapping")
            continue
        problems += _entry_field_problems(path, entry)
        problems += _name_problems(path, i, entry, owner_of)
    problems += _member_problems(document["organisations"], owner_of)
    problems += _withdrawn_problems(document.get("withdrawn", []), owner_of)
    return problems


def _entry_field_problems(path: str, entry: dict) -> list[str]:
    """The entry's own fields: kind, legal status, field group, numbers and flags."""
    problems = []
    if entry.get("kind", "organisation") not in tuple(OrganisationKind):
        problems.append(f"{path}.kind: expected one of {', '.join(tuple(OrganisationKind))}")
    status = entry.get("legal_status")
    if status is not None and status not in catalogue().options["legal_status"]:
        problems.append(f"{path}.legal_status: unknown key {status!r}")
    group = entry.get("field_group")
    if group is not None and (not isinstance(group, dict) or not _text(group.get("az"))):
        problems.append(f"{path}.field_group: expected az and en text")
    numbers = ("declared_member_count", "founded_year", "founded_month", "founded_year_alternative")
    for key in numbers:
        value = entry.get(key)
        if value is not None and (not _whole(value) or value < 0):
            problems.append(f"{path}.{key}: expected a whole number")
    if entry.get("founded_year_alternative") is not None and entry.get("founded_year") is None:
        problems.append(f"{path}.founded_year_alternative: needs founded_year")
    minimum = entry.get("declared_member_count_is_minimum")
    if minimum is not None and not isinstance(minimum, bool):
        problems.append(f"{path}.declared_member_count_is_minimum: expected true or false")
    elif minimum and entry.get("declared_member_count") is None:
        problems.append(f"{path}.declared_member_count_is_minimum: needs declared_member_count")
    month = entry.get("founded_month")
    if _whole(month) and not 1 <= month <= 12:
        problems.append(f"{path}.founded_month: expected 1 to 12")
    if "interviewed" in entry and not isinstance(entry["interviewed"], bool):
        problems.append(f"{path}.interviewed: expected true or false")
    return problems


def _name_problems(path: str, index: int, entry: dict, owner_of: dict[str, int]) -> list[str]:
    """The names, aliases (the curator's among them) and members of an entry; records in
    `owner_of` which entry each spelling belongs to."""
    problems = []
    name = entry.get("name")
    if not isinstance(name, dict) or not _text(name.get("az")) or not _text(name.get("en")):
        problems.append(f"{path}.name: expected az and en text")
        name = {}
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(_text(a) for a in aliases):
        problems.append(f"{path}.aliases: expected a list of names")
        aliases = []
    curator = entry.get("curator_aliases", [])
    if not isinstance(curator, list) or not all(_text(a) for a in curator):
        problems.append(f"{path}.curator_aliases: expected a list of names")
    else:
        known = {label_key(a) for a in aliases}
        problems += [
            f"{path}.curator_aliases: {alias!r} is not among the aliases"
            for alias in curator
            if label_key(alias) not in known
        ]
    members = entry.get("members", [])
    if not isinstance(members, list) or not all(_text(m) for m in members):
        problems.append(f"{path}.members: expected a list of names")
    elif members and entry.get("kind") != OrganisationKind.COALITION:
        problems.append(f"{path}.members: only a coalition has members")
    for spelling in [name.get("az"), *aliases]:
        if not _text(spelling):
            continue
        key = label_key(spelling)
        if owner_of.get(key, index) != index:
            problems.append(
                f"{path}: the name {spelling!r} also belongs to organisations[{owner_of[key]}]"
            )
        owner_of.setdefault(key, index)
    return problems


def _member_problems(entries: list, owner_of: dict[str, int]) -> list[str]:
    problems = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("members"), list):
            continue
        for j, member in enumerate(entry["members"]):
            if _text(member) and label_key(member) not in owner_of:
                problems.append(f"organisations[{i}].members[{j}]: unknown organisation {member!r}")
    return problems


def _withdrawn_problems(withdrawn: Any, owner_of: dict[str, int]) -> list[str]:
    if not isinstance(withdrawn, list):
        return ["withdrawn: expected a list"]
    problems = []
    for i, entry in enumerate(withdrawn):
        if not isinstance(entry, dict) or not _text(entry.get("name")):
            problems.append(f"withdrawn[{i}]: expected a name")
        elif label_key(entry["name"]) in owner_of:
            problems.append(f"withdrawn[{i}]: {entry['name']!r} is also among the organisations")
    return problems


def read_registry_file(path: Path) -> dict:
    return read_yaml_document(path, validate_registry_document)


def _seeded_values(entry: dict) -> dict:
    group = entry.get("field_group") or {}
    return {
        "name_en": entry["name"]["en"],
        "aliases": tuple(clean_aliases(entry.get("aliases", []))),
        "curator_aliases": tuple(clean_aliases(entry.get("curator_aliases", []))),
        "kind": entry.get("kind", "organisation"),
        "legal_status": entry.get("legal_status"),
        "field_group_az": group.get("az", ""),
        "field_group_en": group.get("en", ""),
        "is_interviewed": bool(entry.get("interviewed", False)),
        "declared_member_count": entry.get("declared_member_count"),
        "declared_member_count_is_minimum": bool(entry.get("declared_member_count_is_minimum")),
        "founded_year": entry.get("founded_year"),
        "founded_month": entry.get("founded_month"),
        "founded_year_alternative": entry.get("founded_year_alternative"),
        "source": entry.get("source", ""),
    }


def _existing_by_spelling(session: Session) -> dict[str, Organisation]:
    """Every organisation under its name, English name and aliases (folded)."""
    found: dict[str, Organisation] = {}
    for organisation in session.scalars(select(Organisation)):
        for spelling in [organisation.name_az, organisation.name_en, *(organisation.aliases or [])]:
            if spelling:
                found.setdefault(label_key(spelling), organisation)
    return found


def load_registry_document(
    session: Session, document: dict, update: bool = False
) -> RegistrySeedResult:
    """Upsert a validated registry document. The caller owns the transaction."""
    result = RegistrySeedResult()
    existing = _existing_by_spelling(session)
    by_spelling: dict[str, Organisation] = {}
    for entry in document["organisations"]:
        values = _seeded_values(entry)
        spellings = [entry["name"]["az"], *entry.get("aliases", [])]
        organisation = next(
            (existing[label_key(s)] for s in spellings if label_key(s) in existing), None
        )
        if organisation is None:
            organisation = create_organisation(
                session, OrganisationData(name_az=entry["name"]["az"], **values)
            )
            result.created += 1
            result.created_names.append(organisation.name_az)
        elif update:
            data = dataclasses.replace(data_from_organisation(organisation), **values)
            if update_organisation(session, organisation, data):
                result.updated += 1
            else:
                result.unchanged += 1
        else:
            result.unchanged += 1
        for spelling in spellings:
            by_spelling[label_key(spelling)] = organisation
    for entry in document["organisations"]:
        coalition = by_spelling[label_key(entry["name"]["az"])]
        for member_name in entry.get("members", []):
            member = by_spelling[label_key(member_name)]
            current = current_coalition_ids(session, member.id)
            if coalition.id not in current:
                set_coalitions(session, member, current | {coalition.id})
                result.memberships_added += 1
    if update:
        # Entries an earlier file seeded and this one withdraws: archived (kept, hidden from
        # public pages), never deleted; only the seeded record (same source), if one is given.
        for entry in document.get("withdrawn", []):
            organisation = existing.get(label_key(entry["name"]))
            if organisation is None or organisation.is_archived:
                continue
            if entry.get("source") is None or organisation.source == entry["source"]:
                archive_organisation(session, organisation)
                result.archived += 1
    session.flush()
    return result


def seed_registry(
    session: Session, path: Path | str = DEFAULT_REGISTRY_FILE, update: bool = False
) -> RegistrySeedResult:
    """Validate and load the registry file in one transaction: all of it or nothing."""
    document = read_registry_file(Path(path))
    return load_in_one_transaction(
        session, lambda: load_registry_document(session, document, update=update)
    )
