"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when
TRACKER_TEST_DATABASE_URL is set), a client, a CLI runner and the seeded plan."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tracker import create_app
from tracker.extensions import db

POSTGRES_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database for the whole run. On PostgreSQL, a private schema, so that
    several test runs can share one server without seeing each other's rows."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("db") / "tracker.db"
        yield f"sqlite:///{path}", {}
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield POSTGRES_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_test_config(database_url, tmp_path: Path, **overrides) -> dict:
    url, engine_options = database_url
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options},
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "REPORT_ARCHIVE_FOLDER": str(tmp_path / "reports"),
        "SMTP_HOST": None,
        "TRACKER_TODAY": None,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Create every table once per run."""
    app = create_app(make_test_config(database_url, tmp_path_factory.mktemp("schema")))
    with app.app_context():
        db.create_all()
        yield
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_all_tables() -> None:
    # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of every table costs about a second
    # per test, a DELETE of the few rows a test leaves a few milliseconds.
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_schema, database_url, tmp_path):
    app = create_app(make_test_config(database_url, tmp_path))
    with app.app_context():
        yield app
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


class RequestIsolatingClient(FlaskClient):
    """Runs each request in its own app context, as in production: a fresh `g` (Flask-Login
    and Flask-Babel cache there) and a fresh database session.

    Before each request it commits the test's own session: the request then sees the test's
    data, and the test no longer holds SQLite's write lock (a read in the test opens a
    BEGIN IMMEDIATE transaction, which would block the request's writes)."""

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = RequestIsolatingClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The 2020–2022 plan, loaded from the real seed file."""
    from tracker.models import ActionPlan
    from tracker.services.seeding import seed_plan_file

    seed_plan_file(db.session)  # commits
    return db.session.scalar(db.select(ActionPlan).where(ActionPlan.key == "az-nap-2020-2022"))
