"""Accounts: creating and inviting users, passwords, roles, login with throttling, and the
signed single-use tokens of invitations and password resets.

Views, the CLI and the first-run hook all call these functions. They receive the session
and leave the commit to the caller, except `authenticate`, which commits the attempt
before it counts (see there).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import AuditEntry, LoginAttempt, Organisation, UsedToken, User
from tracker.services import audit, mail
from tracker.services.accounts.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from tracker.vocabulary import LoginOutcome, Purpose, Role

#: failed logins allowed per account and per IP address within the window
DEFAULT_MAX_FAILURES_PER_ACCOUNT = 5
DEFAULT_MAX_FAILURES_PER_IP = 20
DEFAULT_THROTTLE_WINDOW = timedelta(minutes=15)
#: password reset emails sent to one account per hour at most
MAX_RESET_EMAILS_PER_HOUR = 3


DEFAULT_TOKEN_MAX_AGE = {
    Purpose.INVITATION: timedelta(days=7),
    Purpose.PASSWORD_RESET: timedelta(hours=1),
}


class AccountError(ValueError):
    """A request that cannot be carried out; the message says why (translated)."""


class TokenError(AccountError):
    """A token that is forged, expired, spent, or meant for another purpose or user."""


# -- users -----------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _checked_email(email: str) -> str:
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(_("Enter a valid email address.")) from error
    return email


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _checked_role_and_organisation(
    session: Session, role: str, organisation_id: int | None
) -> tuple[Role, int | None]:
    if role not in set(Role):
        raise AccountError(_("Choose one of the listed roles."))
    if role != Role.MONITOR:
        # Only monitors belong to an organisation; reviewers and admins speak for the
        # Platform, so an organisation sent with them is dropped, never stored.
        return Role(role), None
    if not organisation_id:
        raise AccountError(_("A monitor must belong to an organisation. Choose one."))
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.is_archived:
        raise AccountError(_("Choose one of the listed organisations."))
    return Role(role), organisation.id


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_id: int | None = None,
    display_name: str = "",
    locale: str = "az",
    password: str | None = None,
    actor: User | None = None,
) -> User:
    """Create an account. Without a password it can only be entered through an invitation."""
    email = _checked_email(email)
    role, organisation_id = _checked_role_and_organisation(session, role, organisation_id)
    if find_user_by_email(session, email) is not None:
        raise AccountError(_("An account with this email address already exists."))
    if locale not in current_app.config.get("LANGUAGES", ("az", "en")):
        raise AccountError(_("Choose one of the listed languages."))
    password_hash = None
    if password is not None:
        check_password_policy(password, email=email)
        password_hash = hash_password(password)
    user = User(
        email=email,
        role=role,
        organisation_id=organisation_id,
        display_name=display_name.strip()[:200],
        locale=locale,
        password_hash=password_hash,
        is_enabled=True,
        session_version=1,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.created",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"role": str(role), "organisation_id": organisation_id},
    )
    return user


def _enabled_admin_count(session: Session, excluding: User) -> int:
    return session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.is_enabled.is_(True), User.id != excluding.id
        )
    )


def change_role(
    session: Session, user: User, *, role: str, organisation_id: int | None, actor: User
) -> bool:
    """Set a user's role and organisation. Returns False when nothing changed."""
    role, organisation_id = _checked_role_and_organisation(session, role, organisation_id)
    if role == user.role and organisation_id == user.organisation_id:
        return False
    demotes_last_admin = (
        user.role == Role.ADMIN
        and role != Role.ADMIN
        and user.is_enabled
        and _enabled_admin_count(session, excluding=user) == 0
    )
    if demotes_last_admin:
        raise AccountError(_("At least one administrator must remain. Make another one first."))
    before = {"role": user.role, "organisation_id": user.organisation_id}
    user.role = role
    user.organisation_id = organisation_id
    audit.record(
        session,
        "user.role_changed",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={
            "before": before,
            "after": {"role": str(role), "organisation_id": organisation_id},
        },
    )
    return True


def bump_session_version(user: User) -> None:
    """Every session and remember cookie issued before this stops working."""
    user.session_version = (user.session_version or 1) + 1


