"""PDF report downloads and the public archive of monthly plan reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    send_file,
    send_from_directory,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker import clock
from tracker.dates import show_month
from tracker.extensions import db
from tracker.forms.filters import GetForm
from tracker.i18n import chosen_locale, current_locale
from tracker.models import ActionPlan, ReportSnapshot
from tracker.services.plans import default_plan, get_plan, list_plans
from tracker.services.reports import (
    LANGUAGES,
    ReportSpec,
    as_of_range,
    checked_as_of,
    request_report,
)
from tracker.services.reports.archive import archive_folder, find_snapshot, list_snapshots
from tracker.vocabulary import ReportKind, ReportRequestStatus
from tracker.web.errors_map import http_error
from tracker.web.forms import IsoDateField, language_choices

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.app_context_processor
def report_helpers() -> dict:
    """For the pages' report links: the day a plan's reports describe unless asked, when
    that is not today (the plan has ended), so that the links can say so."""

    def ended_plan_report_date(plan: ActionPlan) -> date | None:
        last = as_of_range(plan.start_year, plan.end_year)[1]
        return last if last < clock.today() else None

    return {"ended_plan_report_date": ended_plan_report_date}


#: how often the "being prepared" page reloads itself
PREPARING_REFRESH_SECONDS = 2


class ReportOptionsForm(GetForm):
    """The query string of a report download: a GET form, so no CSRF token."""

    plan = SelectField(_l("Plan"), validators=[Optional()], validate_choice=False)
    as_of = IsoDateField(_l("Situation as of"), validators=[Optional()])
    lang = SelectField(
        _l("Language of the report"),
        choices=language_choices(),
        validators=[Optional()],
    )


@dataclass(frozen=True)
class ArchivedMonth:
    """One plan's snapshots of one month (one file per language)."""

    period: str
    label: str
    plan: ActionPlan
    snapshots: list[ReportSnapshot]


def _options() -> tuple[date | None, str, str | None]:
    """The "as of" date (None: the latest allowed), language and plan key asked for, or
    400 with what is wrong."""
    form = ReportOptionsForm(formdata=request.args)
    if not form.validate():
        if form.as_of.errors:
            raise http_error(400, _("Give the date as YYYY-MM-DD, for example 2021-06-30."))
        raise http_error(400, _("The language must be az or en."))
    # Optional() lets a blank choice through unchecked: blank means "not given"
    lang = (form.lang.data or "").strip() or (
        current_locale() if current_locale() in LANGUAGES else "az"
    )
    return form.as_of.data, lang, form.plan.data or None


def _report(plan_key: str | None, kind: ReportKind = ReportKind.PLAN, **scope) -> Response:
    """The report's file when the scheduler has built it, else a page saying it is being
    prepared, which reloads itself (no JavaScript needed). Nothing is built here."""
    as_of, lang, chosen = _options()
    plan_key = plan_key or chosen or _default_plan_key()
    plan = get_plan(db.session, plan_key)
    if plan is None:
        raise http_error(404, _("There is no plan %(key)s.", key=plan_key))
    # a date outside the plan's range is InvalidInput: the 400 page says why (errors_map)
    as_of = checked_as_of(as_of, plan.start_year, plan.end_year)
    spec = ReportSpec(plan_key, as_of, lang, kind, **scope)
    state = request_report(db.session, spec)  # ReportSubjectNotFound: a 404 with its message
    if state.path is not None:
        response = send_file(state.path, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="{spec.file_name()}"'
        return response
    # ?lang= is the report's language here: the page keeps the visitor's own, and speaks
    # the report's to a visitor who never chose one (a shared link to the English report)
    with force_locale(chosen_locale() or spec.locale):
        page = render_template(
            "reports/preparing.html",
            spec=spec,
            failed=state.status == ReportRequestStatus.FAILED,
            refresh_seconds=PREPARING_REFRESH_SECONDS,
        )
    failed = state.status == ReportRequestStatus.FAILED
    response = Response(page, status=503 if failed else 202, mimetype="text/html")
    response.headers["Retry-After"] = str(60 if failed else PREPARING_REFRESH_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _default_plan_key() -> str:
    plan = default_plan(db.session)
    if plan is None:
        raise http_error(404, _("No plan has been loaded yet."))
    return plan.key


@bp.get("/plan/<key>.pdf")
def plan_pdf(key: str):
    return _report(key)


@bp.get("/plan/<key>/section/<id:number>.pdf")
def section_pdf(key: str, number: int):
    return _report(key, ReportKind.SECTION, section=number)


@bp.get("/agency/<key>.pdf")
def agency_pdf(key: str):
    return _report(None, ReportKind.AGENCY, agency_key=key)


@bp.get("/organisation/<id:organisation_id>.pdf")
def organisation_pdf(organisation_id: int):
    return _report(None, ReportKind.ORGANISATION, organisation_id=organisation_id)


@bp.get("/archive")
def archive():
    """The monthly snapshots, and a form to download the plan report for any date."""
    plans = list_plans(db.session)
    form = ReportOptionsForm(formdata=None)
    form.plan.choices = [SelectChoice(p.key, p.title(current_locale())) for p in plans]
    form.lang.data = current_locale()
    default = default_plan(db.session)
    # the latest date the default plan's report may describe
    form.as_of.data = as_of_range(default.start_year, default.end_year)[1] if default else None
    months = [
        ArchivedMonth(
            period=period,
            label=show_month(date.fromisoformat(f"{period}-01")),
            plan=plan,
            snapshots=list(snapshots),
        )
        for (period, plan), snapshots in groupby(
            list_snapshots(db.session), key=lambda s: (s.period, s.plan)
        )
    ]
    return render_template("reports/archive.html", months=months, plans=plans, form=form)


@bp.get("/download")
def download():
    """The archive page's form: the plan report for the chosen plan, date and language."""
    return _report(None)


@bp.get("/archive/<file_name>")
def archived_file(file_name: str):
    snapshot = find_snapshot(db.session, file_name)
    if snapshot is None:
        raise http_error(404)
    folder = archive_folder()
    if not (folder / snapshot.file_name).is_file():
        current_app.logger.error("Archived report %s is missing from %s", file_name, folder)
        raise http_error(404)
    response = send_from_directory(
        folder, snapshot.file_name, mimetype="application/pdf", as_attachment=True
    )
    response.headers["X-Content-SHA256"] = snapshot.sha256
    return response
