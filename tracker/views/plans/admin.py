"""The admins' page of a measure: its milestones, added, changed and archived here
(services.plans.milestones)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.extensions import db
from tracker.forms.scorecard import MilestoneForm
from tracker.models import Measure, Milestone
from tracker.services import plans
from tracker.services.errors import InvalidInput
from tracker.vocabulary import MILESTONE_STATE_LABELS, Role
from tracker.web.confirmation import require_confirmation
from tracker.web.errors_map import http_error
from tracker.web.forms import ConfirmForm, reject_unexpected_fields
from tracker.web.permissions import get_or_404, require_roles

bp = Blueprint("plans_admin", __name__, url_prefix="/admin")
require_roles(bp, Role.ADMIN)


def _page(measure: Measure, form: MilestoneForm, editing: Milestone | None = None, status=200):
    state = plans.measure_state(db.session, measure)
    return (
        render_template(
            "plans/admin_measure.html",
            measure=measure,
            state=state,
            milestones=measure.milestones,
            form=form,
            editing=editing,
            archive_form=ConfirmForm(formdata=None),
            state_labels=MILESTONE_STATE_LABELS,
        ),
        status,
    )


def _save(measure: Measure, form: MilestoneForm, write, editing: Milestone | None = None):
    """Validate the form and let the service `write` it; problems show beside the fields."""
    reject_unexpected_fields(form)
    if not form.validate():
        return _page(measure, form, editing, 400)
    try:
        changed = write(form.to_input())
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error)
        return _page(db.session.get(Measure, measure.id), form, editing, 400)
    db.session.commit()
    if changed:
        flash(_("The milestone is saved."), "success")
    return redirect(url_for("plans_admin.measure", measure_id=measure.id))


@bp.route("/measures/<id:measure_id>", methods=["GET", "POST"])
def measure(measure_id: int):
    """The measure's milestones, and a form to add one."""
    found = get_or_404(Measure, measure_id)
    form = MilestoneForm()
    if not form.is_submitted():
        return _page(found, MilestoneForm(formdata=None, state="planned"))
    return _save(
        found, form, lambda data: plans.add_milestone(db.session, current_user, found, data)
    )


@bp.route("/milestones/<id:milestone_id>", methods=["GET", "POST"])
def edit_milestone(milestone_id: int):
    milestone = get_or_404(Milestone, milestone_id)
    if milestone.is_archived:
        raise http_error(404)
    form = MilestoneForm()
    if not form.is_submitted():
        data = plans.milestone_input(milestone)
        return _page(milestone.measure, MilestoneForm(formdata=None, obj=data), milestone)
    return _save(
        milestone.measure,
        form,
        lambda data: plans.edit_milestone(db.session, current_user, milestone, data),
        milestone,
    )


@bp.post("/milestones/<id:milestone_id>/archive")
def archive_milestone(milestone_id: int):
    milestone = get_or_404(Milestone, milestone_id)
    require_confirmation()
    plans.archive_milestone(db.session, current_user, milestone)
    db.session.commit()
    flash(_("The milestone is archived. It is kept, and no longer counts."), "success")
    return redirect(url_for("plans_admin.measure", measure_id=milestone.measure_id))
