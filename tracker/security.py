"""Login loading, response headers and cookie hardening shared by every request; the
sessions' lifetimes and cookies are in tracker.web.sessions."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker.extensions import db, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def load_user_from_session_id(session_id: str):
    """Flask-Login stores "<user id>:<session version>"; an old version no longer loads."""
    from tracker.models import User

    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_enabled or user.session_version != int(version):
        return None
    return user


def _set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if getattr(current_user, "is_authenticated", False):
        response.headers["Cache-Control"] = "no-store"
    if current_app.config.get("TRACKER_HTTPS") or request.is_secure:
        # With HTTPS on, on every answer, even one that reached the app over plain HTTP
        # (a proxy without X-Forwarded-Proto): browsers take it from HTTPS answers only.
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user_from_session_id)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"
    app.after_request(_set_security_headers)

    from tracker.web import sessions

    sessions.init_app(app)

    from tracker.web.permissions import template_helpers

    app.context_processor(template_helpers)