def disable_user(session: Session, user: User, *, actor: User) -> None:
    if user.id == actor.id:
        raise AccountError(_("You cannot disable your own account."))
    if not user.is_enabled:
        raise AccountError(_("This account is already disabled."))
    if user.role == Role.ADMIN and _enabled_admin_count(session, excluding=user) == 0:
        raise AccountError(_("At least one administrator must remain. Make another one first."))
    user.is_enabled = False
    bump_session_version(user)
    audit.record(session, "user.disabled", "user", user.id, actor=actor, summary=user.email)


def enable_user(session: Session, user: User, *, actor: User) -> None:
    if user.is_enabled:
        raise AccountError(_("This account is already enabled."))
    user.is_enabled = True
    audit.record(session, "user.enabled", "user", user.id, actor=actor, summary=user.email)


def set_language(session: Session, user: User, locale: str) -> None:
    if locale not in current_app.config.get("LANGUAGES", ("az", "en")):
        raise AccountError(_("Choose one of the listed languages."))
    user.locale = locale


# -- passwords -------------------------------------------------------------------------


def set_password(session: Session, user: User, new_password: str, *, action: str) -> None:
    """Store a new password and end every existing session of the user."""
    check_password_policy(new_password, email=user.email)
    user.password_hash = hash_password(new_password)
    bump_session_version(user)
    audit.record(session, action, "user", user.id, actor=user, summary=user.email)


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str, ip: str
) -> None:
    """The signed-in user changes their password; the current one must be right.

    A wrong current password counts as a failed login, so a stolen session cannot be used
    to guess the password faster than the login form allows."""
    now = clock.now_utc()
    if _is_throttled(session, user.email, ip, now, pending=0):
        raise AccountError(
            _(
                "Too many failed attempts. Wait %(minutes)d minutes and try again.",
                minutes=throttle_window_minutes(),
            )
        )
    if not verify_password(user.password_hash, current_password):
        # Kept even though the request fails: committed here, like a failed login.
        session.add(LoginAttempt(email=user.email, ip=ip[:64], attempted_dt=now))
        audit.record(
            session, "password.change_failed", "user", user.id, actor=user, summary=user.email
        )
        session.commit()
        raise AccountError(_("The current password is not correct."))
    set_password(session, user, new_password, action="password.changed")


# -- login and throttling --------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def _throttle_window() -> timedelta:
    seconds = current_app.config.get("LOGIN_THROTTLE_WINDOW_SECONDS")
    return timedelta(seconds=seconds) if seconds else DEFAULT_THROTTLE_WINDOW


def throttle_window_minutes() -> int:
    return max(1, round(_throttle_window().total_seconds() / 60))


def _is_throttled(session: Session, email: str, ip: str, now: datetime, *, pending: int) -> bool:
    """True when the account or the address has used up its failures in the window.

    `pending` is how many of the counted rows belong to the attempt being judged."""
    window_start = now - _throttle_window()
    max_account = current_app.config.get(
        "LOGIN_MAX_FAILURES_PER_ACCOUNT", DEFAULT_MAX_FAILURES_PER_ACCOUNT
    )
    max_ip = current_app.config.get("LOGIN_MAX_FAILURES_PER_IP", DEFAULT_MAX_FAILURES_PER_IP)
    counted = (
        LoginAttempt.is_success.is_(False),
        LoginAttempt.is_throttled.is_(False),
        LoginAttempt.attempted_dt >= window_start,
    )
    # A successful login clears the account's count, not the address's.
    last_success_id = (
        select(func.coalesce(func.max(LoginAttempt.id), 0))
        .where(LoginAttempt.email == email, LoginAttempt.is_success.is_(True))
        .scalar_subquery()
    )
    account_failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.email == email, LoginAttempt.id > last_success_id, *counted
        )
    )
    if account_failures - pending >= max_account:
        return True
    if not ip:
        return False
    ip_failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.ip == ip, *counted)
    )
    return ip_failures - pending >= max_ip


