"""The admin's pages: the dashboard, users, and the read-only audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker.extensions import db
from tracker.forms.accounts import AuditFilterForm, InviteUserForm, UserFilterForm, UserRoleForm
from tracker.forms.registry import organisation_field_labels
from tracker.i18n import current_locale
from tracker.models import User
from tracker.services.accounts import audit_display, emails, overview, two_step
from tracker.services.accounts import users as accounts
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.registry import active_organisations
from tracker.vocabulary import Role
from tracker.web.links import route_values
from tracker.web.pagination import Page, existing_page, page_number
from tracker.web.permissions import get_or_404, require_roles
from tracker.web.request_origin import client_address
from tracker.web.sessions import recent_password_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_roles(bp, Role.ADMIN)

PAGE_SIZE = 50

#: other areas' admin pages, linked from the dashboard
OTHER_ADMIN_PAGES = (
    ("registry_admin.index", _l("Organisations and their monitoring links")),
    ("registry_admin.create", _l("Add an organisation")),
    ("registry_admin.import_file", _l("Import organisations from a survey export")),
    ("reminders_admin.index", _l("Reminders and failed emails")),
)


def _organisation_choices() -> list[SelectChoice]:
    locale = current_locale()
    return [
        SelectChoice(0, _("No organisation")),
        *(SelectChoice(o.id, o.name(locale)) for o in active_organisations(db.session, locale)),
    ]


def _filter_args() -> dict:
    """The query string but the page number: what the pagination links carry along."""
    return {name: value for name, value in request.args.items() if name != "page"}


@bp.get("/")
def index():
    return render_template(
        "accounts/admin/index.html",
        counts=overview.account_counts(db.session),
        refusals=overview.recent_refusals(db.session),
        recent=_audit_rows(overview.latest_audit_entries(db.session)),
        other_pages=[(url_for(endpoint), label) for endpoint, label in OTHER_ADMIN_PAGES],
    )


@bp.get("/users")
def users():
    form = UserFilterForm(formdata=request.args)
    if not form.validate():
        # as the audit log's filters: the page, with the problem beside its field
        empty = Page([], 1, PAGE_SIZE, 0)
        return render_template(
            "accounts/admin/users.html", page=empty, page_args={}, form=form
        ), 400
    chosen = overview.UserFilter(
        text=form.q.data or "", role=form.role.data or "", status=form.status.data or ""
    )
    page = overview.users_page(db.session, chosen, page_number(), PAGE_SIZE)
    return render_template(
        "accounts/admin/users.html", page=page, page_args=_filter_args(), form=form
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@recent_password_required
def invite():
    form = InviteUserForm()
    form.organisation_id.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            user, invitation = emails.invite_user(
                db.session,
                email=form.email.data,
                role=form.role.data,
                organisation_id=form.organisation_id.data or None,
                display_name=form.display_name.data or "",
                locale=form.locale.data,
                actor=current_user._get_current_object(),
                client_ip=client_address(),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show_problems(error)
        else:
            db.session.commit()
            return _invitation_answer(user, invitation, _("%(email)s is invited."))
    elif form.is_submitted():
        form.show_other_problems(accounts.account_problems(db.session, **form.account_fields()))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/admin/invite.html", form=form), status


def _invitation_answer(user: User, invitation: emails.Invitation, done: str):
    """With mail on, the invitation leaves with the scheduler's next run (in a moment); with
    mail off, this page is the one place its link is shown."""
    if not invitation.planned:
        return render_template(
            "accounts/admin/one_use_link.html",
            purpose="invitation",
            user=user,
            link=invitation.link,
        )
    flash(
        done % {"email": user.email}
        + " "
        + _("The invitation will be emailed in a moment; this page shows when it has left."),
        "success",
    )
    return redirect(url_for("admin.user", user_id=user.id))


def _render_user(user: User, role_form: UserRoleForm | None = None, status: int = 200):
    if role_form is None:
        role_form = UserRoleForm(role=user.role, organisation_id=user.organisation_id or 0)
        role_form.organisation_id.choices = _organisation_choices()
    return render_template(
        "accounts/admin/user.html",
        user=user,
        role_form=role_form,
        history=_audit_rows(overview.user_history(db.session, user)),
        invitation=emails.latest_invitation(db.session, user) if user.invited_dt else None,
        sends_mail=emails.sends_mail(),
    ), status


@bp.get("/users/<id:user_id>")
def user(user_id: int):
    return _render_user(get_or_404(User, user_id))


@bp.post("/users/<id:user_id>/role")
@recent_password_required
def change_role(user_id: int):
    user = get_or_404(User, user_id)
    form = UserRoleForm()
    form.organisation_id.choices = _organisation_choices()
    if not form.validate():
        return _render_user(user, role_form=form, status=400)
    try:
        changed = accounts.change_role(
            db.session,
            user,
            role=form.role.data,
            organisation_id=form.organisation_id.data or None,
            actor=current_user._get_current_object(),
        )
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error)
        return _render_user(user, role_form=form, status=400)
    db.session.commit()
    if changed:
        flash(_("The role of %(email)s is saved.", email=user.email), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("admin.user", user_id=user.id))


def _account_action(user_id: int, action, done_message: str):
    """A button of the user page: `action(session, user, actor=...)` is done, or the page
    shows again with the reason."""
    user = get_or_404(User, user_id)
    try:
        result = action(db.session, user, actor=current_user._get_current_object())
    except (InvalidInput, StateConflict) as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_user(user, status=error.status)
    db.session.commit()
    if isinstance(result, emails.Invitation):
        return _invitation_answer(user, result, done_message)
    flash(done_message % {"email": user.email}, "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<id:user_id>/disable")
def disable(user_id: int):
    message = _("%(email)s is disabled and logged out everywhere.")
    return _account_action(user_id, accounts.disable_user, message)


@bp.post("/users/<id:user_id>/enable")
def enable(user_id: int):
    return _account_action(user_id, accounts.enable_user, _("%(email)s is enabled."))


@bp.post("/users/<id:user_id>/invitation")
def resend_invitation(user_id: int):
    message = _("%(email)s is invited again. Earlier invitation links no longer work.")

    def invite_again(session, user, *, actor):
        return emails.send_invitation(session, user, actor=actor, client_ip=client_address())

    return _account_action(user_id, invite_again, message)


@bp.post("/users/<id:user_id>/two-step/reset")
@recent_password_required
def reset_two_step(user_id: int):
    message = _(
        "Two-step verification is off for %(email)s: their password alone logs them in "
        "until they set it up again."
    )
    return _account_action(user_id, two_step.reset_by_admin, message)


@bp.post("/users/<id:user_id>/password-link")
@recent_password_required
def password_link(user_id: int):
    user = get_or_404(User, user_id)
    try:
        link = emails.make_password_link(db.session, user, actor=current_user._get_current_object())
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_user(user, status=400)
    db.session.commit()
    return render_template(
        "accounts/admin/one_use_link.html", purpose="password", user=user, link=link
    )


@bp.get("/audit")
def audit():
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [
        SelectChoice("", _("All actions")),
        *(
            SelectChoice(action, audit_display.action_label(action))
            for action in overview.audit_actions(db.session)
        ),
    ]
    if not form.validate():
        empty = Page([], 1, PAGE_SIZE, 0)
        return render_template("accounts/admin/audit.html", form=form, page=empty, rows=[]), 400
    chosen = overview.AuditFilter(
        action=form.action.data or "",
        actor=form.actor.data or "",
        target_type=form.target_type.data or "",
        target_id=form.target_id.data or "",
        ip=form.ip.data or "",
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = existing_page(overview.audit_page(db.session, chosen, page_number(), PAGE_SIZE))
    return render_template(
        "accounts/admin/audit.html",
        form=form,
        page=page,
        rows=_audit_rows(page.items),
        page_args=_filter_args(),
    )


def _audit_rows(entries) -> list[audit_display.AuditRow]:
    web = audit_display.WebNames(route_values, organisation_field_labels())
    return audit_display.audit_rows(db.session, entries, current_locale(), web)
