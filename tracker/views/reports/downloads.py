"""PDF report downloads and the public archive of monthly plan reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker import clock
from tracker.extensions import db
from tracker.i18n import current_locale
from tracker.models import ActionPlan, ReportSnapshot
from tracker.services.plans import default_plan, list_plans
from tracker.services.reports import LANGUAGES, ReportSpec, render_report
from tracker.services.reports.archive import archive_folder, find_snapshot, list_snapshots
from tracker.vocabulary import ReportKind
from tracker.web.errors_map import http_error
from tracker.web.forms import TrackerForm

bp = Blueprint("reports", __name__, url_prefix="/reports")


class ReportOptionsForm(TrackerForm):
    """The query string of a report download: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    plan = SelectField(_l("Plan"), validators=[Optional()], validate_choice=False)
    as_of = DateField(_l("Situation as of"), validators=[Optional()], format="%Y-%m-%d")
    lang = SelectField(
        _l("Language of the report"),
        choices=[SelectChoice("az", "Azərbaycanca"), SelectChoice("en", "English")],
        validators=[Optional()],
    )


@dataclass(frozen=True)
class ArchivedMonth:
    """One plan's snapshots of one month (one file per language)."""

    period: str
    label: str
    plan: ActionPlan
    snapshots: list[ReportSnapshot]


def _options() -> tuple[date, str, str | None]:
    """The "as of" date, language and plan key asked for, or 400 with what is wrong."""
    form = ReportOptionsForm(formdata=request.args)
    if not form.validate():
        if form.as_of.errors:
            raise http_error(400, _("Give the date as YYYY-MM-DD, for example 2021-06-30."))
        raise http_error(400, _("The language must be az or en."))
    as_of = form.as_of.data or clock.today()
    if as_of > clock.today():
        raise http_error(400, _("A report cannot describe a date in the future."))
    # Optional() lets a blank choice through unchecked: blank means "not given"
    lang = (form.lang.data or "").strip() or (
        current_locale() if current_locale() in LANGUAGES else "az"
    )
    return as_of, lang, form.plan.data or None


def _default_plan_key() -> str:
    plan = default_plan(db.session)
    if plan is None:
        raise http_error(404, _("No plan has been loaded yet."))
    return plan.key


def _pdf_response(spec: ReportSpec) -> Response:
    data = render_report(db.session, spec)  # ReportSubjectNotFound is a 404 with its message
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{spec.file_name()}"'
    return response


@bp.get("/plan/<key>.pdf")
def plan_pdf(key: str):
    as_of, lang, _plan = _options()
    return _pdf_response(ReportSpec(plan_key=key, as_of=as_of, locale=lang))


@bp.get("/plan/<key>/section/<id:number>.pdf")
def section_pdf(key: str, number: int):
    as_of, lang, _plan = _options()
    spec = ReportSpec(key, as_of, lang, ReportKind.SECTION, section=number)
    return _pdf_response(spec)


@bp.get("/agency/<key>.pdf")
def agency_pdf(key: str):
    as_of, lang, plan_key = _options()
    spec = ReportSpec(
        plan_key or _default_plan_key(), as_of, lang, ReportKind.AGENCY, agency_key=key
    )
    return _pdf_response(spec)


@bp.get("/organisation/<id:organisation_id>.pdf")
def organisation_pdf(organisation_id: int):
    as_of, lang, plan_key = _options()
    spec = ReportSpec(
        plan_key or _default_plan_key(),
        as_of,
        lang,
        ReportKind.ORGANISATION,
        organisation_id=organisation_id,
    )
    return _pdf_response(spec)


@bp.get("/archive")
def archive():
    """The monthly snapshots, and a form to download the plan report for any date."""
    plans = list_plans(db.session)
    form = ReportOptionsForm(formdata=None)
    form.plan.choices = [SelectChoice(p.key, p.title(current_locale())) for p in plans]
    form.lang.data = current_locale()
    form.as_of.data = clock.today()
    months = [
        ArchivedMonth(
            period=period,
            label=format_date(date.fromisoformat(f"{period}-01"), "LLLL y"),
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
    as_of, lang, plan_key = _options()
    return _pdf_response(ReportSpec(plan_key or _default_plan_key(), as_of, lang))


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
