"""Registry benchmark: the import time of a 5,000-row survey export, and the SQL queries
(and time) per registry page at 50 and at 5,000 organisations.

    .venv/bin/python benchmarks/registry_bench.py
    .venv/bin/python benchmarks/registry_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

On PostgreSQL the benchmark works in a private schema that it drops at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402

from tests.registry.conftest import csv_bytes, xlsx_bytes  # noqa: E402
from tests.registry.survey_export import generate  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Measure, Organisation  # noqa: E402
from tracker.services.plans.seeding import seed_plan_file  # noqa: E402
from tracker.services.registry.importing import import_organisations  # noqa: E402
from tracker.services.registry.links import link_measures  # noqa: E402


@contextmanager
def database(url: str | None):
    """A fresh, empty database: a temporary SQLite file or a private PostgreSQL schema."""
    if not url:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db", {}
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_app(url: str, engine_options: dict, folder: Path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options},
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "REPORT_ARCHIVE_FOLDER": str(folder / "reports"),
        }
    )


def timed_import(data: bytes, filename: str):
    """The import's wall-clock time, and its CPU time in this process (the machine may be
    busy with other work; CPU time is the steadier figure)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    report = import_organisations(db.session, data, filename)
    if not report.ok:
        raise SystemExit(f"import failed: {[str(p) for p in report.problems[:5]]}")
    db.session.commit()
    seconds = time.perf_counter() - started
    return report, f"{seconds:.2f} s (CPU {time.process_time() - cpu_started:.2f} s)"


def page_figures(app, urls: list[str]) -> list[tuple[str, int, float, int]]:
    """(url, queries, milliseconds, status) for each page, on a warm second request."""
    client = app.test_client()
    statements: list[str] = []

    def count(*_args):
        statements.append("")

    rows = []
    for url in urls:
        client.get(url)
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        event.remove(db.engine, "before_cursor_execute", count)
        rows.append((url, len(statements), elapsed, response.status_code))
    return rows


def pages_for(organisation_id: int) -> list[str]:
    return [
        "/registry/",
        "/registry/?page=2",
        "/registry/?q=genclər&service=legal&region=baku",
        f"/registry/{organisation_id}",
        "/registry/stats",
        "/registry/coverage",
        "/api/v1/organisations?per_page=50",
        f"/api/v1/organisations/{organisation_id}",
        "/api/v1/registry/stats",
    ]


def run(url: str | None, rows: int) -> None:
    print(f"Database: {'PostgreSQL' if url else 'SQLite'}")
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as folder, database(url) as (db_url, options):
        app = build_app(db_url, options, Path(folder))
        with app.app_context(), force_locale("en"):
            db.create_all()
            seed_plan_file(db.session)
            small = generate(50, seed=50)
            timed_import(csv_bytes(small.table), "small.csv")
            first = db.session.scalar(select(Organisation).order_by(Organisation.id))
            measures = list(db.session.scalars(select(Measure).limit(5)))
            link_measures(db.session, first, measures, is_lead=True)
            db.session.commit()
            results["50"] = page_figures(app, pages_for(first.id))

            export = generate(rows, seed=5000, as_xlsx=True)
            for row in export.rows:
                row[1] = f"Bench {row[1]}"
            xlsx = xlsx_bytes(export.table)
            report, seconds = timed_import(xlsx, "survey.xlsx")
            print(f"Import of {report.rows} XLSX rows (new organisations): {seconds}")
            report, seconds = timed_import(xlsx, "survey.xlsx")
            print(
                f"Re-import of the same {report.rows} rows (nothing changes): {seconds}"
                f" [{report.unchanged} unchanged]"
            )
            for row in export.rows:
                row[-1] = "Yeni tövsiyə"
            report, seconds = timed_import(xlsx_bytes(export.table), "survey.xlsx")
            print(f"Re-import with every row changed: {seconds} [{report.updated} updated]")
            total = db.session.scalar(select(db.func.count()).select_from(Organisation))
            results[str(total)] = page_figures(app, pages_for(first.id))
            db.session.remove()

    with tempfile.TemporaryDirectory() as folder, database(url) as (db_url, options):
        app = build_app(db_url, options, Path(folder))
        with app.app_context(), force_locale("en"):
            db.create_all()
            export = generate(rows, seed=7)
            report, seconds = timed_import(csv_bytes(export.table), "survey.csv")
            print(f"Import of {report.rows} CSV rows (new organisations): {seconds}")
            db.session.remove()

    sizes = list(results)
    print()
    print(f"{'page':55} " + " ".join(f"{'q@' + s:>8} {'ms@' + s:>9}" for s in sizes))
    for index, (page, *_rest) in enumerate(results[sizes[0]]):
        cells = []
        for size in sizes:
            _, queries, ms, status = results[size][index]
            cells.append(f"{queries:>8} {ms:>9.1f}" + ("" if status == 200 else f" ({status})"))
        print(f"{page:55} " + " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a PostgreSQL URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--rows", type=int, default=5000)
    arguments = parser.parse_args()
    run(arguments.database_url, arguments.rows)


if __name__ == "__main__":
    main()
