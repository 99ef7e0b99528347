"""A guard that makes a leaked request scope loud at once.

Each request must run in an app context of its own: `g` (where Flask-Login keeps the user
and Flask-Babel the locale) and the database session die with it. If a context is pushed
around the server (as when a worker is forked inside `with app.app_context()`), Flask
reuses it for every request, and one visitor gets the previous visitor's user, language
and open transaction. The guard refuses such a request instead of serving it.
"""

from __future__ import annotations

from flask import Flask, g

from tracker.extensions import db

_MARKER = "_tracker_request_started"


class RequestScopeLeak(RuntimeError):
    """A request found state that an earlier request left behind."""


def _check_fresh_scope() -> None:
    if _MARKER in g:
        raise RequestScopeLeak(
            "this request's app context already served a request: `g` outlives requests"
        )
    sessions = db.session.registry
    if sessions.has() and sessions().in_transaction():
        raise RequestScopeLeak("a database transaction is open before the request began")
    setattr(g, _MARKER, True)


def init_app(app: Flask) -> None:
    # First in line, before any handler can read the user or the locale.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_fresh_scope)
