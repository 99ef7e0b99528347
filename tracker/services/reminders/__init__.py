"""The reminders feature: planning the outbox, delivering digests, the in-app
notifications and the calendar feeds.

- outbox: the `ReminderItem` rows and the steps between their states (shared below);
- settings, subscriptions: what the admin and each person chose;
- planning: which reminders are due today; digests: what an email says; delivery: sending;
- jobs: a run (plan, then deliver) and the scheduler's jobs;
- inbox: the notification list; calendar: the iCalendar feeds;
- notices: instant notices of submitted, returned and approved updates and of proposed,
  returned and approved government claims, emailed through the mail outbox.

Other features, the commands and the scheduler use only the names below; nothing else
reaches inside."""

from tracker.services.reminders.calendar import organisation_calendar, plan_calendar
from tracker.services.reminders.digests import (
    DIGEST_MEASURES,
    KIND_ORDER,
    item_detail,
    link_target,
)
from tracker.services.reminders.inbox import (
    mark_all_read,
    mark_read,
    mark_shown_read,
    notification_counts,
    notifications,
    unread_count,
)
from tracker.services.reminders.jobs import (
    planning_connections,
    run_reminders,
    scheduled_reminders_job,
    scheduled_retry_job,
)
from tracker.services.reminders.notices import (
    deliver_notice_mail,
    notify_claim_decided,
    notify_decided,
    notify_proposed,
    notify_submitted,
    return_reasons,
    scheduled_notice_mail_job,
    settle_returned,
)
from tracker.services.reminders.outbox import (
    CLAIM_TIMEOUT,
    PlannedReminder,
    RunReport,
    failed_digests,
    outbox_counts,
    record_planned,
    requeue_failed_digest,
)
from tracker.services.reminders.planning import plan_outbox, plan_reminders
from tracker.services.reminders.settings import KindSettings, load_settings, save_settings
from tracker.services.reminders.subscriptions import (
    MONITOR_KINDS,
    InvalidUnsubscribeToken,
    list_unsubscribe_target,
    make_list_unsubscribe_token,
    make_unsubscribe_token,
    opted_out_kinds,
    read_unsubscribe_token,
    relevant_kinds,
    set_subscription,
    unsubscribe_all,
    unsubscribe_target,
)

__all__ = [
    "CLAIM_TIMEOUT",
    "DIGEST_MEASURES",
    "KIND_ORDER",
    "MONITOR_KINDS",
    "InvalidUnsubscribeToken",
    "KindSettings",
    "PlannedReminder",
    "RunReport",
    "deliver_notice_mail",
    "failed_digests",
    "item_detail",
    "link_target",
    "list_unsubscribe_target",
    "load_settings",
    "make_list_unsubscribe_token",
    "make_unsubscribe_token",
    "mark_all_read",
    "mark_read",
    "mark_shown_read",
    "notification_counts",
    "notifications",
    "notify_claim_decided",
    "notify_decided",
    "notify_proposed",
    "notify_submitted",
    "opted_out_kinds",
    "organisation_calendar",
    "outbox_counts",
    "plan_calendar",
    "plan_outbox",
    "plan_reminders",
    "planning_connections",
    "read_unsubscribe_token",
    "record_planned",
    "relevant_kinds",
    "requeue_failed_digest",
    "return_reasons",
    "run_reminders",
    "save_settings",
    "scheduled_notice_mail_job",
    "scheduled_reminders_job",
    "scheduled_retry_job",
    "set_subscription",
    "settle_returned",
    "unread_count",
    "unsubscribe_all",
    "unsubscribe_target",
]
