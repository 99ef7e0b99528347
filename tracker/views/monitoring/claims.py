"""Government claims: reviewers and admins record them (on a measure or a whole plan),
a measure's monitors propose them (and revise a returned proposal), and a recorded claim
is corrected by a new one. The rules are in services.monitoring.claims; this module only
shows the form, and a proposal's own page for the organisation that proposed it."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ClaimForm
from tracker.models import ActionPlan, GovernmentClaim, Measure
from tracker.services.accounts import can_record_claim, is_monitor, is_proposers_monitor
from tracker.services.errors import InvalidInput
from tracker.services.monitoring import claims as claim_service
from tracker.services.monitoring import public_claims
from tracker.services.plans import measure_state
from tracker.views.monitoring import kept_files
from tracker.vocabulary import ReviewState, Role
from tracker.web.errors_map import http_error
from tracker.web.forms import reject_unexpected_fields
from tracker.web.permissions import get_or_404, require, roles_required

bp = Blueprint("claims", __name__, url_prefix="/claims")

#: who may open a claim form at all; the service says who may record or propose
CLAIM_ROLES = (Role.MONITOR, Role.REVIEWER, Role.ADMIN)


def _own_proposals(measure: Measure) -> list[GovernmentClaim]:
    if not is_monitor(current_user):
        return []
    return claim_service.proposals_of(db.session, current_user.organisation_id, measure.id)


@bp.app_context_processor
def claim_helpers() -> dict:
    """For every page: the footer's plan-wide claims, and a monitor's own proposals on a
    measure; each read only when a page asks for it."""
    return {
        "plan_wide_claims": lambda: (
            [] if g.get("database_unavailable") else public_claims.plan_wide_claims(db.session)
        ),
        "own_claim_proposals": _own_proposals,
    }


def _target_page(target: Measure | ActionPlan) -> str:
    if isinstance(target, ActionPlan):
        return url_for("public.plan", key=target.key)
    return url_for("public.measure", key=target.plan.key, code=target.code)


def _render(form: ClaimForm, target, replaces, status: int, revises=None):
    is_measure = isinstance(target, Measure)
    kept = kept_files.shown_files(form)
    return (
        render_template(
            "monitoring/claims/form.html",
            form=form,
            kept=kept.get(form.pending_file.data),
            measure=target if is_measure else None,
            plan=target.plan if is_measure else target,
            state=measure_state(db.session, target) if is_measure else None,
            replaces=replaces,
            revises=revises,
            is_proposal=not can_record_claim(current_user),
            back_url=_target_page(target),
        ),
        status,
    )


def _show_saved(sent: claim_service.ClaimAlreadySaved):
    """The page of the claim a form sent before recorded, saying so."""
    flash(sent.message)
    return redirect(_target_page(sent.record.measure or sent.record.plan))


def _handle(
    form: ClaimForm,
    target: Measure | ActionPlan,
    replaces: GovernmentClaim | None,
    revises: GovernmentClaim | None = None,
):
    refusal = claim_service.refusal(current_user, target)
    require(refusal is None, refusal)
    if request.method == "POST":
        # this form sent again (a double click, the back button, a retry) leads to the
        # claim it recorded, before the checks that the recorded correction would fail
        saved = claim_service.saved_by_form(db.session, current_user, request.form.get("form_key"))
        if saved is not None:
            return _show_saved(claim_service.ClaimAlreadySaved(saved))
    if revises is not None:
        conflict = claim_service.revision_conflict(db.session, revises)
        if conflict is not None:
            raise http_error(409, str(conflict), _revision_link(revises))
        return _revision(form, target, revises)
    if replaces is not None and replaces.is_archived:
        raise http_error(
            409, _("This claim was already corrected. Correct the current one instead.")
        )
    if replaces is not None and not replaces.is_public:
        raise http_error(409, _("Only approved claims can be corrected; this is a proposal."))
    if request.method == "GET":
        form.give_form_key()
        if replaces is not None:
            form.fill_from(replaces)
        else:
            form.claim_date.data = clock.today()
        return _render(form, target, replaces, 200)
    return _save(form, target, replaces)


def _revision_link(returned: GovernmentClaim):
    """The page of the proposal that revised this one, as a 409's next step, if any."""
    revision = claim_service.revision_of(db.session, returned.id)
    if revision is None:
        return None
    return url_for("claims.proposal", claim_id=revision.id), _("Open the revision")


