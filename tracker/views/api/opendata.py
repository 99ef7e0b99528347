"""The JSON API's open data: measures with their state (filtered and paged), one measure,
approved updates, a plan's scorecard, and the OpenAPI document of every /api/v1 route.
Public material only; the figures are the plans feature's (services.plans)."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _

import tracker.services.plans as sc
import tracker.services.reports as exports
from tracker.extensions import db
from tracker.models import ActionPlan, Measure, Organisation, StatusUpdate
from tracker.services.plans import measure_states, summarize
from tracker.services.registry import monitors_by_measure
from tracker.services.reports import as_of_range, monitoring_coverage, overdue_agencies
from tracker.views.api import bp
from tracker.views.api import serializers as serialize
from tracker.views.api.arguments import (
    as_of_arg,
    bool_arg,
    id_arg,
    paging,
    past_date_arg,
    plan_or_404,
)
from tracker.views.api.openapi import openapi_document
from tracker.vocabulary import Completion
from tracker.web.errors_map import http_error
from tracker.web.links import public_url


def _page_json(page: int | None, per_page: int, total: int) -> dict:
    return {"page": page, "per_page": per_page, "total": total}


def _measure_json(plan: ActionPlan, measure: Measure, state) -> dict:
    return {
        "plan": plan.key,
        **serialize.measure_json(measure, state),
        "url": public_url("public.measure", key=plan.key, code=measure.code),
        "api_url": public_url("api.measure", plan_key=plan.key, code=measure.code),
    }


# --- endpoints --------------------------------------------------------------------------------


def _check_organisation(organisation_id: int | None) -> None:
    """404 for an organisation that does not exist, as the updates list answers."""
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise http_error(404, _("There is no such organisation."))


@bp.get("/measures")
def measures():
    plan = plan_or_404(request.args.get("plan"))
    completion = request.args.get("completion") or None
    if completion is not None and completion not in {c.value for c in Completion}:
        raise http_error(
            400,
            _("completion must be one of: %(keys)s.", keys=", ".join(c.value for c in Completion)),
        )
    measure_filter = sc.MeasureFilter(
        section=id_arg("section"),
        agency=request.args.get("agency") or None,
        completion=Completion(completion) if completion else None,
        # the scorecard's "Deadline" filter: after the plan ended, not complete when it did
        late=bool_arg("overdue"),
        disputed=bool_arg("disputed"),
        monitored=bool_arg("monitored"),
        organisation=id_arg("organisation"),
    )
    page, per_page = paging()
    as_of = as_of_arg(plan)
    all_measures = sc.load_measures(db.session, plan)
    sc.check_section(all_measures, measure_filter.section)
    sc.check_agency(all_measures, measure_filter.agency)
    _check_organisation(measure_filter.organisation)
    states = measure_states(db.session, all_measures, as_of)
    monitors = {
        measure_id: frozenset(m.organisation_id for m in found)
        for measure_id, found in monitors_by_measure(db.session, plan.id, as_of).items()
    }
    kept = [
        m
        for m in all_measures
        if measure_filter.accepts(m, states[m.id], monitors.get(m.id, frozenset()))
    ]
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
    plan = plan_or_404(plan_key)
    found = sc.get_measure(db.session, plan, code)
    if found is None:
        raise http_error(404, _("The plan has no measure %(code)s.", code=code))
    as_of = as_of_arg(plan)
    state = measure_states(db.session, [found], as_of)[found.id]
    latest = None
    if state.latest_approved_update_id:
        update = exports.approved_update(db.session, state.latest_approved_update_id)
        latest = serialize.update_json(update) if update else None
    return jsonify(
        {
            **_measure_json(plan, found, state),
            "section_title": serialize.bilingual(found.section, "title"),
            "latest_update": latest,
            "updates_url": public_url("api.updates", plan=plan.key, measure=found.code),
        }
    )


def _updates_query() -> sc.ChangeQuery:
    """The list's filters from the query string; an unknown plan, measure or organisation
    is a 404."""
    plan_key = request.args.get("plan")
    code = request.args.get("measure")
    if code and not plan_key:
        raise http_error(400, _("measure needs plan as well."))
    plan = plan_or_404(plan_key) if plan_key else None
    measure_id = sc.measure_id(db.session, plan, code) if plan and code else None
    if code and measure_id is None:
        raise http_error(404, _("The plan has no measure %(code)s.", code=code))
    organisation_id = id_arg("organisation")
    _check_organisation(organisation_id)
    return sc.ChangeQuery(
        plan_id=plan.id if plan else None,
        measure_id=measure_id,
        organisation_id=organisation_id,
        since=past_date_arg("since"),
    )


def _next_url(per_page: int, last: StatusUpdate) -> str:
    """The address of the next page: the same filters, after the page's last update."""
    filters = {
        name: request.args[name]
        for name in ("plan", "measure", "organisation", "since")
        if request.args.get(name)
    }
    return public_url("api.updates", **filters, per_page=per_page, after=last.id)


@bp.get("/updates")
def updates():
    query = _updates_query()
    page, per_page = paging()
    after = id_arg("after")
    if after is not None and "page" in request.args:
        raise http_error(400, _("Use either page or after, not both."))
    found = exports.approved_updates_page(db.session, query, per_page, page=page, after=after)
    return jsonify(
        {
            **_page_json(None if after is not None else page, per_page, found.total),
            "next": _next_url(per_page, found.updates[-1]) if found.has_next else None,
            "updates": [serialize.update_json(u) for u in found.updates],
        }
    )


@bp.get("/scorecard/<plan_key>")
def scorecard(plan_key: str):
    plan = plan_or_404(plan_key)
    as_of = as_of_arg(plan)
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
            "report_url": _report_url(plan, as_of),
        }
    )


def _report_url(plan: ActionPlan, as_of: date) -> str:
    """The plan report for the same date, or for the nearest date a report may describe
    (as_of_arg has refused dates before the plan's start)."""
    day = min(as_of, as_of_range(plan.start_year, plan.end_year)[1])
    return public_url("reports.plan_pdf", key=plan.key, as_of=day.isoformat())


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
