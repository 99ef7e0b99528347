"""The public registry: the list with search and filters, an organisation's page, the
live statistics beside the 2022 baseline, and coverage (who monitors what)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from tracker import clock
from tracker.extensions import db
from tracker.forms.registry import RegistryFilterForm
from tracker.i18n import current_locale
from tracker.services.plans import default_plan, get_plan, list_plans
from tracker.services.registry import organisations as reg
from tracker.services.registry.charts import comparison_chart, region_tile_map
from tracker.services.registry.coverage import plan_coverage
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue
from tracker.services.registry.links import links_of_organisation
from tracker.services.registry.stats import comparison, load_baseline, registry_stats
from tracker.services.reports import has_monitoring_record
from tracker.vocabulary import OrganisationKind

bp = Blueprint("registry", __name__, url_prefix="/registry")

#: the statistics page's tables, in the report's order
STATS_TABLES = (
    "legal_status",
    "founding_year_groups",
    "services",
    "beneficiaries",
    "regions",
    "donors",
    "training_needs",
    "membership",
)


def web_link(text: str) -> str | None:
    """An href for a website the survey gave, only for web addresses (never javascript:)."""
    text = (text or "").strip()
    if re.match(r"^https?://[^\s<>\"']+$", text, re.IGNORECASE):
        return text
    if re.match(r"^(www\.)?[\w-]+(\.[\w-]+)+(/[^\s<>\"']*)?$", text):
        return f"https://{text}"
    return None


def registry_template_helpers() -> dict:
    labels = catalogue()
    locale = current_locale()
    return {
        "survey_label": lambda list_name, key: labels.label(list_name, key, locale),
        "survey_question": lambda name: labels.questions[name].short_text(locale),
        "web_link": web_link,
        "REGISTRY_MULTI_FIELDS": MULTI_FIELDS,
        "STAFF_FIELDS": STAFF_FIELDS,
    }


bp.context_processor(registry_template_helpers)


def filter_form_from_request(coalitions) -> tuple[RegistryFilterForm, bool]:
    """The filter form read from the query string, and whether it is valid."""
    form = RegistryFilterForm(formdata=MultiDict(request.args) if request.args else None)
    form.set_choices(current_locale(), coalitions)
    return form, (not request.args or form.validate())


@bp.get("/")
def index():
    coalitions = reg.list_coalitions(db.session)
    form, valid = filter_form_from_request(coalitions)
    if not valid:
        return render_template(
            "registry/list.html",
            form=form,
            page=None,
            coalitions=coalitions,
            message=_("Some filters are not valid; correct them and search again."),
        ), 400
    registry_filter = form.to_filter()
    page = reg.search_organisations(
        db.session, registry_filter, form.page_number, locale=current_locale()
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "registry/list.html",
        form=form,
        page=page,
        coalitions=coalitions,
        page_args=args,
        is_filtered=registry_filter.is_active,
    )


@bp.get("/<int:organisation_id>")
def organisation(organisation_id: int):
    found = reg.get_public_organisation(db.session, organisation_id)
    if found is None:
        abort(404)
    coalitions = reg.coalitions_of(db.session, [found.id]).get(found.id, [])
    members, member_total = (
        reg.members_of(db.session, found.id)
        if found.kind == OrganisationKind.COALITION
        else ([], 0)
    )
    links = links_of_organisation(db.session, found.id)
    today = clock.today()
    plan = default_plan(db.session)
    return render_template(
        "registry/organisation.html",
        organisation=found,
        answers=reg.choices_by_field(found),
        private_details=reg.PRIVATE_CHOICE_DETAILS,
        coalitions=coalitions,
        members=members,
        member_total=member_total,
        current_links=[link for link in links if link.end_date is None or link.end_date >= today],
        past_links=[link for link in links if link.end_date is not None and link.end_date < today],
        today=today,
        # the organisation's monitoring report on the latest plan, when it has a record
        organisation_report_plan=plan.key
        if plan and has_monitoring_record(db.session, found.id, plan.id)
        else None,
    )


@bp.get("/stats")
def stats():
    locale = current_locale()
    live = registry_stats(db.session)
    tables = {table: comparison(live, table, locale) for table in STATS_TABLES}
    live_label = _("Registry now (%(count)s organisations)", count=live.total)
    baseline = load_baseline()
    baseline_label = _("Mapping report 2022 (%(count)s respondents)", count=baseline["total"])
    headings = {
        "legal_status": _("Legal status"),
        "founding_year_groups": _("Year founded"),
        "services": _("Services provided"),
        "beneficiaries": _("Beneficiaries and target groups"),
        "regions": _("Geographic coverage"),
        "donors": _("Main donors and partners"),
        "training_needs": _("Training needs"),
        "membership": _("Membership of networks"),
    }
    charts = {
        table: comparison_chart(
            f"chart-{table}",
            _(
                "%(table)s: share of organisations, registry now and 2022 report",
                table=headings[table],
            ),
            rows,
            live_label,
            baseline_label,
        )
        for table, rows in tables.items()
    }
    labels = catalogue()
    tile_map = region_tile_map(
        "region-map",
        _("Organisations working in each economic region"),
        live.choices["regions"],
        labels.labels("regions", locale),
        _("Fewer organisations → more"),
    )
    return render_template(
        "registry/stats.html",
        stats=live,
        tables=tables,
        charts=charts,
        tile_map=tile_map,
        baseline=baseline,
        live_label=live_label,
        baseline_label=baseline_label,
    )


@bp.get("/coverage")
def coverage():
    key = request.args.get("plan")
    plan = get_plan(db.session, key) if key else default_plan(db.session)
    if plan is None:
        if key:
            abort(404)
        return render_template("registry/coverage.html", coverage=None, plans=[])
    return render_template(
        "registry/coverage.html",
        coverage=plan_coverage(db.session, plan),
        plans=list_plans(db.session),
    )
