"""Recording what the government claims about a measure (monitors of the measure and
reviewers), and correcting a recorded claim."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.extensions import db
from tracker.forms.monitoring import ClaimForm
from tracker.models import GovernmentClaim, Measure
from tracker.services.accounts import can_record_claim
from tracker.services.errors import InvalidInput
from tracker.services.monitoring import claims as claim_service
from tracker.services.plans import measure_state
from tracker.vocabulary import Role
from tracker.web.errors_map import http_error
from tracker.web.forms import reject_unexpected_fields
from tracker.web.permissions import get_or_404, require, roles_required

bp = Blueprint("claims", __name__, url_prefix="/claims")


def _measure_page(measure: Measure) -> str:
    return url_for("public.measure", key=measure.plan.key, code=measure.code)


def _handle(form: ClaimForm, measure: Measure, replaces: GovernmentClaim | None):
    def render(status: int):
        return (
            render_template(
                "monitoring/claims/form.html",
                form=form,
                measure=measure,
                state=measure_state(db.session, measure),
                replaces=replaces,
            ),
            status,
        )

    if request.method == "GET":
        if replaces is not None:
            form.fill_from(replaces)
        else:
            form.claim_date.data = clock.today()
        return render(200)
    reject_unexpected_fields(form)
    if not form.validate():
        return render(400)
    try:
        claim_service.record_claim(
            db.session, current_user, measure, form.to_input(), replaces=replaces
        )
    except InvalidInput as error:
        db.session.rollback()  # and the file written, if any, with it
        form.show_problems(error, names={"upload": "file"})
        return render(error.status)
    db.session.commit()
    flash(_("The government's claim was recorded."), "success")
    return redirect(_measure_page(measure))


@bp.route("/measures/<id:measure_id>/new", methods=["GET", "POST"])
@roles_required(Role.MONITOR, Role.REVIEWER)
def new_claim(measure_id: int):
    measure = get_or_404(Measure, measure_id)
    require(can_record_claim(current_user, measure))
    return _handle(ClaimForm(), measure, None)


@bp.route("/<id:claim_id>/correct", methods=["GET", "POST"])
@roles_required(Role.MONITOR, Role.REVIEWER)
def correct_claim(claim_id: int):
    claim = get_or_404(GovernmentClaim, claim_id)
    require(can_record_claim(current_user, claim.measure_id))
    if claim.is_archived:
        raise http_error(
            409, _("This claim was already corrected. Correct the current one instead.")
        )
    return _handle(ClaimForm(), claim.measure, claim)
