"""The JSON API's plans and agencies: every plan, one plan with its scorecard, and the
agencies a plan names with their figures."""

from __future__ import annotations

from flask import jsonify, request

import tracker.services.plans as sc
from tracker.extensions import db
from tracker.pagination import Page
from tracker.views.api import bp
from tracker.views.api import serializers as serialize
from tracker.views.api.arguments import paging, plan_or_404
from tracker.web.errors_map import http_error


@bp.get("/plans")
def plans():
    number, per_page = paging()
    page = sc.plans_page(db.session, number, per_page)
    return jsonify(
        {**serialize.page_json(page), "plans": [serialize.plan_json(p) for p in page.items]}
    )


@bp.get("/plans/<key>")
def plan(key: str):
    plan = plan_or_404(key, name_it=False)
    card = sc.build_scorecard(db.session, plan)
    sections = [
        serialize.section_json(
            group.section,
            [serialize.measure_json(m, card.states[m.id]) for m in group.measures],
            group.summary,
        )
        for group in card.sections
    ]
    return jsonify(
        {
            **serialize.plan_json(plan),
            "as_of": card.as_of.isoformat(),
            "summary": serialize.summary_json(card.summary),
            "sections": sections,
        }
    )


@bp.get("/agencies")
def agencies():
    plan = plan_or_404(request.args.get("plan"), name_it=False)
    number, per_page = paging()
    card = sc.build_scorecard(db.session, plan)
    page = Page.of(sc.agency_figures(card.measures, card.states), number, per_page)
    return jsonify(
        {
            "plan": plan.key,
            "as_of": card.as_of.isoformat(),
            **serialize.page_json(page),
            "agencies": [serialize.agency_figures_json(f) for f in page.items],
        }
    )


@bp.get("/agencies/<key>")
def agency(key: str):
    plan = plan_or_404(request.args.get("plan"), name_it=False)
    card = sc.build_scorecard(db.session, plan)
    for figures in sc.agency_figures(card.measures, card.states):
        if figures.agency.key == key:
            return jsonify(
                {
                    "plan": plan.key,
                    "as_of": card.as_of.isoformat(),
                    **serialize.agency_figures_json(figures),
                }
            )
    raise http_error(404)
