"""The audit entries of the monitoring records: each names its row by table and id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.services import audit


def record_event(
    session: Session, action: str, row, actor, *fields: str, summary: str = "", **details
):
    """Audit `action` on a status update, a government claim or a stored file: the entry's
    target is the row's table and id; its details are the row's attributes named in
    `fields`, then the keyword arguments."""
    return audit.record(
        session,
        action,
        row.__tablename__,
        row.id,
        actor=actor,
        summary=summary,
        details={**{name: getattr(row, name) for name in fields}, **details},
    )
