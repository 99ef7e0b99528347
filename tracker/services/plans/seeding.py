"""Loads an action plan from YAML: validated first, then upserted by natural keys in one
transaction. Running it twice changes nothing; `update=True` applies edits to existing
rows and never deletes anything recorded against a measure.

Its parts: validation (every problem, by its path in the file); reading a seed file and
loading it in one transaction (`read_yaml_document`, `seed_yaml_file`, which the registry's
seed uses too); the upsert of agencies, the plan, its sections and measures."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import PROJECT_ROOT
from tracker.models import ActionPlan, Agency, AgencyAlias, Measure, MeasureAgency, Section
from tracker.services.errors import InvalidInput
from tracker.services.plans.status import default_due_date
from tracker.vocabulary import AgencyRole

T = TypeVar("T")

DEFAULT_PLAN_FILE = PROJECT_ROOT / "seed" / "action_plan_2020_2022.yaml"
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:–(\d{4}))?$")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SeedError(InvalidInput):
    """A seed file that cannot be loaded. `source` names the file; the problems, each
    "where in the file: what is wrong", concern the file as a whole (key "") and are
    listed by `lines`, one a line, as the CLI prints them."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems), problems={"": problems})
        self.source = source

    @property
    def lines(self) -> list[str]:
        return self.problems[""]


@dataclass
class SeedResult:
    """What a load created and updated, counted by kind of record."""

    plan_key: str
    created: Tally = field(default_factory=lambda: Tally())
    updated: Tally = field(default_factory=lambda: Tally())

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))


class Tally(dict):
    """Counts by name."""

    def add(self, name: str) -> None:
        self[name] = self.get(name, 0) + 1


# --- validation -----------------------------------------------------------------------------


class _Validator:
    """Collects the problems of a document, each as "path: what is wrong"."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "expected a mapping")
            return False
        return True

    def entries(self, items: list, path: str) -> Iterator[tuple[str, dict]]:
        """Each mapping in a list with its path ("path[i]"); any other item is a problem."""
        for i, item in enumerate(items):
            if self.mapping(item, f"{path}[{i}]"):
                yield f"{path}[{i}]", item

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
    _check_plan(check, document.get("plan"))
    known_names = _check_agencies(check, document.get("agencies"))
    _check_sections(check, document.get("sections"), known_names)
    return check.problems


def _check_plan(check: _Validator, plan: Any) -> None:
    """The plan's own fields: key, country, period, years and title."""
    if not check.mapping(plan, "plan"):
        return
    check.text(plan, "key", "plan")
    if isinstance(plan.get("key"), str) and not KEY_PATTERN.match(plan["key"]):
        check.fail("plan.key", "expected lower-case letters, digits and hyphens")
    check.text(plan, "country", "plan")
    check.text(plan, "period", "plan")
    check.integer(plan, "start_year", "plan")
    check.integer(plan, "end_year", "plan")
    check.bilingual(plan, "title", "plan")


def _check_agencies(check: _Validator, agencies: Any) -> set[str]:
    """The agencies, unique by key and by every name; returns the names measures may use."""
    if not isinstance(agencies, list):
        check.fail("agencies", "expected a list")
        agencies = []
    known_names: set[str] = set()
    seen_keys: set[str] = set()
    for path, agency in check.entries(agencies, "agencies"):
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
    return known_names


def _check_sections(check: _Validator, sections: Any, known_names: set[str]) -> None:
    """The sections, unique by number, each with its measures, unique by code."""
    if not isinstance(sections, list) or not sections:
        check.fail("sections", "expected a non-empty list")
        return
    codes: set[str] = set()
    numbers: set[int] = set()
    for path, section in check.entries(sections, "sections"):
        check.integer(section, "number", path)
        if section.get("number") in numbers:
            check.fail(f"{path}.number", f"duplicate section number {section['number']}")
        numbers.add(section.get("number"))
        check.bilingual(section, "title", path)
        measures = section.get("measures")
        if not isinstance(measures, list) or not measures:
            check.fail(f"{path}.measures", "expected a non-empty list")
            continue
        for measure_path, measure in check.entries(measures, f"{path}.measures"):
            _check_measure(check, measure, measure_path, codes, known_names)


def _check_measure(
    check: _Validator, measure: dict, path: str, codes: set[str], known_names: set[str]
) -> None:
    """One measure: its code (added to `codes`), texts, agencies and period."""
    code = measure.get("code")
    if not isinstance(code, str) or not re.match(r"^\d+\.\d+$", code or ""):
        check.fail(f"{path}.code", 'expected a code such as "1.1" (quoted)')
    elif code in codes:
        check.fail(f"{path}.code", f"duplicate measure code {code}")
    codes.add(code)
    check.bilingual(measure, "title", path)
    check.bilingual(measure, "indicator", path)
    executors = check.names(measure, "executors", path)
    recommended = check.names(measure, "recommended", path)
    if not executors and not recommended:
        check.fail(path, "expected at least one executor or recommended agency")
    for role, names in (("executors", executors), ("recommended", recommended)):
        for k, name in enumerate(names):
            if name not in known_names:
                check.fail(f"{path}.{role}[{k}]", f"unknown agency {name!r}")
    _check_period(check, measure, path)


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


# --- reading a seed file, loading it in one transaction -------------------------------------


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


def seed_yaml_file(
    session: Session,
    path: Path | str,
    validate: Callable[[Any], list[str]],
    load: Callable[..., T],
    update: bool = False,
) -> T:
    """Read and validate a seed file, then `load(session, document, update=update)` it in
    one transaction: all of it or nothing."""
    document = read_yaml_document(Path(path), validate)
    return load_in_one_transaction(session, lambda: load(session, document, update=update))


