"""Instant notices: the moment an update is submitted, or a government claim proposed, its
reviewers are told, and the moment either is returned or approved the monitors of its
organisation are told, instead of at the next daily run.

A notice is a `ReminderItem` like any reminder, so it is in the person's notification list
(and the unread count in the navigation) as soon as the submitting or deciding request
commits. Its email does not wait for a digest: it goes through the mail outbox
(services.mail_outbox, MailKind.NOTICE), which the scheduler's mail-outbox job sends
within seconds. The item is recorded as "queued" (never part of a digest) and takes the
email's outcome once the job has handled it.

Settings: a kind the admin switched off records nothing, as for planned reminders. A
person who stopped a kind's emails still gets the notice in the app, marked "cancelled",
and no email. A returned update's notice has the same key as the one the daily planning
would record, so the planning later finds it there and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import (
    GovernmentClaim,
    MailRequest,
    ReminderItem,
    ReviewDecision,
    StatusUpdate,
    User,
)
from tracker.services import mail_outbox, monitoring
from tracker.services.mail_outbox import ComposedMail, OutboxRun, Skip
from tracker.services.reminders.digests import item_detail, item_url
from tracker.services.reminders.outbox import SENDABLE, PlannedReminder, in_states, record_new
from tracker.services.reminders.settings import load_settings
from tracker.services.reminders.subscriptions import (
    list_unsubscribe_headers,
    list_unsubscribe_url,
    make_unsubscribe_token,
    opted_out_kinds,
)
from tracker.vocabulary import (
    REMINDER_KIND_LABELS,
    DeliveryStatus,
    MailKind,
    MailStatus,
    ReminderKind,
    ReviewAction,
    ReviewState,
    Role,
)
from tracker.web.links import public_url

#: what a notice shows once its email is finished, by the mail outbox's outcome
SETTLED = {
    MailStatus.SENT: DeliveryStatus.SENT,
    MailStatus.FAILED: DeliveryStatus.FAILED,
    MailStatus.CANCELLED: DeliveryStatus.CANCELLED,
    MailStatus.SKIPPED: DeliveryStatus.IN_APP_ONLY,
}


def returned_occurrence(update_id: int, returned_dt: datetime) -> str:
    """The occurrence of a returned update's notice: the same for the instant notice and
    the daily planning (services.reminders.planning), so that it is recorded once."""
    return f"update-{update_id}/{returned_dt:%Y%m%dT%H%M%S}"


def _enabled_users(session: Session, *conditions) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.is_enabled.is_(True), *conditions).order_by(User.id)
        )
    )


def _reviewers_allowed(session: Session, written: monitoring.Written) -> list[User]:
    """The enabled reviewers whom the review pages' rule lets review the record: not its
    authors, nor anyone whose organisation, now or before, wrote it or monitored its
    measure meanwhile (services.monitoring.conflicts)."""
    candidates = _enabled_users(session, User.role == Role.REVIEWER)
    allowed = set(monitoring.reviewers_allowed(session, candidates, {"it": written})["it"])
    return [reviewer for reviewer in candidates if reviewer.id in allowed]


def notify_submitted(session: Session, submitted: StatusUpdate) -> int:
    """Tell every reviewer who may review it that an update waits. Returns how many."""
    written = monitoring.written_updates(session, [submitted.id])[submitted.id]
    when = submitted.submitted_dt or clock.now_utc()
    occurrence = f"update-{submitted.id}/submitted"
    notice = _notice(ReminderKind.UPDATE_SUBMITTED, submitted, occurrence, when)
    return _notify(session, notice, _reviewers_allowed(session, written))


def notify_proposed(session: Session, proposed: GovernmentClaim) -> int:
    """Tell every reviewer who may decide on it that a monitor's claim waits (the rule of
    services.monitoring.claim_review). Returns how many. The occurrence names the claim,
    so two proposals on one measure are two notices."""
    when = proposed.created_dt or clock.now_utc()
    occurrence = f"claim-{proposed.id}/proposed"
    notice = _notice(ReminderKind.CLAIM_PROPOSED, proposed, occurrence, when)
    reviewers = _reviewers_allowed(session, monitoring.written_claim(proposed))
    return _notify(session, notice, reviewers)


def _settle(session: Session, about, kinds: tuple[ReminderKind, ...], when: datetime) -> None:
    """Once a record is decided (or revised), every notice of `kinds` about it (`about`:
    the condition naming it) is read: nothing waits any more, and a notice left "new"
    would send someone to act on it. A reminder whose email has not gone out yet stays in
    the app only: a digest must not ask them later to act on what is settled."""
    waiting = (about, ReminderItem.kind.in_(kinds))
    session.execute(
        update(ReminderItem)
        .where(*waiting, ReminderItem.read_dt.is_(None))
        .values(read_dt=when)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ReminderItem)
        .where(*waiting, in_states(ReminderItem.status, SENDABLE))
        .values(status=DeliveryStatus.IN_APP_ONLY)
        .execution_options(synchronize_session=False)
    )


def settle_returned(session: Session, returned: StatusUpdate | GovernmentClaim) -> None:
    """Once a returned update's revision is submitted, or a returned proposal is revised,
    its monitors' notices and reminders that it was returned are read: the revision
    answers them, and one left "new" would send them to fix it again."""
    if isinstance(returned, GovernmentClaim):
        about, kind = ReminderItem.claim_id == returned.id, ReminderKind.CLAIM_RETURNED
    else:
        about, kind = ReminderItem.update_id == returned.id, ReminderKind.UPDATE_RETURNED
    _settle(session, about, (kind,), clock.now_utc())


def _organisation_monitors(session: Session, organisation_id: int) -> list[User]:
    """Who is told of a decision on what an organisation wrote: its enabled monitors."""
    return _enabled_users(
        session, User.role == Role.MONITOR, User.organisation_id == organisation_id
    )


def notify_decided(session: Session, decided: StatusUpdate) -> int:
    """Tell the monitors of the update's organisation that it was returned or approved,
    and settle the reviewers' notices of it. Returns how many were told."""
    when = decided.decided_dt or clock.now_utc()
    waiting = (ReminderKind.UPDATE_SUBMITTED, ReminderKind.REVIEW_WAITING)
    _settle(session, ReminderItem.update_id == decided.id, waiting, when)
    if decided.review_state == ReviewState.RETURNED:
        kind, occurrence = ReminderKind.UPDATE_RETURNED, returned_occurrence(decided.id, when)
    elif decided.review_state == ReviewState.APPROVED:
        kind, occurrence = ReminderKind.UPDATE_APPROVED, f"update-{decided.id}/approved"
    else:
        return 0
    notice = _notice(kind, decided, occurrence, when)
    return _notify(session, notice, _organisation_monitors(session, decided.organisation_id))


