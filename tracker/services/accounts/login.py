"""Logging in and out: checking a login against the throttle, logging out everywhere, and
the signed-in user's password change, whose wrong current password counts as a failed
login.

`authenticate` and a failed `change_password` commit the attempt themselves (see there);
everything else leaves the commit to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import LoginAttempt, User
from tracker.services import audit
from tracker.services.accounts.passwords import hash_password, needs_rehash, verify_password
from tracker.services.accounts.users import (
    bump_session_version,
    find_user_by_email,
    normalise_email,
    set_password,
)
from tracker.services.errors import InvalidInput
from tracker.vocabulary import LoginOutcome

#: failed logins allowed per account and per IP address within the window
DEFAULT_MAX_FAILURES_PER_ACCOUNT = 5
DEFAULT_MAX_FAILURES_PER_IP = 20
DEFAULT_THROTTLE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def _throttle_window() -> timedelta:
    seconds = current_app.config.get("LOGIN_THROTTLE_WINDOW_SECONDS")
    return timedelta(seconds=seconds) if seconds else DEFAULT_THROTTLE_WINDOW


def throttle_window_minutes() -> int:
    return max(1, round(_throttle_window().total_seconds() / 60))


def throttled_message() -> str:
    """What a throttled login or password change is told (translated)."""
    return _(
        "Too many failed attempts. Wait %(minutes)d minutes and try again.",
        minutes=throttle_window_minutes(),
    )


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


def _record_failure(session: Session, email: str, user: User | None, matches: bool) -> None:
    """Audit a refused login with its reason (the password itself is never recorded)."""
    if user is None:
        reason = "unknown_account"
    else:
        reason = "wrong_password" if not matches else "account_disabled"
    audit.record(
        session,
        "login.failure",
        "user" if user else "login",
        user.id if user else email[:64],
        summary=email,
        details={"email": email, "reason": reason},
        actor=None,
    )


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
        _record_failure(session, email, user, matches)
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


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str, ip: str
) -> None:
    """The signed-in user changes their password; the current one must be right.

    A wrong current password counts as a failed login, so a stolen session cannot be used
    to guess the password faster than the login form allows."""
    now = clock.now_utc()
    if _is_throttled(session, user.email, ip, now, pending=0):
        raise InvalidInput(problems={"current_password": [throttled_message()]})
    if not verify_password(user.password_hash, current_password):
        # Kept even though the request fails: committed here, like a failed login.
        session.add(LoginAttempt(email=user.email, ip=ip[:64], attempted_dt=now))
        audit.record(
            session, "password.change_failed", "user", user.id, actor=user, summary=user.email
        )
        session.commit()
        raise InvalidInput(
            problems={"current_password": [_("The current password is not correct.")]}
        )
    set_password(session, user, new_password, action="password.changed")
