"""The admin's settings of each kind of reminder (on or off, how many days before a due
date, how often to repeat), over defaults that need no setting at all."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import ReminderSetting, User
from tracker.services import audit
from tracker.vocabulary import ReminderKind


@dataclass(frozen=True)
class KindSettings:
    kind: ReminderKind
    is_enabled: bool = True
    #: deadline_approaching: days before the due date
    offsets_days: tuple[int, ...] = ()
    #: overdue: repeat interval; update_stale: the cadence; review_waiting: the wait
    interval_days: int | None = None


def default_settings() -> dict[ReminderKind, KindSettings]:
    cadence = int(current_app.config.get("REPORTING_CADENCE_DAYS") or 90)
    return {
        ReminderKind.DEADLINE_APPROACHING: KindSettings(
            ReminderKind.DEADLINE_APPROACHING, offsets_days=(90, 30, 7)
        ),
        ReminderKind.OVERDUE: KindSettings(ReminderKind.OVERDUE, interval_days=30),
        ReminderKind.UPDATE_STALE: KindSettings(ReminderKind.UPDATE_STALE, interval_days=cadence),
        ReminderKind.UPDATE_RETURNED: KindSettings(ReminderKind.UPDATE_RETURNED),
        ReminderKind.REVIEW_WAITING: KindSettings(ReminderKind.REVIEW_WAITING, interval_days=7),
        ReminderKind.UPDATE_SUBMITTED: KindSettings(ReminderKind.UPDATE_SUBMITTED),
        ReminderKind.UPDATE_APPROVED: KindSettings(ReminderKind.UPDATE_APPROVED),
        ReminderKind.CLAIM_PROPOSED: KindSettings(ReminderKind.CLAIM_PROPOSED),
        ReminderKind.CLAIM_RETURNED: KindSettings(ReminderKind.CLAIM_RETURNED),
        ReminderKind.CLAIM_APPROVED: KindSettings(ReminderKind.CLAIM_APPROVED),
    }


def load_settings(session: Session) -> dict[ReminderKind, KindSettings]:
    """The settings in force: the admin's rows over the defaults."""
    settings = default_settings()
    for row in session.scalars(select(ReminderSetting)):
        if row.kind not in ReminderKind.__members__.values():
            continue
        kind = ReminderKind(row.kind)
        default = settings[kind]
        settings[kind] = KindSettings(
            kind,
            is_enabled=row.is_enabled,
            offsets_days=tuple(sorted({int(d) for d in row.offsets_days or []}, reverse=True))
            if default.offsets_days
            else (),
            interval_days=row.interval_days if default.interval_days is not None else None,
        )
    return settings


def save_settings(session: Session, new: KindSettings, actor: User | None) -> bool:
    """Store one kind's settings and audit the change. Returns False when nothing changed."""
    current = load_settings(session)[new.kind]
    if current == new:
        return False
    row = session.scalar(select(ReminderSetting).where(ReminderSetting.kind == new.kind))
    if row is None:
        row = ReminderSetting(kind=str(new.kind))
        session.add(row)
    row.is_enabled = new.is_enabled
    row.offsets_days = list(new.offsets_days)
    row.interval_days = new.interval_days
    row.updated_by_id = getattr(actor, "id", None)
    audit.record(
        session,
        "reminders.settings_changed",
        "reminder_setting",
        str(new.kind),
        actor=actor,
        details={
            "before": _settings_dict(current),
            "after": _settings_dict(new),
        },
    )
    return True


def _settings_dict(settings: KindSettings) -> dict:
    return {
        "is_enabled": settings.is_enabled,
        "offsets_days": list(settings.offsets_days),
        "interval_days": settings.interval_days,
    }
