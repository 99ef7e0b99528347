"""From the survey's spreadsheet to the registry's fields and keys: which column answers
which question (by its heading: the question's text in az or en, with or without its
number, or the field key), what each row's cells mean as column values and answer keys
(several answers in one cell joined with ", ", free "Digər" text mixed in; see
services.registry.labels), and which organisation of the registry a row is about (by
its name, Azerbaijani-aware, ignoring case, spacing and punctuation).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import Organisation
from tracker.services.registry.import_cells import (
    cell_text,
    is_none,
    parse_count,
    parse_date,
    parse_founded,
    split_web_presence,
)
from tracker.services.registry.import_files import column_letters
from tracker.services.registry.labels import (
    MULTI_FIELDS,
    OTHER,
    STAFF_FIELDS,
    SurveyCatalogue,
    catalogue,
)
from tracker.vocabulary import OrganisationKind, label_key

#: columns copied as text into the column of the same name
TEXT_COLUMNS = {
    "name_en",
    "legal_address",
    "phone_fax",
    "email",
    "contact_person",
    "mission",
    "recommendations",
    "legal_status_other",
    "website",
    "social_media",
}
#: headings besides the questions' own text that the form's export may use
EXTRA_HEADERS = {
    "name": ["name_az"],
    "founded_year": ["founded_year"],
    "founded_month": ["founded_month"],
    "website": ["website", "Veb sayt"],
    "social_media": ["social_media", "Sosial media"],
    "legal_status_other": ["legal_status_other"],
}
#: used only when the file has no "Tamamlanma tarixi" column: the form's own time stamp
FALLBACK_HEADERS = {"completed_on": ["Timestamp", "Vaxt damğası", "Zaman damğası"]}
_NUMBER_PREFIX = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*[a-z]?[.)]?\s+(?=\D)", re.IGNORECASE)
_BRACKETED = re.compile(r"^(.*?)\s*\[(.+)\]\s*$")


@dataclass(frozen=True)
class RowProblem:
    #: the spreadsheet's row number (the heading is row 1)
    row: int
    #: the column's heading, or "" for the row as a whole
    column: str
    message: Any

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedRow:
    row: int
    name_az: str
    #: column values for the fields the file has (absent fields are left as they are)
    values: dict[str, Any] = field(default_factory=dict)
    #: list field → {key: free text}, for the list questions the file has
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the registry's organisation this row updates (None: a new one)
    organisation_id: int | None = None


# --- the headings --------------------------------------------------------------------------


def _header_candidates(labels: SurveyCatalogue) -> tuple[dict[str, str], dict[str, str]]:
    """Folded heading → target field, for the questions and for the fallbacks."""
    primary: dict[str, str] = {}

    def add(mapping: dict[str, str], text: str, target: str) -> None:
        key = label_key(text)
        if key and mapping.setdefault(key, target) != target:
            raise ValueError(f"heading {text!r} names both {mapping[key]!r} and {target!r}")

    for name, question in labels.questions.items():
        for text in question.headers():
            add(primary, text, name)
    for target, texts in EXTRA_HEADERS.items():
        for text in texts:
            add(primary, text, target)
            add(primary, text.replace("_", " "), target)
    for list_name in MULTI_FIELDS:
        add(primary, f"{list_name}_other", f"{list_name}_other")
        add(primary, f"{list_name} other", f"{list_name}_other")
    for key, option in labels.options["donors"].items():
        if option.specify and key != OTHER:
            add(primary, f"donors_{key}", f"donors_{key}")
            for text in (*option.labels_az, option.label_en):
                add(primary, text, f"donors_{key}")
    fallback: dict[str, str] = {}
    for target, texts in FALLBACK_HEADERS.items():
        for text in texts:
            add(fallback, text, target)
    return primary, fallback


def _heading_keys(heading: str) -> list[str]:
    """Ways to read one heading: as written, without its number, and the part in
    brackets of a form's grid question ("Əlaqə məlumatı [Hüquqi ünvan]")."""
    text = " ".join(str(heading or "").split())
    candidates = [text, _NUMBER_PREFIX.sub("", text)]
    bracketed = _BRACKETED.match(text)
    if bracketed:
        candidates += [bracketed.group(2), _NUMBER_PREFIX.sub("", bracketed.group(2))]
    return [label_key(c) for c in candidates if label_key(c)]


