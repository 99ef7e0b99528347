"""Configuration: defaults, then environment variables, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

#: the installed package: fonts, data and translations live here
PACKAGE_ROOT = Path(__file__).resolve().parent
#: the checkout: seed files, templates and migrations
PROJECT_ROOT = PACKAGE_ROOT.parent


def _instance_secret(path: Path, make) -> str:
    """A secret made once and kept in instance/, readable by its owner only. Workers that
    start together keep the same one: the file appears whole (a hard link to a finished
    file) or not at all, and whoever comes second reads the first one's."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    return os.environ.get("SECRET_KEY") or _instance_secret(
        instance_path / "secret_key", lambda: secrets.token_hex(32)
    )


class ConfigError(ValueError):
    """An environment variable the app cannot start with; the message names it."""


def _two_step_keys(instance_path: Path) -> tuple[str, ...]:
    """TWO_STEP_KEYS, newest first and comma-separated (tracker.services.accounts.
    secret_box), else one generated once into instance/two_step_key. Kept apart from the
    database and its backups, which hold only the sealed authenticator keys. A key that is
    not a Fernet key stops the start."""
    from_env = [key.strip() for key in os.environ.get("TWO_STEP_KEYS", "").split(",")]
    keys = tuple(key for key in from_env if key) or (
        _instance_secret(instance_path / "two_step_key", lambda: Fernet.generate_key().decode()),
    )
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"TWO_STEP_KEYS: key {number} is not a Fernet key (32 url-safe base64 bytes;"
                " `tracker new-two-step-key` makes one)"
            ) from None
    return keys


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from None


#: sessions per role: (minutes idle, hours at most). Reviewers and administrators decide
#: what the public reads and who gets in: a working day at most, and two idle hours. A
#: monitor writes long updates with evidence between other work, and a timeout loses the
#: form: eight idle hours, and a day at most.
SESSION_LIMITS = {"admin": (120, 12), "reviewer": (120, 12), "monitor": (480, 24)}


def _session_limits() -> tuple[dict[str, int], dict[str, int]]:
    """SESSION_IDLE_MINUTES and SESSION_MAX_HOURS per role, each overridable by the
    environment, e.g. SESSION_IDLE_MINUTES_MONITOR=240."""
    idle = {
        role: _int_env(f"SESSION_IDLE_MINUTES_{role.upper()}", minutes)
        for role, (minutes, _hours) in SESSION_LIMITS.items()
    }
    most = {
        role: _int_env(f"SESSION_MAX_HOURS_{role.upper()}", hours)
        for role, (_minutes, hours) in SESSION_LIMITS.items()
    }
    return idle, most


def _two_step_roles() -> tuple[str, ...]:
    """TWO_STEP_REQUIRED_ROLES, e.g. "admin,reviewer": the roles that must use two-step
    verification. A role the app does not have stops the start, not the policy."""
    roles = tuple(
        role.strip().lower()
        for role in os.environ.get("TWO_STEP_REQUIRED_ROLES", "").split(",")
        if role.strip()
    )
    unknown = [role for role in roles if role not in SESSION_LIMITS]
    if unknown:
        raise ConfigError(
            f"TWO_STEP_REQUIRED_ROLES: unknown role {unknown[0]!r} (admin, reviewer, monitor)"
        )
    return roles


