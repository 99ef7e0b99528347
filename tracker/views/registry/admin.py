"""Registry administration: create, edit, archive and restore organisations, import the
survey export, download its template, and manage who monitors what. Admins only."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from tracker import clock
from tracker.extensions import db
from tracker.forms.registry import (
    AdminSearchForm,
    EndLinkForm,
    ImportForm,
    LinkForm,
    OrganisationForm,
)
from tracker.i18n import current_locale
from tracker.models import MonitoringLink, Organisation
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.plans import default_plan, get_plan, list_plans
from tracker.services.registry.display import template_helpers
from tracker.services.registry.import_files import template_csv, template_xlsx
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.links import (
    end_link,
    link_measures,
    links_of_organisation,
    parse_codes,
    resolve_measures,
    set_lead,
)
from tracker.services.registry.organisations import (
    archive_organisation,
    create_organisation,
    current_coalition_ids,
    organisation_problems,
    restore_organisation,
    update_organisation,
)
from tracker.services.registry.search import RegistryFilter, list_coalitions, search_organisations
from tracker.vocabulary import Role
from tracker.web.confirmation import require_confirmation
from tracker.web.errors_map import http_error
from tracker.web.forms import ConfirmForm
from tracker.web.pagination import existing_page, page_number
from tracker.web.permissions import get_or_404, require_roles

bp = Blueprint("registry_admin", __name__, url_prefix="/admin/organisations")

#: said once an organisation is restored: archiving ended its links, restoring does not
#: reopen them
RESTORED = _l(
    "The organisation was restored to the public registry. The monitoring links that ended "
    "when it was archived stay ended: add its links again on its links page if it monitors "
    "measures again."
)
require_roles(bp, Role.ADMIN)
bp.context_processor(lambda: template_helpers(current_locale()))

#: the import page lists at most this many problems (the command line lists them all)
SHOWN_PROBLEMS = 500
#: the organisation service's input names that differ from the form's field names
ORGANISATION_FIELDS = {"coalition_ids": "coalitions"}


@bp.get("/")
def index():
    form = AdminSearchForm(formdata=MultiDict(request.args) if request.args else None)
    if request.args and not form.validate():
        return render_template("registry/admin_list.html", form=form, page=None), 400
    # Optional() lets a blank choice through unchecked: blank means "not given"
    status = (form.status.data or "").strip() or "active"
    archived = {"active": False, "archived": True, "all": None}[status]
    registry_filter = RegistryFilter(query=(form.q.data or "").strip(), archived=archived)
    page = existing_page(
        search_organisations(db.session, registry_filter, page_number(), locale=current_locale())
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "registry/admin_list.html", form=form, page=page, page_args=args, confirm=ConfirmForm()
    )


def _done(message: str, organisation: Organisation, endpoint: str = "registry_admin.edit"):
    """Say what was done, and go on to the organisation's page `endpoint`."""
    flash(message, "success")
    return redirect(url_for(endpoint, organisation_id=organisation.id))


def _coalition_choices(exclude_id: int | None = None):
    return [c for c in list_coalitions(db.session) if c.id != exclude_id]


def _show_other_problems(form: OrganisationForm, organisation: Organisation | None) -> None:
    """After the fields' own checks failed: the service's problems with the rest too, so
    that one attempt names every mistake."""
    problems = organisation_problems(db.session, form.to_data(), organisation)
    form.show_other_problems(problems, names=ORGANISATION_FIELDS)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = OrganisationForm()
    form.set_choices(current_locale(), _coalition_choices())
    if form.validate_on_submit():
        try:
            organisation = create_organisation(db.session, form.to_data(), actor=current_user)
        except InvalidInput as error:
            db.session.rollback()
            form.show_problems(error, names=ORGANISATION_FIELDS)
        else:
            db.session.commit()
            return _done(_("The organisation was added to the registry."), organisation)
    elif request.method == "POST":
        _show_other_problems(form, None)
    status = 400 if request.method == "POST" else 200
    return render_template("registry/admin_form.html", form=form, organisation=None), status


