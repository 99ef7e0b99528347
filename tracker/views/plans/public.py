"""The public scorecard: no login, server-rendered, works without JavaScript.

The scorecard (home page and per plan), the list of plans, a section, a measure (with the
organisations monitoring it, from the registry, and its approved history, from monitoring),
the agencies and one agency."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from tracker.extensions import db
from tracker.forms.scorecard import ChangesForm, MeasureFilterForm
from tracker.i18n import current_locale
from tracker.models import ActionPlan
from tracker.services.monitoring import PUBLIC_HISTORY_LIMIT, current_claims, public_history
from tracker.services.plans import ChangeQuery, approved_changes, plans_page
from tracker.services.plans import scorecard as sc
from tracker.services.plans.charts import monthly_completion_chart, section_completion_chart
from tracker.services.plans.status import measure_state
from tracker.services.registry import monitors_by_measure, monitors_of_measure
from tracker.services.reports import measure_atom
from tracker.vocabulary import AgencyRole, sort_by_name
from tracker.web.errors_map import http_error
from tracker.web.links import atom_response, language_arg, public_url
from tracker.web.pagination import Page, existing_page, page_number

bp = Blueprint("public", __name__)

T = TypeVar("T")

#: changes listed per page of the "what changed" view
CHANGES_PER_PAGE = 50
#: agencies listed per page of /agencies/ (a plan names dozens)
AGENCIES_PER_PAGE = 50


def _or_404(found: T | None) -> T:
    """What the address names, or a 404 answer."""
    if found is None:
        raise http_error(404)
    return found


def _plan_from_query() -> ActionPlan | None:
    """The plan ?plan= names (404 when there is none such), else the latest plan."""
    key = request.args.get("plan")
    plan = sc.plan_or_default(db.session, key)
    return _or_404(plan) if key else plan


def _monitoring(plan: ActionPlan, locale: str):
    """Measure id → ids of the organisations monitoring it today, and those organisations
    (each once, by name), for the scorecard's monitoring filters: one query."""
    by_measure = monitors_by_measure(db.session, plan.id)
    organisations = {m.organisation_id: m for found in by_measure.values() for m in found}
    ordered = sort_by_name(organisations.values(), locale)
    ids = {mid: frozenset(m.organisation_id for m in found) for mid, found in by_measure.items()}
    return ids, ordered


def _render_scorecard(plan: ActionPlan):
    locale = current_locale()
    form = MeasureFilterForm(formdata=MultiDict(request.args) if request.args else None)
    card = sc.build_scorecard(db.session, plan)
    sections = [group.section for group in card.sections]
    agencies = sort_by_name(
        (f.agency for f in sc.agency_figures(card.measures, card.states)), locale
    )
    monitors, organisations = _monitoring(plan, locale)
    form.set_choices(sections, agencies, locale, organisations, plan_ended=card.summary.is_closed)
    status = 200
    if request.args and not form.validate():
        status = 400
        measure_filter = sc.MeasureFilter()
    else:
        measure_filter = form.measure_filter()
        card = sc.apply_filter(card, measure_filter, monitors)
    months = sc.progress_by_month(db.session, plan, card.measures)
    return render_template(
        "plans/scorecard.html",
        plan=plan,
        several_plans=sc.has_several_plans(db.session),
        card=card,
        form=form,
        measure_filter=measure_filter,
        chart=section_completion_chart(sc.completion_by_section(card)),
        months=months,
        month_chart=monthly_completion_chart(months),
    ), status


@bp.get("/")
def index():
    plan = sc.default_plan(db.session)
    if plan is None:
        return render_template("plans/no_plan.html"), 200
    return _render_scorecard(plan)


@bp.get("/plans/")
def plans():
    page = existing_page(plans_page(db.session, page_number()))
    return render_template("plans/plans.html", page=page)


@bp.get("/plans/<key>/")
def plan(key: str):
    return _render_scorecard(_or_404(sc.get_plan(db.session, key)))


@bp.get("/plans/<key>/sections/<id:number>")
def section(key: str, number: int):
    plan = _or_404(sc.get_plan(db.session, key))
    card = sc.build_scorecard(db.session, plan, sc.MeasureFilter(section=number))
    group = _or_404(next(iter(card.filtered_sections), None))
    return render_template("plans/section.html", plan=plan, card=card, group=group)


@bp.get("/plans/<key>/measures/<code>")
def measure(key: str, code: str):
    plan = _or_404(sc.get_plan(db.session, key))
    measure = _or_404(sc.get_measure(db.session, plan, code))
    history = public_history(db.session, measure.id, PUBLIC_HISTORY_LIMIT)
    links = measure.agency_links
    return render_template(
        "plans/measure.html",
        plan=plan,
        measure=measure,
        state=measure_state(db.session, measure),
        executors=[link for link in links if link.role == AgencyRole.EXECUTOR],
        recommended=[link for link in links if link.role == AgencyRole.RECOMMENDED],
        monitoring_organisations=monitors_of_measure(
            db.session, measure.id, locale=current_locale()
        ),
        approved_updates=history.updates,
        approved_updates_total=history.total,
        evidence_by_update=history.evidence_by_update,
        private_evidence_counts=history.private_counts,
        government_claims=current_claims(db.session, measure),
    )


@bp.get("/plans/<key>/changes")
def changes(key: str):
    """Every approved update and claim between two dates, newest first, a page at a time."""
    plan = _or_404(sc.get_plan(db.session, key))
    form = ChangesForm(formdata=MultiDict(request.args) if request.args else None)
    status, found, total = 200, [], 0
    number = page_number()
    if request.args and not form.validate():
        status = 400
    else:
        query = ChangeQuery(plan_id=plan.id, since=form.since.data, until=form.until.data)
        found, total = approved_changes(
            db.session, query, limit=CHANGES_PER_PAGE, offset=(number - 1) * CHANGES_PER_PAGE
        )
    page = existing_page(Page(found, number, CHANGES_PER_PAGE, total))
    dates = {name: request.args[name] for name in ("since", "until") if request.args.get(name)}
    return render_template(
        "plans/changes.html", plan=plan, form=form, page=page, dates=dates
    ), status


@bp.get("/plans/<key>/measures/<code>/feed.atom")
def measure_feed(key: str, code: str):
    plan = _or_404(sc.get_plan(db.session, key))
    measure = _or_404(sc.get_measure(db.session, plan, code))
    self_url = public_url(
        "public.measure_feed", key=key, code=code, **language_arg(current_locale())
    )
    return atom_response(measure_atom(db.session, measure, self_url, locale=current_locale()))


@bp.get("/agencies/")
def agencies():
    plan = _plan_from_query()
    if plan is None:
        return redirect(url_for("public.index"))
    card = sc.build_scorecard(db.session, plan)
    figures = sc.agency_figures(card.measures, card.states)
    page = existing_page(Page.of(figures, page_number(), AGENCIES_PER_PAGE))
    return render_template("plans/agencies.html", plan=plan, page=page, card=card)


@bp.get("/agencies/<key>")
def agency(key: str):
    plan = _or_404(_plan_from_query())
    card = sc.build_scorecard(db.session, plan)
    everyone = sc.agency_figures(card.measures, card.states)
    figures = _or_404(next((f for f in everyone if f.agency.key == key), None))
    return render_template("plans/agency.html", plan=plan, figures=figures, card=card)
