"""The authenticator keys of two-step verification are kept sealed (Fernet: AES-128-CBC
and HMAC-SHA256, from `cryptography`) with a key that lives outside the database
(TWO_STEP_KEYS, or instance/two_step_key): a copy of the database or of a backup does
not give anyone the codes of an account.

TWO_STEP_KEYS lists keys, newest first: the first seals, all of them open, so a key is
replaced by putting a new one in front and running `tracker reseal-two-step-keys`.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from flask_babel import gettext as _

from tracker.services.errors import ServiceError

logger = logging.getLogger(__name__)


class UnreadableKey(ServiceError):
    """The account's key was sealed with a key that TWO_STEP_KEYS no longer holds (503:
    the server's set-up, not the person, is at fault)."""

    status = 503


def new_key() -> str:
    """A new key for TWO_STEP_KEYS."""
    return Fernet.generate_key().decode()


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in current_app.config["TWO_STEP_KEYS"]])


def seal(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def _unreadable() -> UnreadableKey:
    return UnreadableKey(
        _(
            "Two-step verification cannot be checked: the server cannot read your "
            "account's key. Ask the Open Government Platform's administrator to turn it "
            "off for your account; you can then set it up again."
        )
    )


def unseal(sealed: str, *, user_id: int | None = None) -> str:
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken:
        logger.error("The two-step key of user %s opens with none of TWO_STEP_KEYS.", user_id)
        raise _unreadable() from None


def reseal(sealed: str) -> str:
    """The same secret, sealed with the first key (UnreadableKey when none opens it)."""
    try:
        return _box().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise _unreadable() from None
