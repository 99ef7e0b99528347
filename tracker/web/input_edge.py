"""One edge for text: before any view runs, a request whose path, query string, form
fields (names and values, and the names of uploaded files, which end up in the database
too) or JSON strings contain a control character is refused with 400 and a translated
message (JSON for the API, a page otherwise).

A control character is one of Unicode's category Cc (U+0000–U+001F and U+007F–U+009F),
except tab, LF and CR, which browsers send from textareas. Nothing is ever cleaned up or
altered, a password included: the request is refused whole, so both databases see the
same text (PostgreSQL cannot store NUL, SQLite would store it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import Flask, request
from flask_babel import gettext as _

from tracker.web.errors_map import http_error

#: Unicode category Cc, less tab (U+0009), LF (U+000A) and CR (U+000D)
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_character(text: str) -> bool:
    return CONTROL_CHARACTER.search(text) is not None


def _json_strings(value) -> Iterator[str]:
    """Every key and string of a JSON document, walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _form_strings() -> Iterator[str]:
    for name, values in request.form.lists():
        yield name
        yield from values
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""
    if request.is_json:
        yield from _json_strings(request.get_json(silent=True))


def refuse_control_characters() -> None:
    """Before each request: 400 for a control character anywhere in the text it carries."""
    address = [request.path]
    for name, values in request.args.lists():
        address.append(name)
        address.extend(values)
    if any(has_control_character(text) for text in address):
        raise http_error(
            400,
            _(
                "The address contains a control character (such as a NUL byte), which this "
                "site does not accept. Check the link and try again."
            ),
        )
    if any(has_control_character(text) for text in _form_strings()):
        raise http_error(
            400,
            _(
                "The form contains a control character (such as a NUL byte), which this site "
                "does not accept. Remove it, for example by typing the text again instead of "
                "pasting it, and send the form again."
            ),
        )


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)