#: the notice of a decided claim proposal, by the proposal's new state
CLAIM_DECISION_KINDS = {
    ReviewState.RETURNED: ReminderKind.CLAIM_RETURNED,
    ReviewState.APPROVED: ReminderKind.CLAIM_APPROVED,
}


def notify_claim_decided(session: Session, decided: GovernmentClaim) -> int:
    """Tell the monitors of the proposing organisation that its proposal was returned or
    approved, and settle the reviewers' notices and review-queue reminders of it, as for
    an update. Returns how many were told. A proposal is decided once, so its state names
    the occurrence."""
    when = decided.decided_dt or clock.now_utc()
    waiting = (ReminderKind.CLAIM_PROPOSED, ReminderKind.REVIEW_WAITING)
    _settle(session, ReminderItem.claim_id == decided.id, waiting, when)
    kind = CLAIM_DECISION_KINDS.get(decided.review_state)
    if kind is None or decided.organisation_id is None:
        return 0
    notice = _notice(kind, decided, f"claim-{decided.id}/{decided.review_state}", when)
    return _notify(session, notice, _organisation_monitors(session, decided.organisation_id))


def _notice(
    kind: ReminderKind, target: StatusUpdate | GovernmentClaim, occurrence: str, when: datetime
) -> PlannedReminder:
    """A notice about an update or a proposed claim (which names it), before it has a
    recipient."""
    is_claim = isinstance(target, GovernmentClaim)
    return PlannedReminder(
        recipient_id=0,
        measure_id=target.measure_id,
        kind=kind,
        occurrence=occurrence,
        reference_date=clock.baku_date(when),
        day_count=0,
        organisation_id=target.organisation_id,
        update_id=None if is_claim else target.id,
        claim_id=target.id if is_claim else None,
    )


def _notify(session: Session, notice: PlannedReminder, recipients: list[User]) -> int:
    """Record `notice` for each recipient, in the app at once, and plan its email unless
    the person stopped the kind's emails; nothing when the admin switched the kind off."""
    kind = notice.kind
    if not recipients or not load_settings(session)[kind].is_enabled:
        return 0
    now = clock.now_utc()
    by_email = {}
    for recipient in recipients:
        stopped = kind in opted_out_kinds(session, recipient.id)
        by_email.setdefault(stopped, []).append(replace(notice, recipient_id=recipient.id))
    emails = {recipient.id: recipient.email for recipient in recipients}
    recorded = record_new(session, by_email.get(True, []), now, DeliveryStatus.CANCELLED)
    queued = record_new(session, by_email.get(False, []), now, DeliveryStatus.QUEUED)
    for item_id, recipient_id in queued:
        mail_outbox.plan(
            session,
            MailKind.NOTICE,
            emails[recipient_id],
            user_id=recipient_id,
            reminder_item_id=item_id,
        )
    return len(recorded) + len(queued)


# --- the email, sent by the mail-outbox job --------------------------------------------------


