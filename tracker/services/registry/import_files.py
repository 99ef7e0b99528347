"""The survey export as a file: reading a CSV or XLSX file into rows of cells (heading
first), and writing the blank template with a column for every question.

A file that cannot be read at all is an InvalidInput naming the `data` input; the
problems of single rows are the mapping's (import_mapping) and end up in the report.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.services.errors import InvalidInput
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue

MAX_ROWS = 20_000
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


def _unreadable(message) -> InvalidInput:
    """The file as a whole cannot be read (not the problem of one row)."""
    return InvalidInput(problems={"data": [message]})


# --- reading the file ------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise _unreadable(_l("The file is not a readable XLSX workbook.")) from error
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
        raise _unreadable(_l('The CSV file is not UTF-8 text. Save it as "CSV UTF-8".'))
    if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _unreadable(_l('The CSV file is not UTF-8 text. Save it as "CSV UTF-8".'))
    delimiter = _guess_delimiter(text)
    try:
        rows = []
        for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(values)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error as error:
        raise _unreadable(_l("The CSV file cannot be read: %(error)s", error=str(error))) from error


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
        raise _unreadable(_l("The file is empty."))
    if data.startswith(XLSX_MAGIC):
        rows = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xls", ".xlsm")):
        raise _unreadable(_l("The file is not a readable XLSX workbook."))
    else:
        rows = _read_csv(data)
    if len(rows) > MAX_ROWS + 1:
        raise _unreadable(
            _l("The file has more than %(max)s rows; split it into smaller files.", max=MAX_ROWS)
        )
    return rows


def column_letters(index: int) -> str:
    """The spreadsheet's name of a column: 0 → "A", 26 → "AA"."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


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
        sheet.column_dimensions[column_letters(index)].width = 28
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
