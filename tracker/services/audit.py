"""The audit log: one function writes every entry. Never pass secrets in `details`."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from tracker.extensions import db
from tracker.models import AuditEntry

#: keys that must never reach the log, whatever a caller passes
_SECRET_KEYS = {"password", "password_hash", "token", "csrf_token", "secret"}


def client_ip() -> str:
    if not has_request_context():
        return ""
    return request.remote_addr or ""


def record(
    action: str,
    target_type: str = "",
    target_id: int | str | None = None,
    *,
    actor=None,
    summary: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; the caller's commit writes it with its change."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    clean = {k: v for k, v in (details or {}).items() if k not in _SECRET_KEYS}
    entry = AuditEntry(
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None)
        or ("anonymous" if has_request_context() else "system"),
        ip=client_ip(),
        summary=summary[:500],
        details=clean,
    )
    db.session.add(entry)
    return entry


def record_refusal(status: int) -> None:
    """A permission refusal is logged in its own transaction: the request's is rolled back."""
    db.session.rollback()
    record(
        "permission.refused",
        "route",
        request.endpoint or request.path,
        details={"status": status, "method": request.method, "path": request.path},
    )
    db.session.commit()
