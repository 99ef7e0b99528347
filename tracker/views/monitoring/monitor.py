"""The monitor's pages: the home dashboard, posting, editing, submitting and revising
status updates. The organisation always comes from the logged-in monitor."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import UpdateForm
from tracker.i18n import current_locale
from tracker.models import Measure, StatusUpdate
from tracker.services.accounts import (
    ARCHIVED_ORGANISATION,
    UNLINKED_MONITOR,
    can_monitor_measure,
    is_monitor,
)
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.monitoring import history, inputs
from tracker.services.monitoring import updates as update_service
from tracker.services.plans import list_agencies, measure_state
from tracker.views.monitoring import kept_files
from tracker.vocabulary import ReviewState, Role
from tracker.web.errors_map import http_error
from tracker.web.forms import ConfirmForm, reject_unexpected_fields
from tracker.web.pagination import Page, existing_page, page_number
from tracker.web.permissions import get_or_404, require, require_monitor_of, require_roles

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
require_roles(bp, Role.MONITOR)

#: updates on one page of the organisation's list
UPDATES_PER_PAGE = 50


def _monitor_required() -> None:
    require(is_monitor(current_user), UNLINKED_MONITOR)


def _own_update_or_404(update_id: int) -> StatusUpdate:
    update = history.load_update(db.session, update_id)
    if update is None:
        raise http_error(404)
    require(
        update.organisation_id == current_user.organisation_id,
        _("This update belongs to another organisation; only its monitors may open it."),
    )
    return update


def _writable_update_or_404(update_id: int) -> StatusUpdate:
    """One of the organisation's updates on a measure the monitor may write about."""
    _monitor_required()
    update = _own_update_or_404(update_id)
    require_monitor_of(update.measure_id)
    return update


def _update_form() -> UpdateForm:
    """The update form, with the agencies a request for information may go to."""
    locale = current_locale()
    agencies = list_agencies(db.session, locale)
    form = UpdateForm()
    form.set_agencies(agencies, locale)
    if request.method == "GET":
        form.give_form_key()
    return form


def _render_form(form: UpdateForm, measure: Measure, *, mode: str, original=None, status=200):
    kept = kept_files.shown_files(form)
    return (
        render_template(
            "monitoring/monitor/update_form.html",
            form=form,
            measure=measure,
            state=measure_state(db.session, measure),
            mode=mode,
            original=original,
            kept_files=kept,
        ),
        status,
    )


def _save(form: UpdateForm, measure: Measure, write, *, mode: str, original=None):
    """The POST half of every update form. The files come first: each is checked and
    kept as the monitor's pending file, so that a mistake elsewhere loses none of them.
    Then validate, and write in a savepoint: when the write is refused, only the kept files
    are committed, and the form comes back with them attached and what was typed. When the
    fields' own checks fail, the service's checks of the rest run too, so that the form
    names every problem at once."""
    reject_unexpected_fields(form)
    render = partial(_render_form, form, measure, mode=mode, original=original)
    refused = kept_files.refused_attempt(
        form, render, lambda: inputs.update_problems(db.session, measure, form.to_input())
    )
    if refused is not None:
        return refused
    try:
        with db.session.begin_nested():
            saved = write(form.to_input())
            if form.submit_for_review.data:
                saved = update_service.submit_update(db.session, current_user, saved)
    except InvalidInput as error:
        db.session.commit()
        form.show_problems(error, names=form.problem_names())
        return render(status=error.status)
    except update_service.AlreadySaved as sent:
        db.session.commit()
        flash(sent.message)
        return redirect(url_for("monitor.update", update_id=sent.record.id))
    db.session.commit()
    if saved.review_state == ReviewState.SUBMITTED:
        flash(_("Your update was submitted for review."), "success")
    else:
        flash(_("Your draft was saved. Submit it for review when it is ready."), "success")
    return redirect(url_for("monitor.update", update_id=saved.id))


def _confirmed() -> None:
    """A POST-only button: its form carries the CSRF token and nothing else."""
    form = ConfirmForm()
    reject_unexpected_fields(form)
    if not form.validate():
        raise http_error(400)


@bp.get("/")
def home():
    _monitor_required()
    home = history.monitor_home(db.session, current_user.organisation)
    return render_template(
        "monitoring/monitor/home.html",
        home=home,
        today=clock.today(),
        archived_notice=ARCHIVED_ORGANISATION if home.organisation.is_archived else None,
    )


