"""Logging in and out, invitations, password resets and the user's own account page."""

from __future__ import annotations

from contextlib import nullcontext
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.forms.accounts import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    SetPasswordForm,
)
from tracker.i18n import interface_locale
from tracker.services.accounts import emails, tokens, users
from tracker.services.accounts import login as logins
from tracker.services.accounts.passwords import PasswordPolicyError
from tracker.services.accounts.throttle import make_device_token
from tracker.services.accounts.tokens import TokenError
from tracker.services.errors import InvalidInput
from tracker.vocabulary import LoginOutcome, Purpose, Role
from tracker.web.errors_map import error_response
from tracker.web.request_origin import client_address
from tracker.web.sessions import (
    await_second_step,
    device_cookie,
    end_session,
    keep_alive,
    limits_for,
    mark_password_confirmed,
    start_session,
)

bp = Blueprint("auth", __name__)

#: where each role lands after logging in
HOME_ENDPOINTS = {
    Role.ADMIN: "admin.index",
    Role.REVIEWER: "review.queue",
    Role.MONITOR: "monitor.home",
}


def safe_next_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: never a redirect elsewhere."""
    if not target or len(target) > 2000:
        return None
    if any(ord(char) < 32 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url(user) -> str:
    return url_for(HOME_ENDPOINTS.get(user.role, "auth.account"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next_path(request.args.get("next")) or home_url(current_user))
        form.next.data = safe_next_path(request.args.get("next")) or ""
    error, status, headers = None, 200, {}
    if form.is_submitted():
        status = 400
        if form.validate():
            result = logins.authenticate(
                db.session, form.email.data, form.password.data, client_address(), device_cookie()
            )
            if result.outcome == LoginOutcome.SECOND_STEP:
                await_second_step(
                    result.user,
                    remember=form.remember.data,
                    next_path=safe_next_path(form.next.data) or "",
                )
                db.session.commit()
                return redirect(url_for("two_step.verify"))
            if result.outcome == LoginOutcome.SUCCESS:
                start_session(
                    result.user, remember=form.remember.data, device_token=result.device_token
                )
                db.session.commit()
                # in the language of the pages from now on: the account's, unless the
                # visitor chose one (this request's was the default, before logging in)
                with force_locale(interface_locale()):
                    flash(_("You are logged in."), "success")
                return redirect(safe_next_path(form.next.data) or home_url(result.user))
            if result.outcome == LoginOutcome.THROTTLED:
                # Not a lock: the client may try again after Retry-After seconds.
                status, error = 429, logins.throttled_message(result.retry_after)
                headers = {"Retry-After": str(max(result.retry_after, 1))}
            else:
                status = 401
                # The same words for an unknown account and a wrong password.
                error = _("The email or password is not correct. Check both and try again.")
    page = render_template(
        "accounts/auth/login.html", form=form, error=error, session_hint=_session_hint()
    )
    return page, status, headers


def _duration(value) -> str:
    return format_timedelta(value, threshold=1.0)


def _session_hint() -> str:
    """How long "stay logged in" lasts, per role, from the settings."""
    staff_idle, staff_most = limits_for(Role.REVIEWER)
    monitor_idle, monitor_most = limits_for(Role.MONITOR)
    return _(
        "Reviewers and administrators are logged out after %(staff_idle)s without activity "
        "and after %(staff_most)s in any case; monitors after %(monitor_idle)s and "
        "%(monitor_most)s.",
        staff_idle=_duration(staff_idle),
        staff_most=_duration(staff_most),
        monitor_idle=_duration(monitor_idle),
        monitor_most=_duration(monitor_most),
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        logins.logout(db.session, current_user._get_current_object())
        db.session.commit()
    # The session is emptied and the remember-me cookie deleted; the device cookie stays.
    end_session()
    flash(_("You are logged out."), "success")
    response = redirect(url_for("public.index"))
    # The answer still belongs to the signed-in session: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/session/keep-alive")
def keep_session_alive():
    """The "Stay logged in" button of the warning before a session ends
    (static/js/session_timeout.js): the time the session has left, as JSON."""
    left = keep_alive()
    if left is None:
        return error_response(401, _("You are logged out. Log in again."))
    response = jsonify(idle_seconds=left.idle_seconds, absolute_seconds=left.absolute_seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_refused(error: TokenError, purpose: Purpose):
    db.session.rollback()
    return render_template(
        "accounts/auth/token_invalid.html", message=str(error), purpose=purpose
    ), 400


def _landing_locale(user):
    """An invitation or reset link opens in its person's language (the one the admin
    chose for the invitation, or the account's), unless the visitor picks one (?lang=)."""
    if request.args.get("lang") in ("az", "en"):
        return nullcontext()
    return force_locale(user.locale or "az")


