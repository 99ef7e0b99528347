"""Absolute links: every one the app writes (emails, feeds, the API, PDFs) is built on
PUBLIC_BASE_URL, never on the request's Host header, and works outside a request too."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Response, current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
#: what an anchor keeps unquoted, as url_for does
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def public_url(endpoint: str, **values) -> str:
    """The absolute address of a page of this site, e.g. for an email or a feed. Takes
    url_for's `_anchor`, so that one (endpoint, values) serves a page and an email."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc,
        script_name=base.path.rstrip("/") or "/",
        url_scheme=base.scheme or "https",
    )
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe=ANCHOR_SAFE)}" if anchor else url


def route_values(path: str, method: str) -> dict:
    """The URL values of a path of this site ({"measure_id": 5} for
    /claims/measures/5/new), or {} when no route takes it (a path an older version had)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        return adapter.match(path, method=method)[1]
    except (HTTPException, RoutingException):
        return {}


def public_host() -> str:
    """The public site's host name, e.g. for iCalendar UIDs."""
    return (urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost").lower()


def language_arg(locale: str) -> dict[str, str]:
    """The ?lang= of a link to a page or feed in `locale`. A feed reader keeps no session,
    so only ?lang= gives it a language; the default language needs none."""
    if locale == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return {}
    return {"lang": locale}


def atom_response(body: bytes) -> Response:
    """An Atom feed's answer."""
    return Response(body, content_type=ATOM_CONTENT_TYPE)