def _login_config(instance_path: Path) -> dict:
    """Logging in: two-step verification, asking the password again, and throttling."""
    return {
        # roles that must use two-step verification (tracker.services.accounts.two_step)
        "TWO_STEP_REQUIRED_ROLES": _two_step_roles(),
        # what seals the authenticator keys in the database (services.accounts.secret_box)
        "TWO_STEP_KEYS": _two_step_keys(instance_path),
        # the password is asked again before sensitive actions after this many minutes
        "REAUTHENTICATION_MINUTES": _int_env("REAUTHENTICATION_MINUTES", 10),
        # login throttling (tracker.services.accounts.throttle)
        "LOGIN_FAILURES_PER_ACCOUNT": _int_env("LOGIN_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_FAILURES_PER_ADDRESS": _int_env("LOGIN_FAILURES_PER_ADDRESS", 20),
        "LOGIN_FAILURES_PER_DEVICE": _int_env("LOGIN_FAILURES_PER_DEVICE", 5),
        "LOGIN_THROTTLE_BASE_SECONDS": _int_env("LOGIN_THROTTLE_BASE_SECONDS", 60),
        "LOGIN_THROTTLE_MAX_SECONDS": _int_env("LOGIN_THROTTLE_MAX_SECONDS", 3600),
        "LOGIN_THROTTLE_WINDOW_SECONDS": _int_env("LOGIN_THROTTLE_WINDOW_SECONDS", 86400),
        "LOGIN_DEVICE_COOKIE_DAYS": _int_env("LOGIN_DEVICE_COOKIE_DAYS", 180),
    }


def _cache_config() -> dict:
    """The cache of rendered public pages (tracker.web.public_cache): Redis when REDIS_URL
    is set, shared by every worker; else one cache per process. PUBLIC_CACHE_TYPE=NullCache
    turns it off. TRACKER_RELEASE is part of every key (empty: a fingerprint of the code)."""
    return {
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "PUBLIC_CACHE_TYPE": os.environ.get("PUBLIC_CACHE_TYPE") or None,
        "PUBLIC_CACHE_PREFIX": os.environ.get("PUBLIC_CACHE_PREFIX", "tracker:public:"),
        "PUBLIC_CACHE_SECONDS": _int_env("PUBLIC_CACHE_SECONDS", 3600),
        "TRACKER_RELEASE": os.environ.get("TRACKER_RELEASE", ""),
    }


def _reminder_config() -> dict:
    """The daily reminder run: its time in Baku, the connections that plan it at once on
    PostgreSQL (REMINDER_PLANNING_CONNECTIONS, each for a share of the organisations), and
    its delivery processes (composing and encoding the digests is CPU work, so a large run
    delivers in several processes: at most REMINDER_DELIVERY_PROCESSES, each with
    REMINDER_RECIPIENTS_PER_PROCESS recipients at least)."""
    return {
        "REMINDER_HOUR": _int_env("REMINDER_HOUR", 9),
        "REMINDER_MINUTE": _int_env("REMINDER_MINUTE", 0),
        "REMINDER_PLANNING_CONNECTIONS": _int_env(
            "REMINDER_PLANNING_CONNECTIONS", min(os.cpu_count() or 1, 4)
        ),
        "REMINDER_DELIVERY_PROCESSES": _int_env(
            "REMINDER_DELIVERY_PROCESSES", min(os.cpu_count() or 1, 4)
        ),
        "REMINDER_RECIPIENTS_PER_PROCESS": _int_env("REMINDER_RECIPIENTS_PER_PROCESS", 500),
    }


def _path_env(name: str, default: Path) -> str:
    return os.environ.get(name, str(default))


def build_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'tracker.db'}"
    https = os.environ.get("TRACKER_HTTPS", "") == "1"
    idle_minutes, max_hours = _session_limits()
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "TRACKER_TODAY": os.environ.get("TRACKER_TODAY") or None,
        "BABEL_DEFAULT_LOCALE": "az",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Baku",
        "LANGUAGES": ("az", "en"),
        "UPLOAD_FOLDER": _path_env("UPLOAD_FOLDER", instance_path / "uploads"),
        "REPORT_ARCHIVE_FOLDER": _path_env("REPORT_ARCHIVE_FOLDER", instance_path / "reports"),
        # reports asked for on the web, built by the scheduler (services.reports.queue)
        "REPORT_CACHE_FOLDER": _path_env("REPORT_CACHE_FOLDER", instance_path / "report-cache"),
        "REPORT_QUEUE_INTERVAL_SECONDS": _int_env("REPORT_QUEUE_INTERVAL_SECONDS", 3),
        "MAX_UPLOAD_BYTES": _int_env("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        # Room for the multipart envelope around a maximal file; the form layer gives 413.
        "MAX_CONTENT_LENGTH": _int_env("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 512 * 1024,
        # HTTPS: Secure cookies with the __Host- prefix, and HSTS (tracker.web.sessions)
        "TRACKER_HTTPS": https,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_IDLE_MINUTES": idle_minutes,
        "SESSION_MAX_HOURS": max_hours,
        # a signed session cookie older than the longest session is refused outright
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=max(max_hours.values())),
        **_login_config(instance_path),
        # how often the scheduler sends the account emails waiting in the mail outbox
        "MAIL_OUTBOX_INTERVAL_SECONDS": _int_env("MAIL_OUTBOX_INTERVAL_SECONDS", 30),
        # finished rows of the mail outbox (addresses, client addresses) are kept this long
        "MAIL_OUTBOX_KEEP_DAYS": _int_env("MAIL_OUTBOX_KEEP_DAYS", 30),
        "WTF_CSRF_TIME_LIMIT": None,
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int_env("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_TLS": os.environ.get("SMTP_TLS", "none"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "tracker@localhost"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "REPORTING_CADENCE_DAYS": _int_env("REPORTING_CADENCE_DAYS", 90),
        # How many reverse proxies stand in front of the app (0: none, trust no header).
        "TRACKER_PROXY_HOPS": _int_env("TRACKER_PROXY_HOPS", 0),
        **_cache_config(),
        **_reminder_config(),
    }
