"""Service errors and HTTP errors become one kind of answer: a translated page, or JSON
for API clients. `wants_json` is the only place that decides which."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, default_exceptions

from tracker.services.errors import ServiceError


def wants_json() -> bool:
    """API paths, and clients that ask for JSON first, get JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def default_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood. Check the form and try again."),
        401: _("Please log in to see this page."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This address does not accept that kind of request."),
        409: _("This item was changed by someone else in the meantime. Reload and try again."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a few minutes and try again."),
        500: _("Something went wrong on our side. The error was logged."),
        503: _("The service is unavailable at the moment. Try again in a few seconds."),
    }
    return messages.get(status) or _("The request failed.")


#: where to go from an error page: the address and its label
NextStep = tuple[str, str]


def error_response(status: int, message: str | None = None, next_step: NextStep | None = None):
    """The answer for an error: JSON `{"error": {"status", "message"}}` (with "next" when
    there is a next step) or the error page, with a link to the next step."""
    message = message or default_message(status)
    if wants_json():
        body = {"status": status, "message": message}
        if next_step is not None:
            body["next"] = next_step[0]
        return jsonify({"error": body}), status
    return render_template(
        "errors/error.html", status=status, message=message, next_step=next_step
    ), status


def http_error(
    status: int, message: object = None, next_step: NextStep | None = None
) -> HTTPException:
    """An HTTP exception whose page says `message` (for `raise` in a view), and links to
    `next_step` when the visitor has somewhere better to go (a newer version, say)."""
    error = default_exceptions[status]()
    error.tracker_message = str(message) if message else None
    error.tracker_next_step = (next_step[0], str(next_step[1])) if next_step else None
    return error


def abort_for(error: ServiceError):
    """Stop the request with the HTTP answer a service error stands for."""
    raise http_error(error.status, error.message) from error
