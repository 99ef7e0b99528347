"""Import of the CSO mapping survey's spreadsheet (the online form's Excel export, or CSV).

The expected format: one row per organisation, one column per question headed by the
question's text (az or en, with or without its number, or the field key); several answers
in one cell joined with ", "; free "Digər" text mixed in (see services.registry_labels).

All or nothing: every row is read and checked first and every problem is reported with
its row number; nothing is written unless the whole file is good. An organisation is
matched by its name (Azerbaijani-aware, ignoring case, spacing and punctuation), so
importing the same file again changes nothing. Writes are bulk statements over lookups
loaded once, so thousands of rows take seconds.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import CoalitionMembership, Organisation, OrganisationChoice
from tracker.models.registry import derived_columns
from tracker.services.audit import record
from tracker.services.registry.labels import (
    MULTI_FIELDS,
    OTHER,
    STAFF_FIELDS,
    SurveyCatalogue,
    catalogue,
)
from tracker.vocabulary import OrganisationKind, fold, label_key

MAX_ROWS = 20_000
ORGANISATION_TABLE = Organisation.__table__
CHOICE_TABLE = OrganisationChoice.__table__

#: rows written per bulk statement and per progress step
CHUNK = 500
XLSX_MAGIC = b"PK\x03\x04"

#: the template's columns, in the questionnaire's order
TEMPLATE_FIELDS = (
    "completed_on",
    "name",
    "name_en",
    "founded",
    "legal_status",
    "legal_address",
    "phone_fax",
    "email",
    "website_social",
    "contact_person",
    "services",
    "mission",
    "beneficiaries",
    "regions",
    *STAFF_FIELDS,
    "donors",
    "training_needs",
    "member_of_networks",
    "network_names",
    "recommendations",
)
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
#: every column a row of the file can set
IMPORTED_COLUMNS = (
    *sorted(TEXT_COLUMNS),
    "completed_on",
    "founded_year",
    "founded_month",
    *STAFF_FIELDS,
    "legal_status",
    "member_of_networks",
    "network_names",
)
#: the columns search_text is made of
DERIVED_INPUTS = ("name_az", "name_en", "aliases", "legal_address")
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
SOCIAL_HOSTS = (
    "facebook",
    "fb.com",
    "fb.me",
    "instagram",
    "twitter",
    "x.com",
    "linkedin",
    "youtube",
    "youtu.be",
    "t.me",
    "telegram",
    "tiktok",
    "vk.com",
    "ok.ru",
)
#: "none" written in a cell (folded)
NONE_MARKERS = {"", "-", "--", "—", "yox", "yoxdur", "none", "no", "n/a", "na", "yoxdu", "0"}
MONTHS = {
    "yanvar": 1,
    "fevral": 2,
    "mart": 3,
    "aprel": 4,
    "may": 5,
    "iyun": 6,
    "iyul": 7,
    "avqust": 8,
    "sentyabr": 9,
    "oktyabr": 10,
    "noyabr": 11,
    "dekabr": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_NUMBER_PREFIX = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*[a-z]?[.)]?\s+(?=\D)", re.IGNORECASE)
_BRACKETED = re.compile(r"^(.*?)\s*\[(.+)\]\s*$")
_COUNT = re.compile(r"^(\d+)(?:[.,]0+)?(?:\s*(?:nəfər|nefer|people|persons|işçi|isci))?$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%m/%d/%Y", "%d-%m-%Y")


class ImportFileError(Exception):
    """The file as a whole cannot be read (not the problem of one row)."""

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


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


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: matched organisations that are archived (updated, still archived)
    archived: int = 0
    memberships_added: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    file_problems: list = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: list field → number of rows with "Digər" free text
    free_text: Counter = field(default_factory=Counter)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.file_problems

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


# --- reading the file ------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFileError([_l("The file is not a readable XLSX workbook.")]) from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeError:
            continue
    else:
        raise ImportFileError([_l('The CSV file is not UTF-8 text. Save it as "CSV UTF-8".')])
    if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError([_l('The CSV file is not UTF-8 text. Save it as "CSV UTF-8".')])
    delimiter = _guess_delimiter(text)
    try:
        rows = []
        for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(values)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error as error:
        raise ImportFileError(
            [_l("The CSV file cannot be read: %(error)s", error=str(error))]
        ) from error


def _guess_delimiter(text: str) -> str:
    """Comma, semicolon (Excel in Azerbaijani settings) or tab: the one that gives the
    first lines the same number of columns as the heading. Headings contain commas
    themselves ("Təsis tarixi, ay, il"), so counting characters is not enough."""
    sample = text[:64_000]
    best, best_score = ",", (-1, -1)
    for candidate in (",", ";", "\t"):
        try:
            lines = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=candidate), 30))
        except csv.Error:
            continue
        if not lines:
            continue
        width = len(lines[0])
        score = (sum(1 for line in lines[1:] if len(line) == width), width)
        if width > 1 and score > best_score:
            best, best_score = candidate, score
    return best


def read_rows(data: bytes, filename: str = "") -> list[list[Any]]:
    """The file's rows, heading first. XLSX is recognised by its content, not its name."""
    if not data:
        raise ImportFileError([_l("The file is empty.")])
    if data.startswith(XLSX_MAGIC):
        rows = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xls", ".xlsm")):
        raise ImportFileError([_l("The file is not a readable XLSX workbook.")])
    else:
        rows = _read_csv(data)
    if len(rows) > MAX_ROWS + 1:
        raise ImportFileError(
            [_l("The file has more than %(max)s rows; split it into smaller files.", max=MAX_ROWS)]
        )
    return rows


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
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return f'{letters} ("{headings[index]}")'


