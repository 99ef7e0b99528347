"""Public iCalendar feeds of due dates: one per plan, one per organisation's monitored
measures. No login (calendar apps cannot log in) and no personal data."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import current_user

from tracker.extensions import db
from tracker.i18n import current_locale
from tracker.models import Organisation
from tracker.services import reminders
from tracker.services.accounts import is_monitor
from tracker.services.plans import get_plan, list_plans
from tracker.web.errors_map import http_error
from tracker.web.links import language_arg, public_url
from tracker.web.permissions import get_or_404

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/")
def index():
    """The feeds' addresses, on PUBLIC_BASE_URL: a calendar app keeps them."""
    locale = current_locale()
    plans = list_plans(db.session)
    feeds = [
        (plan, public_url("calendar.plan_feed", plan_key=plan.key, **language_arg(locale)))
        for plan in plans
    ]
    organisation = organisation_feed_url = None
    if is_monitor(current_user):
        organisation = db.session.get(Organisation, current_user.organisation_id)
    if organisation is not None:
        organisation_feed_url = public_url(
            "calendar.organisation_feed", organisation_id=organisation.id, **language_arg(locale)
        )
    return render_template(
        "reminders/calendar/index.html",
        feeds=feeds,
        organisation=organisation,
        organisation_feed_url=organisation_feed_url,
    )


@bp.get("/plan/<plan_key>.ics")
def plan_feed(plan_key: str):
    plan = get_plan(db.session, plan_key)
    if plan is None:
        raise http_error(404)
    body = reminders.plan_calendar(db.session, plan, current_locale())
    return _ics_response(body, f"{plan.key}.ics")


@bp.get("/organisation/<id:organisation_id>.ics")
def organisation_feed(organisation_id: int):
    organisation = get_or_404(Organisation, organisation_id)
    if organisation.is_archived:
        raise http_error(404)
    body = reminders.organisation_calendar(db.session, organisation, current_locale())
    return _ics_response(body, f"organisation-{organisation.id}.ics")
