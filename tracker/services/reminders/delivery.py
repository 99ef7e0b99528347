"""Delivering reminder digests: claim a recipient's items, send their digest, record the
server's answer, one recipient at a time (services.reminders.jobs runs it). A sending
thread talks to the server while the next digest is claimed and composed.

Sending: one SMTP connection serves a whole run (tracker.services.mail.SmtpSender, the one
sender of every email), checked with NOOP before each reuse so that a message is never
sent twice on a connection the server had dropped. A message counts as sent only when the
server answered 250 to its data. The answer decides what becomes of the items: 4xx →
retry later; 5xx → failed for good; no answer (connection refused or dropped, timeout, TLS
or login failure) → retry later and stop this run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import ReminderDigest, ReminderItem, User
from tracker.services import mail
from tracker.services.mail import SendResult, SmtpSender
from tracker.services.reminders.digests import (
    ITEM_COLUMNS,
    ComposedDigest,
    DetailCache,
    InfoCache,
    Recipient,
    compose_digest,
    load_recipients,
)
from tracker.services.reminders.outbox import (
    MAX_ATTEMPTS,
    RunReport,
    claim_items,
    recipients_with_due_items,
    release_claim,
    retry_delay,
    sendable,
)
from tracker.vocabulary import DeliveryStatus, DigestStatus, MailOutcome

logger = logging.getLogger(__name__)


def mail_enabled() -> bool:
    return mail.mail_enabled()


def build_message(digest: ComposedDigest, token: str) -> EmailMessage:
    return mail.build_automatic_message(
        digest.to,
        digest.subject,
        digest.text_body,
        digest.html_body,
        message_key=f"reminders.{token}",
        # RFC 2369 and RFC 8058: mail clients offer "unsubscribe", and a POST to this link
        # (authorised by its signed token, no cookie) stops the reminders
        headers={
            "List-Unsubscribe": f"<{digest.list_unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# --- recording the answer --------------------------------------------------------------------


def _outcome(result: SendResult, rows: list, now: datetime, report: RunReport):
    """The digest's status and the values its items take, counted in the report."""
    if result.outcome == MailOutcome.SENT:
        report.digests_sent += 1
        report.items_sent += len(rows)
        return DigestStatus.SENT, {"status": DeliveryStatus.SENT, "sent_dt": now, "last_error": ""}
    failed = {"attempts": ReminderItem.attempts + 1, "last_error": result.error[:2000]}
    if result.outcome == MailOutcome.REJECTED:
        report.digests_failed += 1
        return DigestStatus.FAILED, {"status": DeliveryStatus.FAILED, **failed}
    # No answer, or "try again later": back off, and give up after MAX_ATTEMPTS.
    attempts = max(row.attempts for row in rows) + 1
    failed["next_attempt_dt"] = now + retry_delay(attempts)
    if attempts >= MAX_ATTEMPTS:
        report.digests_failed += 1
        return DigestStatus.FAILED, {"status": DeliveryStatus.FAILED, **failed}
    report.digests_retry += 1
    return DigestStatus.RETRY, {"status": DeliveryStatus.RETRY, **failed}


def _record_outcome(
    session: Session,
    recipient: Recipient,
    digest: ComposedDigest,
    rows: list,
    token: str,
    result: SendResult,
    now: datetime,
    report: RunReport,
) -> None:
    """One digest row for the attempt, and one UPDATE for its items."""
    status, values = _outcome(result, rows, now, report)
    record = ReminderDigest(
        recipient_id=recipient.id,
        claim_token=token,
        status=status,
        email=recipient.email,
        locale=digest.locale,
        subject=digest.subject,
        item_count=len(rows),
        smtp_code=result.code,
        error=result.error[:2000],
        created_dt=now,
        finished_dt=now,
    )
    session.add(record)
    session.flush()
    session.execute(
        update(ReminderItem)
        .where(ReminderItem.claim_token == token)
        .values(digest_id=record.id, **values)
    )


# --- a run's delivery ------------------------------------------------------------------------