# --- cell values ---------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _is_none(text: str) -> bool:
    # Every marker is short: longer text needs no folding to know it is not one.
    return len(text.strip()) <= 8 and fold(text) in NONE_MARKERS


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    # A time stamp such as "2022/03/14 10:22:33 GMT+4" or "2022-03-14T10:22:33".
    text = re.split(r"[\sT]", text, maxsplit=1)[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_founded(value: Any) -> tuple[int | None, int | None]:
    """(year, month) from "03.2005", "2005-03", "Mart 2005", "2005", a date ..."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime | date):
        return value.year, value.month
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value), None
    text = fold(cell_text(value))
    if _is_none(text):
        return None, None
    numeric = re.fullmatch(r"(\d{1,2})[./-](\d{4})|(\d{4})[./-](\d{1,2})", text)
    if numeric:
        month, year = (
            (numeric.group(1), numeric.group(2))
            if numeric.group(1)
            else (numeric.group(4), numeric.group(3))
        )
        return int(year), int(month)
    full = re.fullmatch(
        r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})|(\d{4})[./-](\d{1,2})[./-](\d{1,2})", text
    )
    if full:
        if full.group(1):
            return int(full.group(3)), int(full.group(2))
        return int(full.group(4)), int(full.group(5))
    years = _YEAR.findall(text)
    if len(years) == 1:
        rest = _YEAR.sub(" ", text)
        months = [MONTHS[w] for w in re.findall(r"[a-z]+", rest) if w in MONTHS]
        other_digits = re.findall(r"\d+", rest)
        if len(months) <= 1 and not other_digits:
            return int(years[0]), (months[0] if months else None)
    raise ValueError(text)


def parse_count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(value)
        return value
    if isinstance(value, float):
        if value.is_integer() and value >= 0:
            return int(value)
        raise ValueError(value)
    text = cell_text(value).strip().lower()
    if text in {"", "-", "--", "—", "yoxdur", "yox", "none", "n/a"}:
        return None
    found = _COUNT.match(text)
    if not found:
        raise ValueError(text)
    return int(found.group(1))


def _looks_like_address(token: str) -> bool:
    lowered = token.lower()
    return lowered.startswith(("http://", "https://", "www.")) or bool(
        re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", lowered)
    )


def split_web_presence(text: str) -> tuple[str, str]:
    """(website, social media) from the survey's single "website and social media" answer."""
    if _is_none(text):
        return "", ""
    websites: list[str] = []
    social: list[str] = []
    for segment in re.split(r"[,;\n]+", text):
        segment = segment.strip()
        if not segment or _is_none(segment):
            continue
        tokens = segment.split()
        parts = (
            tokens if len(tokens) > 1 and all(_looks_like_address(t) for t in tokens) else [segment]
        )
        for part in parts:
            target = social if any(h in part.lower() for h in SOCIAL_HOSTS) else websites
            target.append(part)
    return ", ".join(websites), ", ".join(social)


# --- one row ---------------------------------------------------------------------------------


class _RowReader:
    def __init__(self, columns: dict[str, int], headings: list[Any]):
        self.columns = columns
        self.headings = headings
        self.labels = catalogue()
        self.today = clock.today()

    def heading(self, target: str) -> str:
        return str(self.headings[self.columns[target]])

    def parse(self, row_number: int, cells: list[Any]) -> tuple[ParsedRow | None, list[RowProblem]]:
        problems: list[RowProblem] = []

        def cell(target: str) -> Any:
            index = self.columns.get(target)
            return cells[index] if index is not None and index < len(cells) else None

        def fail(target: str, message) -> None:
            problems.append(RowProblem(row_number, self.heading(target) if target else "", message))

        name = " ".join(cell_text(cell("name")).split())
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
            try:
                values["completed_on"] = parse_date(cell("completed_on"))
            except ValueError:
                fail(
                    "completed_on",
                    _l(
                        '"%(value)s" is not a date; write it as 2022-03-14 or 14.03.2022.',
                        value=cell_text(cell("completed_on")),
                    ),
                )
        self._founded(cell, fail, values)
        if "website_social" in self.columns:
            website, social = split_web_presence(cell_text(cell("website_social")))
            values.setdefault("website", website)
            values.setdefault("social_media", social)
        for target in STAFF_FIELDS:
            if target in self.columns:
                try:
                    values[target] = parse_count(cell(target))
                except ValueError:
                    fail(
                        target,
                        _l(
                            '"%(value)s" is not a number of people (a whole number, 0 or more).',
                            value=cell_text(cell(target)),
                        ),
                    )
        self._legal_status(cell, fail, values)
        self._membership(cell, fail, values)
        for list_name in MULTI_FIELDS:
            self._choices(list_name, cell, parsed)
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
            if target in self.columns:
                try:
                    values[target] = parse_count(cell(target))
                except ValueError:
                    fail(
                        target,
                        _l('"%(value)s" is not a whole number.', value=cell_text(cell(target))),
                    )
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
            if not text or _is_none(text):
                continue
            key = OTHER if column.endswith("_other") else column.removeprefix("donors_")
            known = answers.get(key, "")
            answers[key] = (
                text if not known or label_key(known) == label_key(text) else f"{known}; {text}"
            )
        parsed.choices[list_name] = answers


# --- the import ------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Existing:
    """The registry's names, loaded once, to match rows by name."""

    def __init__(self, session: Session):
        self.by_key: dict[str, int] = {}
        self.by_other: dict[str, set[int]] = defaultdict(set)
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
            if row.is_archived:
                self.archived.add(row.id)
            elif row.kind == OrganisationKind.COALITION:
                spellings = [row.name_az, row.name_en, *(row.aliases or [])]
                self.coalitions.append(
                    (row.id, [f" {label_key(s)} " for s in spellings if s and label_key(s)])
                )

    def match(self, parsed: ParsedRow) -> tuple[int | None, bool]:
        """(organisation id or None, whether the match is ambiguous)."""
        key = label_key(parsed.name_az)
        if key in self.by_key:
            return self.by_key[key], False
        candidates = self.by_other.get(key, set())
        if len(candidates) > 1:
            return None, True
        return (next(iter(candidates)) if candidates else None), False

    def coalitions_named(self, text: str) -> set[int]:
        if not text:
            return set()
        haystack = f" {label_key(text)} "
        return {cid for cid, spellings in self.coalitions if any(s in haystack for s in spellings)}


def _new_organisation_values(parsed: ParsedRow, source: str) -> dict:
    values = {
        "kind": "organisation",
        "name_az": parsed.name_az,
        "name_en": "",
        "aliases": [],
        "completed_on": None,
        "founded_year": None,
        "founded_month": None,
        "legal_status": None,
        "legal_status_other": "",
        "legal_address": "",
        "phone_fax": "",
        "email": "",
        "website": "",
        "social_media": "",
        "contact_person": "",
        "mission": "",
        **{name: None for name in STAFF_FIELDS},
        "member_of_networks": None,
        "network_names": "",
        "recommendations": "",
        "source": source,
    }
    values.update(parsed.values)
    values.update(
        derived_columns(
            values["name_az"], values["name_en"], values["aliases"], values["legal_address"]
        )
    )
    return values


def import_organisations(
    session: Session,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    actor=None,
    progress: Callable[[int], None] | None = None,
    rows: list[list[Any]] | None = None,
) -> ImportReport:
    """Read, check and (unless dry_run or anything is wrong) write a survey export.

    Writes into the session without committing: the caller commits once, or rolls back.
    `progress(n)` is told about every n rows read and written (2 × rows in all).
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    tick = progress or (lambda _n: None)
    try:
        rows = rows if rows is not None else read_rows(data, filename)
    except ImportFileError as error:
        report.file_problems = list(error.problems)
        return report
    if not rows:
        report.file_problems = [_l("The file is empty.")]
        return report
    headings = rows[0]
    columns, report.ignored_columns, report.file_problems = map_headings(headings)
    if report.file_problems:
        return report

    reader = _RowReader(columns, headings)
    existing = _Existing(session)
    parsed_rows: list[ParsedRow] = []
    seen: dict[int | str, int] = {}
    for offset, cells in enumerate(rows[1:]):
        row_number = offset + 2
        tick(1)
        if all(cell_text(c) == "" for c in cells):
            continue
        report.rows += 1
        parsed, problems = reader.parse(row_number, cells)
        report.problems.extend(problems)
        if parsed is None:
            continue
        organisation_id, ambiguous = existing.match(parsed)
        if ambiguous:
            report.problems.append(
                RowProblem(
                    row_number,
                    reader.heading("name"),
                    _l(
                        '"%(name)s" matches several organisations in the registry; use the exact '
                        "Azerbaijani name.",
                        name=parsed.name_az,
                    ),
                )
            )
            continue
        identity: int | str = organisation_id or label_key(parsed.name_az)
        if identity in seen:
            report.problems.append(
                RowProblem(
                    row_number,
                    reader.heading("name"),
                    _l("The same organisation as row %(row)s.", row=seen[identity]),
                )
            )
            continue
        seen[identity] = row_number
        parsed.organisation_id = organisation_id
        for list_name, answers in parsed.choices.items():
            if answers.get(OTHER):
                report.free_text[list_name] += 1
        parsed_rows.append(parsed)
    if report.rows == 0:
        report.file_problems.append(_l("The file has no organisations under its headings."))
    if not report.ok:
        return report

    _apply(session, parsed_rows, existing, report, filename, dry_run, actor, tick)
    return report


def _apply(
    session,
    parsed_rows,
    existing: _Existing,
    report: ImportReport,
    filename: str,
    dry_run: bool,
    actor,
    tick,
) -> None:
    new_rows = [p for p in parsed_rows if p.organisation_id is None]
    old_rows = [p for p in parsed_rows if p.organisation_id is not None]
    memberships = set(
        session.execute(
            select(CoalitionMembership.member_id, CoalitionMembership.coalition_id)
        ).all()
    )
    wanted_memberships: list[tuple[int, int]] = []
    updated_ids: list[int] = []

    # Existing organisations: compare, and change only what differs.
    changes = _Changes()
    for chunk in _chunks(old_rows):
        current = _current_records(session, [p.organisation_id for p in chunk])
        for parsed in chunk:
            organisation_id = parsed.organisation_id
            if organisation_id in existing.archived:
                report.archived += 1
            if changes.compare(organisation_id, current[organisation_id], parsed):
                report.updated += 1
                updated_ids.append(organisation_id)
            else:
                report.unchanged += 1
            for coalition_id in existing.coalitions_named(parsed.values.get("network_names", "")):
                pair = (organisation_id, coalition_id)
                if pair not in memberships and coalition_id != organisation_id:
                    wanted_memberships.append(pair)
        tick(len(chunk))
    if not dry_run:
        changes.write(session)

    # New organisations: bulk inserts.
    report.created = len(new_rows)
    source = f"import: {filename}"
    for chunk in _chunks(new_rows):
        if not dry_run:
            # Core statements on the tables: one executemany each, no ORM bookkeeping.
            inserted = session.execute(
                insert(ORGANISATION_TABLE).returning(
                    ORGANISATION_TABLE.c.id, ORGANISATION_TABLE.c.name_key
                ),
                [_new_organisation_values(p, f"{source} row {p.row}") for p in chunk],
            )
            by_key = {name_key: organisation_id for organisation_id, name_key in inserted}
            for p in chunk:
                p.organisation_id = by_key[label_key(p.name_az)]
            choice_rows = [
                {
                    "organisation_id": p.organisation_id,
                    "field": list_name,
                    "key": key,
                    "detail": detail,
                }
                for p in chunk
                for list_name, answers in p.choices.items()
                for key, detail in answers.items()
            ]
            if choice_rows:
                _insert_choices(session, choice_rows)
            for p in chunk:
                for coalition_id in existing.coalitions_named(p.values.get("network_names", "")):
                    wanted_memberships.append((p.organisation_id, coalition_id))
        else:
            for p in chunk:
                wanted_memberships.extend(
                    (0, c) for c in existing.coalitions_named(p.values.get("network_names", ""))
                )
        tick(len(chunk))

    report.memberships_added = len(wanted_memberships)
    if not dry_run:
        if wanted_memberships:
            now = clock.now_utc()
            session.execute(
                insert(CoalitionMembership.__table__),
                [
                    {"member_id": m, "coalition_id": c, "created_dt": now}
                    for m, c in wanted_memberships
                ],
            )
        record(
            session,
            "organisation.imported",
            "organisation",
            None,
            actor=actor,
            summary=f"{filename}: {report.created} created, {report.updated} updated",
            details={
                "file": filename,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "updated_ids": updated_ids[:1000],
                "memberships_added": report.memberships_added,
            },
        )
        session.flush()
        if session.get_bind().dialect.name == "postgresql" and (report.created or report.updated):
            # Thousands of rows at once leave PostgreSQL's statistics stale, and with them
            # the plans of the registry's filters; ANALYZE is quick and transactional.
            session.execute(sql_text("ANALYZE organisation, organisation_choice"))
        # The bulk statements bypassed the identity map: reload anything already loaded.
        session.expire_all()
        report.applied = True


def _insert_choices(session: Session, rows: list[dict]) -> None:
    """Insert answer rows, tens of thousands at a time: COPY on PostgreSQL (psycopg would
    send an executemany row by row), one executemany elsewhere. Both run on the session's
    connection, inside its transaction."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(CHOICE_TABLE), rows)
        return
    columns = ("organisation_id", "field", "key", "detail")
    with connection.connection.driver_connection.cursor() as cursor:
        statement = f"COPY {CHOICE_TABLE.name} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(tuple(row[name] for name in columns))


@dataclass
class _Current:
    values: dict[str, Any]
    #: (field, key) → (choice id, detail)
    choices: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)


