"""What the admin pages read: the dashboard's counts, the users list's search, a user's
history, and the audit log's search. Nothing here writes; the lists come back a page at
a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.data_version import count_rows
from tracker.models import AuditEntry, User
from tracker.pagination import Page
from tracker.vocabulary import Role

#: the audit actions that the dashboard counts as refusals
REFUSAL_ACTIONS = ("permission.refused", "login.failure", "login.throttled")


def account_counts(session: Session) -> dict[str, int]:
    """Accounts in all, disabled, with the invitation not accepted, and per role."""
    rows = session.execute(
        select(
            User.role,
            User.is_enabled,
            User.password_hash.is_(None).label("is_invited"),
            func.count(User.id),
        ).group_by(User.role, User.is_enabled, User.password_hash.is_(None))
    ).all()
    counts = {"total": 0, "disabled": 0, "invited": 0, **{str(role): 0 for role in Role}}
    for role, is_enabled, is_invited, count in rows:
        counts["total"] += count
        if not is_enabled:
            counts["disabled"] += count
        elif is_invited:
            counts["invited"] += count
        counts[role] = counts.get(role, 0) + count
    return counts


def recent_refusals(session: Session) -> int:
    """Refused requests and failed logins of the last 24 hours."""
    since = clock.now_utc() - timedelta(days=1)
    return session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.occurred_dt >= since, AuditEntry.action.in_(REFUSAL_ACTIONS)
        )
    )


#: newest first
AUDIT_ORDER = (AuditEntry.occurred_dt.desc(), AuditEntry.id.desc())


def latest_audit_entries(session: Session, limit: int = 10) -> list[AuditEntry]:
    return session.scalars(select(AuditEntry).order_by(*AUDIT_ORDER).limit(limit)).all()


def user_history(session: Session, user: User, limit: int = 20) -> list[AuditEntry]:
    """The latest audit entries about the user or by the user."""
    about_or_by = or_(
        (AuditEntry.target_type == "user") & (AuditEntry.target_id == str(user.id)),
        AuditEntry.actor_id == user.id,
    )
    return session.scalars(
        select(AuditEntry).where(about_or_by).order_by(*AUDIT_ORDER).limit(limit)
    ).all()


@dataclass(frozen=True)
class UserFilter:
    #: part of the email or the name, any case
    text: str = ""
    role: str = ""
    #: "", "enabled", "disabled" or "invited"
    status: str = ""


def _page_of(
    session: Session, query: Select, number: int, per_page: int, *order_by, clamp: bool = False
) -> Page:
    """Page `number` of the query's rows in this order. A number past the end is an empty
    page with that number (the view answers 404, as every public list does), or with
    `clamp` the last page (an admin who narrowed the users list from a later page still
    sees rows)."""
    total = count_rows(session, query)
    page = Page([], number, per_page, total)
    if clamp:
        page.number = min(number, page.pages)
    if page.number <= page.pages:
        page.items = list(
            session.scalars(query.order_by(*order_by).limit(per_page).offset(page.offset))
        )
    return page


def users_page(session: Session, chosen: UserFilter, number: int, per_page: int) -> Page:
    """The users that match, by email, with their organisations."""
    return _page_of(session, _users_query(chosen), number, per_page, User.email, clamp=True)


def _users_query(chosen: UserFilter) -> Select:
    query = select(User).options(joinedload(User.organisation))
    if chosen.text:
        needle = chosen.text.strip().lower()
        query = query.where(
            or_(
                User.email.contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    if chosen.role:
        query = query.where(User.role == chosen.role)
    if chosen.status == "enabled":
        query = query.where(User.is_enabled.is_(True))
    elif chosen.status == "disabled":
        query = query.where(User.is_enabled.is_(False))
    elif chosen.status == "invited":
        query = query.where(User.is_enabled.is_(True), User.password_hash.is_(None))
    return query


def audit_actions(session: Session) -> list[str]:
    """Every action the log holds, for the filter's choices."""
    return session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    #: part of the actor's label, any case
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    ip: str = ""
    #: UTC days, both included
    date_from: date | None = None
    date_to: date | None = None


def audit_page(session: Session, chosen: AuditFilter, number: int, per_page: int) -> Page:
    """The audit entries that match, newest first (past the end: empty, numbered as asked)."""
    return _page_of(session, _audit_query(chosen), number, per_page, *AUDIT_ORDER)


def _audit_query(chosen: AuditFilter) -> Select:
    query = select(AuditEntry)
    if chosen.action:
        query = query.where(AuditEntry.action == chosen.action)
    if chosen.actor:
        needle = chosen.actor.strip().lower()
        query = query.where(func.lower(AuditEntry.actor_label).contains(needle, autoescape=True))
    if chosen.target_type:
        query = query.where(AuditEntry.target_type == chosen.target_type.strip())
    if chosen.target_id:
        query = query.where(AuditEntry.target_id == chosen.target_id.strip())
    if chosen.ip:
        query = query.where(AuditEntry.ip == chosen.ip.strip())
    if chosen.date_from:
        start = datetime.combine(chosen.date_from, time.min, tzinfo=UTC)
        query = query.where(AuditEntry.occurred_dt >= start)
    if chosen.date_to:
        end = datetime.combine(chosen.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(AuditEntry.occurred_dt < end)
    return query
