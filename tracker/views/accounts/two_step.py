"""Two-step verification: the login's second step, and the account's page to set it up,
get new recovery codes or turn it off (tracker.services.accounts.two_step)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.forms.accounts import SecondStepForm, TurnOnTwoStepForm, TwoStepPasswordForm
from tracker.i18n import interface_locale
from tracker.models import User
from tracker.services.accounts import two_step
from tracker.services.accounts.login import throttled_message
from tracker.services.accounts.secret_box import UnreadableKey
from tracker.services.errors import InvalidInput, StateConflict
from tracker.views.accounts.auth import home_url, safe_next_path
from tracker.vocabulary import LoginOutcome
from tracker.web.request_origin import client_address
from tracker.web.sessions import awaited_second_step, device_cookie, start_session

bp = Blueprint("two_step", __name__)

#: no cache may keep a page that shows a key or recovery codes
NO_STORE = {"Cache-Control": "no-store"}


def _waiting_user() -> tuple[User, dict] | tuple[None, None]:
    """The account whose code this session waits for, while the wait is valid."""
    pending = awaited_second_step()
    user = db.session.get(User, int(pending["uid"])) if pending else None
    if user is None or user.session_version != pending["version"] or not user.has_two_step:
        return None, None
    return user, pending


def _logged_in(user: User, pending: dict, result):
    start_session(user, remember=pending["remember"], device_token=result.device_token)
    db.session.commit()
    with force_locale(interface_locale()):
        flash(pending["message"] or _("You are logged in."), "success")
        if result.second_step == "recovery_code":
            _say_codes_left(user)
    return redirect(safe_next_path(pending["next"]) or home_url(user))


def _refusal(result) -> tuple[int, str, dict]:
    """The status, message and headers for a code that did not log in."""
    if result.outcome == LoginOutcome.THROTTLED:
        headers = {"Retry-After": str(max(result.retry_after, 1))}
        return 429, throttled_message(result.retry_after), headers
    return 401, two_step.wrong_code_message(), {}


@bp.route("/login/code", methods=["GET", "POST"])
def verify():
    user, pending = _waiting_user()
    if user is None and current_user.is_authenticated:
        return redirect(home_url(current_user))
    if user is None:
        flash(_("Log in again: the time to type the code ran out."), "info")
        return redirect(url_for("auth.login"))
    form = SecondStepForm()
    error, status, headers = None, 200, {}
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                result = two_step.verify_second_step(
                    db.session, user, form.code.data, client_address(), device_cookie()
                )
            except UnreadableKey as unreadable:
                status, error = unreadable.status, unreadable.message
            else:
                if result.outcome == LoginOutcome.SUCCESS:
                    return _logged_in(user, pending, result)
                status, error, headers = _refusal(result)
            form.code.data = ""  # a code is typed anew, never corrected
    page = render_template("accounts/auth/second_step.html", form=form, error=error)
    return page, status, {**headers, **NO_STORE}


def _say_codes_left(user: User) -> None:
    """After a recovery code: how many are left, and where to make new ones."""
    left = two_step.recovery_codes_left(db.session, user)
    flash(
        ngettext(
            "You used a recovery code; %(num)d is left. If you lost your phone, set up two-step "
            "verification again on your account page, or make new codes there.",
            "You used a recovery code; %(num)d are left. If you lost your phone, set up two-step "
            "verification again on your account page, or make new codes there.",
            left,
        ),
        "info",
    )


def _render_settings(turn_on_form=None, codes_form=None, off_form=None, status: int = 200):
    user = current_user._get_current_object()
    return (
        render_template(
            "accounts/auth/two_step.html",
            setup=two_step.setup_key(user),
            required=two_step.is_required(user),
            codes_left=two_step.recovery_codes_left(db.session, user) if user.has_two_step else 0,
            turn_on_form=turn_on_form or TurnOnTwoStepForm(),
            codes_form=codes_form or TwoStepPasswordForm(prefix="codes"),
            off_form=off_form or TwoStepPasswordForm(prefix="off"),
        ),
        status,
        NO_STORE,
    )


@bp.get("/account/two-step")
@login_required
def settings():
    return _render_settings()


def _show_codes(codes: list[str], message: str):
    flash(message, "success")
    return render_template("accounts/auth/recovery_codes.html", codes=codes), 200, NO_STORE


def _refused(error: StateConflict):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(url_for("two_step.settings"))


@bp.post("/account/two-step/setup")
@login_required
def start_setup():
    try:
        two_step.start_setup(db.session, current_user._get_current_object())
    except StateConflict as error:
        return _refused(error)
    db.session.commit()
    return redirect(url_for("two_step.settings"))


@bp.post("/account/two-step/cancel")
@login_required
def cancel_setup():
    two_step.cancel_setup(db.session, current_user._get_current_object())
    db.session.commit()
    flash(_("The setup is stopped. Two-step verification is off."), "info")
    return redirect(url_for("auth.account"))


def _password_action(form_name: str, form, action, **fields):
    """Run `action(session, user, password=..., ip=..., device_token=...)` once the form
    (the page's `form_name`) passes its checks, and commit: (its result, None), or (None,
    the page again with the problems beside their fields)."""
    if not form.validate():
        return None, _render_settings(**{form_name: form}, status=400)
    try:
        result = action(
            db.session,
            current_user._get_current_object(),
            password=form.password.data,
            ip=client_address(),
            device_token=device_cookie(),
            **fields,
        )
    except StateConflict as error:
        return None, _refused(error)
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error, names={"password": form.password.name})
        page, _status, headers = _render_settings(**{form_name: form}, status=error.status)
        if getattr(error, "retry_after", 0):
            headers = {**headers, "Retry-After": str(error.retry_after)}
        return None, (page, error.status, headers)
    db.session.commit()
    return result, None


@bp.post("/account/two-step/on")
@login_required
def turn_on():
    form = TurnOnTwoStepForm()
    codes, refusal = _password_action(
        "turn_on_form", form, two_step.turn_on, code=form.code.data or ""
    )
    if refusal:
        return refusal
    # Every other session ended with the new session version; this one carries on.
    start_session(current_user._get_current_object(), remember=bool(session.get("_remember_me")))
    return _show_codes(
        codes, _("Two-step verification is on. Every other session of yours was logged out.")
    )


@bp.post("/account/two-step/recovery-codes")
@login_required
def new_recovery_codes():
    form = TwoStepPasswordForm(prefix="codes")
    codes, refusal = _password_action("codes_form", form, two_step.new_recovery_codes)
    message = _("Here are your new recovery codes. The earlier ones no longer work.")
    return refusal or _show_codes(codes, message)


@bp.post("/account/two-step/off")
@login_required
def turn_off():
    form = TwoStepPasswordForm(prefix="off")
    _result, refusal = _password_action("off_form", form, two_step.turn_off)
    if refusal:
        return refusal
    flash(_("Two-step verification is off. Your password alone logs you in."), "success")
    return redirect(url_for("auth.account"))
