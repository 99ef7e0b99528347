"""The mail outbox: a request plans an email as one `MailRequest` row and returns; the
scheduler's process sends it. No request ever makes a token, renders an email or talks
to the SMTP server, so a request takes the same time whatever the email will say, or
whether there will be an email at all.

- `plan(session, kind, email, ...)` adds the row (the caller commits).
- `deliver_due(session, now, composers)` sends the rows of the kinds in `composers` that
  are due: per row, claim it (one conditional UPDATE, pending/retry → sending, committed
  before anything is sent, so two processes never send the same row), ask the kind's
  composer what to send (`ComposedMail`) or why nothing is sent (`Skip`), send it through
  tracker.services.mail.SmtpSender and record the server's answer, committing after each
  row. A 4xx answer or an unreachable server puts the row back to "retry" with a backoff
  and (unreachable) ends the run; a 5xx answer marks it failed.
- `purge_finished` deletes finished rows once they are old: they hold addresses.
- Stale claims: a row left in "sending" by a process that died is put back to "retry"
  after CLAIM_TIMEOUT. A live sender finishes a message in seconds, so this never takes a
  row from a process that is still working; the one case that can send twice is a crash
  between the server's 250 and our commit, and the copy then carries the same Message-ID
  (derived from the claim), so mail systems can drop it.

Reminder digests have their own outbox with the same rules (tracker.services.reminders);
the instant notices of tracker.services.reminders.notices are emailed through this one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import MailRequest
from tracker.services import mail
from tracker.services.mail import SendResult, SmtpSender
from tracker.vocabulary import MailKind, MailOutcome, MailStatus

logger = logging.getLogger(__name__)

#: backoff 1, 2, 4, 8, 16 minutes, then every 30 minutes; failed after about three hours
RETRY = mail.RetryPolicy(
    claim_timeout=timedelta(minutes=5),
    base=timedelta(minutes=1),
    cap=timedelta(minutes=30),
    max_attempts=10,
)
CLAIM_TIMEOUT = RETRY.claim_timeout
#: rows one run sends at most; the rest wait for the next run
BATCH_SIZE = 200
SENDABLE = (MailStatus.PENDING, MailStatus.RETRY)


@dataclass(frozen=True)
class ComposedMail:
    """What a composer wants sent for a row."""

    to: str
    subject: str
    text_body: str
    html_body: str | None = None
    #: the account the email is for (recorded on the row)
    user_id: int | None = None
    #: more headers, as (name, value) pairs (List-Unsubscribe for a notice)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Skip:
    """Nothing is sent for the row, and why (e.g. "no_account")."""

    reason: str
    user_id: int | None = None


#: a kind's composer: (session, row, now) → what to send, or why nothing is sent
Composer = Callable[[Session, MailRequest, datetime], "ComposedMail | Skip"]


@dataclass
class OutboxRun:
    """What one delivery run did."""

    sent: int = 0
    skipped: int = 0
    retry: int = 0
    failed: int = 0
    recovered: int = 0
    #: the server could not be reached: the rest wait for the next run
    stopped_early: bool = False

    def summary(self) -> str:
        parts = [f"{self.sent} sent", f"{self.skipped} with nothing to send"]
        parts += mail.run_summary_parts(self.retry, self.failed, self.recovered, self.stopped_early)
        return "; ".join(parts) + "."


# --- planning ------------------------------------------------------------------------


def plan(
    session: Session,
    kind: MailKind,
    email: str,
    *,
    user_id: int | None = None,
    client_ip: str = "",
    reminder_item_id: int | None = None,
) -> MailRequest:
    """Add an email to the outbox; the caller's commit makes it due at once."""
    now = clock.now_utc()
    request = MailRequest(
        kind=kind,
        email=email[:320],
        user_id=user_id,
        reminder_item_id=reminder_item_id,
        client_ip=(client_ip or "")[:64],
        requested_dt=now,
        status=MailStatus.PENDING,
        next_attempt_dt=now,
        attempts=0,
        reason="",
        last_error="",
    )
    session.add(request)
    return request


def cancel_pending(session: Session, kind: MailKind, user_id: int, reason: str) -> int:
    """Cancel the unsent rows of a kind for an account (a newer one replaces them)."""
    result = session.execute(
        update(MailRequest)
        .where(
            MailRequest.kind == kind,
            MailRequest.user_id == user_id,
            MailRequest.status.in_(SENDABLE),
        )
        .values(status=MailStatus.CANCELLED, reason=reason[:40])
    )
    return result.rowcount or 0


def latest_for(session: Session, kind: MailKind, user_id: int) -> MailRequest | None:
    """The newest row of a kind for an account (what the admin sees of an invitation)."""
    return session.scalar(
        select(MailRequest)
        .where(MailRequest.kind == kind, MailRequest.user_id == user_id)
        .order_by(MailRequest.id.desc())
        .limit(1)
    )


def purge_finished(session: Session, before: datetime, kinds: Iterable[MailKind]) -> int:
    """Delete the finished rows asked for before `before`: they hold addresses (of people
    without an account too) and client addresses, kept no longer than they are useful."""
    result = session.execute(
        delete(MailRequest).where(
            MailRequest.kind.in_(list(kinds)),
            MailRequest.status.not_in((*SENDABLE, MailStatus.SENDING)),
            MailRequest.requested_dt < before,
        )
    )
    return result.rowcount or 0


# --- claiming --------------------------------------------------------------------------


def recover_stale_claims(session: Session, now: datetime, kinds: Iterable[MailKind]) -> int:
    return RETRY.recover_stale_claims(session, MailRequest, now, MailRequest.kind.in_(list(kinds)))


