"""The check of a button that changes something (a ConfirmForm): its POST carries its
CSRF token, or the answer is 400."""

from __future__ import annotations

from tracker.web.errors_map import http_error
from tracker.web.forms import ConfirmForm


def require_confirmation() -> None:
    """A button's POST carries its CSRF token, or the answer is 400."""
    if not ConfirmForm().validate_on_submit():
        raise http_error(400)
