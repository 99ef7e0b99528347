"""A person's notifications: the same outbox items as their reminder emails, listed in the
app newest run first, each read or unread."""

from __future__ import annotations

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import Measure, ReminderItem
from tracker.services.reminders.digests import KIND_ORDER


def notification_counts(session: Session, user_id: int) -> tuple[int, int]:
    """(all, unread) of a person's notifications."""
    mine = ReminderItem.recipient_id == user_id
    total = session.scalar(select(func.count()).select_from(ReminderItem).where(mine))
    unread = session.scalar(
        select(func.count()).select_from(ReminderItem).where(mine, ReminderItem.read_dt.is_(None))
    )
    return total, unread


def unread_count(session: Session, user_id: int) -> int:
    """How many of a person's notifications are unread (the navigation's count)."""
    return session.scalar(
        select(func.count())
        .select_from(ReminderItem)
        .where(ReminderItem.recipient_id == user_id, ReminderItem.read_dt.is_(None))
    )


def notifications(session: Session, user_id: int, offset: int, limit: int) -> list[ReminderItem]:
    """One page of a person's notifications, with what each names loaded (no query per
    item)."""
    return list(
        session.scalars(
            select(ReminderItem)
            .options(
                joinedload(ReminderItem.measure).joinedload(Measure.plan),
                joinedload(ReminderItem.organisation),
                joinedload(ReminderItem.milestone),
            )
            .where(ReminderItem.recipient_id == user_id)
            .order_by(
                ReminderItem.planned_dt.desc(),
                # within a run, in the digest's order: what needs acting on first
                case({kind: n for n, kind in enumerate(KIND_ORDER)}, value=ReminderItem.kind),
                ReminderItem.reference_date,
                ReminderItem.id,
            )
            .limit(limit)
            .offset(offset)
        ).unique()
    )


def mark_read(item: ReminderItem) -> bool:
    """Returns False when the item was read already."""
    if item.read_dt is not None:
        return False
    item.read_dt = clock.now_utc()
    return True


def mark_shown_read(session: Session, user_id: int, item_ids: list[int]) -> int:
    """The notices a person has just seen on their list are read from now on. The loaded
    items keep their state for the page being shown (no session synchronisation)."""
    if not item_ids:
        return 0
    result = session.execute(
        update(ReminderItem)
        .where(
            ReminderItem.recipient_id == user_id,
            ReminderItem.id.in_(item_ids),
            ReminderItem.read_dt.is_(None),
        )
        .values(read_dt=clock.now_utc())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(
        update(ReminderItem)
        .where(ReminderItem.recipient_id == user_id, ReminderItem.read_dt.is_(None))
        .values(read_dt=clock.now_utc())
    )
    return result.rowcount or 0
