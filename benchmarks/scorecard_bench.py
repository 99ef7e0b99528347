"""Seed time and queries per scorecard page, at seed scale and with much more data.

    .venv/bin/python benchmarks/scorecard_bench.py [--database-url URL]

Without --database-url it uses a new SQLite file. With a PostgreSQL URL it works in a new
schema and drops it afterwards. Figures are printed, not asserted (the tests assert that
query counts are constant).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, event, select, text

from tracker import create_app
from tracker.extensions import db
from tracker.models import Measure, Organisation, StatusUpdate
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE, seed_plan_file

PAGES = [
    "/plans/az-nap-2020-2022/",
    "/plans/az-nap-2020-2022/?q=hokumet&overdue=yes",
    "/plans/az-nap-2020-2022/sections/1",
    "/plans/az-nap-2020-2022/measures/1.1",
    "/agencies/",
    "/agencies/ministry-of-finance",
    "/api/v1/plans/az-nap-2020-2022",
    "/api/v1/agencies",
]


def build_app(url: str | None, workdir: Path):
    options = {}
    schema = None
    if url and url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
    url = url or f"sqlite:///{workdir / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "bench",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
        }
    )
    return app, schema


def count_queries(client, url: str) -> tuple[int, float]:
    statements = []

    def on_execute(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements), elapsed


def grow(app, workdir: Path, updates_per_measure: int, extra_plans: int) -> None:
    with app.app_context():
        organisations = [Organisation(name_az=f"Təşkilat {i}") for i in range(20)]
        db.session.add_all(organisations)
        db.session.flush()
        measures = db.session.scalars(select(Measure)).all()
        rows = []
        for measure in measures:
            for n in range(updates_per_measure):
                rows.append(
                    {
                        "measure_id": measure.id,
                        "organisation_id": organisations[n % 20].id,
                        "completion": ["limited", "substantial", "complete"][n % 3],
                        "as_of_date": date(2021, 1, 1).replace(day=1 + n % 28),
                        "review_state": "approved",
                        "delay_reasons": [],
                    }
                )
        db.session.execute(StatusUpdate.__table__.insert(), rows)
        db.session.commit()
        source = DEFAULT_PLAN_FILE.read_text(encoding="utf-8")
        for n in range(extra_plans):
            copy = workdir / f"plan{n}.yaml"
            copy.write_text(
                source.replace("key: az-nap-2020-2022", f"key: copy-{n}"), encoding="utf-8"
            )
            seed_plan_file(db.session, copy)


def measure_pages(app, label: str) -> None:
    client = app.test_client()
    with app.app_context():
        for url in PAGES:
            client.get(url)  # warm-up
            runs = [count_queries(client, url) for _ in range(5)]
            queries = {q for q, _ in runs}
            median_ms = statistics.median(t for _, t in runs) * 1000
            print(f"{label:<22} {url:<52} queries={sorted(queries)} median={median_ms:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--updates-per-measure", type=int, default=100)
    parser.add_argument("--extra-plans", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app, schema = build_app(args.database_url, workdir)
        try:
            with app.app_context():
                db.create_all()
                timings = []
                for run in range(3):
                    started = time.perf_counter()
                    result = seed_plan_file(db.session)
                    timings.append(time.perf_counter() - started)
                    print(f"seed run {run + 1}: {timings[-1]:.3f} s, changed={result.changed}")
            measure_pages(app, "seed scale")
            grow(app, workdir, args.updates_per_measure, args.extra_plans)
            measure_pages(app, f"+{args.updates_per_measure} upd/measure")
        finally:
            if schema:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
                admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
