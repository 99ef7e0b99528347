"""Signed-in sessions: their lifetimes, the remember-me and device cookies, and asking for
the password again before a sensitive action.

- **Lifetimes per role**, enforced on the server on every request: the session holds the
  login time (`_login`) and the last time it was used (`_seen`); a session idle for longer
  than SESSION_IDLE_MINUTES[role], or older than SESSION_MAX_HOURS[role], ends, and the
  person logs in again.
- **Remember me** keeps a session across browser restarts, within the same limits: its
  cookie carries the login time and the last-seen time (signed), is refreshed as the
  session is used, and expires in the browser at the absolute limit. A restored session
  is judged by the times in the cookie, so remember-me never stretches a session.
  Logging out deletes the cookie.
- **Re-authentication**: `recent_password_required` sends a person who has not typed
  their password for REAUTHENTICATION_MINUTES to the confirmation page first (`_auth`).
- **The device cookie** of login throttling (tracker.services.accounts.throttle) is set
  on every login and never removed by logout: it is what lets its browser in while
  others' guesses slow the account down for unknown clients.
- **A warning before the end** (WCAG 2.2.1): a signed-in page knows how long its session
  has left (`time_left`) and warns WARNING_SECONDS before it ends; "Stay logged in" starts
  the idle time again (`keep_alive`). The absolute limit cannot be stretched: the page
  only says when it comes.
- **Two-step verification required by role** (TWO_STEP_REQUIRED_ROLES): until its person
  sets it up, a signed-in page sends them to the setup (`_require_two_step`).
- With TRACKER_HTTPS on, every cookie has the `__Host-` prefix (Secure, Path=/, no Domain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from tracker import clock
from tracker.services.accounts import two_step
from tracker.vocabulary import Role
from tracker.web.errors_map import error_response, wants_json

REMEMBER_SALT = "tracker.sessions.remember"
#: the last-seen time is written back at most this often (seconds)
SEEN_RESOLUTION = 60
#: idle and absolute limits when a role has no setting of its own
DEFAULT_IDLE_MINUTES = 120
DEFAULT_MAX_HOURS = 12
#: how long before a session ends its page warns (at most half the idle time)
WARNING_SECONDS = 300
#: how long a login may wait for its two-step code after the password (seconds)
SECOND_STEP_SECONDS = 300
#: the session keys this module owns; logging out or in clears them with the rest
SESSION_KEYS = ("_login", "_seen", "_auth", "_remember_me", "_second_step")


def _now() -> int:
    """Seconds since the epoch, real time: a demo's TRACKER_TODAY must not end sessions
    or keep them alive (tracker.clock.real_now_utc)."""
    return int(clock.real_now_utc().timestamp())


def is_https() -> bool:
    return bool(current_app.config.get("TRACKER_HTTPS"))


def cookie_name(base: str) -> str:
    """`base`, with the `__Host-` prefix when the site runs on HTTPS."""
    return f"__Host-{base}" if is_https() else base


def _cookie_flags() -> dict:
    return {"path": "/", "secure": is_https(), "httponly": True, "samesite": "Lax"}


def limits_for(role: str) -> tuple[timedelta, timedelta]:
    """(idle timeout, absolute lifetime) of a role's sessions."""
    config = current_app.config
    idle = (config.get("SESSION_IDLE_MINUTES") or {}).get(str(role), DEFAULT_IDLE_MINUTES)
    absolute = (config.get("SESSION_MAX_HOURS") or {}).get(str(role), DEFAULT_MAX_HOURS)
    return timedelta(minutes=int(idle)), timedelta(hours=int(absolute))


# --- starting and ending -----------------------------------------------------------------