def _revision(form: ClaimForm, measure: Measure, revises: GovernmentClaim):
    """A revision's form, filled from the returned proposal (its file kept unless the
    monitor unticks it), or its POST."""
    if request.method == "GET":
        form.give_form_key()
        form.fill_from(revises)
        return _render(form, measure, revises.replaces, 200, revises)
    return _save(form, measure, revises.replaces, revises)


def _save(
    form: ClaimForm,
    target: Measure | ActionPlan,
    replaces: GovernmentClaim | None,
    revises: GovernmentClaim | None = None,
):
    """The POST half, as the update form's: the chosen file is kept first as the user's
    pending file, so that a mistake elsewhere does not lose it; the claim is written in a
    savepoint, so that a refused one still commits the kept file for the next attempt."""
    reject_unexpected_fields(form)
    render = partial(_render, form, target, replaces, revises=revises)
    refused = kept_files.refused_attempt(
        form, render, lambda: claim_service.claim_problems(form.to_input(), target, revises)
    )
    if refused is not None:
        return refused
    try:
        with db.session.begin_nested():
            claim = claim_service.record_claim(
                db.session,
                current_user,
                target,
                form.to_input(),
                replaces=None if revises else replaces,
                revises=revises,
            )
    except claim_service.ClaimAlreadySaved as sent:
        db.session.rollback()  # and the file kept in this attempt: the claim has its own
        return _show_saved(sent)
    except InvalidInput as error:
        db.session.commit()  # the kept file only, for the next attempt
        form.show_problems(error, names=form.problem_names())
        return render(status=error.status)
    db.session.commit()
    if claim.is_public:
        flash(_("The government's claim was recorded."), "success")
    elif revises is not None:
        flash(_("Your revised proposal was sent to the reviewers."), "success")
    else:
        flash(
            _("Your proposal was sent to the reviewers. It becomes public once approved."),
            "success",
        )
    return redirect(_target_page(target))


@bp.route("/measures/<id:measure_id>/new", methods=["GET", "POST"])
@roles_required(*CLAIM_ROLES)
def new_claim(measure_id: int):
    return _handle(ClaimForm(), get_or_404(Measure, measure_id), None)


@bp.route("/plans/<id:plan_id>/new", methods=["GET", "POST"])
@roles_required(Role.REVIEWER, Role.ADMIN)
def new_plan_claim(plan_id: int):
    return _handle(ClaimForm(), get_or_404(ActionPlan, plan_id), None)


@bp.route("/<id:claim_id>/correct", methods=["GET", "POST"])
@roles_required(*CLAIM_ROLES)
def correct_claim(claim_id: int):
    claim = get_or_404(GovernmentClaim, claim_id)
    return _handle(ClaimForm(), claim.measure or claim.plan, claim)


@bp.get("/<id:claim_id>")
@roles_required(*CLAIM_ROLES)
def proposal(claim_id: int):
    """A proposal's own page for the organisation that proposed it, as an update's: its
    state, the reviewer's reason and what comes next (revise it, or open the revision).
    A return's notice leads here, which still explains it once the measure's page lists
    the revision instead. Reviewers and admins are sent to their page of it."""
    claim = get_or_404(GovernmentClaim, claim_id)
    if can_record_claim(current_user):
        return redirect(url_for("claim_review.proposal", claim_id=claim.id))
    if claim.organisation_id is None:
        raise http_error(404)  # recorded by a reviewer: it was never a proposal
    require(
        is_proposers_monitor(current_user, claim),
        _("This proposal belongs to another organisation; only its monitors may open it."),
    )
    revision, why_not = None, None
    if claim.review_state == ReviewState.RETURNED:
        revision = claim_service.revision_of(db.session, claim.id)
    if claim.review_state == ReviewState.RETURNED and revision is None:
        # why there is no "Revise" button: the measure is no longer theirs, say
        why_not = claim_service.revise_refusal(current_user, claim) or (
            claim_service.revision_conflict(db.session, claim)
        )
    return render_template(
        "monitoring/claims/own_proposal.html",
        claim=claim,
        revision=revision,
        why_not_revise=why_not,
    )


@bp.route("/<id:claim_id>/revise", methods=["GET", "POST"])
@roles_required(Role.MONITOR)
def revise_claim(claim_id: int):
    """A monitor revises their organisation's returned proposal: a new proposal, sent for
    review, that points to it (another organisation's proposal: 403)."""
    returned = get_or_404(GovernmentClaim, claim_id)
    refusal = claim_service.revise_refusal(current_user, returned)
    require(refusal is None, refusal)
    return _handle(ClaimForm(), returned.measure, None, returned)
