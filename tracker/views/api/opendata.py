"""The JSON API's open data endpoints: measures with their state (filtered and paged), one
measure, approved updates, a plan's scorecard, and the OpenAPI document of every /api/v1
route. Public material only; figures come from services.status."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, NotFound

import tracker.services.plans as sc
import tracker.services.reports as exports
from tracker import clock
from tracker.extensions import db
from tracker.models import ActionPlan, Measure, Organisation, StatusUpdate
from tracker.services.plans import measure_states, summarize
from tracker.services.reports import monitoring_coverage, overdue_agencies
from tracker.views.api import serializers as serialize
from tracker.views.api.openapi import openapi_document
from tracker.vocabulary import Completion

bp = Blueprint("opendata_api", __name__, url_prefix="/api/v1")

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500


def _fail(error_type, message):
    error = error_type()
    error.tracker_message = str(message)
    return error


# --- query arguments --------------------------------------------------------------------------


def _int_arg(name: str, default: int | None = None, low: int = 1, high: int | None = None):
    value = request.args.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        limit = f"{low}–{high}" if high is not None else f"≥ {low}"
        raise _fail(
            BadRequest, _("%(name)s must be a whole number (%(limit)s).", name=name, limit=limit)
        )
    return int(value)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise _fail(BadRequest, _("%(name)s must be a date as YYYY-MM-DD.", name=name)) from None
    return parsed


def _as_of() -> date:
    as_of = _date_arg("as_of") or clock.today()
    if as_of > clock.today():
        raise _fail(BadRequest, _("as_of cannot be in the future."))
    return as_of


def _plan(key: str | None) -> ActionPlan:
    plan = sc.get_plan(db.session, key) if key else sc.default_plan(db.session)
    if plan is None:
        raise _fail(NotFound, _("There is no plan %(key)s.", key=key or ""))
    return plan


def _paging() -> tuple[int, int]:
    return (
        _int_arg("page", 1),
        _int_arg("per_page", DEFAULT_PER_PAGE, high=MAX_PER_PAGE),
    )


def _page_json(page: int, per_page: int, total: int) -> dict:
    return {"page": page, "per_page": per_page, "total": total}


# --- JSON shapes ------------------------------------------------------------------------------


def update_json(update: StatusUpdate) -> dict:
    """An approved update as the public sees it: organisation, never author."""
    public = exports.public_evidence(update)
    return {
        "id": update.id,
        "measure": {
            "id": update.measure_id,
            "plan": update.measure.plan.key,
            "code": update.measure.code,
        },
        "organisation": {
            "id": update.organisation_id,
            "name": {"az": update.organisation.name_az, "en": update.organisation.name_en},
        },
        "completion": update.completion,
        "progress_percent": update.progress_percent,
        "as_of_date": update.as_of_date.isoformat(),
        "narrative": {"az": update.narrative_az, "en": update.narrative_en},
        "delay_reasons": list(update.delay_reasons or []),
        "replaces_id": update.replaces_id,
        "approved_at": update.decided_dt.isoformat() if update.decided_dt else None,
        "evidence": [serialize.evidence_json(item) for item in public],
        "private_evidence_count": len(update.evidence) - len(public),
    }


def _measure_json(plan: ActionPlan, measure: Measure, state) -> dict:
    return {
        "plan": plan.key,
        **serialize.measure_json(measure, state),
        "url": url_for("public.measure", key=plan.key, code=measure.code, _external=True),
        "api_url": url_for(
            "opendata_api.measure", plan_key=plan.key, code=measure.code, _external=True
        ),
    }


# --- endpoints --------------------------------------------------------------------------------


@bp.get("/measures")
def measures():
    plan = _plan(request.args.get("plan"))
    completion = request.args.get("completion") or None
    if completion is not None and completion not in {c.value for c in Completion}:
        raise _fail(
            BadRequest,
            _("completion must be one of: %(keys)s.", keys=", ".join(c.value for c in Completion)),
        )
    overdue_arg = request.args.get("overdue") or None
    if overdue_arg not in (None, "true", "false"):
        raise _fail(BadRequest, _("overdue must be true or false."))
    measure_filter = sc.MeasureFilter(
        section=_int_arg("section"),
        agency=request.args.get("agency") or None,
        completion=Completion(completion) if completion else None,
        overdue=None if overdue_arg is None else overdue_arg == "true",
    )
    page, per_page = _paging()
    as_of = _as_of()
    all_measures = sc.load_measures(db.session, plan)
    states = measure_states(db.session, all_measures, as_of)
    kept = [m for m in all_measures if measure_filter.accepts(m, states[m.id])]
    shown = kept[(page - 1) * per_page : page * per_page]
    return jsonify(
        {
            "plan": plan.key,
            "as_of": as_of.isoformat(),
            **_page_json(page, per_page, len(kept)),
            "summary": serialize.summary_json(summarize(states[m.id] for m in kept)),
            "measures": [_measure_json(plan, m, states[m.id]) for m in shown],
        }
    )


@bp.get("/measures/<plan_key>/<code>")
def measure(plan_key: str, code: str):
    plan = _plan(plan_key)
    found = sc.get_measure(db.session, plan, code)
    if found is None:
        raise _fail(NotFound, _("The plan has no measure %(code)s.", code=code))
    as_of = _as_of()
    state = measure_states(db.session, [found], as_of)[found.id]
    latest = None
    if state.latest_approved_update_id:
        update = db.session.scalar(
            exports.approved_updates_statement().where(
                StatusUpdate.id == state.latest_approved_update_id
            )
        )
        latest = update_json(update) if update else None
    return jsonify(
        {
            **_measure_json(plan, found, state),
            "section_title": serialize.bilingual(found.section, "title"),
            "latest_update": latest,
            "updates_url": url_for(
                "opendata_api.updates", plan=plan.key, measure=found.code, _external=True
            ),
        }
    )


def _updates_statement(session: Session):
    statement = exports.approved_updates_statement()
    plan_key = request.args.get("plan")
    code = request.args.get("measure")
    if code and not plan_key:
        raise _fail(BadRequest, _("measure needs plan as well."))
    if plan_key:
        plan = _plan(plan_key)
        statement = statement.where(Measure.plan_id == plan.id)
        if code:
            statement = statement.where(Measure.code == code)
    organisation_id = _int_arg("organisation")
    if organisation_id is not None:
        if session.get(Organisation, organisation_id) is None:
            raise _fail(NotFound, _("There is no such organisation."))
        statement = statement.where(StatusUpdate.organisation_id == organisation_id)
    since = _date_arg("since")
    if since is not None:
        statement = statement.where(StatusUpdate.as_of_date >= since)
    return statement


@bp.get("/updates")
def updates():
    statement = _updates_statement(db.session)
    page, per_page = _paging()
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique()
    return jsonify(
        {
            **_page_json(page, per_page, total or 0),
            "updates": [update_json(u) for u in rows],
        }
    )


@bp.get("/scorecard/<plan_key>")
def scorecard(plan_key: str):
    plan = _plan(plan_key)
    as_of = _as_of()
    all_measures = sc.load_measures(db.session, plan)
    states = measure_states(db.session, all_measures, as_of)
    coverage = monitoring_coverage(db.session, [m.id for m in all_measures], as_of)
    sections = []
    for section in sc.load_sections(db.session, plan):
        section_states = [states[m.id] for m in all_measures if m.section_id == section.id]
        sections.append(
            {
                "number": section.number,
                "title": serialize.bilingual(section, "title"),
                "summary": serialize.summary_json(summarize(section_states)),
            }
        )
    return jsonify(
        {
            "plan": plan.key,
            "title": serialize.bilingual(plan, "title"),
            "as_of": as_of.isoformat(),
            "summary": serialize.summary_json(summarize(states.values())),
            "coverage": {
                "measures": coverage.total,
                "monitored_measures": coverage.monitored,
                "monitored_share": coverage.share,
                "monitoring_organisations": coverage.organisations,
            },
            "sections": sections,
            "agencies_with_overdue": [
                {
                    **serialize.agency_json(row.agency),
                    "overdue": row.overdue,
                    "measures": row.total,
                }
                for row in overdue_agencies(all_measures, states)
            ],
            "report_url": url_for(
                "reports.plan_pdf", key=plan.key, as_of=as_of.isoformat(), _external=True
            ),
        }
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