def authenticate(session: Session, email: str, password: str, ip: str) -> LoginResult:
    """Check a login. On success, the caller logs the user in and commits.

    The attempt is committed as a failure before the counters are read: every worker then
    sees it, and of any number of parallel attempts at most the allowed number get past
    the throttle."""
    email = normalise_email(email)[:320]
    ip = (ip or "")[:64]
    now = clock.now_utc()
    attempt = LoginAttempt(email=email, ip=ip, attempted_dt=now)
    session.add(attempt)
    session.commit()

    if _is_throttled(session, email, ip, now, pending=1):
        attempt.is_throttled = True
        audit.record(
            session,
            "login.throttled",
            "login",
            email[:64],
            summary=email,
            details={"email": email},
            actor=None,
        )
        session.commit()
        return LoginResult(LoginOutcome.THROTTLED)

    user = find_user_by_email(session, email)
    # An unknown account is checked against a dummy hash: the answer takes as long.
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches or not user.is_enabled:
        reason = (
            "unknown_account"
            if user is None
            else ("wrong_password" if not matches else "account_disabled")
        )
        audit.record(
            session,
            "login.failure",
            "user" if user else "login",
            user.id if user else email[:64],
            summary=email,
            details={"email": email, "reason": reason},
            actor=None,
        )
        session.commit()
        return LoginResult(LoginOutcome.INVALID)

    attempt.is_success = True
    user.last_login_dt = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, "login.success", "user", user.id, actor=user, summary=email)
    return LoginResult(LoginOutcome.SUCCESS, user)


def logout(session: Session, user: User) -> None:
    """Logging out ends every session of the user, on every device."""
    bump_session_version(user)
    audit.record(session, "logout", "user", user.id, actor=user, summary=user.email)


# -- signed single-use tokens ----------------------------------------------------------


class _ClockTimestampSigner(TimestampSigner):
    """Timestamps from tracker.clock, so that tests can move time forward."""

    def get_timestamp(self) -> int:
        return int(clock.now_utc().timestamp())


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.secret_key,
        salt=f"tracker.accounts.{purpose}",
        signer=_ClockTimestampSigner,
    )


def token_max_age(purpose: Purpose) -> timedelta:
    seconds = current_app.config.get(f"{purpose.upper()}_MAX_AGE_SECONDS")
    return timedelta(seconds=seconds) if seconds else DEFAULT_TOKEN_MAX_AGE[purpose]


def _fingerprint(user: User, purpose: Purpose) -> str:
    """Changes when the password is set, the email changes or a new invitation is sent,
    which voids every token issued before."""
    invited = int(user.invited_dt.timestamp()) if user.invited_dt else 0
    material = f"{purpose}|{user.id}|{user.email}|{user.password_hash or ''}|{invited}"
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else b""
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(user: User, purpose: Purpose) -> str:
    payload = {"uid": user.id, "jti": secrets.token_urlsafe(16), "fp": _fingerprint(user, purpose)}
    return _serializer(purpose).dumps(payload)


@dataclass(frozen=True)
class TokenClaims:
    user: User
    purpose: Purpose
    #: SHA-256 of the token's random id; stored in UsedToken once spent
    digest: str


def _invalid_token() -> TokenError:
    return TokenError(_("This link is not valid or has already been used."))


def read_token(session: Session, token: str, purpose: Purpose) -> TokenClaims:
    """Check a token without spending it (safe on GET)."""
    try:
        payload = _serializer(purpose).loads(
            token, max_age=int(token_max_age(purpose).total_seconds())
        )
    except SignatureExpired as error:
        raise TokenError(_("This link has expired.")) from error
    except BadData as error:
        raise _invalid_token() from error
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("uid"), int)
        and isinstance(payload.get("jti"), str)
        and isinstance(payload.get("fp"), str)
    ):
        raise _invalid_token()
    user = session.get(User, payload["uid"])
    if user is None or not user.is_enabled:
        raise _invalid_token()
    if not hmac.compare_digest(payload["fp"], _fingerprint(user, purpose)):
        raise _invalid_token()
    digest = hashlib.sha256(payload["jti"].encode()).hexdigest()
    if session.scalar(select(UsedToken.id).where(UsedToken.token_digest == digest)) is not None:
        raise _invalid_token()
    return TokenClaims(user=user, purpose=purpose, digest=digest)


def spend_token(session: Session, claims: TokenClaims) -> None:
    """Mark a token used. A second use, even a simultaneous one, raises TokenError."""
    try:
        with session.begin_nested():
            session.add(
                UsedToken(
                    token_digest=claims.digest, purpose=str(claims.purpose), user_id=claims.user.id
                )
            )
    except IntegrityError as error:
        raise _invalid_token() from error


def accept_invitation(session: Session, token: str, new_password: str) -> User:
    claims = read_token(session, token, Purpose.INVITATION)
    if claims.user.password_hash is not None:
        raise _invalid_token()
    spend_token(session, claims)
    set_password(session, claims.user, new_password, action="invitation.accepted")
    return claims.user


