"""Helpers shared by the tests."""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text


@contextmanager
def new_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server of server_url (whose
    user may create databases); dropped afterwards, connections and all."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def login(client, user) -> None:
    """Log a user in on the test client without going through the login form: a session
    that has just begun, and whose password was just typed (tracker.web.sessions)."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_login"] = session["_seen"] = session["_auth"] = now


#: the served app's scheduler builds queued reports every second; a build takes seconds
REPORT_BUILD_WAIT_SECONDS = 120


def poll_report(client, url: str):
    """Reload a report's address as its "being prepared" page's meta refresh would, until
    the answer is no longer 202 (the served app builds reports in its scheduler)."""
    deadline = time.monotonic() + REPORT_BUILD_WAIT_SECONDS
    while True:
        response = client.get(url)
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(client, url: str) -> str:
    """The CSRF token of the form on a page, as a browser would send it."""
    response = client.get(url)
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


class QueryCounter:
    """Counts the SQL statements run while it is active: `with QueryCounter() as q: ...`."""

    def __init__(self):
        self.statements: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        from tracker.extensions import db

        self._engine = db.engine
        event.listen(self._engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        return len(self.statements)


class RequestIsolatingClient(FlaskClient):
    """Runs each request in its own app context, as in production: a fresh `g` (Flask-Login
    and Flask-Babel cache there) and a fresh database session.

    Before each request it commits the test's own session: the request then sees the test's
    data, and the test no longer holds SQLite's write lock (a read in the test opens a
    BEGIN IMMEDIATE transaction, which would block the request's writes)."""

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from tracker.extensions import db

        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


# -- a real SMTP server on 127.0.0.1 ---------------------------------------------------


FIELD_ERRORS = re.compile(r'<ul class="field-error" id="([^"]+)-errors">(.*?)</ul>', re.S)


def field_errors(html: str) -> dict[str, list[str]]:
    """Each field's error messages on a form page, by field id (templates/_macros/forms)."""
    return {
        field_id: [unescape(item) for item in re.findall(r"<li>(.*?)</li>", items, re.S)]
        for field_id, items in FIELD_ERRORS.findall(html)
    }


def free_port() -> int:
    # aiosmtpd's Controller cannot take port 0: ask the OS for a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RecordingHandler:
    """Keeps every accepted message; answers a chosen code to chosen recipients."""

    messages: list[EmailMessage] = field(default_factory=list)
    #: recipient -> SMTP answer given to RCPT TO, e.g. "550 5.1.1 No such user"
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


# -- a GET that writes after reading (SQLite) -------------------------------------------

WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class ReadThenWriteGuard:
    """Records each write made in a deferred SQLite transaction that has already read.

    A GET's transaction begins DEFERRED (tracker.database) so that readers run side by
    side. If it reads and then writes, SQLite refuses the write at once ("database is
    locked", without waiting) whenever another process wrote in between: the served app
    runs the GET again, a POST would get 503. Such a GET must end its reads first, or begin
    its writes up front (tracker.database.begin_writes_on_safe_request). The guard finds
    one in any in-process test, not only when a race hits it under load."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.found: list[str] = []

    def __enter__(self) -> ReadThenWriteGuard:
        from sqlalchemy import event

        event.listen(self.engine, "begin", self._on_begin)
        event.listen(self.engine, "before_cursor_execute", self._on_statement)
        return self

    def __exit__(self, *_exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "begin", self._on_begin)
        event.remove(self.engine, "before_cursor_execute", self._on_statement)

    @staticmethod
    def _on_begin(connection) -> None:
        connection.info["has_read"] = False

    def _on_statement(self, connection, _cursor, statement, *_args) -> None:
        if not connection.info.get("deferred_transaction"):
            return
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "WITH"):
            connection.info["has_read"] = True
        elif verb in WRITE_STATEMENTS and connection.info["has_read"]:
            from flask import has_request_context, request

            # outside a request, a deferred transaction is reads_only's: SQLite refuses
            # its writes itself
            if has_request_context():
                where = f"{request.method} {request.path}"
                self.found.append(f"{where}: {statement.split(chr(10))[0][:100]}")
