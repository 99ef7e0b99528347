"""The public registry: the list with search and filters, an organisation's page, the
live statistics beside the 2022 baseline, and coverage (who monitors what)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from tracker import clock
from tracker.extensions import db
from tracker.forms.registry import RegistryFilterForm
from tracker.i18n import current_locale
from tracker.services.plans import default_plan, get_plan, plan_choices
from tracker.services.registry.charts import comparison_chart, region_map
from tracker.services.registry.citations import source_citation
from tracker.services.registry.coverage import plan_coverage
from tracker.services.registry.display import template_helpers
from tracker.services.registry.labels import catalogue
from tracker.services.registry.links import links_of_organisation
from tracker.services.registry.search import (
    PRIVATE_CHOICE_DETAILS,
    choices_by_field,
    coalitions_of,
    get_public_organisation,
    list_coalitions,
    members_of,
    search_organisations,
    staff_figures,
)
from tracker.services.registry.stats import (
    baseline_about,
    comparison,
    load_baseline,
    registry_stats,
)
from tracker.services.reports import has_monitoring_record, organisation_atom
from tracker.vocabulary import OrganisationKind
from tracker.web.errors_map import http_error
from tracker.web.links import atom_response, language_arg, public_url
from tracker.web.pagination import existing_page, page_number

bp = Blueprint("registry", __name__, url_prefix="/registry")
bp.context_processor(lambda: template_helpers(current_locale()))

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


@bp.get("/")
def index():
    coalitions = list_coalitions(db.session)
    form = RegistryFilterForm(formdata=MultiDict(request.args) if request.args else None)
    form.set_choices(current_locale(), coalitions)
    if request.args and not form.validate():
        return render_template(
            "registry/list.html",
            form=form,
            page=None,
            coalitions=coalitions,
            message=_("Some filters are not valid; correct them and search again."),
        ), 400
    registry_filter = form.to_filter()
    page = existing_page(
        search_organisations(
            db.session,
            registry_filter,
            page_number(),
            locale=current_locale(),
            total_per_data_version=True,
        )
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


@bp.get("/<id:organisation_id>")
def organisation(organisation_id: int):
    found = get_public_organisation(db.session, organisation_id)
    if found is None:
        raise http_error(404)
    coalitions = coalitions_of(db.session, [found.id]).get(found.id, [])
    members, member_total = (
        members_of(db.session, found.id) if found.kind == OrganisationKind.COALITION else ([], 0)
    )
    links = links_of_organisation(db.session, found.id)
    today = clock.today()
    plan = default_plan(db.session)
    return render_template(
        "registry/organisation.html",
        organisation=found,
        source=source_citation(found.source or ""),
        answers=choices_by_field(found),
        staff=staff_figures(found),
        private_details=PRIVATE_CHOICE_DETAILS,
        coalitions=coalitions,
        members=members,
        member_total=member_total,
        current_links=[link for link in links if link.end_date is None or link.end_date >= today],
        past_links=[link for link in links if link.end_date is not None and link.end_date < today],
        today=today,
        # the organisation's monitoring report on the latest plan, when it has a record
        organisation_report_plan=plan.key
        if plan and has_monitoring_record(db.session, found.id, plan)
        else None,
    )


@bp.get("/<id:organisation_id>/feed.atom")
def organisation_feed(organisation_id: int):
    found = get_public_organisation(db.session, organisation_id)
    if found is None:
        raise http_error(404)
    self_url = public_url(
        "registry.organisation_feed",
        organisation_id=organisation_id,
        **language_arg(current_locale()),
    )
    body = organisation_atom(db.session, found, self_url, locale=current_locale())
    return atom_response(body)


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
        )
        for table, rows in tables.items()
    }
    labels = catalogue()
    tile_map = region_map(live.choices["regions"], labels.labels("regions", locale))
    return render_template(
        "registry/stats.html",
        stats=live,
        tables=tables,
        charts=charts,
        tile_map=tile_map,
        baseline=baseline,
        about=baseline_about(locale, baseline),
        live_label=live_label,
        baseline_label=baseline_label,
    )


@bp.get("/coverage")
def coverage():
    key = request.args.get("plan")
    plan = get_plan(db.session, key) if key else default_plan(db.session)
    if plan is None:
        if key:
            raise http_error(404)
        return render_template("registry/coverage.html", coverage=None, plans=[])
    return render_template(
        "registry/coverage.html",
        coverage=plan_coverage(db.session, plan),
        plans=plan_choices(db.session),
    )
