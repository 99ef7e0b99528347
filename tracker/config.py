"""Configuration: defaults, then environment variables, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

#: the installed package: fonts, data and translations live here
PACKAGE_ROOT = Path(__file__).resolve().parent
#: the checkout: seed files, templates and migrations
PROJECT_ROOT = PACKAGE_ROOT.parent


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def build_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'tracker.db'}"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "TRACKER_TODAY": os.environ.get("TRACKER_TODAY") or None,
        "BABEL_DEFAULT_LOCALE": "az",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Baku",
        "LANGUAGES": ("az", "en"),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance_path / "uploads")),
        "REPORT_ARCHIVE_FOLDER": os.environ.get(
            "REPORT_ARCHIVE_FOLDER", str(instance_path / "reports")
        ),
        "MAX_UPLOAD_BYTES": _int_env("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        # Room for the multipart envelope around a maximal file; the form layer gives 413.
        "MAX_CONTENT_LENGTH": _int_env("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 512 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("TRACKER_HTTPS", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("TRACKER_HTTPS", "") == "1",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        "WTF_CSRF_TIME_LIMIT": None,
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int_env("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_TLS": os.environ.get("SMTP_TLS", "none"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "tracker@localhost"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "REMINDER_HOUR": _int_env("REMINDER_HOUR", 9),
        "REMINDER_MINUTE": _int_env("REMINDER_MINUTE", 0),
        "REPORTING_CADENCE_DAYS": _int_env("REPORTING_CADENCE_DAYS", 90),
        # How many reverse proxies stand in front of the app (0: none, trust no header).
        "TRACKER_PROXY_HOPS": _int_env("TRACKER_PROXY_HOPS", 0),
    }