def map_headings(headings: list[Any]) -> tuple[dict[str, int], list[str], list]:
    """target field → column index; the ignored headings; file problems."""
    primary, fallback = _header_candidates(catalogue())
    columns: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    ignored: list[str] = []
    problems: list = []
    for index, heading in enumerate(headings):
        keys = _heading_keys(heading)
        if not keys:
            continue
        target = next((primary[k] for k in keys if k in primary), None)
        if target is None:
            fallback_target = next((fallback[k] for k in keys if k in fallback), None)
            if fallback_target:
                fallbacks.setdefault(fallback_target, index)
            else:
                ignored.append(str(heading))
            continue
        if target in columns:
            problems.append(
                _l(
                    "Columns %(first)s and %(second)s both answer the same question.",
                    first=_column_name(columns[target], headings),
                    second=_column_name(index, headings),
                )
            )
            continue
        columns[target] = index
    for target, index in fallbacks.items():
        columns.setdefault(target, index)
    if "name" not in columns:
        problems.append(
            _l('The file has no column for the organisation\'s name ("Təşkilatın adı").')
        )
    return columns, ignored, problems


def _column_name(index: int, headings: list[Any]) -> str:
    return f'{column_letters(index)} ("{headings[index]}")'


# --- one row ---------------------------------------------------------------------------------


def _read_cell(values: dict, target: str, parse, cell, fail, problem) -> bool:
    """values[target] = parse(the cell); when it cannot be read, the row gets the problem
    `problem(the cell's text)` and the answer is False."""
    try:
        values[target] = parse(cell(target))
    except ValueError:
        fail(target, problem(cell_text(cell(target))))
        return False
    return True


