"""The mail outbox: one row per email that a request asked for, sent later by the
scheduler's process (tracker.services.mail_outbox). Reminder digests have an outbox of
their own (tracker.models.reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, utc_now
from tracker.vocabulary import MailKind, MailStatus


class MailRequest(db.Model):
    """An email asked for by a request, e.g. "password reset requested for <address> at
    <time> from <address>". The request writes only this row, whether or not an account
    has the address; the scheduler's job finds the account, makes the link, renders and
    sends, claiming the row first so that no two processes send it."""

    __tablename__ = "mail_request"
    __table_args__ = (Index("ix_mail_request_due", "status", "next_attempt_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: MailKind: "invitation", "password_reset", "notice" or a security notice ("two_step_on"…)
    kind: Mapped[MailKind] = mapped_column(EnumText(MailKind, 30))
    #: the address asked for, normalised (lower case, trimmed)
    email: Mapped[str] = mapped_column(String(320), index=True)
    #: the account: known when an admin invites; found by the job for a reset
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the in-app notice an instant notice email carries (MailKind.NOTICE)
    reminder_item_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_item.id"), index=True)
    #: where the request came from (the client's address), "" for the CLI
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    requested_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: MailStatus
    status: Mapped[MailStatus] = mapped_column(EnumText(MailStatus, 20), default=MailStatus.PENDING)
    #: why a row was skipped or cancelled, e.g. "no_account", "mail_off", "rate_limited"
    reason: Mapped[str] = mapped_column(String(40), default="")
    #: not before this time may a run send it (the request's time, then the retry backoff)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: failed deliveries so far
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: the claim of the run that is sending it (status "sending"), or that last sent it
    claim_token: Mapped[str | None] = mapped_column(String(40), index=True)
    #: wall-clock time of the claim: a claim older than the policy's limit is recovered
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the SMTP server's last answer code, when it answered
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    #: the latest delivery error (SMTP code and text), for admins
    last_error: Mapped[str] = mapped_column(Text, default="")
