"""The scheduler's mail-outbox job: every email waiting in the mail outbox
(services.mail_outbox), each kind sent with its own feature's composers: account emails
(invitations, password resets: services.accounts) and instant notices of submitted,
returned and approved updates (services.reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tracker.services import accounts, reminders


def scheduled_mail_job(session: Session, now: datetime) -> None:
    """The frequent job (tracker.scheduler, MAIL_OUTBOX_INTERVAL_SECONDS)."""
    accounts.scheduled_mail_job(session, now)
    reminders.scheduled_notice_mail_job(session, now)
