"""The reviewers' pages: the queue, one update with its version history, and the
approve / return / comment buttons. Reviewers decide; they never edit content."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ApproveForm, CommentForm, ReturnForm
from tracker.services.accounts import can_review, can_view_update
from tracker.services.monitoring import review as review_service
from tracker.services.monitoring import updates as update_service
from tracker.services.monitoring.updates import StateConflict
from tracker.services.plans import measure_state
from tracker.views.monitoring.monitor import abort_with, reject_unexpected_fields
from tracker.vocabulary import ReviewState, Role
from tracker.web.permissions import record_refusal, require, roles_required

bp = Blueprint("review", __name__, url_prefix="/review")


def _update_or_404(update_id: int):
    item = update_service.load_update(db.session, update_id)
    if item is None:
        abort(404)
    require(can_view_update(current_user, item))
    return item


def _render_item(item, *, approve_form=None, return_form=None, comment_form=None, status=200):
    versions = update_service.version_history(db.session, item)
    replaced = (
        update_service.load_update(db.session, item.replaces_id) if item.replaces_id else None
    )
    return (
        render_template(
            "monitoring/review/item.html",
            item=item,
            replaced=replaced,
            versions=versions,
            decisions=update_service.decisions_by_update(
                db.session, [item.id] + ([replaced.id] if replaced else [])
            ),
            state=measure_state(db.session, item.measure),
            now=clock.now_utc(),
            may_decide=can_review(current_user) and item.review_state == ReviewState.SUBMITTED,
            may_comment=can_review(current_user),
            approve_form=approve_form or ApproveForm(formdata=None),
            return_form=return_form or ReturnForm(formdata=None),
            comment_form=comment_form or CommentForm(formdata=None),
        ),
        status,
    )


@bp.get("/")
@roles_required(Role.REVIEWER, Role.ADMIN)
def queue():
    return render_template(
        "monitoring/review/queue.html",
        items=review_service.review_queue(db.session),
        recent=review_service.recent_decisions(db.session),
    )


@bp.get("/updates/<int:update_id>")
@roles_required(Role.REVIEWER, Role.ADMIN)
def item(update_id: int):
    return _render_item(_update_or_404(update_id))


def _decide(update_id: int, form, decide, done_message: str, form_key: str):
    item = _update_or_404(update_id)
    reject_unexpected_fields(form)
    if not form.validate():
        return _render_item(item, status=400, **{form_key: form})
    try:
        decide(item, form)
        db.session.commit()
    except review_service.ReviewRefused as error:
        record_refusal(403)
        abort_with(403, error.message)
    except review_service.InvalidReview as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _render_item(
            update_service.load_update(db.session, update_id), status=400, **{form_key: form}
        )
    except StateConflict as error:
        db.session.rollback()
        abort_with(409, error.message)
    flash(done_message, "success")
    return redirect(url_for("review.queue"))


@bp.post("/updates/<int:update_id>/approve")
@roles_required(Role.REVIEWER)
def approve(update_id: int):
    return _decide(
        update_id,
        ApproveForm(),
        lambda item, form: review_service.approve(
            db.session, current_user, item, form.comment.data or ""
        ),
        _("The update was approved and is now public."),
        "approve_form",
    )


@bp.post("/updates/<int:update_id>/return")
@roles_required(Role.REVIEWER)
def return_update(update_id: int):
    return _decide(
        update_id,
        ReturnForm(),
        lambda item, form: review_service.return_update(
            db.session, current_user, item, form.reason.data or ""
        ),
        _("The update was returned to the monitor with your reason."),
        "return_form",
    )


@bp.post("/updates/<int:update_id>/comment")
@roles_required(Role.REVIEWER)
def comment(update_id: int):
    item = _update_or_404(update_id)
    form = CommentForm()
    reject_unexpected_fields(form)
    if not form.validate():
        return _render_item(item, comment_form=form, status=400)
    try:
        review_service.add_comment(db.session, current_user, item, form.comment.data or "")
        db.session.commit()
    except review_service.ReviewRefused as error:
        record_refusal(403)
        abort_with(403, error.message)
    except review_service.InvalidReview as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _render_item(
            update_service.load_update(db.session, update_id), comment_form=form, status=400
        )
    except StateConflict as error:
        db.session.rollback()
        abort_with(409, error.message)
    flash(_("Your comment was added."), "success")
    return redirect(url_for("review.item", update_id=update_id))
