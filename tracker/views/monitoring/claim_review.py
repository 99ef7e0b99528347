"""The reviewers' pages for claims that monitors propose: the list, one proposal with its
source, and approve / return. The rules are in services.monitoring.claim_review."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.extensions import db
from tracker.forms.monitoring import ApproveForm, ReturnForm
from tracker.models import ActionPlan, GovernmentClaim
from tracker.services.accounts import can_review
from tracker.services.errors import InvalidInput, NotAllowed
from tracker.services.monitoring import claim_review
from tracker.vocabulary import ReviewState, Role
from tracker.web.forms import reject_unexpected_fields
from tracker.web.permissions import get_or_404, record_refusal, roles_required

bp = Blueprint("claim_review", __name__, url_prefix="/review/claims")


@bp.get("/")
@roles_required(Role.REVIEWER, Role.ADMIN)
def queue():
    return render_template(
        "monitoring/claims/queue.html",
        proposals=claim_review.proposed_claims(db.session),
        plans=db.session.scalars(select(ActionPlan).order_by(ActionPlan.start_year.desc())).all(),
    )


def _render(claim: GovernmentClaim, *, approve_form=None, return_form=None, status=200):
    refusal = claim_review.refusal(db.session, current_user, claim)
    return (
        render_template(
            "monitoring/claims/proposal.html",
            claim=claim,
            refusal=refusal if can_review(current_user) else None,
            may_decide=refusal is None and claim.review_state == ReviewState.SUBMITTED,
            approve_form=approve_form or ApproveForm(formdata=None),
            return_form=return_form or ReturnForm(formdata=None),
        ),
        status,
    )


@bp.get("/<id:claim_id>")
@roles_required(Role.REVIEWER, Role.ADMIN)
def proposal(claim_id: int):
    return _render(get_or_404(GovernmentClaim, claim_id))


def _act(claim_id: int, form, form_key: str, decide, text_field: str, done: str):
    claim = get_or_404(GovernmentClaim, claim_id)
    reject_unexpected_fields(form)
    if not form.validate():
        return _render(claim, status=400, **{form_key: form})
    try:
        decide(db.session, current_user, claim, form[text_field].data or "")
    except NotAllowed:
        record_refusal(403)
        raise
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error, names=dict.fromkeys(error.problems, text_field))
        return _render(get_or_404(GovernmentClaim, claim_id), status=400, **{form_key: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("claim_review.queue"))


@bp.post("/<id:claim_id>/approve")
@roles_required(Role.REVIEWER)
def approve(claim_id: int):
    return _act(
        claim_id,
        ApproveForm(),
        "approve_form",
        claim_review.approve_claim,
        "comment",
        _("The claim was approved and is now public."),
    )


@bp.post("/<id:claim_id>/return")
@roles_required(Role.REVIEWER)
def return_claim(claim_id: int):
    return _act(
        claim_id,
        ReturnForm(),
        "return_form",
        claim_review.return_claim,
        "reason",
        _("The proposal was returned to the monitor with your reason."),
    )
