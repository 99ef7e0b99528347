"""Two-step verification: after the password, a six-digit code from an authenticator app
(TOTP, RFC 6238, through pyotp) or one of ten recovery codes.

- **Setting it up** writes a new key to the account (`start_setup`); it is on only once a
  code from the app proves the app holds the key and the password is typed again
  (`turn_on`). Turning it on logs every other session out and gives ten recovery codes,
  shown once; only their SHA-256 is kept.
- **The key is kept sealed** with a key outside the database (secret_box): a copy of
  the database does not give the codes.
- **A code is good once**: the time step of the last accepted code is kept, and a
  conditional UPDATE accepts a step only when it is later, so two requests racing with one
  code cannot both win. A recovery code is spent by a conditional UPDATE too.
- **Guessing is slowed like passwords**: each wrong code is a failed login attempt of the
  account (tracker.services.accounts.throttle), committed before the code is checked.
- **Turning it off** takes the password; an administrator can turn it off for a person
  who lost both their phone and their recovery codes (`reset_by_admin`).
- **A role can be made to use it** (TWO_STEP_REQUIRED_ROLES): its people cannot turn it
  off, and until they set it up every signed-in page sends them to the setup
  (tracker.web.sessions).
- **The owner hears of every change** by email (services.accounts.emails' security
  notices): turned on, off, new recovery codes.

Time is the real time (tracker.clock.real_now_utc): a demo's "today" must not change which
codes are valid.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import RecoveryCode, User
from tracker.services import audit
from tracker.services.accounts import emails, secret_box, throttle
from tracker.services.accounts.login import LoginResult, begin_attempt, check_own_password
from tracker.services.accounts.users import bump_session_version
from tracker.services.errors import InvalidInput, StateConflict
from tracker.vocabulary import LoginOutcome, MailKind

#: codes one step (30 seconds) either side of now are accepted: clocks drift, people type
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: no 0/o, 1/l/i: a code copied from paper is read right
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
#: the name the authenticator app shows beside the account
ISSUER = "Open Government Tracker"


@dataclass(frozen=True)
class SetupKey:
    """What the setup page shows: the key as a QR code, and as text to type."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped(self) -> str:
        """The key in groups of four, easier to type into an app by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def is_required(user: User) -> bool:
    """The user's role must use two-step verification (TWO_STEP_REQUIRED_ROLES)."""
    return str(user.role) in current_app.config.get("TWO_STEP_REQUIRED_ROLES", ())


def setup_key(user: User) -> SetupKey | None:
    """The key of a setup in progress (None when there is none, or it is already on)."""
    if user.has_two_step or not user.two_step_secret:
        return None
    try:
        secret = _secret(user)
    except secret_box.UnreadableKey:
        return None  # a setup sealed with a key that is gone: the page offers a new one
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    title = _("QR code of the key for your authenticator app")
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title, svgclass="qr-code")
    return SetupKey(secret=secret, uri=uri, qr_svg=svg)


def start_setup(session: Session, user: User) -> None:
    """A new key for the account; two-step verification stays off until `turn_on`."""
    if user.has_two_step:
        raise StateConflict(_("Two-step verification is already on."))
    user.two_step_secret = secret_box.seal(pyotp.random_base32())
    user.two_step_last_step = None


def cancel_setup(session: Session, user: User) -> None:
    """Stop a setup that was not finished (nothing to do when it is on or never began)."""
    if not user.has_two_step:
        user.two_step_secret = None


def _secret(user: User) -> str:
    """The account's authenticator key, opened (it is kept sealed: secret_box)."""
    return secret_box.unseal(user.two_step_secret, user_id=user.id)


def normalise_code(code: str) -> str:
    """What a person types, without spaces and hyphens, lower-cased."""
    return "".join(code.split()).replace("-", "").lower()[:64]


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code is `code`, within the window around now."""
    # ASCII digits only: str.isdigit() takes "١٢٣٤٥٦" too, which compare_digest refuses
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.real_now_utc())
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(session: Session, user: User, step: int) -> bool:
    """Record `step` as used, unless it (or a later one) already was: one winner."""
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.two_step_last_step.is_(None), User.two_step_last_step < step),
        )
        .values(two_step_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    user.two_step_last_step = step
    return True


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _spend_recovery_code(session: Session, user: User, code: str) -> bool:
    """Mark the unused recovery code `code` used: one conditional UPDATE, one winner."""
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == _digest(code),
            RecoveryCode.used_dt.is_(None),
        )
        .values(used_dt=clock.real_now_utc())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten new recovery codes ("abcde-fghjk"); the earlier ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    now = clock.real_now_utc()
    session.add_all(
        RecoveryCode(user_id=user.id, code_digest=_digest(code), created_dt=now) for code in codes
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None)
        )
    )


def turn_on(
    session: Session, user: User, *, code: str, password: str, ip: str, device_token: str = ""
) -> list[str]:
    """Check the password and a first code from the app, turn two-step verification on and
    return the recovery codes (the only time they are seen). The caller commits and starts
    this browser's session again: every other session ends."""
    if user.has_two_step:
        raise StateConflict(_("Two-step verification is already on."))
    if not user.two_step_secret:
        raise StateConflict(_("Start the setup again: there is no key to confirm."))
    check_own_password(session, user, password, ip=ip, device_token=device_token, field="password")
    step = _matching_step(_secret(user), normalise_code(code))
    if step is None:
        raise InvalidInput(
            problems={
                "code": [
                    _(
                        "This code does not match the key. Check that the app shows the "
                        "account you just added, and type its current code."
                    )
                ]
            }
        )
    user.two_step_last_step = step
    user.two_step_enabled_dt = clock.now_utc()
    bump_session_version(user)
    codes = _new_recovery_codes(session, user)
    audit.record(session, "two_step.enabled", "user", user.id, actor=user, summary=user.email)
    emails.plan_security_notice(session, user, MailKind.TWO_STEP_ON, client_ip=ip)
    return codes


