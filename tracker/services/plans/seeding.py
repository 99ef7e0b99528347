"""Loads an action plan from YAML: validated first, then upserted by natural keys in one
transaction. Running it twice changes nothing; `update=True` applies edits to existing
rows and never deletes anything recorded against a measure."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import PROJECT_ROOT
from tracker.models import ActionPlan, Agency, AgencyAlias, Measure, MeasureAgency, Section
from tracker.services.plans.status import default_due_date
from tracker.vocabulary import AgencyRole

T = TypeVar("T")

DEFAULT_PLAN_FILE = PROJECT_ROOT / "seed" / "action_plan_2020_2022.yaml"
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:–(\d{4}))?$")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SeedError(Exception):
    """The file cannot be loaded; `problems` name the path inside it and what is wrong."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass
class SeedResult:
    plan_key: str
    created: Tally = field(default_factory=lambda: Tally())
    updated: Tally = field(default_factory=lambda: Tally())

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))


class Tally(dict):
    def add(self, name: str) -> None:
        self[name] = self.get(name, 0) + 1


# --- validation -----------------------------------------------------------------------------


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "expected a mapping")
            return False
        return True

    def text(self, parent: dict, key: str, path: str) -> None:
        value = parent.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}.{key}", "expected non-empty text")

    def bilingual(self, parent: dict, key: str, path: str) -> None:
        value = parent.get(key)
        if not self.mapping(value, f"{path}.{key}"):
            return
        for lang in ("az", "en"):
            self.text(value, lang, f"{path}.{key}")

    def integer(self, parent: dict, key: str, path: str) -> None:
        if not isinstance(parent.get(key), int) or isinstance(parent.get(key), bool):
            self.fail(f"{path}.{key}", "expected a whole number")

    def names(self, parent: dict, key: str, path: str) -> list[str]:
        value = parent.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"{path}.{key}", "expected a list of agency names")
            return []
        return value


def validate_plan_document(document: Any) -> list[str]:
    """Every problem in a plan document, each as "path: what is wrong"."""
    check = _Validator()
    if not check.mapping(document, "(top)"):
        return check.problems
    plan = document.get("plan")
    if check.mapping(plan, "plan"):
        check.text(plan, "key", "plan")
        if isinstance(plan.get("key"), str) and not KEY_PATTERN.match(plan["key"]):
            check.fail("plan.key", "expected lower-case letters, digits and hyphens")
        check.text(plan, "country", "plan")
        check.text(plan, "period", "plan")
        check.integer(plan, "start_year", "plan")
        check.integer(plan, "end_year", "plan")
        check.bilingual(plan, "title", "plan")

    known_names: set[str] = set()
    agencies = document.get("agencies")
    if not isinstance(agencies, list):
        check.fail("agencies", "expected a list")
        agencies = []
    seen_keys: set[str] = set()
    for i, agency in enumerate(agencies):
        path = f"agencies[{i}]"
        if not check.mapping(agency, path):
            continue
        check.text(agency, "key", path)
        key = agency.get("key")
        if isinstance(key, str):
            if key in seen_keys:
                check.fail(f"{path}.key", f"duplicate agency key {key!r}")
            seen_keys.add(key)
        check.bilingual(agency, "name", path)
        aliases = check.names(agency, "aliases", path)
        name_az = (
            (agency.get("name") or {}).get("az") if isinstance(agency.get("name"), dict) else None
        )
        for name in [name_az, *aliases]:
            if not name:
                continue
            if name in known_names:
                check.fail(path, f"the name {name!r} belongs to two agencies")
            known_names.add(name)

    sections = document.get("sections")
    if not isinstance(sections, list) or not sections:
        check.fail("sections", "expected a non-empty list")
        return check.problems
    codes: set[str] = set()
    numbers: set[int] = set()
    for i, section in enumerate(sections):
        path = f"sections[{i}]"
        if not check.mapping(section, path):
            continue
        check.integer(section, "number", path)
        if section.get("number") in numbers:
            check.fail(f"{path}.number", f"duplicate section number {section['number']}")
        numbers.add(section.get("number"))
        check.bilingual(section, "title", path)
        measures = section.get("measures")
        if not isinstance(measures, list) or not measures:
            check.fail(f"{path}.measures", "expected a non-empty list")
            continue
        for j, measure in enumerate(measures):
            mpath = f"{path}.measures[{j}]"
            if not check.mapping(measure, mpath):
                continue
            code = measure.get("code")
            if not isinstance(code, str) or not re.match(r"^\d+\.\d+$", code or ""):
                check.fail(f"{mpath}.code", 'expected a code such as "1.1" (quoted)')
            elif code in codes:
                check.fail(f"{mpath}.code", f"duplicate measure code {code}")
            codes.add(code)
            check.bilingual(measure, "title", mpath)
            check.bilingual(measure, "indicator", mpath)
            executors = check.names(measure, "executors", mpath)
            recommended = check.names(measure, "recommended", mpath)
            if not executors and not recommended:
                check.fail(mpath, "expected at least one executor or recommended agency")
            for role, names in (("executors", executors), ("recommended", recommended)):
                for k, name in enumerate(names):
                    if name not in known_names:
                        check.fail(f"{mpath}.{role}[{k}]", f"unknown agency {name!r}")
            _check_period(check, measure, mpath)
    return check.problems


