"""The only place that reads the clock, so tests and demos can set "today".

"Today" is the calendar day in Baku (Asia/Baku, UTC+4): the plan's deadlines, overdue
days and the reminder jobs all count in Azerbaijan's days, whatever the server's zone."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

BAKU_TZ_NAME = "Asia/Baku"
BAKU = ZoneInfo(BAKU_TZ_NAME)


def _configured_today() -> str | None:
    if has_app_context():
        value = current_app.config.get("TRACKER_TODAY")
        if value:
            return value
    return os.environ.get("TRACKER_TODAY") or None


def baku_date(moment: datetime) -> date:
    """The calendar day in Baku at an aware moment."""
    return moment.astimezone(BAKU).date()


def today() -> date:
    """Today in Baku, or TRACKER_TODAY (YYYY-MM-DD) when it is set."""
    configured = _configured_today()
    if configured:
        return date.fromisoformat(configured)
    return baku_date(datetime.now(UTC))


def now_utc() -> datetime:
    """The current time in UTC. With TRACKER_TODAY set, that day at the current time of day,
    so that records made one after another still sort in order."""
    real_now = datetime.now(UTC)
    configured = _configured_today()
    if configured:
        return datetime.combine(date.fromisoformat(configured), real_now.timetz())
    return real_now


def real_now_utc() -> datetime:
    """The real time in UTC, whatever TRACKER_TODAY says: for the timers that guard
    sessions, which a demo's "today" must neither cut short nor stretch."""
    return datetime.now(UTC)