#: what spending each kind of link does, and what the person is told after it
PASSWORD_LINKS = {
    Purpose.INVITATION: (
        tokens.accept_invitation,
        _l("Welcome. Your password is set and you are logged in."),
    ),
    Purpose.PASSWORD_RESET: (
        logins.reset_password_by_link,
        _l("Your password is changed. Every other session of yours was logged out."),
    ),
}


def _password_link_page(token: str, purpose: Purpose):
    """The page an invitation or reset link opens: check the token (GET changes nothing),
    then spend it on the new password, log in and go home."""
    use_token, done_message = PASSWORD_LINKS[purpose]
    try:
        claims = tokens.read_link(db.session, token, purpose)
    except TokenError as error:
        return _token_refused(error, purpose)
    with _landing_locale(claims.user):
        form = SetPasswordForm(account_email=claims.user.email)
        if form.validate_on_submit():
            try:
                user = use_token(db.session, token, form.password.data)
            except TokenError as error:
                return _token_refused(error, purpose)
            except PasswordPolicyError as error:
                db.session.rollback()
                form.show_problems(error, names={"new_password": "password"})
            else:
                db.session.commit()
                if user.has_two_step:
                    # The link proves the mailbox, not the phone: the code still comes next.
                    await_second_step(user, remember=False, message=str(done_message))
                    return redirect(url_for("two_step.verify"))
                # Proven by the emailed link: this browser is the account's from now on.
                start_session(user, remember=False, device_token=make_device_token(user.email))
                flash(str(done_message), "success")
                return redirect(home_url(user))
        status = 400 if form.is_submitted() else 200
        return render_template(
            "accounts/auth/set_password.html", form=form, user=claims.user, purpose=purpose
        ), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _password_link_page(token, Purpose.INVITATION)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    if not emails.sends_mail():
        # Nothing would leave: say so, and who can help, instead of promising an email.
        status = 503 if request.method == "POST" else 200
        return render_template("accounts/auth/forgot_password.html", form=None), status
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # Only planned here: the scheduler sends it (tracker.services.accounts.emails).
        emails.request_password_reset(db.session, form.email.data, client_ip=client_address())
        db.session.commit()
        minutes = int(tokens.token_max_age(Purpose.PASSWORD_RESET).total_seconds() // 60)
        # The same answer whether or not the account exists.
        flash(
            _(
                "If an account exists for this address, a link to choose a new password is on "
                "its way to it and should arrive within a few minutes. The link works for "
                "%(minutes)d minutes.",
                minutes=minutes,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/auth/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_link_page(token, Purpose.PASSWORD_RESET)


def _render_account(password_form=None, language_form=None, status: int = 200, headers=None):
    user = current_user._get_current_object()
    return (
        render_template(
            "accounts/auth/account.html",
            password_form=password_form or ChangePasswordForm(account_email=user.email),
            language_form=language_form or LanguageForm(locale=user.locale),
        ),
        status,
        headers or {},
    )


def _retry_after(error: InvalidInput) -> dict:
    seconds = getattr(error, "retry_after", 0)
    return {"Retry-After": str(seconds)} if seconds else {}


@bp.get("/account")
@login_required
def account():
    return _render_account()


@bp.post("/account/password")
@login_required
def change_password():
    """The current password is asked on the form itself: that is the re-authentication."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(account_email=user.email)
    if not form.validate():
        return _render_account(password_form=form, status=400)
    try:
        logins.change_password(
            db.session,
            user,
            current_password=form.current_password.data,
            new_password=form.new_password.data,
            ip=client_address(),
            device_token=device_cookie(),
        )
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error)
        return _render_account(password_form=form, status=error.status, headers=_retry_after(error))
    remember = bool(session.get("_remember_me"))
    db.session.commit()
    # This session carries on under the new session version; every other one ends.
    start_session(user, remember=remember)
    flash(_("Your password is changed. Every other session of yours was logged out."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_password():
    """Type the password again before a sensitive action, then go back to it."""
    user = current_user._get_current_object()
    form = ConfirmPasswordForm()
    if request.method == "GET":
        form.next.data = safe_next_path(request.args.get("next")) or ""
    headers = {}
    if form.validate_on_submit():
        try:
            logins.confirm_password(
                db.session,
                user,
                form.password.data,
                ip=client_address(),
                device_token=device_cookie(),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show_problems(error)
            status, headers = error.status, _retry_after(error)
        else:
            db.session.commit()
            mark_password_confirmed()
            return redirect(safe_next_path(form.next.data) or home_url(user))
    else:
        status = 400 if form.is_submitted() else 200
    return (
        render_template("accounts/auth/confirm_password.html", form=form, user=user),
        status,
        headers,
    )


@bp.post("/account/language")
@login_required
def change_language():
    form = LanguageForm()
    if not form.validate():
        return _render_account(language_form=form, status=400)
    users.set_language(db.session, current_user._get_current_object(), form.locale.data)
    db.session.commit()
    session["lang"] = form.locale.data
    flash(_("Your language is saved."), "success")
    return redirect(url_for("auth.account"))
