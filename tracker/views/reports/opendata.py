"""Open data: CSV and XLSX exports, the Atom feed of approved updates, and the page that
lists them with the JSON API."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from tracker import clock
from tracker.dates import parse_given_day
from tracker.extensions import db
from tracker.i18n import current_locale
from tracker.models import ActionPlan
from tracker.services.plans import get_plan, list_plans
from tracker.services.reports import exports, refuse_before_start, updates_atom
from tracker.web.errors_map import http_error
from tracker.web.links import atom_response, language_arg, public_url

bp = Blueprint("opendata", __name__)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _plan_from_query() -> ActionPlan | None:
    key = request.args.get("plan")
    if not key:
        return None
    plan = get_plan(db.session, key)
    if plan is None:
        raise http_error(404, _("There is no plan %(key)s.", key=key))
    return plan


def _as_of_from_query() -> date:
    values = request.args.getlist("as_of")
    if not any(value.strip() for value in values):
        return clock.today()
    try:
        as_of = parse_given_day(values)
    except ValueError:
        raise http_error(400, _("Give the date as YYYY-MM-DD, for example 2021-06-30.")) from None
    if as_of > clock.today():
        raise http_error(400, _("The date cannot be in the future."))
    return as_of


def _file_response(table: exports.Table, fmt: str) -> Response:
    if fmt == "csv":
        body: str | bytes = exports.to_csv(table)
    else:
        body = exports.to_xlsx(table)
    response = Response(body, content_type=FORMATS[fmt])
    stamp = clock.today().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}-{stamp}.{fmt}"'
    return response


@bp.get("/data/")
def index():
    return render_template(
        "reports/opendata/index.html",
        plans=list_plans(db.session),
        measure_columns=exports.MEASURE_COLUMNS,
        update_columns=exports.UPDATE_COLUMNS,
    )


@bp.get("/data/measures.<any(csv, xlsx):fmt>")
def measures(fmt: str):
    plan = _plan_from_query()
    as_of = _as_of_from_query()
    plans = [plan] if plan else list_plans(db.session)
    if plans:
        # every plan's file: a date before the first plan began describes none of them
        refuse_before_start(as_of, min(p.start_year for p in plans))
    return _file_response(exports.measures_table(db.session, plans, as_of), fmt)


@bp.get("/data/updates.<any(csv, xlsx):fmt>")
def updates(fmt: str):
    return _file_response(exports.updates_table(db.session, _plan_from_query()), fmt)


@bp.get("/data/organisations.<any(csv, xlsx):fmt>")
def organisations(fmt: str):
    return _file_response(exports.organisations_table(db.session), fmt)


@bp.get("/feeds/updates.atom")
def updates_feed():
    plan = _plan_from_query()
    # the feed's own address, on the public site like every link in it
    asked = {"plan": request.args["plan"]} if request.args.get("plan") else {}
    self_url = public_url("opendata.updates_feed", **asked, **language_arg(current_locale()))
    body = updates_atom(db.session, self_url, locale=current_locale(), plan=plan)
    return atom_response(body)
