"""Deadline reminders that arrive exactly once: a run, and the scheduler's jobs.

A run has two steps, both idempotent:

1. **Plan.** From the measures' states (services.plans, the only source of due dates,
   completion and overdue), the monitoring links, the review queue and the admin's
   settings, work out which reminders are due today (services.reminders.planning). Each
   is inserted into the outbox (`ReminderItem`) with INSERT ... ON CONFLICT DO NOTHING on
   its unique key (recipient, measure, kind, occurrence), so planning the same reminder
   twice is a no-op, whichever process or scheduler does it (services.reminders.outbox).
   The day's planning is noted with a digest of its inputs (`ReminderPlanning`): a second
   run the same day from unchanged inputs skips all but the review queue's reminders.
2. **Deliver.** In batches of recipients, claim the recipients (one `ReminderClaim` each,
   at most one per recipient: a recipient another process holds is skipped), read their
   items that may be sent now, and commit, so two processes never send the same item.
   Build one digest email per recipient from its items and send it; only when the SMTP
   server accepted it (250) are the items marked sent. The answers are recorded together,
   a commit every few dozen digests or every second. A 4xx answer or a connection failure
   puts the items back to "retry" with exponential backoff for a later run; a 5xx answer
   marks them failed, and admins see them on /admin/reminders. After a connection failure
   the run stops sending and releases the claims it had not sent: those items stay as
   they were for the next run rather than waiting for a timeout. A large run delivers in
   several processes, which take its batches of recipients as each is ready
   (services.reminders.delivery).

Stale claims: a process that dies between its claim and the record of its answers leaves
its claims behind. A run treats a claim older than CLAIM_TIMEOUT (wall clock) as
interrupted and deletes it, so that the items, still sendable, go out again. A live run
records its answers every second at the latest and refreshes the claims it still holds
long before they would count as stale, so this never takes items from a process that is
still working. What can be sent twice is what the server accepted in the last second (or
the last RECORD_EVERY digests) before a crash; losing reminders silently would be worse,
so the policy is at-least-once in that window and exactly-once everywhere else.

Without SMTP (no SMTP_HOST) the run logs that mail is off, and the items stay in the app
(status in_app_only) instead of being mailed in a burst once mail is switched on.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import current_app
from sqlalchemy.orm import Session

from tracker import clock
from tracker.services.reminders import delivery, outbox
from tracker.services.reminders.outbox import RunReport
from tracker.services.reminders.planning import plan_outbox

logger = logging.getLogger(__name__)


def run_reminders(
    session: Session,
    now: datetime,
    today: date | None = None,
    *,
    dry_run: bool = False,
    plan: bool = True,
) -> RunReport:
    """Plan today's reminders and deliver every digest that is due. `now` is the run's
    time (aware); `today` defaults to its date in Asia/Baku. A dry run rolls back."""
    if now.tzinfo is None:
        raise ValueError("run_reminders needs an aware datetime")
    today = today or clock.baku_date(now)
    report = RunReport(
        now=now, today=today, dry_run=dry_run, mail_enabled=delivery.mail_enabled(), planning=plan
    )
    if plan:
        report.planned, report.new_items = plan_outbox(
            session, today, now, connections=planning_connections(dry_run)
        )
    if dry_run:
        report.previews = delivery.preview_digests(session, now)
        session.rollback()
        return report
    report.recovered_claims = outbox.recover_stale_claims(session)
    session.commit()
    if not report.mail_enabled:
        logger.info("Mail is off (SMTP_HOST is not set): reminders stay in the app only.")
        report.items_in_app_only = outbox.keep_in_app_only(session, now)
        session.commit()
        return report
    delivery.deliver_due(session, now, report)
    logger.info("Reminder run: %s", report.summary())
    return report


def planning_connections(dry_run: bool = False) -> int:
    """The connections that plan a run's link reminders at once (PostgreSQL; see
    plan_outbox): REMINDER_PLANNING_CONNECTIONS, and one for a dry run, which must be able
    to roll everything back."""
    return 1 if dry_run else max(current_app.config["REMINDER_PLANNING_CONNECTIONS"], 1)


def scheduled_reminders_job(session: Session, now: datetime) -> None:
    """The daily job (see tracker.scheduler): plan and deliver."""
    run_reminders(session, now, clock.today())


def scheduled_retry_job(session: Session, now: datetime) -> None:
    """The frequent job: deliver what is due (retries after backoff), without planning."""
    run_reminders(session, now, clock.today(), plan=False)
