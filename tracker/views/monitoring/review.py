"""The reviewers' pages: the queue, one update with its version history, and the
approve / return / comment buttons. Reviewers decide; they never edit content."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ApproveForm, CommentForm, ReturnForm
from tracker.services.accounts import can_review, can_view_update
from tracker.services.monitoring import history
from tracker.services.monitoring import review as review_service
from tracker.services.plans import measure_state
from tracker.views.monitoring import decisions
from tracker.vocabulary import ReviewState, Role
from tracker.web.errors_map import http_error
from tracker.web.permissions import require, roles_required

bp = Blueprint("review", __name__, url_prefix="/review")


def _update_or_404(update_id: int):
    item = history.load_update(db.session, update_id)
    if item is None:
        raise http_error(404)
    require(
        can_view_update(current_user, item),
        _("This update is a draft: reviewers see it once its monitor submits it."),
    )
    return item


def _render_item(item, *, approve_form=None, return_form=None, comment_form=None, status=200):
    versions = history.version_history(db.session, item)
    replaced = history.load_update(db.session, item.replaces_id) if item.replaces_id else None
    refusal = (
        review_service.refusal(db.session, current_user, item) if can_review(current_user) else None
    )
    return (
        render_template(
            "monitoring/review/item.html",
            item=item,
            replaced=replaced,
            versions=versions,
            decisions=history.decisions_by_update(
                db.session, [item.id] + ([replaced.id] if replaced else [])
            ),
            state=measure_state(db.session, item.measure),
            now=clock.now_utc(),
            refusal=refusal,
            may_decide=can_review(current_user)
            and refusal is None
            and item.review_state == ReviewState.SUBMITTED,
            may_comment=can_review(current_user) and refusal is None,
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


@bp.get("/updates/<id:update_id>")
@roles_required(Role.REVIEWER, Role.ADMIN)
def item(update_id: int):
    return _render_item(_update_or_404(update_id))


def _act(update_id: int, form, form_key: str, decide, text_field: str, *, done: str, next_url: str):
    """The POST of a review form (see decisions.act)."""
    return decisions.act(
        lambda: _update_or_404(update_id),
        _render_item,
        form,
        form_key,
        decide,
        text_field,
        done=done,
        next_url=next_url,
    )


@bp.post("/updates/<id:update_id>/approve")
@roles_required(Role.REVIEWER)
def approve(update_id: int):
    return _act(
        update_id,
        ApproveForm(),
        "approve_form",
        review_service.approve,
        "comment",
        done=_("The update was approved and is now public."),
        next_url=url_for("review.queue"),
    )


@bp.post("/updates/<id:update_id>/return")
@roles_required(Role.REVIEWER)
def return_update(update_id: int):
    return _act(
        update_id,
        ReturnForm(),
        "return_form",
        review_service.return_update,
        "reason",
        done=_("The update was returned to the monitor with your reason."),
        next_url=url_for("review.queue"),
    )


@bp.post("/updates/<id:update_id>/comment")
@roles_required(Role.REVIEWER)
def comment(update_id: int):
    return _act(
        update_id,
        CommentForm(),
        "comment_form",
        review_service.add_comment,
        "comment",
        done=_("Your comment was added."),
        next_url=url_for("review.item", update_id=update_id),
    )