def _claimed_rows(session: Session, token: str) -> list:
    return list(
        session.execute(
            select(*ITEM_COLUMNS).where(ReminderItem.claim_token == token).order_by(ReminderItem.id)
        )
    )


def _log_failure(recipient: Recipient, result: SendResult) -> None:
    if result.outcome == MailOutcome.UNREACHABLE:
        logger.warning("Mail server unreachable; the remaining reminders wait: %s", result.error)
    elif result.outcome != MailOutcome.SENT:
        logger.warning(
            "Reminder digest to %s not delivered (%s): %s",
            recipient.email,
            result.outcome,
            result.error,
        )


@dataclass
class _Digest:
    """A claimed recipient's digest, composed, and (once started) the server's answer."""

    recipient: Recipient
    digest: ComposedDigest
    rows: list
    token: str
    answer: Future | None = None


def _claim_and_compose(session, recipient, now, cache, details) -> _Digest | None:
    token, claimed = claim_items(session, recipient.id, now)
    # The claim is durable before anything is sent.
    session.commit()
    if not claimed:
        return None
    rows = _claimed_rows(session, token)
    return _Digest(recipient, compose_digest(recipient, cache.items(rows), details), rows, token)


def _start(pool: ThreadPoolExecutor, sender: SmtpSender, claimed: _Digest) -> _Digest:
    """Hand the message to the sending thread (the message is built here: it needs the app)."""
    try:
        message = build_message(claimed.digest, claimed.token)
    except ValueError as error:
        claimed.answer = Future()
        claimed.answer.set_result(SendResult(MailOutcome.REJECTED, None, str(error)))
        return claimed
    claimed.answer = pool.submit(sender.send, message)
    return claimed


def _finish(session: Session, sent: _Digest, now: datetime, report: RunReport) -> bool:
    """Wait for the server's answer and record it; False when the server is unreachable
    and the run must stop sending."""
    result = sent.answer.result()
    _record_outcome(
        session, sent.recipient, sent.digest, sent.rows, sent.token, result, now, report
    )
    session.commit()
    _log_failure(sent.recipient, result)
    if result.outcome == MailOutcome.UNREACHABLE:
        report.stopped_early = True
        return False
    return True


def deliver_due(session: Session, now: datetime, report: RunReport) -> None:
    """Claim, send and record one digest per recipient, committing after each send. One
    thread sends, on the run's one SMTP connection, in order; meanwhile this one claims and
    composes the next digest. After a connection failure the digest claimed meanwhile is
    released unsent, and the run stops."""
    details = DetailCache()
    cache = InfoCache(session)
    sender = SmtpSender(current_app.config)
    recipient_ids = recipients_with_due_items(session, now)
    recipients = load_recipients(session, recipient_ids)
    session.commit()
    in_flight: _Digest | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminder-mail") as pool:
            for recipient_id in recipient_ids:
                upcoming = _claim_and_compose(
                    session, recipients[recipient_id], now, cache, details
                )
                if upcoming is None:
                    continue
                if in_flight is not None and not _finish(session, in_flight, now, report):
                    release_claim(session, upcoming.token, now)
                    session.commit()
                    in_flight = None
                    break
                in_flight = _start(pool, sender, upcoming)
            if in_flight is not None:
                _finish(session, in_flight, now, report)
    finally:
        sender.close()


def preview_digests(session: Session, now: datetime) -> list[ComposedDigest]:
    """The digests a run would send now, composed but not claimed or sent (dry run)."""
    details = DetailCache()
    cache = InfoCache(session)
    rows = session.execute(
        select(*ITEM_COLUMNS)
        .join(User, User.id == ReminderItem.recipient_id)
        .where(sendable(now), User.is_enabled.is_(True))
        .order_by(ReminderItem.recipient_id, ReminderItem.id)
    ).all()
    by_recipient: dict[int, list] = defaultdict(list)
    for row in rows:
        by_recipient[row.recipient_id].append(row)
    recipients = load_recipients(session, sorted(by_recipient))
    return [
        compose_digest(recipients[recipient_id], cache.items(by_recipient[recipient_id]), details)
        for recipient_id in sorted(by_recipient)
    ]
