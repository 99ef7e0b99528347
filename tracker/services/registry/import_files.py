"""The survey export as a file: reading a CSV or XLSX file into rows of cells (heading
first), and writing the blank template with a column for every question.

A file that cannot be read at all is an InvalidInput naming the `data` input; the
problems of single rows are the mapping's (import_mapping) and end up in the report.

An XLSX file is not trusted: its archive's entries and unpacked size are bounded, every
XML part is checked with defusedxml for a DTD (so no entity, external or expanding, is
ever read), and the sheet is streamed (openpyxl's read-only mode) within MAX_COLUMNS
columns and MAX_ROWS rows, whatever size the sheet declares. Any failure of the parser
is an InvalidInput too.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
import zlib
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from flask_babel import lazy_gettext as _l

from tracker.services.errors import InvalidInput
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue

MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"
#: entries of an XLSX archive (a survey export has about ten)
MAX_XLSX_ENTRIES = 1000
#: what an XLSX file may unpack to (20,000 rows of the survey unpack to about 60 MB)
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024

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
#: columns read from a file: the template's, and room for the columns an online form's
#: export adds (time stamps, e-mail, scores); a file with more is refused
MAX_COLUMNS = 256


def _unreadable(message) -> InvalidInput:
    """The file as a whole cannot be read (not the problem of one row)."""
    return InvalidInput(problems={"data": [message]})


# --- reading the file ------------------------------------------------------------------------


def _check_xlsx_archive(data: bytes) -> None:
    """Bound the archive before anything is unpacked, and refuse any XML part with a DTD
    (entities, external or expanding, are declared there; a spreadsheet needs none).
    Only each part's prolog is parsed: a DTD can stand nowhere else."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if (
            len(infos) > MAX_XLSX_ENTRIES
            or sum(info.file_size for info in infos) > MAX_XLSX_UNPACKED_BYTES
        ):
            raise _unreadable(
                _l(
                    "The workbook unpacks to more than %(size)s MB or holds more than "
                    "%(entries)s parts. Save it again, or save it as CSV.",
                    size=MAX_XLSX_UNPACKED_BYTES // (1024 * 1024),
                    entries=MAX_XLSX_ENTRIES,
                )
            )
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                with archive.open(info) as part:
                    next(SafeElementTree.iterparse(part, events=("start",), forbid_dtd=True))


def _unsafe_xml():
    return _l(
        "The workbook contains XML declarations (a DTD or entities) that a spreadsheet does "
        "not need, so it is not read. Save it again from Excel or LibreOffice, or as CSV."
    )


def _not_a_workbook():
    return _l("The file is not a readable XLSX workbook.")


#: what a damaged or hostile workbook makes zipfile, zlib, the XML parser or openpyxl raise
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError, ParseError)


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        _check_xlsx_archive(data)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except DefusedXmlException as error:
        raise _unreadable(_unsafe_xml()) from error
    except (*_READ_ERRORS, ValueError, TypeError, StopIteration) as error:
        raise _unreadable(_not_a_workbook()) from error
    try:
        return _sheet_rows(workbook.worksheets[0])
    except IndexError as error:
        raise _unreadable(_not_a_workbook()) from error
    finally:
        workbook.close()


def _sheet_rows(sheet) -> list[list[Any]]:
    """The sheet's rows, streamed: at most MAX_ROWS + 1 (then read_rows refuses the file)
    and MAX_COLUMNS + 1 wide (a value in the extra column refuses it), trailing empty
    cells dropped. The size the sheet declares is ignored: a sheet that declares
    A1:XFD1048576 would otherwise pad every row to 16,384 cells."""
    sheet.reset_dimensions()
    rows: list[list[Any]] = []
    try:
        for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
            row = [] if values.count(None) == len(values) else list(values)
            while row and row[-1] is None:
                row.pop()
            if len(row) > MAX_COLUMNS:
                raise _unreadable(_too_many_columns())
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                break
    except DefusedXmlException as error:
        raise _unreadable(_unsafe_xml()) from error
    except _READ_ERRORS as error:
        raise _unreadable(_not_a_workbook()) from error
    except (ValueError, TypeError, IndexError) as error:
        raise _unreadable(
            _l(
                "Row %(row)s of the workbook cannot be read: a cell holds something other than "
                "a value (for example a broken formula). Replace the formulas with their "
                "values, or save the sheet as CSV.",
                row=len(rows) + 1,
            )
        ) from error
    return rows


def _too_many_columns():
    return _l(
        "The file has more than %(max)s columns; the survey has %(template)s. Remove the "
        "columns that are not the survey's.",
        max=MAX_COLUMNS,
        template=len(TEMPLATE_FIELDS),
    )


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
            if len(values) > MAX_COLUMNS:
                raise _unreadable(_too_many_columns())
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
        raise _unreadable(_not_a_workbook())
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
