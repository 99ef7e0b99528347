"""Login throttling after OWASP's device cookies ("Slow Down Online Guessing Attacks with
Device Cookies"), so that guessing is slowed without locking the real user out.

- A successful login issues a device cookie: a signed token that names the account (by an
  HMAC of its email, so the cookie does not show whose it is) and carries a random nonce.
- An attempt that comes with a device cookie valid for the account it names is judged by
  that cookie's own failures alone: other clients' failures never slow it down, and its
  failures count against it only.
- Every other attempt comes from an unknown client, judged per account (its unknown
  clients' failures since its last success) and per address (the unknown clients'
  failures from the address).
- A scope that has reached its limit of failures waits, after its latest failure,
  LOGIN_THROTTLE_BASE_SECONDS, doubled for each further failure, up to
  LOGIN_THROTTLE_MAX_SECONDS; the answer is 429 with Retry-After. Never a hard lock, and
  no worker ever sleeps. Failures older than LOGIN_THROTTLE_WINDOW_SECONDS are forgotten.

The limits are settings (tracker/config.py), so that tests which post many logins from one
address can raise them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt

DEVICE_SALT = "tracker.accounts.device-cookie"


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    per_device: int
    base: timedelta
    cap: timedelta
    window: timedelta
    device_cookie_age: timedelta


def limits() -> Limits:
    config = current_app.config
    return Limits(
        per_account=int(config.get("LOGIN_FAILURES_PER_ACCOUNT", 5)),
        per_address=int(config.get("LOGIN_FAILURES_PER_ADDRESS", 20)),
        per_device=int(config.get("LOGIN_FAILURES_PER_DEVICE", 5)),
        base=timedelta(seconds=int(config.get("LOGIN_THROTTLE_BASE_SECONDS", 60))),
        cap=timedelta(seconds=int(config.get("LOGIN_THROTTLE_MAX_SECONDS", 3600))),
        window=timedelta(seconds=int(config.get("LOGIN_THROTTLE_WINDOW_SECONDS", 86400))),
        device_cookie_age=timedelta(days=int(config.get("LOGIN_DEVICE_COOKIE_DAYS", 180))),
    )


# --- the device cookie -----------------------------------------------------------------


def _account_key(email: str) -> str:
    """Stands for the account in the cookie without showing its address."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else bytes(key)
    return hmac.new(key, f"device|{email}".encode(), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=DEVICE_SALT)


def make_device_token(email: str) -> str:
    """A new device cookie's value for the account `email` (normalised)."""
    return _serializer().dumps({"a": _account_key(email), "n": secrets.token_hex(16)})


def device_nonce(token: str | None, email: str) -> str:
    """The nonce of a device cookie that is genuine, not too old and issued for the
    account `email`; "" for anything else (the attempt then comes from an unknown client)."""
    if not token or len(token) > 400:
        return ""
    max_age = int(limits().device_cookie_age.total_seconds())
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except BadData:
        return ""
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        return ""
    if not hmac.compare_digest(str(payload.get("a", "")), _account_key(email)):
        return ""
    return payload["n"][:32]


# --- judging an attempt ------------------------------------------------------------------


def _wait(failures: int, latest: datetime | None, limit: int, now: datetime, rules: Limits) -> int:
    """Seconds a scope with `failures` (the latest at `latest`) still has to wait."""
    if failures < limit or latest is None:
        return 0
    steps = min(failures - limit, 32)
    delay = min(rules.base * (2**steps), rules.cap)
    remaining = (latest + delay - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


def _failures(session: Session, *conditions) -> tuple[int, datetime | None]:
    row = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.attempted_dt)).where(
            LoginAttempt.is_success.is_(False), LoginAttempt.is_throttled.is_(False), *conditions
        )
    ).one()
    latest = row[1]
    if latest is not None and latest.tzinfo is None:
        # should a driver hand back the stored value untyped: naive UTC
        latest = latest.replace(tzinfo=UTC)
    return row[0] or 0, latest


def seconds_to_wait(
    session: Session,
    *,
    email: str,
    ip: str,
    device: str,
    now: datetime,
    exclude_id: int | None = None,
) -> int:
    """How long this attempt must wait (0: judge the password). `device` is the nonce of a
    valid device cookie ("" for an unknown client); `exclude_id` is the attempt itself,
    already committed as a failure so that parallel attempts see each other."""
    rules = limits()
    recent = [LoginAttempt.attempted_dt >= now - rules.window]
    if exclude_id is not None:
        recent.append(LoginAttempt.id != exclude_id)
    if device:
        count, latest = _failures(session, LoginAttempt.device == device, *recent)
        return _wait(count, latest, rules.per_device, now, rules)
    # A success clears the account's count of unknown clients' failures, not the address's.
    last_success_id = (
        select(func.coalesce(func.max(LoginAttempt.id), 0))
        .where(LoginAttempt.email == email, LoginAttempt.is_success.is_(True))
        .scalar_subquery()
    )
    count, latest = _failures(
        session,
        LoginAttempt.email == email,
        LoginAttempt.device == "",
        LoginAttempt.id > last_success_id,
        *recent,
    )
    wait = _wait(count, latest, rules.per_account, now, rules)
    if ip:
        count, latest = _failures(
            session, LoginAttempt.ip == ip, LoginAttempt.device == "", *recent
        )
        wait = max(wait, _wait(count, latest, rules.per_address, now, rules))
    return wait
