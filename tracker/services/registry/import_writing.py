"""Writing an import: the checked rows applied to the registry in bulk statements over
lookups loaded once (thousands of rows take seconds), and the report of what was read and
what changed. Writes go into the session without committing; the caller commits once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import CoalitionMembership, Organisation, OrganisationChoice
from tracker.models.registry import derived_columns
from tracker.services.audit import record
from tracker.services.registry.import_mapping import (
    TEXT_COLUMNS,
    ParsedRow,
    RegistryNames,
    RowProblem,
)
from tracker.services.registry.labels import STAFF_FIELDS
from tracker.services.registry.organisations import WriteCounts
from tracker.vocabulary import label_key

ORGANISATION_TABLE = Organisation.__table__
CHOICE_TABLE = OrganisationChoice.__table__
#: rows written per bulk statement and per progress step
CHUNK = 500
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


@dataclass
class ImportReport(WriteCounts):
    filename: str
    dry_run: bool
    rows: int = 0
    #: matched organisations that are archived (updated, still archived)
    archived: int = 0
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


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def apply_rows(
    session: Session,
    parsed_rows: list[ParsedRow],
    names: RegistryNames,
    report: ImportReport,
    *,
    actor=None,
    tick: Callable[[int], None],
) -> None:
    """Write the checked rows (nothing in a dry run), counting in the report what changes:
    existing organisations compared and changed, new ones inserted, coalition memberships
    named in the rows added, and one audit entry."""
    writer = _Writer(session, names, report, tick)
    memberships = set(
        session.execute(
            select(CoalitionMembership.member_id, CoalitionMembership.coalition_id)
        ).all()
    )
    writer.update_existing([p for p in parsed_rows if p.organisation_id is not None], memberships)
    writer.insert_new([p for p in parsed_rows if p.organisation_id is None])
    report.memberships_added = len(writer.memberships)
    if not report.dry_run:
        writer.finish(actor)


@dataclass
class _Writer:
    session: Session
    names: RegistryNames
    report: ImportReport
    tick: Callable[[int], None]
    #: (member, coalition) pairs to add; the member is 0 for a new organisation in a dry run
    memberships: list[tuple[int, int]] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)

    def _coalitions_of(self, parsed: ParsedRow) -> set[int]:
        return self.names.coalitions_named(parsed.values.get("network_names", ""))

    def update_existing(self, rows: list[ParsedRow], memberships: set) -> None:
        """Existing organisations: compare, and change only what differs."""
        changes = _Changes()
        for chunk in chunks(rows):
            current = _current_records(self.session, [p.organisation_id for p in chunk])
            for parsed in chunk:
                organisation_id = parsed.organisation_id
                if organisation_id in self.names.archived:
                    self.report.archived += 1
                if changes.compare(organisation_id, current[organisation_id], parsed):
                    self.report.updated += 1
                    self.updated_ids.append(organisation_id)
                else:
                    self.report.unchanged += 1
                for coalition_id in self._coalitions_of(parsed):
                    pair = (organisation_id, coalition_id)
                    if pair not in memberships and coalition_id != organisation_id:
                        self.memberships.append(pair)
            self.tick(len(chunk))
        if not self.report.dry_run:
            changes.write(self.session)

    def insert_new(self, rows: list[ParsedRow]) -> None:
        """New organisations: bulk inserts."""
        self.report.created = len(rows)
        for chunk in chunks(rows):
            if not self.report.dry_run:
                self._insert(chunk)
            else:
                for p in chunk:
                    self.memberships.extend((0, c) for c in self._coalitions_of(p))
            self.tick(len(chunk))

    def _insert(self, chunk: list[ParsedRow]) -> None:
        # Core statements on the tables: one executemany each, no ORM bookkeeping.
        source = f"import: {self.report.filename}"
        inserted = self.session.execute(
            insert(ORGANISATION_TABLE).returning(
                ORGANISATION_TABLE.c.id, ORGANISATION_TABLE.c.name_key
            ),
            [_new_organisation_values(p, f"{source} row {p.row}") for p in chunk],
        )
        by_key = {name_key: organisation_id for organisation_id, name_key in inserted}
        for p in chunk:
            p.organisation_id = by_key[label_key(p.name_az)]
        choice_rows = [
            {"organisation_id": p.organisation_id, "field": list_name, "key": key, "detail": detail}
            for p in chunk
            for list_name, answers in p.choices.items()
            for key, detail in answers.items()
        ]
        if choice_rows:
            _insert_choices(self.session, choice_rows)
        for p in chunk:
            for coalition_id in self._coalitions_of(p):
                self.memberships.append((p.organisation_id, coalition_id))

    def finish(self, actor) -> None:
        """The memberships, the audit entry, and fresh statistics and objects."""
        session, report = self.session, self.report
        if self.memberships:
            now = clock.now_utc()
            session.execute(
                insert(CoalitionMembership.__table__),
                [
                    {"member_id": m, "coalition_id": c, "created_dt": now}
                    for m, c in self.memberships
                ],
            )
        record(
            session,
            "organisation.imported",
            "organisation",
            None,
            actor=actor,
            summary=f"{report.filename}: {report.created} created, {report.updated} updated",
            details={
                "file": report.filename,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "updated_ids": self.updated_ids[:1000],
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
        for chunk in chunks(self.deleted_choices):
            session.execute(delete(CHOICE_TABLE).where(CHOICE_TABLE.c.id.in_(chunk)))
        if self.changed_details:
            session.execute(
                update(CHOICE_TABLE).where(CHOICE_TABLE.c.id == bindparam("choice_id")),
                self.changed_details,
            )
        if self.new_choices:
            _insert_choices(session, self.new_choices)
