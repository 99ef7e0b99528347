"""Public iCalendar feeds of due dates: one per plan, one per organisation's monitored
measures. No login (calendar apps cannot log in) and no personal data."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.extensions import db
from tracker.i18n import current_locale
from tracker.models import ActionPlan, Organisation
from tracker.services.accounts import is_monitor
from tracker.services.reminders import calendar as feeds
from tracker.services.reminders.digests import LinkBuilder

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _measure_url_builder():
    """Links in a feed use PUBLIC_BASE_URL, like the emails: a calendar app keeps them."""
    links = LinkBuilder(current_app)
    return lambda measure: links.url("public.measure", key=measure.plan.key, code=measure.code)


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/")
def index():
    plans = db.session.scalars(select(ActionPlan).order_by(ActionPlan.start_year.desc())).all()
    organisation = None
    if is_monitor(current_user):
        organisation = db.session.get(Organisation, current_user.organisation_id)
    return render_template("reminders/calendar/index.html", plans=plans, organisation=organisation)


@bp.get("/plan/<plan_key>.ics")
def plan_feed(plan_key: str):
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.key == plan_key))
    if plan is None:
        abort(404)
    locale = current_locale()
    measures = feeds.plan_measures(db.session, plan)
    events = feeds.feed_events(db.session, measures, locale, _measure_url_builder())
    name = _("Due dates: %(plan)s", plan=plan.title(locale))
    return _ics_response(feeds.render_ics(name, events), f"{plan.key}.ics")


@bp.get("/organisation/<int:organisation_id>.ics")
def organisation_feed(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.is_archived:
        abort(404)
    locale = current_locale()
    measures = feeds.organisation_measures(db.session, organisation)
    events = feeds.feed_events(db.session, measures, locale, _measure_url_builder())
    name = _("Due dates monitored by %(organisation)s", organisation=organisation.name(locale))
    return _ics_response(feeds.render_ics(name, events), f"organisation-{organisation.id}.ics")
