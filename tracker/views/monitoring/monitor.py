"""The monitor's pages: the home dashboard, posting, editing, submitting and revising
status updates. The organisation always comes from the logged-in monitor."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, RequestEntityTooLarge

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ConfirmForm, StrictForm, UpdateForm, apply_errors
from tracker.i18n import current_locale
from tracker.models import Agency, Measure, StatusUpdate
from tracker.services import audit
from tracker.services.accounts import can_monitor_measure, is_monitor
from tracker.services.monitoring import updates as update_service
from tracker.services.monitoring import uploads
from tracker.services.monitoring.updates import InvalidInput, StateConflict
from tracker.services.plans import measure_state
from tracker.vocabulary import ReviewState, Role
from tracker.web.permissions import require, roles_required

bp = Blueprint("monitor", __name__, url_prefix="/monitor")

_HTTP_ERRORS = {400: BadRequest, 403: Forbidden, 409: Conflict, 413: RequestEntityTooLarge}


def abort_with(status: int, message) -> None:
    """Stop with an error page (or JSON under /api/) that says what to do."""
    error = _HTTP_ERRORS[status]()
    error.tracker_message = str(message)
    raise error


def reject_unexpected_fields(form: StrictForm) -> None:
    """400 for a POST carrying fields the page does not have (a tampered hidden field);
    the attempt is logged in its own transaction and nothing else is written."""
    unexpected = form.unexpected_fields()
    if not unexpected:
        return
    db.session.rollback()
    audit.record(
        db.session,
        "form.rejected",
        "route",
        request.endpoint,
        details={"unexpected_fields": unexpected[:20], "path": request.path},
        actor=current_user if current_user.is_authenticated else None,
    )
    db.session.commit()
    abort_with(
        400,
        _(
            "The form contained fields this page does not have (%(names)s). Reload the page "
            "and fill the form in again.",
            names=", ".join(unexpected[:5]),
        ),
    )


def _monitor_required() -> None:
    require(is_monitor(current_user))


def _own_update_or_404(update_id: int) -> StatusUpdate:
    update = update_service.load_update(db.session, update_id)
    if update is None:
        abort(404)
    require(update.organisation_id == current_user.organisation_id)
    return update


def _agencies() -> list[Agency]:
    locale = current_locale()
    return sorted(db.session.scalars(select(Agency)), key=lambda a: a.name(locale).casefold())


def _render_form(form: UpdateForm, measure: Measure, *, mode: str, original=None, status=200):
    return (
        render_template(
            "monitoring/monitor/update_form.html",
            form=form,
            measure=measure,
            state=measure_state(db.session, measure),
            mode=mode,
            original=original,
        ),
        status,
    )


def _save(form: UpdateForm, measure: Measure, write, *, mode: str, original=None):
    """The POST half of every update form: validate, write once, commit once."""
    reject_unexpected_fields(form)
    if not form.validate():
        return _render_form(form, measure, mode=mode, original=original, status=400)
    try:
        data = form.to_input()
    except InvalidInput as error:
        apply_errors(form, error.errors)  # named after the form's own slots
        return _render_form(form, measure, mode=mode, original=original, status=400)
    try:
        saved = write(data)
        if form.submit_for_review.data:
            saved = update_service.submit_update(db.session, current_user, saved)
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        uploads.discard_unsaved()
        apply_errors(form, form.evidence_error_names(error.errors))
        return _render_form(form, measure, mode=mode, original=original, status=error.status)
    except StateConflict as error:
        db.session.rollback()
        uploads.discard_unsaved()
        abort_with(409, error.message)
    if saved.review_state == ReviewState.SUBMITTED:
        flash(_("Your update was submitted for review."), "success")
    else:
        flash(_("Your draft was saved. Submit it for review when it is ready."), "success")
    return redirect(url_for("monitor.update", update_id=saved.id))


@bp.get("/")
@roles_required(Role.MONITOR)
def home():
    _monitor_required()
    home = update_service.monitor_home(db.session, current_user.organisation)
    return render_template("monitoring/monitor/home.html", home=home, today=clock.today())


@bp.get("/updates")
@roles_required(Role.MONITOR)
def my_updates():
    _monitor_required()
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    items, total = update_service.organisation_updates(
        db.session, current_user.organisation_id, page
    )
    return render_template(
        "monitoring/monitor/updates.html", items=items, total=total, page=page, per_page=50
    )


@bp.route("/measures/<int:measure_id>/updates/new", methods=["GET", "POST"])
@roles_required(Role.MONITOR)
def new_update(measure_id: int):
    measure = db.session.get(Measure, measure_id)
    if measure is None:
        abort(404)
    require(can_monitor_measure(current_user, measure))
    form = UpdateForm()
    form.set_agencies(_agencies(), current_locale())
    if request.method == "GET":
        form.as_of_date.data = clock.today()
        return _render_form(form, measure, mode="new")
    return _save(
        form,
        measure,
        lambda data: update_service.create_update(db.session, current_user, measure, data),
        mode="new",
    )


@bp.get("/updates/<int:update_id>")
@roles_required(Role.MONITOR)
def update(update_id: int):
    _monitor_required()
    item = _own_update_or_404(update_id)
    versions = update_service.version_history(db.session, item, with_drafts=True)
    decisions = update_service.decisions_by_update(db.session, [item.id])
    successor = (
        update_service.live_successor(db.session, item.id)
        if item.review_state in (ReviewState.RETURNED, ReviewState.APPROVED)
        else None
    )
    return render_template(
        "monitoring/monitor/update.html",
        item=item,
        versions=versions,
        decisions=decisions,
        successor=successor,
        may_write=can_monitor_measure(current_user, item.measure_id),
    )


@bp.route("/updates/<int:update_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MONITOR)
def edit_update(update_id: int):
    _monitor_required()
    draft = _own_update_or_404(update_id)
    require(can_monitor_measure(current_user, draft.measure_id))
    if draft.review_state != ReviewState.DRAFT or draft.is_archived:
        abort_with(
            409,
            _(
                "This update is no longer a draft, so its content is final. If it was "
                "returned, revise it; if it was approved, correct it."
            ),
        )
    form = UpdateForm()
    form.set_agencies(_agencies(), current_locale())
    if request.method == "GET":
        form.fill_from(draft)
        return _render_form(form, draft.measure, mode="edit", original=draft)
    return _save(
        form,
        draft.measure,
        lambda data: update_service.edit_draft(db.session, current_user, draft, data),
        mode="edit",
        original=draft,
    )


@bp.route("/updates/<int:update_id>/revise", methods=["GET", "POST"])
@roles_required(Role.MONITOR)
def revise_update(update_id: int):
    """Revise a returned update, or correct an approved one: a new update replaces it."""
    _monitor_required()
    original = _own_update_or_404(update_id)
    require(can_monitor_measure(current_user, original.measure_id))
    if original.is_archived or original.review_state not in (
        ReviewState.RETURNED,
        ReviewState.APPROVED,
    ):
        abort_with(409, _("Only a returned or an approved update can be revised."))
    successor = update_service.live_successor(db.session, original.id)
    if successor is not None:
        if successor.review_state == ReviewState.DRAFT:
            flash(_("A revision of this update is already in your drafts; continue it here."))
            return redirect(url_for("monitor.edit_update", update_id=successor.id))
        abort_with(409, _("A revision of this update was already submitted for review."))
    mode = "revise" if original.review_state == ReviewState.RETURNED else "correct"
    form = UpdateForm()
    form.set_agencies(_agencies(), current_locale())
    form.set_kept_evidence(original.evidence)
    if request.method == "GET":
        form.fill_from(original)
        form.keep_evidence.data = [item.id for item in original.evidence]
        return _render_form(form, original.measure, mode=mode, original=original)
    return _save(
        form,
        original.measure,
        lambda data: update_service.create_update(
            db.session, current_user, original.measure, data, replaces=original
        ),
        mode=mode,
        original=original,
    )


@bp.post("/updates/<int:update_id>/submit")
@roles_required(Role.MONITOR)
def submit_update(update_id: int):
    _monitor_required()
    draft = _own_update_or_404(update_id)
    require(can_monitor_measure(current_user, draft.measure_id))
    form = ConfirmForm()
    reject_unexpected_fields(form)
    if not form.validate():
        abort(400)
    try:
        update_service.submit_update(db.session, current_user, draft)
        db.session.commit()
    except StateConflict as error:
        db.session.rollback()
        abort_with(409, error.message)
    flash(_("Your update was submitted for review."), "success")
    return redirect(url_for("monitor.update", update_id=draft.id))


@bp.post("/updates/<int:update_id>/archive")
@roles_required(Role.MONITOR)
def archive_update(update_id: int):
    _monitor_required()
    draft = _own_update_or_404(update_id)
    form = ConfirmForm()
    reject_unexpected_fields(form)
    if not form.validate():
        abort(400)
    try:
        update_service.archive_draft(db.session, current_user, draft)
        db.session.commit()
    except StateConflict as error:
        db.session.rollback()
        abort_with(409, error.message)
    flash(_("The draft was archived. It is kept, but no longer listed as open work."), "success")
    return redirect(url_for("monitor.home"))
