"""The served app as users run it: `tracker serve` (gunicorn with two workers and the
scheduler) in a subprocess, on the test run's database, driven over real HTTP.

One served app is started per test run (per database) and its data is put back to the
state `serve` left it in (migrated, seeded, first admin) before each test, so tests stay
fast and independent. The test process reaches the same database through an app of its
own, to arrange data with the usual factories and to check what requests wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import quote, urljoin

import redis
import requests
from flask import has_app_context
from sqlalchemy import create_engine, insert, select, text

from tests.helpers import SMTPServer, free_port
from tracker import create_app
from tracker.extensions import db

TRACKER = str(Path(sys.executable).with_name("tracker"))
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: the first-run administrator of the served app (the matrix world has its own admin)
FIRST_ADMIN_EMAIL = "first-admin@example.org"
#: tables that `serve` and the scheduler own; a reset leaves them alone
KEPT_TABLES = {"alembic_version", "scheduler_job"}
START_TIMEOUT_SECONDS = 120
#: the Redis that the served app's page cache uses; each served app has a key prefix of its own
REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: how long `email_to` waits for a message (the scheduler sends the outbox every second)
MAIL_WAIT_SECONDS = 10


def end_test_transaction() -> None:
    """Commit the test's own session, if this thread has one: the server then sees the
    test's rows, and on SQLite the test no longer holds the write lock (outside a request,
    a transaction begins IMMEDIATE)."""
    if has_app_context():
        db.session.commit()


class WebClient(requests.Session):
    """One visitor: its own cookie jar, relative URLs, no automatic redirects."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        end_test_transaction()
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        return super().request(method, urljoin(self.base_url, url), *args, **kwargs)

    def get(self, url, **kwargs):
        # requests' own get() follows redirects unless told otherwise.
        kwargs.setdefault("allow_redirects", False)
        return super().get(url, **kwargs)

    def csrf_token(self, page: str) -> str:
        response = self.get(page)
        match = CSRF_INPUT.search(response.text)
        assert match, f"no CSRF token on {page} (status {response.status_code})"
        return match.group(1)

    def post_form(self, page: str, data: dict, action: str | None = None, **kwargs):
        """Post a form with the CSRF token from the page that shows it, as a browser does."""
        token = self.csrf_token(page)
        return self.post(action or page, data={"csrf_token": token, **data}, **kwargs)

    def post_at_once(self, url: str, data: dict, times: int = 4) -> str:
        """Post the same form `times` times at once (a double click, a retry), assert that
        every answer redirects to one page, and give that page."""
        with ThreadPoolExecutor(times) as pool:
            answers = list(pool.map(lambda _n: self.post(url, data=data), range(times)))
        assert [answer.status_code for answer in answers] == [302] * times
        [location] = {answer.headers["Location"] for answer in answers}
        return location

    def login(self, email: str, password: str) -> requests.Response:
        response = self.post_form("/login", {"email": email, "password": password})
        assert response.status_code == 302, f"login of {email}: {response.status_code}"
        assert not response.headers["Location"].startswith("/login")
        return response


