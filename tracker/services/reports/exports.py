"""Open data: tables of public material as CSV and XLSX, and an Atom feed of approved
updates. Only approved, non-archived updates, evidence that is not private, organisation
names (never authors) and the registry's public fields go out. Measure states come from
`tracker.services.plans.status`, so the files show the scorecard's figures.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import clock
from tracker.models import (
    ActionPlan,
    Evidence,
    Measure,
    MeasureAgency,
    Organisation,
    StatusUpdate,
)
from tracker.services import registry
from tracker.services.plans import measure_states
from tracker.vocabulary import AgencyRole, ReviewState
from tracker.web.links import public_url

#: a cell starting with one of these is a formula to a spreadsheet
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: characters XML 1.0 (and so XLSX and Atom) cannot hold
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Table:
    """A table of plain values (str, int, float, bool, date or None)."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple]


# --- cell values ------------------------------------------------------------------------------


def _plain(value) -> str | int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def xml_safe(value: str) -> str:
    return _XML_ILLEGAL.sub("", value)


def guard_formula(value: str) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


#: the byte order mark that tells Excel the CSV is UTF-8 (without it, Excel reads it in the
#: machine's legacy code page and garbles "ə", "ş", "ğ")
CSV_BOM = "\ufeff"
#: a column's width in the XLSX: between these, from its longest value (in characters)
XLSX_MIN_WIDTH = 8
XLSX_MAX_WIDTH = 60
#: how a day shows in the XLSX: as in the CSV and the API (a moment stays ISO text, with
#: its UTC offset, which a spreadsheet's date cell cannot hold)
XLSX_DATE_FORMAT = "yyyy-mm-dd"


def to_csv(table: Table) -> str:
    """The table as CSV text, starting with a BOM so that Excel reads it as UTF-8 (Python's
    "utf-8-sig" and LibreOffice read it either way)."""
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        cells = []
        for value in row:
            plain = _plain(value)
            if plain is None:
                cells.append("")
            elif isinstance(plain, str):
                cells.append(guard_formula(xml_safe(plain)))
            else:
                cells.append(plain)
        writer.writerow(cells)
    return out.getvalue()


