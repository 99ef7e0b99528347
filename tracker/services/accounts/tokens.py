"""Signed single-use tokens: the links of invitations and password resets.

A token is signed for one purpose, carries a fingerprint of its user's account (so that a
new password or a new invitation voids it) and expires; a spent token's digest is stored
in UsedToken, so that it works once. Accepting an invitation and resetting a password
spend the token and set the password; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import UsedToken, User
from tracker.services.accounts.users import set_password
from tracker.services.errors import InvalidInput
from tracker.vocabulary import Purpose

DEFAULT_TOKEN_MAX_AGE = {
    Purpose.INVITATION: timedelta(days=7),
    Purpose.PASSWORD_RESET: timedelta(hours=1),
}


class TokenError(InvalidInput):
    """A token that is forged, expired, spent, or meant for another purpose or user."""


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


def _payload(token: str, purpose: Purpose) -> dict:
    """The token's signed content, when the signature is right and the token not expired."""
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
    return payload


def read_token(session: Session, token: str, purpose: Purpose) -> TokenClaims:
    """Check a token without spending it (safe on GET)."""
    payload = _payload(token, purpose)
    user = session.get(User, payload["uid"])
    if user is None or not user.is_enabled:
        raise _invalid_token()
    if not hmac.compare_digest(payload["fp"], _fingerprint(user, purpose)):
        raise _invalid_token()
    digest = hashlib.sha256(payload["jti"].encode()).hexdigest()
    if session.scalar(select(UsedToken.id).where(UsedToken.token_digest == digest)) is not None:
        raise _invalid_token()
    return TokenClaims(user=user, purpose=purpose, digest=digest)


def read_link(session: Session, token: str, purpose: Purpose) -> TokenClaims:
    """Check the token of an invitation or reset page without spending it; an invitation
    whose password is already set says so."""
    claims = read_token(session, token, purpose)
    if purpose == Purpose.INVITATION and claims.user.password_hash is not None:
        raise TokenError(_("This invitation has already been accepted."))
    return claims


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
    claims.user.last_login_dt = clock.now_utc()  # the link logs the person in
    return claims.user


def reset_password(session: Session, token: str, new_password: str) -> User:
    claims = read_token(session, token, Purpose.PASSWORD_RESET)
    spend_token(session, claims)
    set_password(session, claims.user, new_password, action="password.reset")
    claims.user.last_login_dt = clock.now_utc()
    return claims.user