@bp.route("/<id:organisation_id>/edit", methods=["GET", "POST"])
def edit(organisation_id: int):
    organisation = get_or_404(Organisation, organisation_id)
    form = OrganisationForm()
    form.set_choices(current_locale(), _coalition_choices(organisation.id))
    status = 200
    if request.method == "GET":
        form.load(organisation, current_coalition_ids(db.session, organisation.id))
    elif form.validate_on_submit():
        loaded_version = organisation.updated_dt.isoformat() if organisation.updated_dt else ""
        if form.version.data != loaded_version:
            form.form_errors.append(
                _(
                    "Someone else changed this organisation after you opened the form. "
                    "Reload the page to see their changes, then edit again."
                )
            )
            return render_template(
                "registry/admin_form.html", form=form, organisation=organisation
            ), 409
        try:
            changed = update_organisation(
                db.session, organisation, form.to_data(), actor=current_user
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show_problems(error, names=ORGANISATION_FIELDS)
            status = 400
        else:
            db.session.commit()
            if changed:
                flash(_("The changes were saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("registry_admin.edit", organisation_id=organisation.id))
    else:
        _show_other_problems(form, organisation)
        status = 400
    return render_template(
        "registry/admin_form.html", form=form, organisation=organisation, confirm=ConfirmForm()
    ), status


def _change_organisation(organisation_id: int, change, message):
    """Archive or restore an organisation (its button's POST), then say so, `message`
    being given what the service returned, on the organisation's page."""
    organisation = get_or_404(Organisation, organisation_id)
    require_confirmation()
    result = change(db.session, organisation, actor=current_user)
    db.session.commit()
    return _done(message(result), organisation)


@bp.post("/<id:organisation_id>/archive")
def archive(organisation_id: int):
    return _change_organisation(
        organisation_id,
        archive_organisation,
        lambda ended: _(
            "The organisation was archived: it no longer appears on public pages. "
            "Monitoring links ended: %(count)s.",
            count=ended,
        ),
    )


@bp.post("/<id:organisation_id>/restore")
def restore(organisation_id: int):
    return _change_organisation(
        organisation_id,
        restore_organisation,
        lambda _restored: str(RESTORED),
    )


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    form = ImportForm()
    form.limit_size(current_app.config["MAX_UPLOAD_BYTES"])
    if request.method == "GET":
        return render_template("registry/admin_import.html", form=form, report=None)
    if not form.validate_on_submit():
        return render_template("registry/admin_import.html", form=form, report=None), 400
    upload = form.file.data
    report = import_organisations(
        db.session,
        upload.read(),
        upload.filename or "upload",
        dry_run=bool(form.dry_run.data),
        actor=current_user,
    )
    if not report.applied:
        db.session.rollback()
        status = 200 if report.ok else 422
        return render_template(
            "registry/admin_import.html", form=form, report=report, shown=SHOWN_PROBLEMS
        ), status
    db.session.commit()
    flash(
        _(
            "Imported %(file)s: %(created)s organisations added, %(updated)s updated, "
            "%(unchanged)s unchanged.",
            file=report.filename,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "success",
    )
    return redirect(url_for("registry_admin.import_file"))


@bp.get("/template.<fmt>")
def template(fmt: str):
    lang = request.args.get("lang") or current_locale()
    if lang not in ("az", "en"):
        raise http_error(400)
    if fmt == "csv":
        body, content_type = template_csv(lang), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = template_xlsx(lang)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise http_error(404)
    return Response(
        body,
        content_type=content_type,  # as written: mimetype= would add a second charset
        headers={"Content-Disposition": f'attachment; filename="cso-survey-template-{lang}.{fmt}"'},
    )


def _links_page(organisation: Organisation, form: LinkForm, status: int = 200):
    return render_template(
        "registry/admin_links.html",
        organisation=organisation,
        form=form,
        links=links_of_organisation(db.session, organisation.id),
        end_form=EndLinkForm(),
        confirm=ConfirmForm(),
        today=clock.today(),
    ), status


def _link_form() -> LinkForm:
    form = LinkForm()
    plans = list_plans(db.session)
    form.plan.choices = [SelectChoice(p.key, p.title(current_locale())) for p in plans]
    if not form.plan.data and plans:
        plan = default_plan(db.session)
        form.plan.data = plan.key if plan else None
    return form


@bp.get("/<id:organisation_id>/links")
def links(organisation_id: int):
    return _links_page(get_or_404(Organisation, organisation_id), _link_form())


@bp.post("/<id:organisation_id>/links")
def add_links(organisation_id: int):
    organisation = get_or_404(Organisation, organisation_id)
    form = _link_form()
    if not form.validate_on_submit():
        return _links_page(organisation, form, 400)
    plan = get_plan(db.session, form.plan.data)
    codes = parse_codes(form.codes.data)
    try:
        measures = resolve_measures(db.session, plan, codes)
        result = link_measures(
            db.session,
            organisation,
            measures,
            start_date=form.start_date.data,
            is_lead=bool(form.is_lead.data),
            actor=current_user,
        )
    except (InvalidInput, StateConflict) as error:
        db.session.rollback()
        form.show_problems(error)
        return _links_page(organisation, form, 400)
    db.session.commit()
    message = ngettext("Linked %(num)d measure.", "Linked %(num)d measures.", len(result.created))
    if result.unchanged:
        message += " " + _("Already linked: %(codes)s.", codes=", ".join(result.unchanged))
    return _done(message, organisation, "registry_admin.links")


@bp.post("/links/<id:link_id>/end")
def end(link_id: int):
    link = get_or_404(MonitoringLink, link_id)
    form = EndLinkForm()
    if not form.validate_on_submit():
        flash(_("Enter the end date as YYYY-MM-DD."), "error")
        return _links_page(link.organisation, _link_form(), 400)
    return _change_link(
        link,
        lambda: end_link(db.session, link, form.end_date.data, actor=current_user),
        _("The monitoring link was ended."),
    )


def _change_lead(link_id: int, is_lead: bool):
    link = get_or_404(MonitoringLink, link_id)
    require_confirmation()
    return _change_link(
        link,
        lambda: set_lead(db.session, link, is_lead, actor=current_user),
        _("The lead monitor was changed."),
    )


def _change_link(link: MonitoringLink, change, done: str):
    """Make a change to one link: back to the organisation's links, or its links page
    again with the reason the change cannot be made (400)."""
    try:
        change()
    except (InvalidInput, StateConflict) as error:
        db.session.rollback()
        flash(error.message, "error")
        return _links_page(link.organisation, _link_form(), 400)
    db.session.commit()
    return _done(done, link.organisation, "registry_admin.links")


@bp.post("/links/<id:link_id>/lead")
def make_lead(link_id: int):
    return _change_lead(link_id, True)


@bp.post("/links/<id:link_id>/not-lead")
def remove_lead(link_id: int):
    return _change_lead(link_id, False)
