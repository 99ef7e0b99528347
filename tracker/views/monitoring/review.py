"""The reviewers' pages: the queue, one update with its version history, and the
approve / return / comment buttons. Reviewers decide; they never edit content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ApproveForm, CommentForm, ReturnForm, ReviewForm
from tracker.i18n import LANGUAGES
from tracker.services.accounts import can_review, can_view_update
from tracker.services.monitoring import history
from tracker.services.monitoring import review as review_service
from tracker.services.monitoring.diff import compare_updates
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


def _render_item(item, *, review_form=None, status=200, **_other_forms):
    """The review page. The per-action forms of the older endpoints show their problems in
    the page's one form (the same field, `comment`)."""
    versions = history.version_history(db.session, item)
    replaced = history.load_update(db.session, item.replaces_id) if item.replaces_id else None
    refusal = review_service.refusal(db.session, current_user, item)
    if not can_review(current_user) and item.review_state != ReviewState.SUBMITTED:
        # an admin reading a decided update: no decision waits, so no reason is needed
        refusal = None
    if review_form is None:
        review_form = ReviewForm(formdata=None)
        for form in _other_forms.values():
            for problems in form.errors.values():
                review_form.comment.errors = [*review_form.comment.errors, *problems]
    return (
        render_template(
            "monitoring/review/item.html",
            item=item,
            replaced=replaced,
            changes=compare_updates(replaced, item) if replaced else None,
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
            review_form=review_form,
        ),
        status,
    )


@bp.get("/")
@roles_required(Role.REVIEWER, Role.ADMIN)
def queue():
    return render_template(
        "monitoring/review/queue.html",
        items=review_service.review_queue(db.session, current_user),
        recent=review_service.recent_decisions(db.session),
    )


@bp.get("/updates/<id:update_id>")
@roles_required(Role.REVIEWER, Role.ADMIN)
def item(update_id: int):
    return _render_item(_update_or_404(update_id))


@dataclass(frozen=True)
class _Action:
    """What a review button does: the service it calls, the message once done, and whether
    the reviewer goes back to the queue (a decision) or stays on the update (a comment)."""

    service: Callable
    done: str
    to_queue: bool


#: by the review form's button names
_ACTIONS = {
    "approve": _Action(
        review_service.approve, _l("The update was approved and is now public."), True
    ),
    "return_update": _Action(
        review_service.return_update,
        _l("The update was returned to the monitor with your reason."),
        True,
    ),
    "send_comment": _Action(review_service.add_comment, _l("Your comment was added."), False),
}


def _act(update_id: int, form, form_key: str, action: str, text_field: str):
    """The POST of a review form (see decisions.act), the action chosen by its name."""
    chosen = _ACTIONS[action]
    if chosen.to_queue:
        next_url = url_for("review.queue")
    else:
        next_url = url_for("review.item", update_id=update_id)
    return decisions.act(
        lambda: _update_or_404(update_id),
        _render_item,
        form,
        form_key,
        chosen.service,
        text_field,
        done=str(chosen.done),
        next_url=next_url,
        record_page=(url_for("review.item", update_id=update_id), _("Open this update")),
    )


@bp.get("/updates/<id:update_id>/review")
@roles_required(Role.REVIEWER, Role.ADMIN)
def decide_page(update_id: int):
    """The address the form posts to, opened again (a reload, a copied address, the
    language switch of the form's error page): the update's page, in the language asked."""
    lang = request.args.get("lang")
    language = {"lang": lang} if lang in LANGUAGES else {}
    return redirect(url_for("review.item", update_id=update_id, **language))


@bp.post("/updates/<id:update_id>/review")
@roles_required(Role.REVIEWER)
def decide(update_id: int):
    """The review page's one form: approve, return or comment, with the same text."""
    form = ReviewForm()
    pressed = [name for name in _ACTIONS if form[name].data]
    if len(pressed) != 1:
        raise http_error(400)
    return _act(update_id, form, "review_form", pressed[0], "comment")


# One action each, for clients that post a single action (the page uses the form above).


@bp.post("/updates/<id:update_id>/approve")
@roles_required(Role.REVIEWER)
def approve(update_id: int):
    return _act(update_id, ApproveForm(), "approve_form", "approve", "comment")


@bp.post("/updates/<id:update_id>/return")
@roles_required(Role.REVIEWER)
def return_update(update_id: int):
    return _act(update_id, ReturnForm(), "return_form", "return_update", "reason")


@bp.post("/updates/<id:update_id>/comment")
@roles_required(Role.REVIEWER)
def comment(update_id: int):
    return _act(update_id, CommentForm(), "comment_form", "send_comment", "comment")