def reset_password(session: Session, token: str, new_password: str) -> User:
    claims = read_token(session, token, Purpose.PASSWORD_RESET)
    spend_token(session, claims)
    set_password(session, claims.user, new_password, action="password.reset")
    return claims.user


# -- emails ----------------------------------------------------------------------------


def public_url(endpoint: str, **values) -> str:
    """An absolute link built on PUBLIC_BASE_URL, never on the request's Host header."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


@dataclass(frozen=True)
class SentLink:
    """An account email's link. `delivered` is False when mail is off or failed: the
    link then has to reach the person another way (the admin or the CLI shows it)."""

    link: str
    delivered: bool
    error: str = ""


def _send_account_email(
    user: User, template: str, subject, link: str, valid_for: timedelta
) -> SentLink:
    """Render templates/email/<template>.txt and .html in the user's language and send."""
    with force_locale(user.locale or "az"):
        translated_subject = str(subject)
        context = {
            "user": user,
            "link": link,
            "subject": translated_subject,
            "valid_for": format_timedelta(valid_for, threshold=1.0),
        }
        text_body = render_template(f"email/{template}.txt", **context)
        html_body = render_template(f"email/{template}.html", **context)
    if not mail.mail_enabled():
        return SentLink(link=link, delivered=False, error=_("Mail is off on this server."))
    try:
        mail.send_message(user.email, translated_subject, text_body, html_body)
    except mail.MailDeliveryError as error:
        current_app.logger.warning("Could not send %s to user %s: %s", template, user.id, error)
        return SentLink(link=link, delivered=False, error=str(error))
    return SentLink(link=link, delivered=True)


def send_invitation(session: Session, user: User, *, actor: User | None) -> SentLink:
    """(Re)send an invitation; an earlier invitation link stops working."""
    if user.password_hash is not None:
        raise AccountError(_("This person has already accepted the invitation."))
    if not user.is_enabled:
        raise AccountError(_("Enable the account before sending an invitation."))
    user.invited_dt = clock.now_utc()
    session.flush()
    link = public_url("auth.accept_invitation", token=make_token(user, Purpose.INVITATION))
    sent = _send_account_email(
        user,
        "invitation",
        _l("Your invitation to the Open Government Tracker"),
        link,
        token_max_age(Purpose.INVITATION),
    )
    audit.record(
        session,
        "user.invited",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"delivered": sent.delivered},
    )
    return sent


def invite_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_id: int | None,
    display_name: str = "",
    locale: str = "az",
    actor: User | None,
) -> tuple[User, SentLink]:
    user = create_user(
        session,
        email=email,
        role=role,
        organisation_id=organisation_id,
        display_name=display_name,
        locale=locale,
        actor=actor,
    )
    return user, send_invitation(session, user, actor=actor)


def request_password_reset(session: Session, email: str) -> None:
    """Email a reset link when the account exists. The caller shows the same message
    either way, so the form does not reveal who has an account."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_enabled:
        return
    since = clock.now_utc() - timedelta(hours=1)
    recent = session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "password.reset_requested",
            AuditEntry.target_type == "user",
            AuditEntry.target_id == str(user.id),
            AuditEntry.occurred_dt >= since,
        )
    )
    if recent >= MAX_RESET_EMAILS_PER_HOUR:
        return
    link = public_url("auth.reset_password", token=make_token(user, Purpose.PASSWORD_RESET))
    sent = _send_account_email(
        user,
        "password_reset",
        _l("Reset your Open Government Tracker password"),
        link,
        token_max_age(Purpose.PASSWORD_RESET),
    )
    if not sent.delivered:
        # Never show or log the link here: anyone can ask for a reset.
        current_app.logger.warning(
            "Password reset for user %s not delivered: %s", user.id, sent.error
        )
    audit.record(
        session,
        "password.reset_requested",
        "user",
        user.id,
        actor=None,
        summary=user.email,
        details={"delivered": sent.delivered},
    )


# -- first run -------------------------------------------------------------------------


def ensure_first_admin(session: Session, email: str) -> tuple[User, str] | None:
    """Create an administrator with a generated password when there is none.

    Returns the user and the password (to be shown once), or None when an admin exists."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
        return None
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        local, _at, domain = email.partition("@")
        email = f"{local}-{secrets.token_hex(3)}@{domain}"
    password = secrets.token_urlsafe(15)
    user = create_user(session, email=email, role=Role.ADMIN, password=password, locale="en")
    return user, password
