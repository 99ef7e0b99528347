"""A database that cannot be reached (issue 11, item 2): a short outage, such as a restart
of PostgreSQL, costs a reader a moment and nobody a 500.

- The engine checks each pooled connection before use (`pool_pre_ping`, tracker.config).
- An idempotent read (GET or HEAD) that failed because the database could not be reached
  is run again, as a whole new request, after a short pause, at most len(RETRY_DELAYS)
  times. This happens in one place, the WSGI layer, so every view gets it.
- Anything else, and a read that still fails, gets 503 with Retry-After and a translated
  page (a JSON error on the API). A write is never run again: the client decides.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, make_response, request
from flask_babel import gettext as _
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from tracker.extensions import db, login_manager
from tracker.web.errors_map import error_response

#: pauses before the second and third try of a read (seconds); about two seconds in all,
#: which covers a restart of PostgreSQL
RETRY_DELAYS = (0.5, 1.5)
#: requests whose repetition changes nothing
RETRY_METHODS = frozenset({"GET", "HEAD"})
#: the Retry-After of a 503 (seconds)
RETRY_AFTER_SECONDS = 5
#: set in the WSGI environ of a request whose answer is "database unavailable"
_UNAVAILABLE = "tracker.database_unavailable"

DATABASE_ERRORS = (OperationalError, InterfaceError, DisconnectionError)


def handle_database_unavailable(error: Exception):
    """503 with Retry-After, rendered without the database."""
    request.environ[_UNAVAILABLE] = True
    current_app.logger.warning("Database unavailable: %s", error)
    _discard_session()
    # The page must not ask the database who is signed in: show it as to a visitor.
    g._login_user = login_manager.anonymous_user()
    # nor any other part of the page (the footer's claims)
    g.database_unavailable = True
    message = _("The database cannot be reached at the moment. Try again in a few seconds.")
    response = make_response(error_response(503, message))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _discard_session() -> None:
    """Drop the session's connections without a ROLLBACK, which a broken connection
    cannot run: the pool replaces them."""
    try:
        db.session().invalidate()
    except DATABASE_ERRORS:
        current_app.logger.warning("Could not invalidate the session's connection")


def _close_session(_error) -> None:
    """Teardown, before Flask-SQLAlchemy's own: a connection that broke after the view
    answered (its ROLLBACK fails) is discarded instead of turning the answer into a 500."""
    try:
        db.session.close()
    except DATABASE_ERRORS as error:
        current_app.logger.warning("Database connection lost at the end of a request: %s", error)
        _discard_session()


class RetryIdempotentReads:
    """WSGI middleware: a GET or HEAD that the app answered with "database unavailable"
    is run again after a pause, each try with a fresh copy of the environ (hence a fresh
    request and app context, `g` and database session). A try that is run again sends
    nothing to the client, so the retry is invisible to it."""

    def __init__(self, wsgi_app, delays=RETRY_DELAYS) -> None:
        self.wsgi_app = wsgi_app
        self.delays = tuple(delays)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in RETRY_METHODS:
            return self.wsgi_app(environ, start_response)
        for delay in self.delays:
            answer = self._try(environ)
            if answer is not None:
                started, body = answer
                start_response(*started)
                return body
            time.sleep(delay)
        return self.wsgi_app(dict(environ), start_response)  # the last try answers

    def _try(self, environ):
        """One try on a copy of the environ: the arguments it gave start_response and its
        body; None (the body closed) when the database was unavailable."""
        attempt = dict(environ)
        started: list = []

        def hold(status, headers, exc_info=None):
            started[:] = [status, headers, exc_info]
            return _no_write

        body = self.wsgi_app(attempt, hold)
        if not attempt.get(_UNAVAILABLE):
            return started, body
        if hasattr(body, "close"):
            body.close()
        return None


def _no_write(_data: bytes) -> None:
    """WSGI's write() callable, which Flask never uses (it returns its body)."""


def init_app(app: Flask) -> None:
    for error_class in DATABASE_ERRORS:
        app.register_error_handler(error_class, handle_database_unavailable)
    # teardown functions run in reverse order: this one before Flask-SQLAlchemy's
    app.teardown_appcontext(_close_session)
    app.wsgi_app = RetryIdempotentReads(app.wsgi_app)
