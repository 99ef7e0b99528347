"""Who may do what. Views, templates and services all ask these functions, so a hidden
button and a 403 can never disagree."""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.models import Measure, MonitoringLink, StatusUpdate
from tracker.vocabulary import ReviewState, Role


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN


def is_reviewer(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.REVIEWER


def is_monitor(user) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.role == Role.MONITOR
        and user.organisation_id is not None
    )


def monitored_measure_ids(organisation_id: int, on: date | None = None) -> set[int]:
    """Measures the organisation monitors on a day (today by default)."""
    on = on or clock.today()
    rows = db.session.scalars(
        select(MonitoringLink.measure_id).where(
            MonitoringLink.organisation_id == organisation_id,
            MonitoringLink.start_date <= on,
            (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= on),
        )
    )
    return set(rows)


def can_monitor_measure(user, measure: Measure | int) -> bool:
    """A monitor writes only on measures its organisation monitors today."""
    if not is_monitor(user):
        return False
    measure_id = measure if isinstance(measure, int) else measure.id
    return measure_id in monitored_measure_ids(user.organisation_id)


def can_edit_update(user, update: StatusUpdate) -> bool:
    """Only the author's organisation edits, and only drafts and returned updates."""
    return (
        is_monitor(user)
        and update.organisation_id == user.organisation_id
        and update.review_state in (ReviewState.DRAFT, ReviewState.RETURNED)
        and not update.is_archived
        and can_monitor_measure(user, update.measure_id)
    )


def can_view_update(user, update: StatusUpdate) -> bool:
    if update.review_state == ReviewState.APPROVED and not update.is_archived:
        return True
    if is_reviewer(user) or is_admin(user):
        return update.review_state != ReviewState.DRAFT or is_admin(user)
    return is_monitor(user) and update.organisation_id == user.organisation_id


def can_review(user) -> bool:
    """Reviewers (Open Government Platform members) decide; a monitor never reviews."""
    return is_reviewer(user)


def can_record_claim(user, measure: Measure | int) -> bool:
    return is_reviewer(user) or can_monitor_measure(user, measure)


def can_see_private_evidence(user) -> bool:
    return is_reviewer(user) or is_admin(user)


def _refuse(status: int):
    from tracker.services.audit import record_refusal

    record_refusal(status)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": {"status": status}})
        response.status_code = status
        abort(response)
    abort(status)


def roles_required(*roles: Role):
    """Anonymous: 401 as JSON, or a redirect to login. Wrong role: 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    return jsonify({"error": {"status": 401}}), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                _refuse(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require(condition: bool) -> None:
    """403 (and an audit entry) unless the condition holds."""
    if not condition:
        _refuse(403)


def template_helpers() -> dict:
    return {
        "can_monitor_measure": lambda measure: can_monitor_measure(current_user, measure),
        "can_edit_update": lambda update: can_edit_update(current_user, update),
        "can_review": lambda: can_review(current_user),
        "can_record_claim": lambda measure: can_record_claim(current_user, measure),
        "can_see_private_evidence": lambda: can_see_private_evidence(current_user),
        "is_admin": lambda: is_admin(current_user),
        "is_monitor": lambda: is_monitor(current_user),
        "is_reviewer": lambda: is_reviewer(current_user),
    }
