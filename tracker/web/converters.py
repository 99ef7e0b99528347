"""The URL converter of every whole number in a path: `<id:name>`, a record id or a
position number (a section's), from 1 to MAX_ID. Any other number matches no route, so
/files/9999999999999999999999999 is a 404 like any address that leads nowhere, not an
OverflowError in the database driver."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

#: the largest id a row can have (ids are INTEGER columns: 32 bits in PostgreSQL)
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map: Map, *args, **kwargs) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def init_app(app: Flask) -> None:
    """Register `<id:…>`; call before the blueprints are registered."""
    app.url_map.converters["id"] = IdConverter