@bp.get("/updates")
def my_updates():
    _monitor_required()
    number = page_number()
    items, total = history.organisation_updates(
        db.session, current_user.organisation_id, number, UPDATES_PER_PAGE
    )
    page = existing_page(Page(items, number, UPDATES_PER_PAGE, total))
    return render_template("monitoring/monitor/updates.html", page=page)


@bp.route("/measures/<id:measure_id>/updates/new", methods=["GET", "POST"])
def new_update(measure_id: int):
    measure = get_or_404(Measure, measure_id)
    require_monitor_of(measure)
    form = _update_form()
    if request.method == "GET":
        form.as_of_date.data = clock.today()
        return _render_form(form, measure, mode="new")
    return _save(
        form,
        measure,
        lambda data: update_service.create_update(db.session, current_user, measure, data),
        mode="new",
    )


@bp.get("/updates/<id:update_id>")
def update(update_id: int):
    _monitor_required()
    item = _own_update_or_404(update_id)
    versions = history.version_history(db.session, item, with_drafts=True)
    decisions = history.decisions_by_update(db.session, [item.id])
    successor = (
        history.live_successor(db.session, item.id)
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


@bp.route("/updates/<id:update_id>/edit", methods=["GET", "POST"])
def edit_update(update_id: int):
    draft = _writable_update_or_404(update_id)
    if draft.review_state != ReviewState.DRAFT or draft.is_archived:
        raise http_error(
            409,
            _(
                "This update is no longer a draft, so its content is final. If it was "
                "returned, revise it; if it was approved, correct it."
            ),
            (url_for("monitor.update", update_id=draft.id), _("Open this update")),
        )
    form = _update_form()
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


@bp.route("/updates/<id:update_id>/revise", methods=["GET", "POST"])
def revise_update(update_id: int):
    """Revise a returned update, or correct an approved one: a new update replaces it."""
    original = _writable_update_or_404(update_id)
    if request.method == "POST":
        # this form sent again (a double click, the back button, a retry) leads to the
        # revision it saved, as a new update's form does, before the checks that the
        # revision it saved would fail
        saved = update_service.saved_by_form(db.session, current_user, request.form.get("form_key"))
        if saved is not None:
            flash(update_service.AlreadySaved(saved).message)
            return redirect(url_for("monitor.update", update_id=saved.id))
    if original.is_archived or original.review_state not in (
        ReviewState.RETURNED,
        ReviewState.APPROVED,
    ):
        newer = history.newest_version(db.session, original.id)
        if newer is not None:
            raise http_error(
                409,
                _("A newer version replaced this update: revise or correct that one."),
                (url_for("monitor.update", update_id=newer.id), _("Open the newer version")),
            )
        raise http_error(409, _("Only a returned or an approved update can be revised."))
    successor = history.live_successor(db.session, original.id)
    if successor is not None:
        if successor.review_state == ReviewState.DRAFT:
            flash(_("A revision of this update is already in your drafts; continue it here."))
            return redirect(url_for("monitor.edit_update", update_id=successor.id))
        raise http_error(
            409,
            _("A revision of this update was already submitted for review."),
            (url_for("monitor.update", update_id=successor.id), _("Open the revision")),
        )
    mode = "revise" if original.review_state == ReviewState.RETURNED else "correct"
    form = _update_form()
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


@bp.post("/updates/<id:update_id>/submit")
def submit_update(update_id: int):
    draft = _writable_update_or_404(update_id)
    _confirmed()
    try:
        update_service.submit_update(db.session, current_user, draft)
    except StateConflict as error:
        # a second click, or a second tab: the update's page says where it stands
        db.session.rollback()
        page = (url_for("monitor.update", update_id=update_id), _("Open this update"))
        raise http_error(error.status, error.message, page) from error
    db.session.commit()
    flash(_("Your update was submitted for review."), "success")
    return redirect(url_for("monitor.update", update_id=draft.id))


@bp.post("/updates/<id:update_id>/archive")
def archive_update(update_id: int):
    _monitor_required()
    draft = _own_update_or_404(update_id)
    _confirmed()
    update_service.archive_draft(db.session, current_user, draft)
    db.session.commit()
    flash(_("The draft was archived. It is kept, but no longer listed as open work."), "success")
    return redirect(url_for("monitor.home"))
