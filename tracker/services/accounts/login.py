"""Logging in and out: checking a login against the throttle (tracker.services.accounts.
throttle: device cookies, then per account and per address; an account with two-step
verification goes on to tracker.services.accounts.two_step), logging out everywhere, and
the signed-in user's password checks (changing it, confirming it before a sensitive
action), whose wrong passwords count as failed logins.

`authenticate` and a failed password check commit the attempt themselves (see there);
everything else leaves the commit to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import LoginAttempt, User
from tracker.services import audit
from tracker.services.accounts import emails, throttle, tokens
from tracker.services.accounts.passwords import hash_password, needs_rehash, verify_password
from tracker.services.accounts.users import (
    bump_session_version,
    find_user_by_email,
    normalise_email,
    set_password,
)
from tracker.services.errors import InvalidInput
from tracker.vocabulary import LoginOutcome, MailKind


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    #: THROTTLED: seconds until the next attempt is judged (the Retry-After header)
    retry_after: int = 0
    #: SUCCESS: the value of the new device cookie for this browser
    device_token: str = ""
    #: SUCCESS of a second step: "app" or "recovery_code"
    second_step: str = ""


def throttled_message(seconds: int) -> str:
    """What a throttled login or password check is told (translated)."""
    return _(
        "Too many failed attempts. Wait %(time)s and try again.",
        time=format_timedelta(timedelta(seconds=max(seconds, 1)), threshold=1.0),
    )


class PasswordThrottled(InvalidInput):
    """Too many wrong passwords: the answer is 429 with Retry-After."""

    status = 429

    def __init__(self, seconds: int, field: str) -> None:
        super().__init__(problems={field: [throttled_message(seconds)]})
        self.retry_after = seconds


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


def begin_attempt(
    session: Session, email: str, ip: str, device_token: str, target: tuple[str, object]
) -> tuple[LoginAttempt, LoginResult | None]:
    """Commit an attempt as a failure, then read the counters: every worker then sees it,
    and of any number of parallel attempts at most the allowed number get past the
    throttle. Returns the attempt, and a THROTTLED result when it must wait (audited
    against `target`, a (type, id) pair)."""
    ip = (ip or "")[:64]
    now = clock.now_utc()
    device = throttle.device_nonce(device_token, email)
    attempt = LoginAttempt(email=email, ip=ip, device=device, attempted_dt=now)
    session.add(attempt)
    session.commit()
    wait = throttle.seconds_to_wait(
        session, email=email, ip=ip, device=device, now=now, exclude_id=attempt.id
    )
    if not wait:
        return attempt, None
    attempt.is_throttled = True
    audit.record(
        session,
        "login.throttled",
        *target,
        summary=email,
        details={"email": email, "retry_after": wait, "known_device": bool(device)},
        actor=None,
    )
    session.commit()
    return attempt, LoginResult(LoginOutcome.THROTTLED, retry_after=wait)


def authenticate(
    session: Session, email: str, password: str, ip: str, device_token: str = ""
) -> LoginResult:
    """Check a login; `device_token` is the browser's device cookie, if any. On success,
    the caller logs the user in, sets the new device cookie and commits; on SECOND_STEP
    it asks for a code next (tracker.services.accounts.two_step).

    The attempt is committed as a failure before the counters are read (`begin_attempt`).
    A known and an unknown account run the same queries and the same password check (a
    dummy hash for an unknown one)."""
    email = normalise_email(email)[:320]
    attempt, throttled = begin_attempt(session, email, ip, device_token, ("login", email[:64]))
    if throttled:
        return throttled

    user = find_user_by_email(session, email)
    # An unknown account is checked against a dummy hash: the answer takes as long.
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches or not user.is_enabled:
        _record_failure(session, email, user, matches)
        session.commit()
        return LoginResult(LoginOutcome.INVALID)

    if user.has_two_step:
        # Not a success yet, and not a failure: the code decides (services.accounts.
        # two_step). A success here would forget the account's failed codes.
        session.delete(attempt)
        audit.record(session, "login.password_accepted", "user", user.id, actor=None, summary=email)
        return LoginResult(LoginOutcome.SECOND_STEP, user)
    attempt.is_success = True
    user.last_login_dt = attempt.attempted_dt
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, "login.success", "user", user.id, actor=user, summary=email)
    return LoginResult(LoginOutcome.SUCCESS, user, device_token=throttle.make_device_token(email))


def logout(session: Session, user: User) -> None:
    """Logging out ends every session of the user, on every device."""
    bump_session_version(user)
    audit.record(session, "logout", "user", user.id, actor=user, summary=user.email)


def check_own_password(
    session: Session,
    user: User,
    password: str,
    *,
    ip: str,
    device_token: str = "",
    field: str = "current_password",
    failure_action: str = "password.check_failed",
) -> None:
    """The signed-in user types their password again (to change it, or to confirm a
    sensitive action). A wrong one counts as a failed login, committed here even though
    the request fails, so a stolen session cannot guess faster than the login form
    allows. Raises PasswordThrottled (429) or InvalidInput naming `field`."""
    now = clock.now_utc()
    ip = (ip or "")[:64]
    device = throttle.device_nonce(device_token, user.email)
    wait = throttle.seconds_to_wait(session, email=user.email, ip=ip, device=device, now=now)
    if wait:
        raise PasswordThrottled(wait, field)
    if not verify_password(user.password_hash, password):
        session.add(LoginAttempt(email=user.email, ip=ip, device=device, attempted_dt=now))
        audit.record(session, failure_action, "user", user.id, actor=user, summary=user.email)
        session.commit()
        raise InvalidInput(problems={field: [_("The current password is not correct.")]})


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    ip: str,
    device_token: str = "",
) -> None:
    """The signed-in user changes their password; the current one must be right."""
    check_own_password(
        session,
        user,
        current_password,
        ip=ip,
        device_token=device_token,
        failure_action="password.change_failed",
    )
    set_password(session, user, new_password, action="password.changed")
    emails.plan_security_notice(session, user, MailKind.PASSWORD_CHANGED, client_ip=ip)


def reset_password_by_link(session: Session, token: str, new_password: str) -> User:
    """Spend a reset link on a new password, and tell the owner by email as a change from
    the account page does: whoever reads the mailbox can take the account this way."""
    user = tokens.reset_password(session, token, new_password)
    client_ip = session.info.get(audit.CLIENT_ADDRESS) or ""
    emails.plan_security_notice(session, user, MailKind.PASSWORD_CHANGED, client_ip=client_ip)
    return user


def confirm_password(
    session: Session, user: User, password: str, *, ip: str, device_token: str = ""
) -> None:
    """The signed-in user confirms who they are before a sensitive action."""
    check_own_password(
        session,
        user,
        password,
        ip=ip,
        device_token=device_token,
        field="password",
        failure_action="password.confirm_failed",
    )
    audit.record(session, "password.confirmed", "user", user.id, actor=user, summary=user.email)