def clear_session() -> None:
    """Empty the session; only the chosen language stays."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def start_session(user, *, remember: bool, device_token: str = "") -> None:
    """Log in on a fresh session (nothing planted in the old cookie carries over), stamp
    its times, and set the remember-me and device cookies as asked."""
    clear_session()
    login_user(user, remember=False)
    now = _now()
    session["_login"] = session["_seen"] = session["_auth"] = now
    if remember:
        session["_remember_me"] = True
    g.tracker_remember = "set" if remember else "delete"
    if device_token:
        g.tracker_device = device_token


def await_second_step(user, *, remember: bool, next_path: str = "", message: str = "") -> None:
    """The password (or an emailed link) was right and the account has two-step
    verification: nobody is logged in yet, and this session remembers for
    SECOND_STEP_SECONDS whose code it waits for, and what to do once it comes."""
    clear_session()
    session["_second_step"] = {
        "uid": user.id,
        "version": user.session_version,
        "at": _now(),
        "remember": remember,
        "next": next_path,
        "message": message,
    }


def awaited_second_step() -> dict | None:
    """The login waiting for its code in this session, unless its time ran out."""
    pending = session.get("_second_step")
    if not isinstance(pending, dict) or _now() - int(pending.get("at", 0)) > SECOND_STEP_SECONDS:
        return None
    return pending


def end_session() -> None:
    """Log out here: the session is emptied and the remember-me cookie deleted."""
    logout_user()
    clear_session()
    g.tracker_remember = "delete"


def mark_password_confirmed() -> None:
    session["_auth"] = _now()


def _remember_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=REMEMBER_SALT)


def _restore_from_remember_cookie() -> None:
    """A browser that kept its remember-me cookie but lost its session gets the session
    back, with the login and last-seen times of the cookie."""
    value = request.cookies.get(cookie_name("remember_token"))
    if not value:
        return
    longest = max([24, *(current_app.config.get("SESSION_MAX_HOURS") or {}).values()])
    try:
        payload = _remember_serializer().loads(value, max_age=int(longest) * 3600)
        user_id, login_at, seen_at = str(payload["u"]), int(payload["l"]), int(payload["s"])
    except (BadData, KeyError, TypeError, ValueError):
        g.tracker_remember = "delete"
        return
    session["_user_id"] = user_id
    session["_fresh"] = False
    session["_login"], session["_seen"] = login_at, seen_at
    session["_remember_me"] = True


def _expired_message(idle: bool, limit: timedelta) -> str:
    duration = format_timedelta(limit, threshold=1.0)
    if idle:
        return _(
            "You were logged out after %(time)s without activity. Log in again.", time=duration
        )
    return _("Your session reached its limit of %(time)s. Log in again.", time=duration)


def _enforce_limits() -> None:
    """Before each request: restore a remembered session, end one that is idle or too old,
    and note that this one was used."""
    if request.endpoint == "static":
        return
    if "_user_id" not in session:
        _restore_from_remember_cookie()
        if "_user_id" not in session:
            return
    user = current_user._get_current_object()
    login_at, seen_at = session.get("_login"), session.get("_seen")
    if not user.is_authenticated or login_at is None or seen_at is None:
        # an account that was logged out everywhere, or a session without its times
        end_session()
        return
    idle, absolute = limits_for(user.role)
    now = _now()
    for is_idle, since, limit in ((False, login_at, absolute), (True, seen_at, idle)):
        if now - int(since) > limit.total_seconds():
            end_session()
            flash(_expired_message(is_idle, limit), "info")
            return
    if now - int(seen_at) >= SEEN_RESOLUTION:
        session["_seen"] = now
        if session.get("_remember_me"):
            g.tracker_remember = "set"


#: what a person whose role needs two-step verification may open before setting it up
TWO_STEP_SETUP_ENDPOINTS = frozenset(
    {
        "static",
        "two_step.settings",
        "two_step.start_setup",
        "two_step.turn_on",
        "two_step.cancel_setup",
        "auth.logout",
        "auth.keep_session_alive",
    }
)


def _require_two_step():
    """Before each request: a signed-in person whose role must use two-step verification
    (TWO_STEP_REQUIRED_ROLES) and has not set it up goes to its setup first."""
    # an anonymous request stops at the session, as in _enforce_limits: no user is loaded
    if request.endpoint in TWO_STEP_SETUP_ENDPOINTS or "_user_id" not in session:
        return None
    if not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    if user.has_two_step or not two_step.is_required(user):
        return None
    message = _("Your role needs two-step verification. Set it up to go on; it takes a minute.")
    if wants_json():
        return error_response(403, message)
    flash(message, "info")
    return redirect(url_for("two_step.settings"))


@dataclass(frozen=True)
class TimeLeft:
    """Seconds before the session ends for want of activity, and at its absolute limit,
    and how long before the nearer of the two its page warns."""

    idle_seconds: int
    absolute_seconds: int
    warning_seconds: int
    #: when the session began (seconds since the epoch): the tabs of one session share it
    started: int


def time_left() -> TimeLeft | None:
    """The signed-in session's time left, or None when no one is signed in."""
    if not current_user.is_authenticated or "_login" not in session or "_seen" not in session:
        return None
    idle, absolute = limits_for(current_user.role)
    now = _now()
    return TimeLeft(
        idle_seconds=max(0, int(session["_seen"]) + int(idle.total_seconds()) - now),
        absolute_seconds=max(0, int(session["_login"]) + int(absolute.total_seconds()) - now),
        warning_seconds=min(WARNING_SECONDS, int(idle.total_seconds()) // 2),
        started=int(session["_login"]),
    )


def keep_alive() -> TimeLeft | None:
    """The person chose to stay logged in: the idle time starts again now (the absolute
    limit stays where it is)."""
    if time_left() is None:
        return None
    session["_seen"] = _now()
    if session.get("_remember_me"):
        g.tracker_remember = "set"
    return time_left()


def _write_cookies(response):
    """After each request: the remember-me cookie (set, refreshed or deleted) and a new
    device cookie after a login."""
    operation = g.pop("tracker_remember", None)
    name = cookie_name("remember_token")
    if operation == "set" and "_user_id" in session and session.get("_remember_me"):
        login_at = int(session["_login"])
        role = getattr(current_user, "role", Role.MONITOR)
        expires = login_at + int(limits_for(role)[1].total_seconds())
        value = _remember_serializer().dumps(
            {"u": session["_user_id"], "l": login_at, "s": int(session["_seen"])}
        )
        response.set_cookie(name, value, expires=expires, **_cookie_flags())
    elif operation in ("set", "delete") and name in request.cookies:
        response.delete_cookie(name, **_cookie_flags())
    device_token = g.pop("tracker_device", None)
    if device_token:
        days = int(current_app.config.get("LOGIN_DEVICE_COOKIE_DAYS", 180))
        response.set_cookie(
            cookie_name("device"),
            device_token,
            max_age=days * 86400,
            **_cookie_flags(),
        )
    return response


def device_cookie() -> str:
    """The browser's device cookie, for the login throttle."""
    return request.cookies.get(cookie_name("device"), "")


# --- asking for the password again -------------------------------------------------------


def password_recently_confirmed() -> bool:
    minutes = int(current_app.config.get("REAUTHENTICATION_MINUTES", 10))
    confirmed = session.get("_auth")
    return confirmed is not None and _now() - int(confirmed) <= minutes * 60


def _page_to_return_to() -> str:
    """Where to come back after confirming: this page for a GET, the page that showed the
    form for a POST (a POST cannot be replayed), on this site only."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("auth.account")


def recent_password_required(view):
    """Before a sensitive action (roles, passwords, personal data): a person who has not
    typed their password in the last REAUTHENTICATION_MINUTES types it again first."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated and not password_recently_confirmed():
            message = _("For your security, enter your password again to continue.")
            if wants_json():
                return error_response(403, message)
            flash(message, "info")
            return redirect(url_for("auth.confirm_password", next=_page_to_return_to()))
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    if app.config.get("TRACKER_HTTPS"):
        app.config.update(
            SESSION_COOKIE_NAME="__Host-session",
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_PATH="/",
            SESSION_COOKIE_DOMAIN=None,
        )
    app.before_request(_enforce_limits)
    app.before_request(_require_two_step)
    app.after_request(_write_cookies)
    app.jinja_env.globals["session_time_left"] = time_left
