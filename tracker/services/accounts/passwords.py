"""Password hashing (argon2id at OWASP parameters) and the password policy."""

from __future__ import annotations

import contextlib
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _

from tracker.config import PACKAGE_ROOT
from tracker.services.errors import InvalidInput

#: OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST_KIB = 19456
ARGON2_PARALLELISM = 1

MIN_LENGTH = 8
#: long passphrases are welcome; the cap only stops absurd inputs from costing CPU
MAX_LENGTH = 256

COMMON_PASSWORDS_FILE = PACKAGE_ROOT / "data" / "common_passwords.txt"

_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_COST_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


class PasswordPolicyError(InvalidInput):
    """The password breaks the policy; the message says what to change (translated), and
    `problems` names the service's input field that holds the password."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches. A missing or broken hash never matches, but still
    costs one verification, so that the answer takes the same time either way."""
    if not password_hash:
        verify_against_dummy(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _hasher.hash("dummy password used to even out login timing")


def verify_against_dummy(password: str) -> None:
    """Spend the time of one real verification, for logins of unknown accounts."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), password)


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def policy_problem(password: str, *, email: str | None = None) -> str | None:
    """What is wrong with the password (translated), or None when it meets the policy."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(count)d characters.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(count)d characters.", count=MAX_LENGTH)
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return _(
            "This password is one of the most common ones. Choose one that is harder to guess."
        )
    if email:
        local_part = email.lower().partition("@")[0]
        if lowered == email.lower() or (len(local_part) >= MIN_LENGTH and lowered == local_part):
            return _("Do not use your email address as your password.")
    return None


def check_password_policy(
    password: str, *, email: str | None = None, field: str = "password"
) -> None:
    """Raise PasswordPolicyError with a message that says what to fix; `field` is the name
    of the caller's input that holds the password."""
    problem = policy_problem(password, email=email)
    if problem is not None:
        raise PasswordPolicyError(problems={field: [problem]})
