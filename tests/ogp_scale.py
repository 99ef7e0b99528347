"""Public data at a chosen scale, up to every OGP plan: plans with sections and measures,
agencies, organisations, monitoring links and approved status updates, added beside the
seeded plan and registry. Shared by the query-count tests (tests/test_public_queries.py)
and the benchmarks (benchmarks/ogp_data.py, benchmarks/run.py).

Rows go in bulk: COPY on PostgreSQL for the status updates, executemany elsewhere, in
chunks. The seeded plan stays the newest, so `/` keeps showing it, now with its share of
the updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tracker import data_version
from tracker.extensions import db
from tracker.models import (
    ActionPlan,
    Agency,
    Measure,
    MeasureAgency,
    MonitoringLink,
    Organisation,
    Section,
    StatusUpdate,
)
from tracker.models.registry import derived_columns

COMPLETIONS = ("not_started", "limited", "substantial", "complete")
CHUNK = 20_000


@dataclass(frozen=True)
class Scale:
    """Totals to reach, the seeded plan and registry included."""

    plans: int
    measures: int
    organisations: int
    updates: int
    agencies: int = 200
    sections_per_plan: int = 4
    links_per_measure: int = 2


#: what `tracker serve` seeds (the plan and the registry), with ten approved updates on
#: each of the plan's 64 measures
SEED = Scale(plans=1, measures=0, organisations=0, updates=640)
#: every OGP plan: issue 12's goal 4
OGP = Scale(plans=300, measures=5_000, organisations=10_000, updates=1_000_000)

Progress = Callable[[str, int, int], None]


def _no_progress(_label: str, _done: int, _total: int) -> None:
    return None


def _chunks(rows: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _insert(session, model, rows: Iterator[dict], total: int, progress: Progress) -> None:
    done = 0
    for chunk in _chunks(rows):
        session.execute(insert(model.__table__), chunk)
        done += len(chunk)
        progress(model.__tablename__, done, total)


def _add_plans(session: Session, scale: Scale, progress: Progress) -> None:
    new_plans = scale.plans - _count(session, ActionPlan)
    if new_plans <= 0:
        return
    first = _count(session, ActionPlan) - 1  # numbers go on after the plans already made
    _insert(
        session,
        ActionPlan,
        (
            {
                "key": f"ogp-{first + n:04d}",
                "country": "ZZ",
                "title_az": f"Milli Fəaliyyət Planı {n}",
                "title_en": f"National Action Plan {n}",
                "period": f"{2011 + n % 10}–{2013 + n % 9}",
                "start_year": 2011 + n % 10,
                "end_year": 2013 + n % 9,  # up to 2021: the seeded plan stays the newest
            }
            for n in range(new_plans)
        ),
        new_plans,
        progress,
    )
    plan_ids = session.scalars(
        select(ActionPlan.id).where(ActionPlan.key.like("ogp-%"), ~ActionPlan.sections.any())
    ).all()
    _insert(
        session,
        Section,
        (
            {
                "plan_id": plan_id,
                "number": number,
                "title_az": f"Bölmə {number}",
                "title_en": f"Section {number}",
            }
            for plan_id in plan_ids
            for number in range(1, scale.sections_per_plan + 1)
        ),
        len(plan_ids) * scale.sections_per_plan,
        progress,
    )


def _add_measures(session: Session, scale: Scale, progress: Progress) -> None:
    missing = scale.measures - _count(session, Measure)
    if missing <= 0:
        return
    sections = session.execute(
        select(
            Section.id, Section.plan_id, Section.number, ActionPlan.start_year, ActionPlan.end_year
        )
        .join(ActionPlan, ActionPlan.id == Section.plan_id)
        .where(ActionPlan.key.like("ogp-%"))
        .order_by(Section.plan_id, Section.number)
    ).all()

    first = _count(session, Measure)  # codes stay unique when more are added later

    def rows() -> Iterator[dict]:
        for n in range(first, first + missing):
            section = sections[n % len(sections)]
            yield {
                "plan_id": section.plan_id,
                "section_id": section.id,
                "code": f"{section.number}.{n + 1}",
                "position": n,
                "title_az": f"Tədbir {n}",
                "title_en": f"Measure {n}",
                "indicator_az": "Göstərici",
                "indicator_en": "Indicator",
                "deadline": f"{section.start_year}–{section.end_year}",
                "start_year": section.start_year,
                "end_year": section.end_year,
                "due_date": date(section.end_year, 12, 31),
            }

    _insert(session, Measure, rows(), missing, progress)


def _add_agencies(session: Session, scale: Scale, progress: Progress) -> None:
    if session.scalar(select(Agency.id).where(Agency.key.like("ogp-agency-%")).limit(1)):
        scale = Scale(0, 0, 0, 0, agencies=0)
    _insert(
        session,
        Agency,
        (
            {"key": f"ogp-agency-{n}", "name_az": f"Agentlik {n}", "name_en": f"Agency {n}"}
            for n in range(scale.agencies)
        ),
        scale.agencies,
        progress,
    )
    agency_ids = session.scalars(select(Agency.id).where(Agency.key.like("ogp-agency-%"))).all()
    measure_ids = session.scalars(
        select(Measure.id)
        .join(ActionPlan, ActionPlan.id == Measure.plan_id)
        .where(ActionPlan.key.like("ogp-%"))
        .where(~Measure.agency_links.any())
    ).all()
    _insert(
        session,
        MeasureAgency,
        (
            {
                "measure_id": m,
                "agency_id": agency_ids[n % len(agency_ids)],
                "role": "executor",
                "position": 0,
                "name_as_written": f"Agentlik {n % len(agency_ids)}",
            }
            for n, m in enumerate(measure_ids)
        ),
        len(measure_ids),
        progress,
    )


def _add_organisations(session: Session, scale: Scale, progress: Progress) -> None:
    missing = scale.organisations - _count(session, Organisation)
    if missing <= 0:
        return

    first = _count(session, Organisation)

    def rows() -> Iterator[dict]:
        for n in range(first, first + missing):
            name_az, name_en = f"Vətəndaş Birliyi {n:05d}", f"Civic Union {n:05d}"
            yield {
                "name_az": name_az,
                "name_en": name_en,
                "legal_address": "Bakı",
                **derived_columns(name_az, name_en, [], "Bakı"),
            }

    _insert(session, Organisation, rows(), missing, progress)


def _add_links(session: Session, scale: Scale, progress: Progress) -> list[tuple[int, int]]:
    """Links for measures that have none, round the organisations; (measure, organisation)."""
    organisation_ids = session.scalars(select(Organisation.id).order_by(Organisation.id)).all()
    measures = session.execute(
        select(Measure.id, Measure.start_year).where(
            ~select(MonitoringLink.id).where(MonitoringLink.measure_id == Measure.id).exists()
        )
    ).all()
    pairs = [
        (
            m.id,
            organisation_ids[(n * scale.links_per_measure + k) % len(organisation_ids)],
            m.start_year,
        )
        for n, m in enumerate(measures)
        for k in range(scale.links_per_measure)
    ]
    _insert(
        session,
        MonitoringLink,
        (
            {
                "measure_id": m,
                "organisation_id": o,
                "start_date": date(year, 1, 1),
                "is_lead": n % scale.links_per_measure == 0,
            }
            for n, (m, o, year) in enumerate(pairs)
        ),
        len(pairs),
        progress,
    )
    return session.execute(
        select(MonitoringLink.measure_id, MonitoringLink.organisation_id, Measure.start_year)
        .join(Measure, Measure.id == MonitoringLink.measure_id)
        .order_by(MonitoringLink.id)
    ).all()


def _update_rows(links, count: int, *, naive: bool) -> Iterator[tuple]:
    now = datetime.now(UTC)
    if naive:  # COPY writes the stored form: naive UTC
        now = now.replace(tzinfo=None)
    for n in range(count):
        measure_id, organisation_id, start_year = links[n % len(links)]
        as_of = date(start_year, 1, 1) + timedelta(days=(n // len(links)) % 700)
        yield (
            measure_id,
            organisation_id,
            COMPLETIONS[n % 4],
            as_of,
            "",
            f"Update {n}",
            "[]",
            "approved",
            "",
            False,
            now,
            now,
            now,
        )


UPDATE_COLUMNS = (
    "measure_id",
    "organisation_id",
    "completion",
    "as_of_date",
    "narrative_az",
    "narrative_en",
    "delay_reasons",
    "review_state",
    "return_reason",
    "is_archived",
    "created_dt",
    "submitted_dt",
    "decided_dt",
)


def _add_updates(session: Session, links, scale: Scale, progress: Progress) -> None:
    missing = scale.updates - _count(session, StatusUpdate)
    if missing <= 0 or not links:
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows = _update_rows(links, missing, naive=postgresql)
    if postgresql:
        cursor = session.connection().connection.driver_connection.cursor()
        statement = f"COPY status_update ({', '.join(UPDATE_COLUMNS)}) FROM STDIN"
        done = 0
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                done += 1
                if done % CHUNK == 0 or done == missing:
                    progress("status_update", done, missing)
        return
    _insert(
        session,
        StatusUpdate,
        (dict(zip(UPDATE_COLUMNS, row, strict=True)) | {"delay_reasons": []} for row in rows),
        missing,
        progress,
    )


def build(session: Session, scale: Scale, progress: Progress = _no_progress) -> None:
    """Bring the database (seeded plan and registry already in) up to `scale`, in one
    transaction; the public data's version moves on with it."""
    _add_plans(session, scale, progress)
    _add_measures(session, scale, progress)
    if scale.plans > 1:
        _add_agencies(session, scale, progress)
    _add_organisations(session, scale, progress)
    if scale.updates:
        links = _add_links(session, scale, progress)
        _add_updates(session, links, scale, progress)
    data_version.bump(session)  # the COPY goes round the session's listeners
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # this schema's tables only: a bare ANALYZE reads every schema of the database and
        # waits on (or deadlocks with) other runs creating and dropping theirs
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        session.connection().exec_driver_sql(f"ANALYZE {tables}")
        session.commit()


def counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: _count(session, model)
        for model in (ActionPlan, Measure, Organisation, MonitoringLink, StatusUpdate)
    }
