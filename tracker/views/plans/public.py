"""The public scorecard: no login, server-rendered, works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from tracker.extensions import db
from tracker.forms.scorecard import MeasureFilterForm
from tracker.i18n import current_locale
from tracker.services.monitoring import PUBLIC_HISTORY_LIMIT, current_claims, public_history
from tracker.services.plans import scorecard as sc
from tracker.services.plans.charts import section_completion_chart
from tracker.services.plans.status import measure_state
from tracker.services.registry import monitors_of_measure
from tracker.vocabulary import AgencyRole, Completion

bp = Blueprint("public", __name__)


def _plan_or_404(key: str):
    plan = sc.get_plan(db.session, key)
    if plan is None:
        abort(404)
    return plan


def _filter_from(form: MeasureFilterForm) -> sc.MeasureFilter:
    return sc.MeasureFilter(
        section=int(form.section.data) if form.section.data else None,
        agency=form.agency.data or None,
        completion=Completion(form.completion.data) if form.completion.data else None,
        overdue={"yes": True, "no": False}.get(form.overdue.data or ""),
        query=(form.q.data or "").strip(),
    )


def _render_scorecard(plan):
    locale = current_locale()
    form = MeasureFilterForm(formdata=MultiDict(request.args) if request.args else None)
    card = sc.build_scorecard(db.session, plan)
    sections = [group.section for group in card.sections]
    agencies = sorted(
        (f.agency for f in sc.agency_figures(card.measures, card.states)),
        key=lambda a: a.name(locale).casefold(),
    )
    form.set_choices(sections, agencies, locale)
    status = 200
    if request.args and not form.validate():
        status = 400
        measure_filter = sc.MeasureFilter()
    else:
        measure_filter = _filter_from(form)
        card = sc.apply_filter(card, measure_filter)
    return render_template(
        "plans/scorecard.html",
        plan=plan,
        plans=sc.list_plans(db.session),
        card=card,
        form=form,
        measure_filter=measure_filter,
        chart=section_completion_chart(sc.completion_by_section(card)),
    ), status


@bp.get("/")
def index():
    plan = sc.default_plan(db.session)
    if plan is None:
        return render_template("plans/no_plan.html"), 200
    return _render_scorecard(plan)


@bp.get("/plans/")
def plans():
    return render_template("plans/plans.html", plans=sc.list_plans(db.session))


@bp.get("/plans/<key>/")
def plan(key: str):
    return _render_scorecard(_plan_or_404(key))


@bp.get("/plans/<key>/sections/<int:number>")
def section(key: str, number: int):
    plan = _plan_or_404(key)
    card = sc.build_scorecard(db.session, plan, sc.MeasureFilter(section=number))
    if not card.filtered_sections:
        abort(404)
    group = card.filtered_sections[0]
    return render_template("plans/section.html", plan=plan, card=card, group=group)


@bp.get("/plans/<key>/measures/<code>")
def measure(key: str, code: str):
    plan = _plan_or_404(key)
    measure = sc.get_measure(db.session, plan, code)
    if measure is None:
        abort(404)
    state = measure_state(db.session, measure)
    history = public_history(db.session, measure.id, PUBLIC_HISTORY_LIMIT)
    executors = [link for link in measure.agency_links if link.role == AgencyRole.EXECUTOR]
    recommended = [link for link in measure.agency_links if link.role == AgencyRole.RECOMMENDED]
    return render_template(
        "plans/measure.html",
        plan=plan,
        measure=measure,
        state=state,
        executors=executors,
        recommended=recommended,
        monitoring_organisations=monitors_of_measure(db.session, measure.id),
        approved_updates=history.updates,
        approved_updates_total=history.total,
        evidence_by_update=history.evidence_by_update,
        private_evidence_counts=history.private_counts,
        government_claims=current_claims(db.session, measure.id),
    )


def _plan_from_query():
    key = request.args.get("plan")
    plan = sc.get_plan(db.session, key) if key else sc.default_plan(db.session)
    if plan is None and key:
        abort(404)
    return plan


@bp.get("/agencies/")
def agencies():
    plan = _plan_from_query()
    if plan is None:
        return redirect(url_for("public.index"))
    card = sc.build_scorecard(db.session, plan)
    figures = sc.agency_figures(card.measures, card.states)
    return render_template("plans/agencies.html", plan=plan, figures=figures, card=card)


@bp.get("/agencies/<key>")
def agency(key: str):
    plan = _plan_from_query()
    if plan is None:
        abort(404)
    card = sc.build_scorecard(db.session, plan)
    figures = next(
        (f for f in sc.agency_figures(card.measures, card.states) if f.agency.key == key), None
    )
    if figures is None:
        abort(404)
    return render_template("plans/agency.html", plan=plan, figures=figures, card=card)
