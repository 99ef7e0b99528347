"""Error pages: JSON under /api/, HTML elsewhere; never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Check the form and try again."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This address does not accept that kind of request."),
        409: _("This item was changed by someone else in the meantime. Reload and try again."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a few minutes and try again."),
        500: _("Something went wrong on our side. The error was logged."),
    }


def _render_error(status: int, message: str | None = None):
    message = message or _messages().get(status) or _("The request failed.")
    if _wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("errors/error.html", status=status, message=message), status


def handle_http_exception(error: HTTPException):
    description = getattr(error, "tracker_message", None)
    return _render_error(error.code or 500, description)


def handle_csrf_error(_error: CSRFError):
    return _render_error(
        400,
        _("The form has expired or was not sent from this site. Reload the page and try again."),
    )


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    from flask import current_app

    current_app.logger.exception("Unhandled error", exc_info=error)
    return _render_error(InternalServerError.code)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
