"""Page numbers from the query string, checked before use; Page (tracker.pagination) is the
page a list shows."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext

from tracker.numbers import show_number
from tracker.pagination import Page
from tracker.web.errors_map import http_error

__all__ = ["MAX_PAGE", "Page", "existing_page", "int_arg", "page_number"]

#: no list is that long; a larger number is a typo or a probe, not a page
MAX_PAGE = 1_000_000


def int_arg(name: str, default: int, *, low: int = 1, high: int = MAX_PAGE) -> int:
    """A whole number from the query string, within [low, high]; else 400 with a message
    that names the argument (the API's, read by developers)."""
    return _whole_number(
        name,
        default,
        low,
        high,
        lambda: _("%(name)s must be a whole number.", name=name),
        lambda: _("%(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high),
    )


def page_number() -> int:
    """The page a list asks for (?page=), within [1, MAX_PAGE]; else 400 with a message in
    people's words: "page" is the address's word, not theirs."""
    return _whole_number(
        "page",
        1,
        1,
        MAX_PAGE,
        lambda: _("The page number must be a whole number."),
        lambda: _(
            "The page number must be between %(low)s and %(high)s.",
            low=show_number(1),
            high=show_number(MAX_PAGE),
        ),
    )


def _whole_number(name, default, low, high, not_whole, out_of_range) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    digits = text.removeprefix("-")
    if not digits.isascii() or not digits.isdigit():
        raise http_error(400, not_whole())
    # a whole number out of range (a long one is, without being converted) says the range
    if len(digits) > len(str(high)) or not low <= int(text) <= high:
        raise http_error(400, out_of_range())
    return int(text)


def existing_page(page: Page) -> Page:
    """`page`, when the list has it. A number past the end is a 404 that says how many pages
    there are: an empty page under "26 organisations" contradicts itself."""
    if page.number > page.pages:
        raise http_error(
            404,
            ngettext(
                "This list has %(num)d page; there is no page %(number)d.",
                "This list has %(num)d pages; there is no page %(number)d.",
                page.pages,
                number=page.number,
            ),
        )
    return page