def due_ids(
    session: Session, now: datetime, kinds: Iterable[MailKind], only: Iterable[int] | None = None
) -> list[int]:
    query = (
        select(MailRequest.id)
        .where(
            MailRequest.kind.in_(list(kinds)),
            MailRequest.status.in_(SENDABLE),
            MailRequest.next_attempt_dt <= now,
        )
        .order_by(MailRequest.id)
        .limit(BATCH_SIZE)
    )
    if only is not None:
        query = query.where(MailRequest.id.in_(list(only)))
    return list(session.scalars(query))


def claim(session: Session, request_id: int, now: datetime) -> str | None:
    """Take one due row for this process: its claim token, or None when another process
    took it first (PostgreSQL re-checks the WHERE clause after the first commit; SQLite
    runs writers one at a time)."""
    token = uuid.uuid4().hex
    claimed = session.scalar(
        update(MailRequest)
        .where(
            MailRequest.id == request_id,
            MailRequest.status.in_(SENDABLE),
            MailRequest.next_attempt_dt <= now,
        )
        .values(status=MailStatus.SENDING, claim_token=token, claimed_dt=clock.now_utc())
        .returning(MailRequest.id)
    )
    return token if claimed is not None else None


# --- recording -------------------------------------------------------------------------


def _finish(session: Session, request_id: int, token: str, values: dict) -> bool:
    """Write what became of a claimed row, if the claim is still ours, and commit. A row
    removed meanwhile, or whose stale claim another run took over, is left alone."""
    finished = session.execute(
        update(MailRequest)
        .where(
            MailRequest.id == request_id,
            MailRequest.claim_token == token,
            MailRequest.status == MailStatus.SENDING,
        )
        .values(**values)
    )
    session.commit()
    if not finished.rowcount:
        logger.warning("Email %s was removed or taken over while it was sent", request_id)
    return bool(finished.rowcount)


def _skip_values(skip: Skip) -> dict:
    values = {"status": MailStatus.SKIPPED, "reason": skip.reason[:40]}
    if skip.user_id is not None:
        values["user_id"] = skip.user_id
    return values


def _result_values(attempts: int, result: SendResult, now: datetime) -> tuple[dict, str]:
    """The row's columns after the server's answer, and the run's counter it adds to."""
    if result.outcome == MailOutcome.SENT:
        values = {"status": MailStatus.SENT, "sent_dt": now, "last_error": ""}
        return {**values, "smtp_code": result.code}, "sent"
    attempts += 1
    values = {"smtp_code": result.code, "attempts": attempts, "last_error": result.error[:2000]}
    retry_at = RETRY.next_attempt(result.outcome, attempts, now)
    if retry_at is None:
        return {**values, "status": MailStatus.FAILED}, "failed"
    return {**values, "status": MailStatus.RETRY, "next_attempt_dt": retry_at}, "retry"


def _message(row: MailRequest, composed: ComposedMail, token: str):
    texts = (composed.subject, composed.text_body, composed.html_body)
    return mail.build_automatic_message(
        composed.to, *texts, message_key=f"{row.kind}.{token}", headers=dict(composed.headers)
    )


def _send_one(
    session: Session,
    sender: SmtpSender | None,
    request_id: int,
    token: str,
    composers: Mapping[MailKind, Composer],
    now: datetime,
    run: OutboxRun,
) -> SendResult | None:
    """Compose, send and record one claimed row, committing what it found. No transaction
    is open while the mail server is talked to (on SQLite one would hold the write lock,
    and requests would wait for it)."""
    row = session.get(MailRequest, request_id)
    if row is None:
        return None
    if sender is None:
        # Mail is off: nothing can leave, and a link made now would only expire unread.
        kind = row.kind
        if _finish(session, request_id, token, _skip_values(Skip("mail_off"))):
            run.skipped += 1
        logger.warning("Mail is off (SMTP_HOST is not set): %s email %s not sent", kind, request_id)
        return None
    composed = composers[row.kind](session, row, now)
    if isinstance(composed, Skip):
        if _finish(session, request_id, token, _skip_values(composed)):
            run.skipped += 1
        return None
    kind, attempts = row.kind, row.attempts or 0
    try:
        message = _message(row, composed, token)
    except ValueError as error:
        message, result = None, SendResult(MailOutcome.REJECTED, None, str(error))
    session.commit()
    if message is not None:
        result = sender.send(message)
    values, counter = _result_values(attempts, result, now)
    if composed.user_id is not None:
        values["user_id"] = composed.user_id
    if _finish(session, request_id, token, values):
        setattr(run, counter, getattr(run, counter) + 1)
    if result.outcome != MailOutcome.SENT:
        logger.warning(
            "%s email %s not delivered (%s): %s", kind, request_id, result.outcome, result.error
        )
    return result


def deliver_due(
    session: Session,
    now: datetime,
    composers: Mapping[MailKind, Composer],
    *,
    only: Iterable[int] | None = None,
) -> OutboxRun:
    """Send the due rows of the composers' kinds (or of the ids in `only`), one claim and
    one commit at a time."""
    run = OutboxRun()
    kinds = list(composers)
    run.recovered = recover_stale_claims(session, now, kinds)
    ids = due_ids(session, now, kinds, only)
    session.commit()
    sender = SmtpSender(current_app.config) if mail.mail_enabled() else None
    try:
        for request_id in ids:
            token = claim(session, request_id, now)
            # The claim is durable before anything is sent.
            session.commit()
            if token is None:
                continue
            result = _send_one(session, sender, request_id, token, composers, now, run)
            if result is not None and result.outcome == MailOutcome.UNREACHABLE:
                run.stopped_early = True
                break
    finally:
        if sender is not None:
            sender.close()
    return run
