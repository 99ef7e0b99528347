"""Import of the CSO mapping survey's spreadsheet (the online form's Excel export, or CSV).

The expected format: one row per organisation, one column per question headed by the
question's text (az or en, with or without its number, or the field key); several answers
in one cell joined with ", "; free "Digər" text mixed in (see services.registry.labels).

All or nothing: every row is read and checked first and every problem is reported with
its row number; nothing is written unless the whole file is good. An organisation is
matched by its name (Azerbaijani-aware, ignoring case, spacing and punctuation), so
importing the same file again changes nothing. Writes are bulk statements over lookups
loaded once, so thousands of rows take seconds.

The parts: import_files reads the file into rows (and writes the blank template),
import_cells reads single cells, import_mapping maps headings and rows to the registry's
fields, keys and organisations, and import_writing applies the rows and keeps the report.
This module runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Organisation
from tracker.services.errors import InvalidInput
from tracker.services.registry.import_cells import cell_text
from tracker.services.registry.import_files import read_rows
from tracker.services.registry.import_mapping import (
    ParsedRow,
    RegistryNames,
    RowProblem,
    RowReader,
    map_headings,
)
from tracker.services.registry.import_writing import ImportReport, apply_rows, chunks
from tracker.services.registry.labels import OTHER
from tracker.services.registry.organisations import implausible_values
from tracker.vocabulary import label_key


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
    except InvalidInput as error:
        report.file_problems = [text for texts in error.problems.values() for text in texts]
        return report
    if not rows:
        report.file_problems = [_l("The file is empty.")]
        return report
    headings = rows[0]
    columns, report.ignored_columns, report.file_problems = map_headings(headings)
    if report.file_problems:
        return report

    names = RegistryNames(session)
    reader = RowReader(columns, headings)
    parsed_rows = _check_rows(rows, reader, names, report, tick)
    _check_merged(session, parsed_rows, reader, report)
    if report.rows == 0:
        report.file_problems.append(_l("The file has no organisations under its headings."))
    if not report.ok:
        return report
    apply_rows(session, parsed_rows, names, report, actor=actor, tick=tick)
    return report


def _check_rows(
    rows: list[list[Any]],
    reader: RowReader,
    names: RegistryNames,
    report: ImportReport,
    tick: Callable[[int], None],
) -> list[ParsedRow]:
    """Every row read and matched to the registry; the problems go into the report."""
    parsed_rows: list[ParsedRow] = []
    seen: dict[int | str, int] = {}
    for offset, cells in enumerate(rows[1:]):
        row_number = offset + 2
        tick(1)
        if all(cell_text(c) == "" for c in cells):
            continue
        report.rows += 1
        # a row about an organisation in the registry keeps what its blank cells leave
        # unanswered, as for a column the file leaves out; a new one's blanks are blank
        updates_one = names.match(reader.name_in(cells))[0] is not None
        row_reader = reader.without_blank_cells(cells) if updates_one else reader
        parsed, problems = row_reader.parse(row_number, cells)
        report.problems.extend(problems)
        if parsed is None:
            continue
        problem = _identify(parsed, reader, names, seen)
        if problem is not None:
            report.problems.append(problem)
            continue
        for list_name, answers in parsed.choices.items():
            if answers.get(OTHER):
                report.free_text[list_name] += 1
        parsed_rows.append(parsed)
    return parsed_rows


#: the file's columns a merged problem is told under, by the field the problem names
PROBLEM_COLUMNS = {
    "completed_on": ("completed_on", "founded", "founded_year"),
    "founded_month": ("founded", "founded_month"),
    "staff_total": ("staff_total", "staff_male", "staff_female"),
}
#: the stored fields a row's own values are merged over before implausible_values
MERGED_FIELDS = (
    "completed_on",
    "founded_year",
    "founded_month",
    "staff_total",
    "staff_male",
    "staff_female",
)


def _check_merged(
    session: Session, parsed_rows: list[ParsedRow], reader: RowReader, report: ImportReport
) -> None:
    """The row's values over the record it updates (a file may leave columns out), checked
    as the admin form checks them: more men and women than staff, a month without its
    year, a survey answered in the future."""
    stored = _stored_values(session, [p.organisation_id for p in parsed_rows if p.organisation_id])
    for parsed in parsed_rows:
        merged = {**stored.get(parsed.organisation_id, {}), **parsed.values}
        for field, messages in implausible_values(merged).items():
            column = next((c for c in PROBLEM_COLUMNS[field] if c in reader.columns), None)
            heading = reader.heading(column) if column else ""
            report.problems.extend(RowProblem(parsed.row, heading, m) for m in messages)
    report.problems.sort(key=lambda problem: problem.row)


def _stored_values(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    columns = [getattr(Organisation, name) for name in MERGED_FIELDS]
    stored: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids):
        for row in session.execute(
            select(Organisation.id, *columns).where(Organisation.id.in_(chunk))
        ):
            stored[row.id] = dict(zip(MERGED_FIELDS, row[1:], strict=True))
    return stored


def _identify(
    parsed: ParsedRow, reader: RowReader, names: RegistryNames, seen: dict[int | str, int]
) -> RowProblem | None:
    """Set the organisation the row updates (None: a new one), or say why it cannot be
    told: the name fits several organisations, or an earlier row is the same one."""
    organisation_id, ambiguous = names.match(parsed.name_az)
    if ambiguous:
        return RowProblem(
            parsed.row,
            reader.heading("name"),
            _l(
                '"%(name)s" matches several organisations in the registry; use the exact '
                "Azerbaijani name.",
                name=parsed.name_az,
            ),
        )
    if organisation_id is None and (named := names.english_name_of(parsed)):
        return RowProblem(
            parsed.row,
            reader.heading("name"),
            _l(
                '"%(name)s" is the English name of %(organisations)s in the registry; the '
                "name column takes the Azerbaijani name.",
                name=parsed.name_az,
                organisations="; ".join(f"“{az}”" for az in named),
            ),
        )
    identity: int | str = organisation_id or label_key(parsed.name_az)
    if identity in seen:
        return RowProblem(
            parsed.row,
            reader.heading("name"),
            _l("The same organisation as row %(row)s.", row=seen[identity]),
        )
    seen[identity] = parsed.row
    parsed.organisation_id = organisation_id
    return None
