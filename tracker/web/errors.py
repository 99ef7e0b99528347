"""Error pages: a translated page, or JSON for API clients (errors_map); never a stack
trace. A service error that no view handled becomes the answer its status stands for."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.extensions import db
from tracker.services.errors import ServiceError
from tracker.web import unavailable
from tracker.web.errors_map import error_response


def handle_http_exception(error: HTTPException):
    return error_response(
        error.code or 500,
        getattr(error, "tracker_message", None),
        getattr(error, "tracker_next_step", None),
    )


def handle_service_error(error: ServiceError):
    # Nothing of a refused write may be committed by a later handler.
    db.session.rollback()
    return error_response(error.status, error.message)


def handle_csrf_error(_error: CSRFError):
    return error_response(
        400,
        _("The form has expired or was not sent from this site. Reload the page and try again."),
    )


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    current_app.logger.exception("Unhandled error", exc_info=error)
    return error_response(InternalServerError.code)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(Exception, handle_unexpected_error)
    unavailable.init_app(app)