# --- upsert ---------------------------------------------------------------------------------


def load_plan_document(session: Session, document: dict, update: bool = False) -> SeedResult:
    """Upsert a validated plan document. The caller owns the transaction."""
    load = _PlanLoader(session, SeedResult(plan_key=document["plan"]["key"]), update)
    agencies = load.agencies(document["agencies"])
    plan = load.plan(document["plan"])
    sections = {
        s.number: s for s in session.scalars(select(Section).where(Section.plan_id == plan.id))
    }
    measures = {
        m.code: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan.id))
    }
    position = 0
    for section_data in document["sections"]:
        section = load.section(plan, sections.get(section_data["number"]), section_data)
        for entry in section_data["measures"]:
            position += 1
            measure, is_new = load.measure(
                plan, section, measures.get(entry["code"]), entry, position
            )
            load.agency_links(measure, entry, agencies, is_new)
    session.flush()
    return load.result


@dataclass
class _PlanLoader:
    """Upserts the records of one plan document, counting what it creates and updates.
    Existing records change only with `update`."""

    session: Session
    result: SeedResult
    update: bool

    def assign(self, record: Any, values: dict[str, Any], kind: str) -> None:
        changed = {k: v for k, v in values.items() if getattr(record, k) != v}
        if changed and self.update:
            for key, value in changed.items():
                setattr(record, key, value)
            self.result.updated.add(kind)

    def upsert(
        self,
        model: type[T],
        found: T | None,
        keys: dict,
        values: dict,
        kind: str,
        needs_id: bool = False,
    ) -> tuple[T, bool]:
        """`found` updated from `values`, or (when None) a new `model` made of `keys` and
        `values` and added (and flushed when its id `needs_id`); says whether it is new."""
        if found is not None:
            self.assign(found, values, kind)
            return found, False
        record = model(**keys, **values)
        self.session.add(record)
        if needs_id:
            self.session.flush()
        self.result.created.add(kind)
        return record, True

    def agencies(self, entries: list[dict]) -> dict[str, Agency]:
        """The agencies and their aliases; returns every name the plan may use, each with
        its agency."""
        by_key = {a.key: a for a in self.session.scalars(select(Agency))}
        alias_rows = {a.name: a for a in self.session.scalars(select(AgencyAlias))}
        by_name: dict[str, Agency] = {}
        for entry in entries:
            values = {"name_az": entry["name"]["az"], "name_en": entry["name"]["en"]}
            found = by_key.get(entry["key"])
            agency, _ = self.upsert(Agency, found, {"key": entry["key"]}, values, "agencies")
            by_name[entry["name"]["az"]] = agency
            for alias in entry.get("aliases", []):
                row = alias_rows.get(alias)
                if row is None:
                    row = AgencyAlias(name=alias, agency=agency)
                    self.session.add(row)
                    alias_rows[alias] = row
                    self.result.created.add("agency aliases")
                elif row.agency is not agency and self.update:
                    row.agency = agency
                    self.result.updated.add("agency aliases")
                by_name[alias] = agency
        return by_name

    def plan(self, data: dict) -> ActionPlan:
        """The plan, by its key."""
        values = {
            "country": data["country"],
            "title_az": data["title"]["az"],
            "title_en": data["title"]["en"],
            "period": data["period"],
            "start_year": data["start_year"],
            "end_year": data["end_year"],
            "source": data.get("source", ""),
        }
        found = self.session.scalar(select(ActionPlan).where(ActionPlan.key == data["key"]))
        plan, _ = self.upsert(
            ActionPlan, found, {"key": data["key"]}, values, "plans", needs_id=True
        )
        return plan

    def section(self, plan: ActionPlan, found: Section | None, data: dict) -> Section:
        """A section of the plan, by its number."""
        keys = {"plan_id": plan.id, "number": data["number"]}
        values = {"title_az": data["title"]["az"], "title_en": data["title"]["en"]}
        section, _ = self.upsert(Section, found, keys, values, "sections", needs_id=True)
        return section

    def measure(
        self, plan: ActionPlan, section: Section, found: Measure | None, entry: dict, position: int
    ) -> tuple[Measure, bool]:
        """A measure of the plan, by its code; says whether it is new."""
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
        keys = {"plan_id": plan.id, "code": entry["code"]}
        return self.upsert(Measure, found, keys, values, "measures")

    def agency_links(
        self, measure: Measure, entry: dict, agencies: dict[str, Agency], is_new: bool
    ) -> None:
        """A measure's executors and recommended bodies, in the file's order."""
        wanted = [
            (role, position, name)
            for role, names in (
                (AgencyRole.EXECUTOR, entry["executors"]),
                (AgencyRole.RECOMMENDED, entry.get("recommended", [])),
            )
            for position, name in enumerate(names)
        ]
        current = [
            (link.role, link.position, link.name_as_written) for link in measure.agency_links
        ]
        if not is_new and (current == wanted or not self.update):
            return
        # Links hold no recorded data, so they are rebuilt to match the file.
        measure.agency_links.clear()
        self.session.flush()
        for role, position, name in wanted:
            measure.agency_links.append(
                MeasureAgency(
                    role=str(role), position=position, name_as_written=name, agency=agencies[name]
                )
            )
        if not is_new:
            self.result.updated.add("measure agencies")


def seed_plan_file(
    session: Session, path: Path | str = DEFAULT_PLAN_FILE, update: bool = False
) -> SeedResult:
    """Validate and load one plan file in one transaction: all of it or nothing."""
    return seed_yaml_file(session, path, validate_plan_document, load_plan_document, update)
