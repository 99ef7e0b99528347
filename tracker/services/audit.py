"""The audit log: one function writes every entry, in the caller's transaction (it never
commits). Never pass secrets in `details`.

Who acted is an argument. Where from is the session's `client_address`, which the web
layer sets on each request's session (tracker.web.request_origin); the CLI and jobs leave
it unset and are logged as "system"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.models import AuditEntry

#: the key of Session.info under which the web layer puts the client's address
CLIENT_ADDRESS = "client_address"
#: keys that must never reach the log, whatever a caller passes
_SECRET_KEYS = {"password", "password_hash", "token", "csrf_token", "secret"}


def record(
    session: Session,
    action: str,
    target_type: str = "",
    target_id: int | str | None = None,
    *,
    actor,
    summary: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; the caller's commit writes it with its change.
    `actor` is the user who acted, or None for an anonymous visitor or the system."""
    client_address = session.info.get(CLIENT_ADDRESS)
    clean = {k: v for k, v in (details or {}).items() if k not in _SECRET_KEYS}
    entry = AuditEntry(
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None)
        or ("anonymous" if client_address is not None else "system"),
        ip=client_address or "",
        summary=summary[:500],
        details=clean,
    )
    session.add(entry)
    return entry
