"""Helpers shared by the tests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def login(client, user) -> None:
    """Log a user in on the test client without going through the login form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


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