class RowReader:
    """Reads the rows of one file, whose headings are mapped to `columns`."""

    def __init__(self, columns: dict[str, int], headings: list[Any]):
        self.columns = columns
        self.headings = headings
        self.labels = catalogue()
        self.today = clock.today()

    def heading(self, target: str) -> str:
        return str(self.headings[self.columns[target]])

    def name_in(self, cells: list[Any]) -> str:
        """The row's organisation name, its spacing tidied."""
        index = self.columns.get("name")
        text = cell_text(cells[index]) if index is not None and index < len(cells) else ""
        return " ".join(text.split())

    def without_blank_cells(self, cells: list[Any]) -> RowReader:
        """This file's reader without the columns that this row leaves blank, for a row
        that updates an organisation: a blank cell then keeps the stored answer, as a
        column the file leaves out does, instead of wiping what the registry knows (an
        English name, a founding date) because a template row was only partly filled."""
        reader = copy.copy(self)
        reader.columns = {
            target: index
            for target, index in self.columns.items()
            if target == "name" or (index < len(cells) and cell_text(cells[index]) != "")
        }
        return reader

    def parse(self, row_number: int, cells: list[Any]) -> tuple[ParsedRow | None, list[RowProblem]]:
        problems: list[RowProblem] = []

        def cell(target: str) -> Any:
            index = self.columns.get(target)
            return cells[index] if index is not None and index < len(cells) else None

        def fail(target: str, message) -> None:
            problems.append(RowProblem(row_number, self.heading(target) if target else "", message))

        name = self.name_in(cells)
        if not label_key(name):
            fail("name", _l("The organisation's name is missing."))
        elif len(name) > 500:
            fail("name", _l("The name is longer than 500 characters."))
        parsed = ParsedRow(row=row_number, name_az=name)
        values = parsed.values

        for target in TEXT_COLUMNS:
            if target in self.columns:
                values[target] = cell_text(cell(target))
        if "completed_on" in self.columns:
            _read_cell(
                values,
                "completed_on",
                parse_date,
                cell,
                fail,
                lambda text: _l(
                    '"%(value)s" is not a date; write it as 2022-03-14 or 14.03.2022.', value=text
                ),
            )
        self._founded(cell, fail, values)
        if "website_social" in self.columns:
            website, social = split_web_presence(cell_text(cell("website_social")))
            values.setdefault("website", website)
            values.setdefault("social_media", social)
        for target in STAFF_FIELDS:
            if target in self.columns:
                _read_cell(
                    values,
                    target,
                    parse_count,
                    cell,
                    fail,
                    lambda text: _l(
                        '"%(value)s" is not a number of people (a whole number, 0 or more).',
                        value=text,
                    ),
                )
        self._legal_status(cell, fail, values)
        self._membership(cell, fail, values)
        for list_name in MULTI_FIELDS:
            self._choices(list_name, cell, parsed)
            self._check_free_text(list_name, fail, parsed)
        return (None if problems else parsed), problems

    def _founded(self, cell, fail, values: dict) -> None:
        if "founded" in self.columns:
            try:
                values["founded_year"], values["founded_month"] = parse_founded(cell("founded"))
            except ValueError:
                fail(
                    "founded",
                    _l(
                        '"%(value)s" is not a founding month and year; write it as '
                        "03.2005 or 2005.",
                        value=cell_text(cell("founded")),
                    ),
                )
                return
        for target in ("founded_year", "founded_month"):
            if target in self.columns and not _read_cell(
                values,
                target,
                parse_count,
                cell,
                fail,
                lambda text: _l('"%(value)s" is not a whole number.', value=text),
            ):
                return
        year, month = values.get("founded_year"), values.get("founded_month")
        column = "founded" if "founded" in self.columns else "founded_year"
        if year is not None and not 1800 <= year <= self.today.year:
            fail(
                column,
                _l(
                    "The founding year %(year)s is not between 1800 and %(this_year)s.",
                    year=year,
                    this_year=self.today.year,
                ),
            )
        if month is not None and not 1 <= month <= 12:
            fail(
                "founded" if "founded" in self.columns else "founded_month",
                _l("The founding month %(month)s is not between 1 and 12.", month=month),
            )

    def _legal_status(self, cell, fail, values: dict) -> None:
        if "legal_status" not in self.columns:
            if values.get("legal_status_other"):
                values["legal_status"] = OTHER
            return
        text = cell_text(cell("legal_status"))
        if not text:
            values["legal_status"] = OTHER if values.get("legal_status_other") else None
            values.setdefault("legal_status_other", "")
            return
        found = self.labels.matcher("legal_status").match(text)
        keys = found.keys
        if len(keys) > 1:
            fail(
                "legal_status",
                _l("Choose one legal status; the cell has several: %(value)s", value=text),
            )
            return
        values["legal_status"] = keys[0]
        free = found.details.get(OTHER, "")
        if values.get("legal_status_other"):
            free = values["legal_status_other"]
        values["legal_status_other"] = free if keys[0] == OTHER else ""

    def _membership(self, cell, fail, values: dict) -> None:
        names = ""
        if "member_of_networks" in self.columns:
            text = cell_text(cell("member_of_networks"))
            found = self.labels.matcher("membership").match(text)
            answers = [k for k in found.keys if k != OTHER]
            names = found.details.get(OTHER, "")
            if len(answers) > 1:
                fail(
                    "member_of_networks", _l("The answer is both yes and no: %(value)s", value=text)
                )
                return
            if answers == ["no"] and names:
                fail(
                    "member_of_networks",
                    _l('The answer is "no" but names networks: %(value)s', value=text),
                )
                return
            if answers:
                values["member_of_networks"] = answers[0] == "yes"
            else:
                values["member_of_networks"] = True if names else None
        if "network_names" in self.columns:
            listed = cell_text(cell("network_names"))
            if listed and names and label_key(listed) != label_key(names):
                names = f"{names}; {listed}"
            else:
                names = listed or names
            if names and values.get("member_of_networks") is None:
                values["member_of_networks"] = True
        if "member_of_networks" in self.columns or "network_names" in self.columns:
            values["network_names"] = names

    def _choices(self, list_name: str, cell, parsed: ParsedRow) -> None:
        extra_columns = [f"{list_name}_other"] + (
            [f"donors_{k}" for k in self.labels.options["donors"] if f"donors_{k}" in self.columns]
            if list_name == "donors"
            else []
        )
        if list_name not in self.columns and not any(c in self.columns for c in extra_columns):
            return
        answers: dict[str, str] = {}
        if list_name in self.columns:
            answers = dict(self.labels.matcher(list_name).match(cell_text(cell(list_name))).details)
        for column in extra_columns:
            if column not in self.columns:
                continue
            text = cell_text(cell(column))
            if not text or is_none(text):
                continue
            key = OTHER if column.endswith("_other") else column.removeprefix("donors_")
            known = answers.get(key, "")
            answers[key] = (
                text if not known or label_key(known) == label_key(text) else f"{known}; {text}"
            )
        parsed.choices[list_name] = answers

    def _check_free_text(self, list_name: str, fail, parsed: ParsedRow) -> None:
        """Free text kept under an answer the question does not have (a list without
        "Other", such as the regions) would be stored but never shown: the row is refused,
        quoting the text."""
        answers = parsed.choices.get(list_name, {})
        for key in answers.keys() - self.labels.options[list_name].keys():
            column = list_name if list_name in self.columns else f"{list_name}_other"
            fail(
                column,
                _l(
                    '"%(value)s" is not one of this question\'s answers, and the question has '
                    'no "Other" answer to keep it under.',
                    value=answers[key],
                ),
            )


