"""The app factory, configuration, clock, database settings, headers and error pages."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select, text

from tests.conftest import POSTGRES_URL, make_test_config
from tests.factories import make_organisation
from tracker import clock, create_app, scheduler
from tracker.config import build_config
from tracker.database import refresh_planner_statistics
from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.plans.seeding import seed_plan_file


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = build_config(tmp_path)["SECRET_KEY"]
    second = build_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert build_config(tmp_path)["SECRET_KEY"] == "from-the-environment"


def test_database_url_defaults_to_sqlite_under_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert (
        build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.db'}"
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_tracker_today_sets_the_clock(app, monkeypatch):
    app.config["TRACKER_TODAY"] = "2021-06-30"
    assert clock.today() == date(2021, 6, 30)
    assert clock.now_utc().date() == date(2021, 6, 30)
    assert clock.now_utc().tzinfo is not None
    app.config["TRACKER_TODAY"] = None
    monkeypatch.setenv("TRACKER_TODAY", "2020-01-02")
    assert clock.today() == date(2020, 1, 2)


def test_creating_the_app_starts_nothing(tmp_path):
    before = threading.active_count()
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True})
    assert threading.active_count() == before


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_large_page_cache(app):
    if not _is_sqlite():
        pytest.skip("SQLite settings")
    connection = db.session.connection()
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    # negative: KiB rather than pages; SQLite's default is 2 MB
    assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -64 * 1024


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    from tracker.models import MonitoringLink

    db.session.add(MonitoringLink(organisation_id=999, measure_id=999, start_date=date(2021, 1, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _statistics_job() -> scheduler.ScheduledJob:
    return next(job for job in scheduler.SCHEDULED_JOBS if job.id == "planner-statistics")


def test_the_nightly_job_gives_sqlite_statistics_of_every_table(tmp_path, monkeypatch):
    """The scheduler's planner-statistics job on SQLite: a sampled ANALYZE, on a database of
    its own here (statistics would change the query plans of the tests that share the
    run's database)."""
    if POSTGRES_URL:
        pytest.skip("SQLite's statistics; PostgreSQL's test is below")
    trigger = {field.name: str(field) for field in _statistics_job().trigger({}).fields}
    assert (trigger["hour"], trigger["minute"]) == ("4", "30")  # Asia/Baku
    database = (f"sqlite:///{tmp_path / 'statistics.db'}", {})
    app = create_app(make_test_config(database, tmp_path))
    with app.app_context():
        db.create_all()
        seed_plan_file(db.session)
        tables = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        assert db.session.scalar(text(tables)) == 0
        db.session.rollback()  # the job's session waits for no lock of this one
        monkeypatch.setattr(scheduler, "_app", app)
        scheduler.run_job("planner-statistics")
        stats = db.session.execute(text("SELECT tbl, idx, stat FROM sqlite_stat1")).all()
        db.session.remove()
        db.engine.dispose()
    measure = [stat for table, _index, stat in stats if table == "measure"]
    assert measure and all(stat.split()[0] == "64" for stat in measure)  # the plan's 64
    assert {"section", "action_plan"} <= {table for table, _index, _stat in stats}


def test_postgresql_keeps_its_own_planner_statistics(app, monkeypatch):
    """On PostgreSQL the job leaves the statistics to autovacuum, and runs without error."""
    if _is_sqlite():
        pytest.skip("PostgreSQL; SQLite's test is above")
    assert refresh_planner_statistics(db.session) is False
    monkeypatch.setattr(scheduler, "_app", app)
    scheduler.run_job("planner-statistics")


def test_concurrent_read_then_write_loses_no_update(app):
    """Ten threads each read a number and write it back plus one, ten times. A deferred
    SQLite transaction would lose updates or fail; BEGIN IMMEDIATE serialises them. On
    PostgreSQL the row lock (FOR UPDATE) does the same."""
    organisation_id = make_organisation("Counter", staff_total=0).id
    # Commit before the threads start: the test's session must not hold the write lock.
    db.session.commit()
    errors: list[BaseException] = []

    def work():
        try:
            with app.app_context():
                for _ in range(10):
                    statement = select(Organisation).where(Organisation.id == organisation_id)
                    if not _is_sqlite():
                        statement = statement.with_for_update()
                    row = db.session.scalar(statement)
                    row.staff_total = row.staff_total + 1
                    db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(Organisation, organisation_id).staff_total == 100


def test_security_headers_on_public_pages(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_404_is_html_for_pages_and_json_for_the_api(client):
    page = client.get("/nowhere?lang=en")
    assert page.status_code == 404
    assert "does not exist" in page.get_data(as_text=True)
    api = client.get("/api/v1/plans/nowhere")
    assert api.status_code == 404
    assert api.is_json and api.get_json()["error"]["status"] == 404


def test_405_has_a_clear_message(client):
    response = client.post("/api/v1/plans")
    assert response.status_code in (400, 405)


def test_unexpected_error_is_a_500_page_without_a_trace(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test?lang=en")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong" in body


def test_database_connection_is_real(app):
    assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_a_request_that_finds_the_previous_requests_scope_is_refused(app, caplog):
    """The guard against a leaked app context: two requests through a client that does not
    push a context of its own share the test's context, as forked workers once did."""
    from flask.testing import FlaskClient

    sharing = FlaskClient(app)
    assert sharing.get("/?lang=en").status_code == 200
    assert sharing.get("/?lang=en").status_code == 500
    assert "already served a request" in caplog.text


def test_a_request_that_finds_an_open_transaction_is_refused(app, caplog):
    from flask.testing import FlaskClient

    db.session.execute(text("SELECT 1"))  # the test's context now has an open transaction
    assert FlaskClient(app).get("/?lang=en").status_code == 500
    assert "transaction is open" in caplog.text
    db.session.rollback()


def test_behind_a_proxy_the_client_address_and_scheme_come_from_its_headers(database_url, tmp_path):
    from tests.conftest import make_test_config

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    seen = {}
    for hops in (0, 1):
        proxied = create_app(make_test_config(database_url, tmp_path, TRACKER_PROXY_HOPS=hops))

        @proxied.get("/probe")
        def probe():
            from flask import request

            return {"address": request.remote_addr, "secure": request.is_secure}

        seen[hops] = proxied.test_client().get("/probe", headers=headers)
    assert seen[0].json == {"address": "127.0.0.1", "secure": False}
    assert "Strict-Transport-Security" not in seen[0].headers
    assert seen[1].json == {"address": "203.0.113.7", "secure": True}
    assert seen[1].headers["Strict-Transport-Security"].startswith("max-age=")


def test_today_is_the_day_in_baku(app, monkeypatch):
    """At 21:30 UTC it is already the next day in Baku (UTC+4): deadlines count Baku days."""
    from datetime import UTC, datetime

    class LateEvening(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2022, 12, 31, 21, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(clock, "datetime", LateEvening)
    assert clock.today() == date(2023, 1, 1)
    assert clock.now_utc().date() == date(2022, 12, 31)


def test_vocabulary_columns_store_members_and_refuse_unknown_values(app, seeded):
    """A column typed with a vocabulary enum reads back members and never stores a value
    outside the vocabulary: the PDF, the API and the pages can rely on the labels."""
    from sqlalchemy.exc import StatementError

    from tests.factories import make_update
    from tracker.models import Evidence, Measure, StatusUpdate
    from tracker.vocabulary import Completion, EvidenceType, ReviewState

    measure = db.session.scalar(select(Measure).limit(1))
    update = make_update(measure, make_organisation())
    db.session.commit()
    db.session.expire_all()
    assert update.completion is Completion.LIMITED
    assert update.review_state is ReviewState.APPROVED
    update.evidence.append(Evidence(evidence_type="no_such_type", title="T"))
    with pytest.raises(StatementError, match="not a valid EvidenceType"):
        db.session.flush()
    db.session.rollback()
    assert EvidenceType("official_document") == "official_document"
    # a value outside the vocabulary that reached the table by other means fails on reading
    unknown = {"id": update.id}
    db.session.execute(text("UPDATE status_update SET completion = 'abc' WHERE id = :id"), unknown)
    with pytest.raises(ValueError, match="'abc' is not a valid Completion"):
        db.session.scalar(select(StatusUpdate.completion).where(StatusUpdate.id == update.id))
    db.session.rollback()


@pytest.mark.parametrize(
    "args", [["--port", "99999"], ["--port", "0"], ["--workers", "0"], ["--workers", "-1"]]
)
def test_serve_refuses_a_port_or_worker_count_that_cannot_serve(runner, args):
    """--port 99999 ended in gunicorn's traceback, and --workers 0 started a server that
    listened and never answered; both are refused before anything starts."""
    result = runner.invoke(args=["serve", *args])
    assert result.exit_code == 2 and "Invalid value" in result.output, result.output
    assert "Traceback" not in result.output


def test_a_backup_into_a_folder_that_cannot_be_made_says_so(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(args=["backup", "--out", str(blocker / "backup")])
    assert result.exit_code == 1 and "Cannot make" in result.output, result.output
    assert "Traceback" not in result.output