def _xlsx_widths(table: Table) -> list[float]:
    """Each column's width: its longest cell (header included), within the limits."""
    widths = [len(name) for name in table.header]
    for row in table.rows:
        for index, value in enumerate(row):
            plain = _plain(value)
            if plain is not None:
                longest = max(len(line) for line in str(plain).splitlines() or [""])
                widths[index] = max(widths[index], longest)
    return [min(max(width + 2, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH) for width in widths]


def to_xlsx(table: Table) -> bytes:
    """The table as a workbook whose bold header row stays in view (frozen) while one
    scrolls, with each column as wide as its content (within limits)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    # a write-only sheet takes its panes and widths before the first row
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_xlsx_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name in table.header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        cells = []
        for value in row:
            if isinstance(value, date) and not isinstance(value, datetime):
                # a day is a date cell, so that a spreadsheet sorts and filters it as one
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = XLSX_DATE_FORMAT
                cells.append(cell)
                continue
            plain = _plain(value)
            if isinstance(plain, str):
                plain = xml_safe(plain)
            cell = WriteOnlyCell(sheet, value=plain)
            if isinstance(plain, str):
                # openpyxl stores text starting with "=" as a formula; keep it text
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _joined(values: Iterable[str]) -> str:
    return "; ".join(v for v in values if v)


# --- measures ---------------------------------------------------------------------------------


MEASURE_COLUMNS = (
    "plan",
    "section",
    "code",
    "title_az",
    "title_en",
    "executors",
    "executor_agency_keys",
    "recommended",
    "recommended_agency_keys",
    "period",
    "due_date",
    "as_of",
    "completion",
    "progress_percent",
    "is_overdue",
    "days_overdue",
    # the plan has ended and the measure was not complete (is_overdue is false then)
    "ended_incomplete",
    "is_disputed",
    "government_claim",
    "government_claim_date",
    "has_approved_assessment",
    "assessing_organisations",
)


def measures_table(
    session: Session, plans: Sequence[ActionPlan], as_of: date | None = None
) -> Table:
    """Every measure of the plans with its state on `as_of` (today by default)."""
    as_of = as_of or clock.today()
    plan_keys = {p.id: p.key for p in plans}
    measures = list(
        session.scalars(
            select(Measure)
            .where(Measure.plan_id.in_(list(plan_keys)))
            .options(
                selectinload(Measure.agency_links).selectinload(MeasureAgency.agency),
                joinedload(Measure.section),
            )
            .order_by(Measure.plan_id, Measure.position)
        )
    )
    states = measure_states(session, measures, as_of)
    rows = []
    for m in measures:
        state = states[m.id]
        executors = [link for link in m.agency_links if link.role == AgencyRole.EXECUTOR]
        recommended = [link for link in m.agency_links if link.role == AgencyRole.RECOMMENDED]
        claim = state.government_claim
        rows.append(
            (
                plan_keys[m.plan_id],
                m.section.number,
                m.code,
                m.title_az,
                m.title_en,
                _joined(link.name_as_written for link in executors),
                _joined(link.agency.key for link in executors),
                _joined(link.name_as_written for link in recommended),
                _joined(link.agency.key for link in recommended),
                m.deadline,
                state.due_date,
                as_of,
                str(state.completion),
                state.progress_percent,
                state.is_overdue,
                state.days_overdue,
                state.ended_incomplete,
                state.is_disputed,
                str(claim.completion) if claim else None,
                claim.claim_date if claim else None,
                state.has_evidence,
                _joined(a.organisation_name_az for a in state.assessments),
            )
        )
    return Table("measures", MEASURE_COLUMNS, rows)


# --- approved updates -------------------------------------------------------------------------


UPDATE_COLUMNS = (
    "update_id",
    "plan",
    "measure_code",
    "organisation_id",
    "organisation_az",
    "organisation_en",
    "completion",
    "progress_percent",
    "as_of_date",
    "approved_at",
    "replaces_update_id",
    "delay_reasons",
    "narrative_az",
    "narrative_en",
    "evidence",
    "evidence_file_urls",
    "private_evidence_count",
)


def approved_updates_statement(plan: ActionPlan | None = None):
    """Approved, non-archived updates, newest decision first, with what they show loaded."""
    statement = (
        select(StatusUpdate)
        .join(Measure, Measure.id == StatusUpdate.measure_id)
        .where(
            StatusUpdate.review_state == ReviewState.APPROVED,
            StatusUpdate.is_archived.is_(False),
        )
        .options(
            joinedload(StatusUpdate.organisation),
            joinedload(StatusUpdate.measure).joinedload(Measure.plan),
            selectinload(StatusUpdate.evidence).joinedload(Evidence.request_agency),
            selectinload(StatusUpdate.evidence).joinedload(Evidence.file),
        )
        # coalesce: NULLs sort first on PostgreSQL and last on SQLite
        .order_by(
            func.coalesce(StatusUpdate.decided_dt, StatusUpdate.created_dt).desc(),
            StatusUpdate.id.desc(),
        )
    )
    if plan is not None:
        statement = statement.where(Measure.plan_id == plan.id)
    return statement


def public_evidence(update: StatusUpdate) -> list[Evidence]:
    return [e for e in update.evidence if not e.is_private]


def _evidence_text(evidence: Evidence) -> str:
    parts = [evidence.evidence_type, evidence.title]
    if evidence.url:
        parts.append(evidence.url)
    if evidence.evidence_date:
        parts.append(evidence.evidence_date.isoformat())
    if evidence.request_outcome:
        parts.append(evidence.request_outcome)
    return " — ".join(p for p in parts if p)


def _file_url(evidence: Evidence) -> str:
    """Where the public downloads an uploaded evidence file (on the public site)."""
    return public_url("files.download", public_id=evidence.file.public_id)


def updates_table(session: Session, plan: ActionPlan | None = None) -> Table:
    rows = []
    for u in session.scalars(approved_updates_statement(plan)):
        evidence = public_evidence(u)
        rows.append(
            (
                u.id,
                u.measure.plan.key,
                u.measure.code,
                u.organisation_id,
                u.organisation.name_az,
                u.organisation.name_en,
                u.completion,
                u.progress_percent,
                u.as_of_date,
                u.decided_dt,
                u.replaces_id,
                _joined(u.delay_reasons or []),
                u.narrative_az,
                u.narrative_en,
                " | ".join(_evidence_text(e) for e in evidence),
                " | ".join(_file_url(e) for e in evidence if e.file_id),
                len(u.evidence) - len(evidence),
            )
        )
    return Table("updates", UPDATE_COLUMNS, rows)


# --- the registry's public fields -------------------------------------------------------------


def _flatten(record: dict, prefix: str = "") -> dict[str, object]:
    """Nested public-record values as flat columns: dicts become "a.b", lists "x; y"."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = _joined(_list_item(item) for item in value)
        else:
            flat[name] = value
    return flat


def _list_item(item) -> str:
    if isinstance(item, dict):
        if "key" in item:
            detail = item.get("detail") or ""
            return f"{item['key']} ({detail})" if detail else str(item["key"])
        if isinstance(item.get("name"), dict):
            return item["name"].get("az") or item["name"].get("en") or ""
        return json.dumps(item, ensure_ascii=False, sort_keys=True)
    return str(item)


def organisations_table(session: Session) -> Table:
    """The registry's public fields, as the registry defines them (registry.public_record),
    for every organisation that is not archived."""
    organisations = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.is_archived.is_(False))
            .options(selectinload(Organisation.choices))
            .order_by(Organisation.id)
        )
    )
    coalitions = registry.coalitions_of(session, [o.id for o in organisations])
    flat = [_flatten(registry.public_record(o, coalitions.get(o.id, []))) for o in organisations]
    header: list[str] = []
    for record in flat:
        for name in record:
            if name not in header:
                header.append(name)
    if not header:
        header = ["id"]
    rows = [tuple(record.get(name) for name in header) for record in flat]
    return Table("organisations", tuple(header), rows)