@dataclass
class ServedApp:
    workdir: Path
    #: the database URL that the served processes use (on PostgreSQL it names the schema)
    database_url: str
    smtp_port: int
    port: int
    env: dict[str, str] = field(default_factory=dict)
    #: settings of this served app's own, on top of the tests' usual ones
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    first_admin_password: str = ""
    application_name: str = ""
    #: the SMTP server that the served app sends its mail to
    smtp: SMTPServer | None = None
    #: this served app's keys in the shared Redis; removed when it stops (never a FLUSH)
    cache_prefix: str = field(default_factory=lambda: f"tracker-served-{uuid.uuid4().hex[:12]}:")
    _snapshot: dict[str, list[dict]] = field(default_factory=dict)
    _setup_app: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upload_folder(self) -> Path:
        return self.workdir / "uploads"

    @property
    def log_path(self) -> Path:
        return self.workdir / "serve.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_lines_with(self, text: str, since: int = 0) -> list[str]:
        """The log's lines from byte `since` on that contain `text`, each after the line
        before it: what an assertion shows (the whole log would bury it)."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return [
            "\n".join(lines[max(index - 1, 0) : index + 1])
            for index, line in enumerate(lines)
            if text in line
        ]

    @staticmethod
    def today() -> date:
        """The served app's "today": it runs on the real clock (no TRACKER_TODAY), in UTC."""
        return datetime.now(UTC).date()

    # --- mail ------------------------------------------------------------------------------

    def emails_to(self, address: str) -> list[EmailMessage]:
        assert self.smtp is not None, "this served app has no SMTP server"
        with self.smtp.handler.lock:
            messages = list(self.smtp.handler.messages)
        return [m for m in messages if address in (a for _, a in getaddresses(m.get_all("To", [])))]

    def email_to(self, address: str, containing: str = "") -> EmailMessage:
        """The latest message the served app sent to the address (whose text contains
        `containing`, when given). Account emails leave with the scheduler's next run of
        the mail outbox (every second here), so this waits for them; the test's own
        transaction ends first, so that the scheduler can write (on SQLite, a read in
        the test holds the write lock)."""
        end_test_transaction()
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            found = [m for m in self.emails_to(address) if containing in email_text(m)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                with self.smtp.handler.lock:
                    sent = [(m["To"], m["Subject"]) for m in self.smtp.handler.messages]
                raise AssertionError(f"no mail to {address} containing {containing!r}: {sent}")
            time.sleep(0.1)

    # --- processes -------------------------------------------------------------------------

    def start(self) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "served-test-secret-key",
            # seals the two-step keys; the test process seals and opens with it too
            "TWO_STEP_KEYS": "c2VydmVkLXRlc3QtdHdvLXN0ZXAta2V5LTMyYnl0ZXM=",
            "UPLOAD_FOLDER": str(self.upload_folder),
            "REPORT_ARCHIVE_FOLDER": str(self.workdir / "reports"),
            "REPORT_CACHE_FOLDER": str(self.workdir / "report-cache"),
            "PUBLIC_BASE_URL": self.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_TLS": "none",
            "MAIL_FROM": "tracker@example.org",
            "TRACKER_ADMIN_EMAIL": FIRST_ADMIN_EMAIL,
            "SCHEDULER_LOCK_RETRY_SECONDS": "1",
            # the scheduler sends the mail outbox every second (account emails)
            "MAIL_OUTBOX_INTERVAL_SECONDS": "1",
            # and builds the reports asked for on the web every other second
            "REPORT_QUEUE_INTERVAL_SECONDS": "2",
            "PYTHONUNBUFFERED": "1",
            # the two workers share their cache of public pages, as in production
            "REDIS_URL": REDIS_URL,
            "PUBLIC_CACHE_PREFIX": self.cache_prefix,
            **self.extra_env,
        }
        for name in ("TRACKER_TODAY", "TRACKER_HTTPS", "TRACKER_PROXY_HOPS", "PUBLIC_CACHE_TYPE"):
            self.env.pop(name, None)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [TRACKER, "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers() or "Scheduler lock acquired" not in self.log_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tracker serve did not start:\n{self.log_text()[-4000:]}")
            time.sleep(0.2)
        match = re.search(r"password: (\S+)", self.log_text())
        assert match, "serve printed no first-run password"
        self.first_admin_password = match.group(1)
        self._setup_app = create_app(setup_app_config(self))
        self._snapshot = self._read_snapshot()

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.drop_cached_pages()

    def cached_page_keys(self) -> list[bytes]:
        connection = redis.Redis.from_url(REDIS_URL)
        try:
            return list(connection.scan_iter(match=f"{self.cache_prefix}*"))
        finally:
            connection.close()

    def drop_cached_pages(self) -> None:
        keys = self.cached_page_keys()
        if keys:
            connection = redis.Redis.from_url(REDIS_URL)
            connection.delete(*keys)
            connection.close()

    def run_cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A `tracker` command on the served database, while the server runs."""
        end_test_transaction()
        return subprocess.run(
            [TRACKER, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # --- data ------------------------------------------------------------------------------

    def app_context(self):
        """An app context of the test process on the served database, for factories."""
        return self._setup_app.app_context()

    def _tables(self):
        return [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]

    def _read_snapshot(self) -> dict[str, list[dict]]:
        with self.app_context():
            snapshot = {
                table.name: [dict(row._mapping) for row in db.session.execute(select(table))]
                for table in self._tables()
            }
            db.session.rollback()
        return snapshot

    def reset(self) -> None:
        """Put every row back as `serve` left it, in one transaction, and empty the
        upload folder. Ids only grow on PostgreSQL, so later rows never meet old ids."""
        with self.app_context():
            for table in reversed(self._tables()):
                db.session.execute(table.delete())
            for table in self._tables():
                rows = self._snapshot[table.name]
                if rows:
                    db.session.execute(insert(table), rows)
            db.session.commit()
            db.session.remove()
        shutil.rmtree(self.upload_folder, ignore_errors=True)
        self.upload_folder.mkdir(parents=True, exist_ok=True)

    def client(self) -> WebClient:
        return WebClient(self.url)


def email_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def email_link(message: EmailMessage, path_prefix: str) -> str:
    """The first absolute link (http or https) in the message's text that contains path_prefix."""
    for word in email_text(message).split():
        if word.startswith(("http://", "https://")) and path_prefix in word:
            return word
    raise AssertionError(f"no {path_prefix} link in the message:\n{email_text(message)}")


