"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when
TRACKER_TEST_DATABASE_URL is set), a client, a CLI runner and the seeded plan."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import (
    ReadThenWriteGuard,
    RecordingHandler,
    RequestIsolatingClient,
    SMTPServer,
    free_port,
)
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
        "TWO_STEP_KEYS": ("aW4tcHJvY2Vzcy10ZXN0LXR3by1zdGVwLWtleS0zMmI=",),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options},
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "REPORT_ARCHIVE_FOLDER": str(tmp_path / "reports"),
        "REPORT_CACHE_FOLDER": str(tmp_path / "report-cache"),
        "SMTP_HOST": None,
        "TRACKER_TODAY": None,
        # Tests read English messages; the Azerbaijani default has tests of its own, which
        # set BABEL_DEFAULT_LOCALE back to "az".
        "BABEL_DEFAULT_LOCALE": "en",
        # In-process tests count the queries a page makes: they render every page. The
        # cache has tests of its own (tests/test_public_cache.py) and runs in the served app.
        "PUBLIC_CACHE_TYPE": "NullCache",
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
    # Every in-process request gets an app context of its own, as in the served app.
    app.test_client_class = RequestIsolatingClient
    with app.app_context(), ReadThenWriteGuard(db.engine) as guard:
        yield app
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()
    assert not guard.found, "a GET wrote after reading in a deferred transaction"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The 2020–2022 plan, loaded from the real seed file."""
    from tracker.models import ActionPlan
    from tracker.services.plans.seeding import seed_plan_file

    seed_plan_file(db.session)  # commits
    return db.session.scalar(db.select(ActionPlan).where(ActionPlan.key == "az-nap-2020-2022"))


# --- Debian's Chromium driven by Playwright (one per test run); the browser tests run
#     against the served app below, the stack that users get ---

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it with apt")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


# --- the served app: `tracker serve` in a subprocess (one per test run) -----------------


@pytest.fixture(scope="session")
def served_smtp():
    """The served app's mail server: a real SMTP server on 127.0.0.1."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def served_app(tmp_path_factory, served_smtp):
    """`tracker serve` with two gunicorn workers and the scheduler, on this run's database
    (a SQLite file, or a PostgreSQL schema of its own)."""
    from tests.served.server import served_app_running

    with served_app_running(tmp_path_factory.mktemp("served"), served_smtp, POSTGRES_URL) as served:
        yield served


@pytest.fixture
def served(served_app, served_smtp):
    """The served app with its data as `serve` left it, and an app context of the test
    process on its database (commit before a request, so that the server sees the rows)."""
    served_app.reset()
    with served_smtp.handler.lock:
        served_smtp.handler.messages.clear()
    log_start = served_app.log_size()
    with served_app.app_context():
        yield served_app
        db.session.remove()
    # A request or job that waited out SQLite's busy timeout, in the test that caused it.
    assert not served_app.log_lines_with("database is locked", since=log_start)
