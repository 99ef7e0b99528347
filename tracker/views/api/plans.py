"""The public JSON API, version 1: plans and agencies."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

import tracker.services.plans as sc
from tracker.extensions import db
from tracker.views.api import serializers as serialize

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _plan_or_404(key: str | None):
    plan = sc.get_plan(db.session, key) if key else sc.default_plan(db.session)
    if plan is None:
        abort(404)
    return plan


@bp.get("/plans")
def plans():
    return jsonify({"plans": [serialize.plan_json(p) for p in sc.list_plans(db.session)]})


@bp.get("/plans/<key>")
def plan(key: str):
    plan = _plan_or_404(key)
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
    plan = _plan_or_404(request.args.get("plan"))
    card = sc.build_scorecard(db.session, plan)
    figures = sc.agency_figures(card.measures, card.states)
    return jsonify(
        {
            "plan": plan.key,
            "as_of": card.as_of.isoformat(),
            "agencies": [serialize.agency_figures_json(f) for f in figures],
        }
    )


@bp.get("/agencies/<key>")
def agency(key: str):
    plan = _plan_or_404(request.args.get("plan"))
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
    abort(404)
