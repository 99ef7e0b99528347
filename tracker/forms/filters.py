"""What the forms of a list's query string share: read from a GET, they change nothing,
so they carry no CSRF token; a search box and filters that may be left blank."""

from __future__ import annotations

from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from tracker.web.forms import TrackerForm

MAX_SEARCH_LENGTH = 200


class GetForm(TrackerForm):
    """A form read from the query string (GET: no CSRF, nothing changes)."""

    class Meta:
        csrf = False


def search_field(label) -> SearchField:
    """A list's search box: blank, or words of at most MAX_SEARCH_LENGTH characters."""
    return SearchField(label, validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)])


def filter_field(label) -> SelectField:
    """A list's filter: blank (everything), or one of the choices set_choices gives it."""
    return SelectField(label, validators=[Optional()])
