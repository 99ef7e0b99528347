"""The reviewers' pages for claims that monitors propose: the list, one proposal with its
source, and approve / return. The rules are in services.monitoring.claim_review."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import Blueprint, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker.extensions import db
from tracker.forms.monitoring import ApproveForm, ReturnProposalForm
from tracker.models import GovernmentClaim
from tracker.services.monitoring import claim_review
from tracker.services.plans import list_plans
from tracker.views.monitoring import decisions
from tracker.vocabulary import ReviewState, Role
from tracker.web.forms import TrackerForm
from tracker.web.permissions import get_or_404, roles_required

bp = Blueprint("claim_review", __name__, url_prefix="/review/claims")


@bp.get("/")
@roles_required(Role.REVIEWER, Role.ADMIN)
def queue():
    return render_template(
        "monitoring/claims/queue.html",
        proposals=claim_review.proposed_claims(db.session),
        plans=list_plans(db.session),
    )


def _render(claim: GovernmentClaim, *, approve_form=None, return_form=None, status=200):
    refusal = claim_review.refusal(db.session, current_user, claim)
    return (
        render_template(
            "monitoring/claims/proposal.html",
            claim=claim,
            # an admin sees why there are no buttons, as a reviewer with a conflict does
            refusal=refusal,
            may_decide=refusal is None and claim.review_state == ReviewState.SUBMITTED,
            approve_form=approve_form or ApproveForm(formdata=None),
            return_form=return_form or ReturnProposalForm(formdata=None),
        ),
        status,
    )


@bp.get("/<id:claim_id>")
@roles_required(Role.REVIEWER, Role.ADMIN)
def proposal(claim_id: int):
    return _render(get_or_404(GovernmentClaim, claim_id))


class _Decision(NamedTuple):
    """A decision's button: the form it posts (its name on the page), the service that
    decides, the form's text field and the message once done."""

    form: type[TrackerForm]
    form_key: str
    decide: Callable
    text_field: str
    done: str


_DECISIONS = {
    "approve": _Decision(
        ApproveForm,
        "approve_form",
        claim_review.approve_claim,
        "comment",
        _l("The claim was approved and is now public."),
    ),
    "return": _Decision(
        ReturnProposalForm,
        "return_form",
        claim_review.return_claim,
        "reason",
        _l("The proposal was returned to the monitor with your reason."),
    ),
}


def _act(claim_id: int, decision: str):
    chosen = _DECISIONS[decision]
    return decisions.act(
        lambda: get_or_404(GovernmentClaim, claim_id),
        _render,
        chosen.form(),
        chosen.form_key,
        chosen.decide,
        chosen.text_field,
        done=str(chosen.done),
        next_url=url_for("claim_review.queue"),
        record_page=(url_for("claim_review.proposal", claim_id=claim_id), _l("Open this proposal")),
    )


@bp.post("/<id:claim_id>/approve")
@roles_required(Role.REVIEWER)
def approve(claim_id: int):
    return _act(claim_id, "approve")


@bp.post("/<id:claim_id>/return")
@roles_required(Role.REVIEWER)
def return_claim(claim_id: int):
    return _act(claim_id, "return")
