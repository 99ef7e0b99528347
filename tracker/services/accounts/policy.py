"""Who may do what: the rules alone. Views (through tracker.web.permissions), templates
and services all ask these functions, so a hidden button and a 403 can never disagree."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.models import GovernmentClaim, Measure, MonitoringLink, Organisation, StatusUpdate
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
    """Measures the organisation monitors on a day (today by default); none once it is
    archived, although its links, ended on the day of archiving, still cover that day."""
    on = on or clock.today()
    rows = db.session.scalars(
        select(MonitoringLink.measure_id)
        .join(Organisation, Organisation.id == MonitoringLink.organisation_id)
        .where(
            Organisation.is_archived.is_(False),
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


#: the 403 message for a monitor whose account has no organisation
UNLINKED_MONITOR = _l(
    "Your account is not linked to an organisation. Ask an administrator to link it."
)
#: the 403 message for a monitor whose organisation left the registry
ARCHIVED_ORGANISATION = _l(
    "Your organisation is archived in the registry, so its monitors no longer write "
    "about measures. Its updates stay in the public record. Ask an administrator if this "
    "is a mistake."
)


def why_not_monitor(user, measure: Measure | int):
    """Why this user may not write about the measure as its monitor (a translatable
    message for the 403 page), or None when they may."""
    if can_monitor_measure(user, measure):
        return None
    if not is_monitor(user):
        if getattr(user, "role", None) == Role.MONITOR:
            return UNLINKED_MONITOR
        return _l("Only monitors of the measure's organisations write about it.")
    if user.organisation.is_archived:
        return ARCHIVED_ORGANISATION
    if isinstance(measure, int):
        measure = db.session.get(Measure, measure)
    return _l(
        "Your organisation does not monitor measure %(code)s. Ask an administrator to link it.",
        code=measure.code,
    )


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


def is_proposers_monitor(user, claim: GovernmentClaim) -> bool:
    """A monitor of the organisation that proposed the claim (as an update's organisation:
    the proposal is the organisation's, not one person's)."""
    return (
        is_monitor(user)
        and claim.organisation_id is not None
        and claim.organisation_id == user.organisation_id
    )


def can_view_claim(user, claim: GovernmentClaim) -> bool:
    """An approved, current claim is public; a proposal (submitted or returned) and an
    archived (corrected) claim are for reviewers, admins, the person who recorded it and
    the monitors of the organisation that proposed it, as can_view_update."""
    if claim.is_public or is_reviewer(user) or is_admin(user):
        return True
    recorder = bool(getattr(user, "is_authenticated", False)) and claim.recorded_by_id == user.id
    return recorder or is_proposers_monitor(user, claim)


def can_review(user) -> bool:
    """Reviewers (Open Government Platform members) decide; a monitor never reviews."""
    return is_reviewer(user)


def can_record_claim(user) -> bool:
    """Reviewers and admins record claims from official documents, for a measure or for a
    whole plan; what they record is public at once."""
    return is_reviewer(user) or is_admin(user)


def can_propose_claim(user, measure: Measure | int) -> bool:
    """A monitor proposes a claim on a measure their organisation monitors; a reviewer
    approves or returns it, as an update."""
    return can_monitor_measure(user, measure)


def can_see_private_evidence(user) -> bool:
    return is_reviewer(user) or is_admin(user)