def setup_app_config(served: ServedApp) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": served.env["SECRET_KEY"],
        "TWO_STEP_KEYS": tuple(served.env["TWO_STEP_KEYS"].split(",")),
        "SQLALCHEMY_DATABASE_URI": served.database_url,
        "UPLOAD_FOLDER": str(served.upload_folder),
        "REPORT_ARCHIVE_FOLDER": str(served.workdir / "reports"),
        "REPORT_CACHE_FOLDER": str(served.workdir / "report-cache"),
        "PUBLIC_BASE_URL": served.url,
        "SMTP_HOST": None,
        "BABEL_DEFAULT_LOCALE": "en",
    }


@dataclass
class ServedDatabase:
    """The database a served app runs on: a SQLite file, or a PostgreSQL schema of its own
    that travels in the URL (`options=-csearch_path=…`), tagged with an application_name
    so that tests can find the app's connections in pg_stat_activity."""

    url: str
    application_name: str = ""
    drop: object = None


def served_database(postgres_url: str | None, workdir: Path) -> ServedDatabase:
    if not postgres_url:
        return ServedDatabase(f"sqlite:///{workdir / 'served.db'}")
    schema = f"served_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in postgres_url else "?"
    url = (
        f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
        f"&application_name={schema}"
    )
    return ServedDatabase(url, application_name=schema, drop=drop)


@contextmanager
def served_app_running(
    workdir: Path,
    smtp: SMTPServer,
    postgres_url: str | None,
    extra_env: dict[str, str] | None = None,
):
    """`tracker serve` on a database of its own (a SQLite file, or a PostgreSQL schema),
    stopped, and its schema dropped, when the block ends."""
    database = served_database(postgres_url, workdir)
    served = ServedApp(
        workdir=workdir,
        database_url=database.url,
        smtp_port=smtp.port,
        port=free_port(),
        smtp=smtp,
        extra_env=extra_env or {},
    )
    served.application_name = database.application_name
    try:
        served.start()
        yield served
    finally:
        served.stop()
        if database.drop:
            database.drop()
