"""Logging in and out, invitations, password resets and the user's own account page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker.extensions import db
from tracker.forms.accounts import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    SetPasswordForm,
)
from tracker.services.accounts import emails, tokens, users
from tracker.services.accounts import login as logins
from tracker.services.accounts.passwords import PasswordPolicyError
from tracker.services.accounts.tokens import TokenError
from tracker.services.errors import InvalidInput
from tracker.vocabulary import LoginOutcome, Purpose, Role
from tracker.web.request_origin import client_address

bp = Blueprint("auth", __name__)

#: the issue's ceiling for "remember me"
MAX_REMEMBER = timedelta(days=30)

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


def _remember_duration() -> timedelta:
    configured = current_app.config.get("REMEMBER_COOKIE_DURATION") or MAX_REMEMBER
    if not isinstance(configured, timedelta):
        configured = timedelta(seconds=int(configured))
    return min(configured, MAX_REMEMBER)


def _clear_session() -> None:
    """Empty the session cookie; only the chosen language stays."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _start_session(user, *, remember: bool) -> None:
    """Log in on a fresh session: nothing planted in the old cookie carries over."""
    _clear_session()
    login_user(user, remember=remember, duration=_remember_duration())


def _has_remember_cookie() -> bool:
    name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return name in request.cookies


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next_path(request.args.get("next")) or home_url(current_user))
        form.next.data = safe_next_path(request.args.get("next")) or ""
    error = None
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            result = logins.authenticate(
                db.session, form.email.data, form.password.data, client_address()
            )
            if result.outcome == LoginOutcome.SUCCESS:
                _start_session(result.user, remember=form.remember.data)
                db.session.commit()
                flash(_("You are logged in."), "success")
                return redirect(safe_next_path(form.next.data) or home_url(result.user))
            if result.outcome == LoginOutcome.THROTTLED:
                status = 429
                error = logins.throttled_message()
            else:
                status = 401
                # The same words for an unknown account and a wrong password.
                error = _("The email or password is not correct. Check both and try again.")
    return render_template("accounts/auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        logins.logout(db.session, current_user._get_current_object())
        db.session.commit()
        logout_user()
    _clear_session()
    flash(_("You are logged out."), "success")
    response = redirect(url_for("public.index"))
    # The answer still belongs to the signed-in session: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_refused(error: TokenError, purpose: Purpose):
    db.session.rollback()
    return render_template(
        "accounts/auth/token_invalid.html", message=str(error), purpose=purpose
    ), 400


def _password_link_page(token: str, purpose: Purpose, use_token, done_message: str):
    """The page an invitation or reset link opens: check the token (GET changes nothing),
    then spend it on the new password, log in and go home."""
    try:
        claims = tokens.read_link(db.session, token, purpose)
    except TokenError as error:
        return _token_refused(error, purpose)
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
            _start_session(user, remember=False)
            flash(done_message, "success")
            return redirect(home_url(user))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "accounts/auth/set_password.html", form=form, user=claims.user, purpose=purpose
    ), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _password_link_page(
        token,
        Purpose.INVITATION,
        tokens.accept_invitation,
        _("Welcome. Your password is set and you are logged in."),
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        emails.request_password_reset(db.session, form.email.data)
        db.session.commit()
        minutes = int(tokens.token_max_age(Purpose.PASSWORD_RESET).total_seconds() // 60)
        # The same answer whether or not the account exists.
        flash(
            _(
                "If an account exists for this address, we have sent it a link to choose a "
                "new password. The link works for %(minutes)d minutes.",
                minutes=minutes,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/auth/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_link_page(
        token,
        Purpose.PASSWORD_RESET,
        tokens.reset_password,
        _("Your password is changed. Every other session of yours was logged out."),
    )


def _render_account(password_form=None, language_form=None, status: int = 200):
    user = current_user._get_current_object()
    return render_template(
        "accounts/auth/account.html",
        password_form=password_form or ChangePasswordForm(account_email=user.email),
        language_form=language_form or LanguageForm(locale=user.locale),
    ), status


@bp.get("/account")
@login_required
def account():
    return _render_account()


@bp.post("/account/password")
@login_required
def change_password():
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
        )
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error)
        return _render_account(password_form=form, status=400)
    remember = _has_remember_cookie()
    db.session.commit()
    # This session carries on under the new session version; every other one ends.
    _start_session(user, remember=remember)
    flash(_("Your password is changed. Every other session of yours was logged out."), "success")
    return redirect(url_for("auth.account"))


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
