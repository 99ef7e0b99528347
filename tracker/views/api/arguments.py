"""Query-string arguments of the JSON API, checked before use: dates, `as_of`, the plan,
ids and paging. A bad value stops the request with a 400 (an unknown plan with a 404) and
a message, raised here or by the service that checks it (InvalidInput); the app's error
handler answers it as JSON."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

import tracker.services.plans as sc
from tracker import clock
from tracker.dates import parse_given_day
from tracker.extensions import db
from tracker.models import ActionPlan
from tracker.services.reports import refuse_before_start
from tracker.web.converters import MAX_ID
from tracker.web.errors_map import http_error
from tracker.web.pagination import int_arg, page_number

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500


def id_arg(name: str) -> int | None:
    """An optional id or number from the query string (a whole number ≥ 1)."""
    return int_arg(name, None, high=MAX_ID)


def date_arg(name: str) -> date | None:
    values = request.args.getlist(name)
    if not any(value.strip() for value in values):
        return None
    try:
        return parse_given_day(values)
    except ValueError:
        raise http_error(400, _("%(name)s must be a date as YYYY-MM-DD.", name=name)) from None


def past_date_arg(name: str) -> date | None:
    """An optional date that may not be after today (as_of, since): a later one describes
    nothing yet, so it is a 400 rather than an empty answer."""
    day = date_arg(name)
    if day is not None and day > clock.today():
        raise http_error(400, _("%(name)s cannot be in the future.", name=name))
    return day


def bool_arg(name: str) -> bool | None:
    """An optional true/false argument."""
    value = request.args.get(name) or None
    if value not in (None, "true", "false"):
        raise http_error(400, _("%(name)s must be true or false.", name=name))
    return None if value is None else value == "true"


def as_of_arg(plan: ActionPlan) -> date:
    """The date a plan's state describes: `as_of`, today when left out, never in the
    future nor before the plan's start (the PDF's check and message)."""
    as_of = past_date_arg("as_of") or clock.today()
    refuse_before_start(as_of, plan.start_year)
    return as_of


def per_page_arg() -> int:
    return int_arg("per_page", DEFAULT_PER_PAGE, high=MAX_PER_PAGE)


def paging() -> tuple[int, int]:
    """The page number and the page size asked for."""
    return page_number(), per_page_arg()


def plan_or_404(key: str | None, *, name_it: bool = True) -> ActionPlan:
    """The plan with this key, or the default plan when no key is given. An unknown plan
    is a 404 that names it, or (name_it=False: /plans and /agencies, whose clients know
    that answer) the app's plain 404."""
    plan = sc.get_plan(db.session, key) if key else sc.default_plan(db.session)
    if plan is None:
        raise http_error(404, _("There is no plan %(key)s.", key=key or "") if name_it else None)
    return plan
