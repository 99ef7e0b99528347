"""Public answers: ETag, Last-Modified and 304, and a cache of rendered answers shared by
every worker (Flask-Caching: Redis when REDIS_URL is set, else a cache per process).

The contract:
- only anonymous GETs (and HEADs) of the public endpoints below are cached; a signed-in
  visitor's pages are never stored nor served from the cache, nor is a page that shows a
  flashed message;
- the key holds the endpoint, its arguments, the query string, the host, the language,
  the public data's version (tracker.data_version), the day in Baku (pages count overdue
  days) and the release; keys have a prefix of their own (PUBLIC_CACHE_PREFIX);
- what is stored is the status, body and content type of a 200 answer that sets no cookie
  and rendered no CSRF token; cookies and security headers are added to each answer anew;
- the version is read from the database on every request, so the request after a write,
  in any worker, gets a new key: it never sees the page from before the write.
An unreachable cache is skipped (logged): the page is rendered as if there were none.
In front of Redis each process keeps the answers it last used (a small in-memory cache):
a key names one version of the data, so that copy can never be stale, and a page that
everyone asks for costs no trip to Redis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.utils import format_datetime, parsedate_to_datetime

from cachelib import SimpleCache
from flask import Flask, Response, current_app, g, request, session
from flask_caching import Cache
from flask_login import current_user

from tracker import clock, data_version
from tracker.config import PACKAGE_ROOT, PROJECT_ROOT
from tracker.extensions import db
from tracker.i18n import current_locale

#: endpoints whose anonymous GET answers are the same for every visitor
PUBLIC_ENDPOINTS = frozenset(
    {
        "public.index",
        "public.plans",
        "public.plan",
        "public.section",
        "public.measure",
        "public.measure_feed",
        "public.changes",
        "public.agencies",
        "public.agency",
        "registry.index",
        "registry.organisation",
        "registry.organisation_feed",
        "registry.coverage",
        "registry.stats",
        "opendata.index",
        "opendata.updates_feed",
        "api.agencies",
        "api.agency",
        "api.measures",
        "api.measure_updates",
        "api.measure",
        "api.openapi",
        "api.organisations",
        "api.organisation",
        "api.plans",
        "api.plan",
        "api.registry_stats",
        "api.scorecard",
        "api.updates",
    }
)
#: the headers of a stored answer besides its body; everything else is made anew
STORED_HEADERS = ("Content-Type", "Content-Disposition")
#: how many answers each process keeps in front of a shared (Redis) cache
LOCAL_ENTRIES = 256
_LOCAL = "tracker_public_cache_local"

cache = Cache()


@dataclass(frozen=True)
class Conditions:
    key: str
    etag: str
    last_modified: datetime


def release_fingerprint() -> str:
    """TRACKER_RELEASE, else a fingerprint of the code, templates and translations: a new
    release never serves pages that the old one rendered."""
    files = [
        *sorted(PACKAGE_ROOT.rglob("*.py")),
        *sorted(PACKAGE_ROOT.rglob("*.po")),
        *sorted((PROJECT_ROOT / "templates").rglob("*.html")),
    ]
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _is_cacheable_request() -> bool:
    if request.method not in ("GET", "HEAD") or request.endpoint not in PUBLIC_ENDPOINTS:
        return False
    if "_flashes" in session or "_user_id" in session:
        return False
    return not getattr(current_user, "is_authenticated", False)


def _conditions() -> Conditions:
    version = data_version.current(db.session)
    today = clock.today()
    parts = (
        request.endpoint,
        sorted((request.view_args or {}).items()),
        sorted(request.args.items(multi=True)),
        request.host,
        request.scheme,
        current_locale(),
        version.token,
        today.isoformat(),
        current_app.config["TRACKER_RELEASE"],
    )
    key = "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    # A page changes with the data and with the day in Baku (overdue days).
    day_start = datetime.combine(today, time(), tzinfo=clock.BAKU)
    last_modified = max(version.changed, day_start).astimezone(UTC).replace(microsecond=0)
    return Conditions(key=key, etag=f'W/"{key[5:37]}"', last_modified=last_modified)


def _not_modified(conditions: Conditions) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(conditions.etag.removeprefix("W/").strip('"'))
    header = request.headers.get("If-Modified-Since")
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and conditions.last_modified <= since


def _cache_call(method: str, *args):
    local: SimpleCache | None = current_app.extensions.get(_LOCAL)
    if local is not None:
        found = getattr(local, method)(*args)
        if method == "get" and found is not None:
            return found
    try:
        found = getattr(cache, method)(*args)
    except Exception as error:  # a cache that is down must not take the pages with it
        current_app.logger.warning("public cache %s failed: %s", method, error)
        return None
    if local is not None and method == "get" and found is not None:
        local.set(args[0], found)
    return found


def _before_request():
    if not _is_cacheable_request():
        return None
    conditions = _conditions()
    g.public_cache = conditions
    if _not_modified(conditions):
        g.public_cache_hit = True
        return Response(status=304)
    stored = _cache_call("get", conditions.key)
    if stored is None:
        return None
    g.public_cache_hit = True
    status, body, headers = stored
    return Response(body, status=status, headers=headers)


def _storable(response: Response) -> bool:
    return (
        response.status_code == 200
        and not response.direct_passthrough
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and "csrf_token" not in g
        and "_flashes" not in session
    )


def _after_request(response: Response) -> Response:
    conditions: Conditions | None = g.get("public_cache")
    if conditions is None or response.status_code not in (200, 304):
        return response
    if not g.get("public_cache_hit") and _storable(response):
        headers = [(n, response.headers[n]) for n in STORED_HEADERS if n in response.headers]
        _cache_call("set", conditions.key, (200, response.get_data(), headers))
    response.headers["ETag"] = conditions.etag
    response.headers["Last-Modified"] = format_datetime(conditions.last_modified, usegmt=True)
    # Every use asks again (ETag or date): a change is seen at once, an unchanged page is a 304.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def cache_config(config: dict) -> dict:
    """Flask-Caching's settings from ours: PUBLIC_CACHE_TYPE, else Redis when REDIS_URL is
    set, else a per-process cache."""
    kind = config.get("PUBLIC_CACHE_TYPE") or (
        "RedisCache" if config.get("REDIS_URL") else "SimpleCache"
    )
    settings = {
        "CACHE_TYPE": kind,
        "CACHE_KEY_PREFIX": config["PUBLIC_CACHE_PREFIX"],
        "CACHE_DEFAULT_TIMEOUT": config["PUBLIC_CACHE_SECONDS"],
        "CACHE_THRESHOLD": 2000,
        "CACHE_NO_NULL_WARNING": True,
    }
    if kind == "RedisCache":
        settings["CACHE_REDIS_URL"] = config["REDIS_URL"]
    return settings


def init_app(app: Flask) -> None:
    app.config.setdefault("TRACKER_RELEASE", "")
    if not app.config["TRACKER_RELEASE"]:
        app.config["TRACKER_RELEASE"] = release_fingerprint()
    settings = cache_config(app.config)
    cache.init_app(app, config=settings)
    if settings["CACHE_TYPE"] == "RedisCache":
        app.extensions[_LOCAL] = SimpleCache(threshold=LOCAL_ENTRIES, default_timeout=0)
    app.before_request(_before_request)
    app.after_request(_after_request)
