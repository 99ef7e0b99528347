"""The accounts feature: users and roles, passwords, tokens, login, and the permission rules.

The modules: `users` (accounts, roles, enabling, language, passwords), `login` (logging in
with throttling, logging out, changing one's password), `two_step` (the authenticator
app's codes and the recovery codes after the password), `tokens` (the signed single-use
links), `emails` (invitation and reset emails, planned in the mail outbox and sent by
the scheduler's `scheduled_mail_job`), `throttle` (login throttling with device cookies),
`passwords` (hashing and the policy) and `policy` (who may do what).

Other features use only the names below; nothing else reaches inside."""

from tracker.services.accounts.emails import scheduled_mail_job
from tracker.services.accounts.passwords import hash_password
from tracker.services.accounts.policy import (
    ARCHIVED_ORGANISATION,
    UNLINKED_MONITOR,
    can_edit_update,
    can_monitor_measure,
    can_propose_claim,
    can_record_claim,
    can_review,
    can_see_private_evidence,
    can_view_claim,
    can_view_update,
    is_admin,
    is_monitor,
    is_proposers_monitor,
    is_reviewer,
    monitored_measure_ids,
    why_not_monitor,
)
from tracker.services.accounts.users import organisation_histories, organisation_history

__all__ = [
    "ARCHIVED_ORGANISATION",
    "UNLINKED_MONITOR",
    "can_edit_update",
    "can_monitor_measure",
    "can_propose_claim",
    "can_record_claim",
    "can_review",
    "can_see_private_evidence",
    "can_view_claim",
    "can_view_update",
    "hash_password",
    "is_admin",
    "is_monitor",
    "is_proposers_monitor",
    "is_reviewer",
    "monitored_measure_ids",
    "organisation_histories",
    "organisation_history",
    "scheduled_mail_job",
    "why_not_monitor",
]
