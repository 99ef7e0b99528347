"""Each request's database session learns the client's address, so that the audit log
records where a change came from without the services reading the request."""

from __future__ import annotations

from flask import Flask, request

from tracker.extensions import db
from tracker.services.audit import CLIENT_ADDRESS


def client_address() -> str:
    """The client's address: the proxy's X-Forwarded-For when TRACKER_PROXY_HOPS is set."""
    return (request.remote_addr or "")[:64]


def loggable_path() -> str:
    """The request's path for the audit log, with the secret a link may carry (a password,
    invitation or unsubscribe token) left out: administrators read the log, and a reset
    token there would let one of them take over the account."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def _tag_session() -> None:
    db.session.info[CLIENT_ADDRESS] = client_address()


def init_app(app: Flask) -> None:
    app.before_request(_tag_session)