# --- the registry's organisations ---------------------------------------------------------


class RegistryNames:
    """The registry's names, loaded once, to match rows by name."""

    def __init__(self, session: Session):
        self.by_key: dict[str, int] = {}
        self.by_other: dict[str, set[int]] = defaultdict(set)
        #: English name → the Azerbaijani names of the organisations that have it
        self.by_english: dict[str, list[str]] = defaultdict(list)
        self.archived: set[int] = set()
        self.coalitions: list[tuple[int, list[str]]] = []
        rows = session.execute(
            select(
                Organisation.id,
                Organisation.name_key,
                Organisation.name_en,
                Organisation.aliases,
                Organisation.is_archived,
                Organisation.kind,
                Organisation.name_az,
            )
        )
        for row in rows:
            self.by_key[row.name_key] = row.id
            # Aliases ("QHT Forumu" for "Milli QHT Forumu") match; English names do not,
            # as two organisations may well translate their names alike.
            for spelling in row.aliases or []:
                if label_key(spelling):
                    self.by_other[label_key(spelling)].add(row.id)
            if row.name_en and label_key(row.name_en):
                self.by_english[label_key(row.name_en)].append(row.name_az)
            if row.is_archived:
                self.archived.add(row.id)
            elif row.kind == OrganisationKind.COALITION:
                spellings = [row.name_az, row.name_en, *(row.aliases or [])]
                self.coalitions.append(
                    (row.id, [f" {label_key(s)} " for s in spellings if s and label_key(s)])
                )

    def match(self, name: str) -> tuple[int | None, bool]:
        """(organisation id or None, whether the match is ambiguous) for a row's name."""
        key = label_key(name)
        if key in self.by_key:
            return self.by_key[key], False
        candidates = self.by_other.get(key, set())
        if len(candidates) > 1:
            return None, True
        return (next(iter(candidates)) if candidates else None), False

    def english_name_of(self, parsed: ParsedRow) -> list[str]:
        """The Azerbaijani names of the organisations whose English name the row gives
        as its name: it is not matched by it, and not to be added again either."""
        return self.by_english.get(label_key(parsed.name_az), [])

    def coalitions_named(self, text: str) -> set[int]:
        if not text:
            return set()
        haystack = f" {label_key(text)} "
        return {cid for cid, spellings in self.coalitions if any(s in haystack for s in spellings)}