def compose_notice(session: Session, row: MailRequest, now: datetime) -> ComposedMail | Skip:
    """The email of one notice, in its recipient's language, or why none is sent."""
    item = session.get(ReminderItem, row.reminder_item_id) if row.reminder_item_id else None
    if item is None:
        return Skip("no_notice")
    user = item.recipient
    kind = ReminderKind(item.kind)
    if not user.is_enabled:
        return Skip("disabled", user.id)
    if kind in opted_out_kinds(session, user.id):
        return Skip("opted_out", user.id)
    locale = user.locale or "az"
    with force_locale(locale):
        subject = f"{item.measure.code}: {REMINDER_KIND_LABELS[kind]}"
        context = {
            "subject": subject,
            "kind_label": REMINDER_KIND_LABELS[kind],
            "item": item,
            "title": item.measure.title(locale),
            "detail": item_detail(item, locale),
            "reason": return_reasons(session, [item]).get(item.id, ""),
            "link": item_url(item),
            "settings_link": public_url("notifications.index"),
            "unsubscribe_link": public_url(
                "notifications.unsubscribe", token=make_unsubscribe_token(user.id, kind)
            ),
        }
        text_body = render_template("email/notice.txt", **context)
        html_body = render_template("email/notice.html", **context)
    return ComposedMail(
        user.email,
        subject,
        text_body,
        html_body,
        user_id=user.id,
        headers=tuple(list_unsubscribe_headers(list_unsubscribe_url(user.id)).items()),
    )


def return_reasons(session: Session, items: Sequence[ReminderItem]) -> dict[int, str]:
    """What the reviewer asked for, by item, for the items that report a return: the
    reason of the proposed claim, or of the update's latest return. The monitor can act on
    the notice, in the app or the email, without first opening the record. Two queries at
    most, whatever the number of items."""
    claims = {i.id: i.claim_id for i in items if i.kind == ReminderKind.CLAIM_RETURNED}
    updates = {i.id: i.update_id for i in items if i.kind == ReminderKind.UPDATE_RETURNED}
    claim_reasons = _by_id(session, GovernmentClaim.id, GovernmentClaim.return_reason, claims)
    update_reasons = _by_id(
        session,
        ReviewDecision.update_id,
        ReviewDecision.comment,
        updates,
        ReviewDecision.decision == ReviewAction.RETURNED,
        # ascending: the latest return is read last and kept
        order_by=(ReviewDecision.decided_dt, ReviewDecision.id),
    )
    reasons = {item_id: claim_reasons.get(claim_id) for item_id, claim_id in claims.items()}
    reasons |= {item_id: update_reasons.get(update_id) for item_id, update_id in updates.items()}
    return {item_id: reason for item_id, reason in reasons.items() if reason}


def _by_id(session: Session, key, value, wanted: dict, *where, order_by=()) -> dict:
    """`value` by `key` for the keys among `wanted`'s values (the last row of each key)."""
    keys = {key_value for key_value in wanted.values() if key_value is not None}
    if not keys:
        return {}
    rows = session.execute(select(key, value).where(key.in_(keys), *where).order_by(*order_by))
    return {row[0]: row[1] for row in rows}


NOTICE_COMPOSERS = {MailKind.NOTICE: compose_notice}


def settle_notices(session: Session) -> int:
    """Queued notices whose email is finished take its outcome. Returns how many."""
    rows = session.execute(
        select(ReminderItem.id, MailRequest.status, MailRequest.reason, MailRequest.sent_dt)
        .join(MailRequest, MailRequest.reminder_item_id == ReminderItem.id)
        .where(
            in_states(ReminderItem.status, [DeliveryStatus.QUEUED]),
            MailRequest.status.in_(list(SETTLED)),
        )
    ).all()
    for item_id, mail_status, reason, sent_dt in rows:
        status = SETTLED[MailStatus(mail_status)]
        if reason == "opted_out":
            status = DeliveryStatus.CANCELLED
        session.execute(
            update(ReminderItem)
            .where(ReminderItem.id == item_id, ReminderItem.status == DeliveryStatus.QUEUED)
            .values(status=status, sent_dt=sent_dt)
        )
    return len(rows)


def deliver_notice_mail(session: Session, now: datetime | None = None) -> OutboxRun:
    """Send the notice emails that are due (committing per email), then settle the
    notices whose email is finished."""
    now = now or clock.now_utc()
    run = mail_outbox.deliver_due(session, now, NOTICE_COMPOSERS)
    settle_notices(session)
    keep = timedelta(days=int(current_app.config.get("MAIL_OUTBOX_KEEP_DAYS", 30)))
    mail_outbox.purge_finished(session, now - keep, NOTICE_COMPOSERS)
    session.commit()
    return run


def scheduled_notice_mail_job(session: Session, now: datetime) -> None:
    """Part of the scheduler's mail-outbox job (tracker.services.mail_jobs)."""
    deliver_notice_mail(session, now)