def _current_records(session: Session, ids: list[int]) -> dict[int, _Current]:
    """The imported columns and answers of these organisations, as plain values (two
    queries; no ORM objects, so that comparing thousands of rows stays cheap)."""
    names = dict.fromkeys((*IMPORTED_COLUMNS, *DERIVED_INPUTS))
    columns = [ORGANISATION_TABLE.c[name] for name in names]
    found = {
        row.id: _Current(values=dict(row._mapping))
        for row in session.execute(
            select(ORGANISATION_TABLE.c.id, *columns).where(ORGANISATION_TABLE.c.id.in_(ids))
        )
    }
    for row in session.execute(
        select(
            CHOICE_TABLE.c.id,
            CHOICE_TABLE.c.organisation_id,
            CHOICE_TABLE.c.field,
            CHOICE_TABLE.c.key,
            CHOICE_TABLE.c.detail,
        ).where(CHOICE_TABLE.c.organisation_id.in_(ids))
    ):
        found[row.organisation_id].choices[(row.field, row.key)] = (row.id, row.detail)
    return found


@dataclass
class _Changes:
    """What an import changes in existing organisations, written in bulk statements."""

    #: organisation id → changed columns
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted_choices: list[int] = field(default_factory=list)
    changed_details: list[dict] = field(default_factory=list)
    new_choices: list[dict] = field(default_factory=list)

    def compare(self, organisation_id: int, current: _Current, parsed: ParsedRow) -> bool:
        columns = {
            name: value for name, value in parsed.values.items() if current.values[name] != value
        }
        if "founded_year" in columns:
            # The organisation's own answer settles a year the sources disagreed on.
            columns["founded_year_alternative"] = None
        if columns.keys() & set(DERIVED_INPUTS):
            merged = {**current.values, **parsed.values}
            derived = derived_columns(
                merged["name_az"], merged["name_en"], merged["aliases"], merged["legal_address"]
            )
            columns["search_text"] = derived["search_text"]
            columns["name_en_key"] = derived["name_en_key"]
        answers_changed = False
        for list_name, answers in parsed.choices.items():
            wanted = {key: (detail or "").strip() for key, detail in answers.items()}
            for (choice_field, key), (choice_id, detail) in current.choices.items():
                if choice_field != list_name:
                    continue
                if key not in wanted:
                    self.deleted_choices.append(choice_id)
                    answers_changed = True
                elif wanted[key] != detail:
                    self.changed_details.append({"choice_id": choice_id, "detail": wanted[key]})
                    answers_changed = True
            for key, detail in wanted.items():
                if (list_name, key) not in current.choices:
                    self.new_choices.append(
                        {
                            "organisation_id": organisation_id,
                            "field": list_name,
                            "key": key,
                            "detail": detail,
                        }
                    )
                    answers_changed = True
        if not columns and not answers_changed:
            return False
        self.updates[organisation_id] = columns
        return True

    def write(self, session: Session) -> None:
        now = clock.now_utc()
        by_columns: dict[tuple[str, ...], list[dict]] = defaultdict(list)
        for organisation_id, columns in self.updates.items():
            params = {**columns, "updated_dt": now, "target_id": organisation_id}
            by_columns[tuple(sorted(params))].append(params)
        for rows in by_columns.values():
            session.execute(
                update(ORGANISATION_TABLE).where(ORGANISATION_TABLE.c.id == bindparam("target_id")),
                rows,
            )
        for chunk in _chunks(self.deleted_choices):
            session.execute(delete(CHOICE_TABLE).where(CHOICE_TABLE.c.id.in_(chunk)))
        if self.changed_details:
            session.execute(
                update(CHOICE_TABLE).where(CHOICE_TABLE.c.id == bindparam("choice_id")),
                self.changed_details,
            )
        if self.new_choices:
            _insert_choices(session, self.new_choices)


