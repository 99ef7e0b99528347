"""Queries and response times of the monitoring pages, at seed scale and at 100 updates
per measure.

    .venv/bin/python benchmarks/monitoring_bench.py
    .venv/bin/python benchmarks/monitoring_bench.py --database-url \
        postgresql+psycopg://postgres@127.0.0.1:5432/test

It builds its own database (a temporary SQLite file, or a private schema that is dropped
afterwards on PostgreSQL): the seeded plan, two organisations monitoring four measures,
then 1 update per measure (seed scale), 5, and 100 per measure. Each update has a link,
a file and a private item; every fifth waits for review and every tenth was returned.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.monitoring.scale import QueryCounter, add_updates, latest_update_id
from tracker import create_app
from tracker.extensions import db
from tracker.models import Measure, MonitoringLink, Organisation, User
from tracker.services.plans.seeding import seed_plan_file

PLAN = "az-nap-2020-2022"
CODES = ("1.1", "1.2", "1.3", "2.1")
REPEATS = 5
#: updates per measure: seed scale (one), a few, and the issue's 100
SCALES = (1, 5, 100)


class IsolatedClient(FlaskClient):
    """Each request in its own app context (a fresh `g` and session), as in production."""

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _login(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def _logout(client) -> None:
    with client.session_transaction() as session:
        session.clear()


def _measure(client, url: str) -> tuple[int, float]:
    """(queries, median milliseconds) of a GET, after one warm-up request."""
    warm = client.get(url)
    if warm.status_code != 200:
        raise SystemExit(f"{url}: HTTP {warm.status_code}")
    with QueryCounter(db.engine) as counter:
        client.get(url)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return counter.count, statistics.median(timings)


def _setup_world():
    seed_plan_file(db.session)
    measures = list(db.session.scalars(select(Measure).where(Measure.code.in_(CODES))))
    by_code = {m.code: m for m in measures}
    org_a = Organisation(name_az="Şəffaflıq Assosiasiyası", name_en="Transparency Association")
    org_b = Organisation(name_az="Hüquq Mərkəzi", name_en="Law Centre")
    db.session.add_all([org_a, org_b])
    db.session.flush()
    monitor_a = User(email="a@example.org", role="monitor", organisation_id=org_a.id)
    monitor_b = User(email="b@example.org", role="monitor", organisation_id=org_b.id)
    reviewer = User(email="r@example.org", role="reviewer")
    db.session.add_all([monitor_a, monitor_b, reviewer])
    db.session.flush()
    for code in CODES:
        organisation = org_b if code == "2.1" else org_a
        db.session.add(
            MonitoringLink(
                organisation_id=organisation.id,
                measure_id=by_code[code].id,
                start_date=date(2020, 1, 1),
            )
        )
    db.session.commit()
    authors = {m.id: (monitor_b if m.code == "2.1" else monitor_a) for m in measures}
    return measures, by_code, authors, monitor_a, reviewer


def _pages(client, by_code, monitor, reviewer) -> dict[str, tuple[int, float]]:
    measure = by_code["1.1"]
    latest = latest_update_id(measure.id)
    results = {
        "public measure page (visitor)": _measure(client, f"/plans/{PLAN}/measures/1.1"),
        "measure updates JSON API": _measure(client, f"/api/v1/measures/{measure.id}/updates"),
    }
    _login(client, monitor)
    results["public measure page (monitor)"] = _measure(client, f"/plans/{PLAN}/measures/1.1")
    results["monitor home dashboard"] = _measure(client, "/monitor/")
    results["monitor: our updates"] = _measure(client, "/monitor/updates")
    results["monitor: one update + history"] = _measure(client, f"/monitor/updates/{latest}")
    _login(client, reviewer)
    results["reviewer queue"] = _measure(client, "/review/")
    results["review item + version history"] = _measure(client, f"/review/updates/{latest}")
    _logout(client)
    return results


def run(database_url: str | None) -> None:
    schema = None
    engine_options: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        if database_url is None:
            database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        elif database_url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            engine_options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options},
                "UPLOAD_FOLDER": str(Path(folder) / "uploads"),
                "TRACKER_TODAY": "2021-06-30",
                "SECRET_KEY": "benchmark",
            }
        )
        try:
            with app.app_context():
                db.create_all()
                measures, by_code, authors, monitor, reviewer = _setup_world()
                app.test_client_class = IsolatedClient
                client = app.test_client()
                scales = {}
                done = 0
                for per_measure in SCALES:
                    add_updates(measures, authors, reviewer, per_measure - done, start=done)
                    done = per_measure
                    scales[per_measure] = _pages(client, by_code, monitor, reviewer)
                db.session.remove()
                db.drop_all()
                db.engine.dispose()
        finally:
            if schema is not None:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    print(f"Monitoring pages on {dialect}: queries, median ms of {REPEATS} GETs")
    print(f"{'updates per measure':34}" + "".join(f"{n:>20}" for n in SCALES))
    for page in scales[SCALES[0]]:
        cells = "".join(f"{scales[n][page][0]:>8} q {scales[n][page][1]:>7.1f} ms" for n in SCALES)
        print(f"{page:34}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    run(parser.parse_args().database_url)


if __name__ == "__main__":
    main()
