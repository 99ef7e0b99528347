"""Permissions in views: decorators, blueprint guards, `require`, and loading a record or
answering 404.
The rules themselves are in tracker.services.accounts.policy; templates get them too."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.database import begin_writes_on_safe_request
from tracker.extensions import db
from tracker.services import audit
from tracker.services.accounts import policy
from tracker.vocabulary import Role
from tracker.web.errors_map import error_response, http_error, wants_json
from tracker.web.request_origin import loggable_path


def record_refusal(status: int) -> None:
    """A refusal is logged in its own transaction: the request's own is rolled back."""
    begin_writes_on_safe_request(db.session)
    audit.record(
        db.session,
        "permission.refused",
        "route",
        request.endpoint or request.path,
        actor=current_user if current_user.is_authenticated else None,
        details={"status": status, "method": request.method, "path": loggable_path()},
    )
    db.session.commit()


def refuse(status: int = 403, message: object = None):
    """Stop with 403 (or another status), logged, with a message that says why."""
    record_refusal(status)
    raise http_error(status, message)


def role_refusal(roles) -> str:
    """The 403 message for a page that is for other roles: which ones, and one's own."""
    return _(
        "This page is for: %(roles)s. You are signed in as: %(role)s.",
        roles=", ".join(str(Role(role).label) for role in roles),
        role=Role(current_user.role).label,
    )


def require_monitor_of(measure) -> None:
    """403 unless the user monitors the measure, saying why (e.g. their organisation does
    not monitor it)."""
    reason = policy.why_not_monitor(current_user, measure)
    require(reason is None, reason)


def _role_check(roles: tuple[Role, ...]):
    """None when the user has one of the roles. Anonymous: 401 as JSON, or a redirect to
    login. Wrong role: 403."""
    if not current_user.is_authenticated:
        if wants_json():
            return error_response(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.role not in roles:
        refuse(403, role_refusal(roles))
    return None


def roles_required(*roles: Role):
    """A view for these roles only (see _role_check)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refusal = _role_check(roles)
            return refusal if refusal is not None else view(*args, **kwargs)

        return wrapped

    return decorator


def require_roles(blueprint: Blueprint, *roles: Role) -> None:
    """Every view of the blueprint for these roles only, checked before the view runs as
    roles_required does: a view added later cannot leave the check out."""
    blueprint.before_request(lambda: _role_check(roles))


def require(condition: bool, message: object = None) -> None:
    """403 (and an audit entry) unless the condition holds."""
    if not condition:
        refuse(403, message)


def get_or_404(model, record_id: int):
    """The record with this id, or 404 (also for ids no database column can hold)."""
    found = db.session.get(model, record_id) if 0 < record_id < 2**63 else None
    if found is None:
        raise http_error(404)
    return found


def template_helpers() -> dict:
    return {
        "can_monitor_measure": lambda measure: policy.can_monitor_measure(current_user, measure),
        "can_edit_update": lambda update: policy.can_edit_update(current_user, update),
        "can_review": lambda: policy.can_review(current_user),
        "can_record_claim": lambda: policy.can_record_claim(current_user),
        "can_propose_claim": lambda measure: policy.can_propose_claim(current_user, measure),
        "can_see_private_evidence": lambda: policy.can_see_private_evidence(current_user),
        "is_admin": lambda: policy.is_admin(current_user),
        "is_monitor": lambda: policy.is_monitor(current_user),
        "is_reviewer": lambda: policy.is_reviewer(current_user),
    }