def new_recovery_codes(
    session: Session, user: User, *, password: str, ip: str, device_token: str = ""
) -> list[str]:
    """Ten new recovery codes after the password; the earlier ones stop working."""
    if not user.has_two_step:
        raise StateConflict(_("Two-step verification is off."))
    check_own_password(session, user, password, ip=ip, device_token=device_token, field="password")
    codes = _new_recovery_codes(session, user)
    audit.record(
        session, "two_step.recovery_codes", "user", user.id, actor=user, summary=user.email
    )
    emails.plan_security_notice(session, user, MailKind.RECOVERY_CODES, client_ip=ip)
    return codes


def _clear(session: Session, user: User) -> None:
    user.two_step_secret = None
    user.two_step_enabled_dt = None
    user.two_step_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def turn_off(
    session: Session, user: User, *, password: str, ip: str, device_token: str = ""
) -> None:
    """The person turns it off (or stops a setup), after typing the password."""
    if not user.two_step_secret:
        raise StateConflict(_("Two-step verification is off."))
    if user.has_two_step and is_required(user):
        raise StateConflict(_("Your role needs two-step verification: it stays on."))
    check_own_password(session, user, password, ip=ip, device_token=device_token, field="password")
    was_on = user.has_two_step
    _clear(session, user)
    if was_on:
        audit.record(session, "two_step.disabled", "user", user.id, actor=user, summary=user.email)
        emails.plan_security_notice(session, user, MailKind.TWO_STEP_OFF, client_ip=ip)


def reset_by_admin(session: Session, user: User, *, actor: User | None) -> None:
    """An administrator (or `tracker reset-two-step`, with no actor) turns it off for a
    person locked out of their app and codes; the person logs in with the password alone
    and can set it up again."""
    if not user.has_two_step:
        raise StateConflict(_("Two-step verification is off for this account."))
    _clear(session, user)
    audit.record(session, "two_step.reset", "user", user.id, actor=actor, summary=user.email)
    emails.plan_security_notice(session, user, MailKind.TWO_STEP_OFF)


@dataclass(frozen=True)
class ResealResult:
    resealed: int
    #: the accounts whose key none of TWO_STEP_KEYS opens (left as they are)
    unreadable: list[str]


def reseal_all(session: Session) -> ResealResult:
    """Seal every account's key again with the first of TWO_STEP_KEYS, so that the older
    keys can be taken out of the setting. The caller commits."""
    users = session.scalars(
        select(User).where(User.two_step_secret.is_not(None)).order_by(User.id)
    ).all()
    resealed, unreadable = 0, []
    for user in users:
        try:
            user.two_step_secret = secret_box.reseal(user.two_step_secret)
        except secret_box.UnreadableKey:
            unreadable.append(user.email)
        else:
            resealed += 1
    return ResealResult(resealed, unreadable)


def verify_second_step(
    session: Session, user: User, code: str, ip: str, device_token: str = ""
) -> LoginResult:
    """The second step of a login whose password was right (the caller keeps who that was,
    for a few minutes). Like a password, a wrong code is a failed attempt, committed
    before the code is checked so that parallel guesses stay within the throttle."""
    # A key the server cannot open is its own fault: say so before counting an attempt.
    secret = _secret(user) if user.has_two_step else None
    attempt, throttled = begin_attempt(session, user.email, ip, device_token, ("user", user.id))
    if throttled:
        return throttled
    typed = normalise_code(code)
    kind = None
    if user.is_enabled and secret is not None:
        step = _matching_step(secret, typed)
        if step is not None and _spend_step(session, user, step):
            kind = "app"
        elif step is None and _spend_recovery_code(session, user, typed):
            kind = "recovery_code"
    if kind is None:
        audit.record(
            session,
            "login.failure",
            "user",
            user.id,
            summary=user.email,
            details={"email": user.email, "reason": "wrong_code"},
            actor=None,
        )
        session.commit()
        return LoginResult(LoginOutcome.INVALID, user)
    attempt.is_success = True
    user.last_login_dt = attempt.attempted_dt
    audit.record(
        session,
        "login.success",
        "user",
        user.id,
        actor=user,
        summary=user.email,
        details={"second_step": kind},
    )
    device_token = throttle.make_device_token(user.email)
    return LoginResult(LoginOutcome.SUCCESS, user, device_token=device_token, second_step=kind)


def wrong_code_message() -> str:
    """What a login's second step says to a wrong, used or late code."""
    return _(
        "This code is not right, or it was already used. Type the code your app shows now, "
        "or a recovery code."
    )