def _check_period(check: _Validator, measure: dict, path: str) -> None:
    deadline = measure.get("deadline")
    match = PERIOD_PATTERN.match(deadline) if isinstance(deadline, str) else None
    if not match:
        check.fail(f"{path}.deadline", 'expected "2020" or 2020–2022 style (with an en dash)')
        return
    start = int(match.group(1))
    end = int(match.group(2) or match.group(1))
    check.integer(measure, "start_year", path)
    check.integer(measure, "end_year", path)
    if measure.get("start_year") != start or measure.get("end_year") != end:
        check.fail(f"{path}.start_year", f"does not match deadline {deadline!r}")
    if end < start:
        check.fail(f"{path}.deadline", "the period ends before it starts")


def read_yaml_document(path: Path, validate: Callable[[Any], list[str]]) -> Any:
    """Read a seed file and validate it; any problem raises SeedError naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SeedError(str(path), ["file not found"]) from error
    except UnicodeDecodeError as error:
        raise SeedError(str(path), ["not UTF-8 text"]) from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top)"
        problem = getattr(error, "problem", None) or error
        raise SeedError(str(path), [f"{where}: not valid YAML ({problem})"]) from error
    problems = validate(document)
    if problems:
        raise SeedError(str(path), problems)
    return document


def load_in_one_transaction(session: Session, load: Callable[[], T]) -> T:
    """Run a loader and commit, or roll everything back: all of a file or nothing."""
    try:
        result = load()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def read_plan_file(path: Path) -> dict:
    return read_yaml_document(path, validate_plan_document)


# --- upsert -------------------------------------------------------------------------------


def _assign(obj: Any, values: dict[str, Any], result: SeedResult, kind: str, update: bool) -> None:
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    if changed and update:
        for key, value in changed.items():
            setattr(obj, key, value)
        result.updated.add(kind)


def _upsert_agencies(
    session: Session, document: dict, result: SeedResult, update: bool
) -> dict[str, Agency]:
    by_key = {a.key: a for a in session.scalars(select(Agency))}
    alias_rows = {a.name: a for a in session.scalars(select(AgencyAlias))}
    by_name: dict[str, Agency] = {}
    for entry in document["agencies"]:
        values = {"name_az": entry["name"]["az"], "name_en": entry["name"]["en"]}
        agency = by_key.get(entry["key"])
        if agency is None:
            agency = Agency(key=entry["key"], **values)
            session.add(agency)
            by_key[agency.key] = agency
            result.created.add("agencies")
        else:
            _assign(agency, values, result, "agencies", update)
        by_name[entry["name"]["az"]] = agency
        for alias in entry.get("aliases", []):
            row = alias_rows.get(alias)
            if row is None:
                row = AgencyAlias(name=alias, agency=agency)
                session.add(row)
                alias_rows[alias] = row
                result.created.add("agency aliases")
            elif row.agency is not agency and update:
                row.agency = agency
                result.updated.add("agency aliases")
            by_name[alias] = agency
    return by_name


def _sync_agency_links(
    session: Session,
    measure: Measure,
    entry: dict,
    agencies: dict[str, Agency],
    result: SeedResult,
    is_new: bool,
    update: bool,
) -> None:
    wanted = [
        (role, position, name)
        for role, names in (
            (AgencyRole.EXECUTOR, entry["executors"]),
            (AgencyRole.RECOMMENDED, entry.get("recommended", [])),
        )
        for position, name in enumerate(names)
    ]
    current = [(link.role, link.position, link.name_as_written) for link in measure.agency_links]
    if not is_new and (current == wanted or not update):
        return
    # Links hold no recorded data, so they are rebuilt to match the file.
    measure.agency_links.clear()
    session.flush()
    for role, position, name in wanted:
        measure.agency_links.append(
            MeasureAgency(
                role=str(role), position=position, name_as_written=name, agency=agencies[name]
            )
        )
    if not is_new:
        result.updated.add("measure agencies")


def load_plan_document(session: Session, document: dict, update: bool = False) -> SeedResult:
    """Upsert a validated plan document. The caller owns the transaction."""
    plan_data = document["plan"]
    result = SeedResult(plan_key=plan_data["key"])
    agencies = _upsert_agencies(session, document, result, update)
    plan_values = {
        "country": plan_data["country"],
        "title_az": plan_data["title"]["az"],
        "title_en": plan_data["title"]["en"],
        "period": plan_data["period"],
        "start_year": plan_data["start_year"],
        "end_year": plan_data["end_year"],
        "source": plan_data.get("source", ""),
    }
    plan = session.scalar(select(ActionPlan).where(ActionPlan.key == plan_data["key"]))
    if plan is None:
        plan = ActionPlan(key=plan_data["key"], **plan_values)
        session.add(plan)
        session.flush()
        result.created.add("plans")
    else:
        _assign(plan, plan_values, result, "plans", update)
    sections = {
        s.number: s for s in session.scalars(select(Section).where(Section.plan_id == plan.id))
    }
    measures = {
        m.code: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan.id))
    }
    position = 0
    for section_data in document["sections"]:
        values = {"title_az": section_data["title"]["az"], "title_en": section_data["title"]["en"]}
        section = sections.get(section_data["number"])
        if section is None:
            section = Section(plan_id=plan.id, number=section_data["number"], **values)
            session.add(section)
            session.flush()
            result.created.add("sections")
        else:
            _assign(section, values, result, "sections", update)
        for entry in section_data["measures"]:
            position += 1
            values = {
                "section_id": section.id,
                "position": position,
                "title_az": entry["title"]["az"],
                "title_en": entry["title"]["en"],
                "indicator_az": entry["indicator"]["az"],
                "indicator_en": entry["indicator"]["en"],
                "deadline": entry["deadline"],
                "start_year": entry["start_year"],
                "end_year": entry["end_year"],
                "due_date": default_due_date(entry["end_year"]),
            }
            measure = measures.get(entry["code"])
            is_new = measure is None
            if is_new:
                measure = Measure(plan_id=plan.id, code=entry["code"], **values)
                session.add(measure)
                result.created.add("measures")
            else:
                _assign(measure, values, result, "measures", update)
            _sync_agency_links(session, measure, entry, agencies, result, is_new, update)
    session.flush()
    return result


def seed_plan_file(
    session: Session, path: Path | str = DEFAULT_PLAN_FILE, update: bool = False
) -> SeedResult:
    """Validate and load one plan file in one transaction: all of it or nothing."""
    document = read_plan_file(Path(path))
    return load_in_one_transaction(
        session, lambda: load_plan_document(session, document, update=update)
    )