# --- the template ----------------------------------------------------------------------------


def template_headings(locale: str) -> list[str]:
    labels = catalogue()
    return [labels.questions[name].text(locale) for name in TEMPLATE_FIELDS]


def template_csv(locale: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(template_headings(locale))
    # A BOM so that Excel opens the Azerbaijani letters as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(locale: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    labels = catalogue()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Survey" if locale == "en" else "Sorğu"
    sheet.append(template_headings(locale))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index in range(len(TEMPLATE_FIELDS)):
        sheet.column_dimensions[
            _column_name(index, ["x"] * len(TEMPLATE_FIELDS)).split()[0]
        ].width = 28
    sheet.freeze_panes = "A2"
    answers = workbook.create_sheet("Answers" if locale == "en" else "Cavablar")
    answers.append(["question", "key", "az", "en"])
    for cell in answers[1]:
        cell.font = Font(bold=True)
    for list_name in ("legal_status", *MULTI_FIELDS):
        question = labels.questions[list_name].text(locale)
        for key, option in labels.options[list_name].items():
            answers.append([question, key, option.short_az, option.label_en])
    for key, option in labels.membership.items():
        answers.append(
            [
                labels.questions["member_of_networks"].text(locale),
                key,
                option.labels_az[-1],
                option.label_en,
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
