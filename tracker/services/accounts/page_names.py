"""The pages a refused request (or a refused form) was for, as the audit log names them.

The log stores the Flask endpoint and the path: internal names. Here each endpoint that
can refuse someone has a name in words, with the records its URL names filled in ("the
form to record a government claim on measure 1.1"). An endpoint without a name here is
shown by its path; tests/accounts/test_audit_words.py requires a name for every endpoint
that can refuse."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

#: endpoint → what the person tried to open or do; a placeholder is a URL value whose name
#: ends in "_id", without that ending (measure_id → %(measure)s)
PAGE_NAMES = {
    "admin.audit": _l("The audit log"),
    "admin.change_role": _l("Changing the role of %(user)s"),
    "admin.disable": _l("Disabling the account of %(user)s"),
    "admin.enable": _l("Enabling the account of %(user)s"),
    "admin.index": _l("The administration dashboard"),
    "admin.invite": _l("The form to invite someone"),
    "admin.password_link": _l("A password link for %(user)s"),
    "admin.resend_invitation": _l("Sending the invitation to %(user)s again"),
    "admin.reset_two_step": _l("Turning off two-step verification of %(user)s"),
    "admin.user": _l("The account page of %(user)s"),
    "admin.users": _l("The list of users"),
    "claim_review.approve": _l("Approving proposed government claim %(claim)s"),
    "claim_review.proposal": _l("Proposed government claim %(claim)s"),
    "claim_review.queue": _l("The proposed government claims to review"),
    "claim_review.return_claim": _l("Returning proposed government claim %(claim)s"),
    "claims.correct_claim": _l("The form to correct government claim %(claim)s"),
    "claims.new_claim": _l("The form to record a government claim on measure %(measure)s"),
    "claims.new_plan_claim": _l("The form to record a government claim on a whole plan"),
    "claims.proposal": _l("Proposed government claim %(claim)s"),
    "claims.revise_claim": _l("The form to revise returned government claim %(claim)s"),
    "files.download": _l("A stored file"),
    "monitor.archive_update": _l("Archiving update %(update)s"),
    "monitor.edit_update": _l("The form to edit update %(update)s"),
    "monitor.home": _l("The monitor's home page"),
    "monitor.my_updates": _l("The monitor's list of updates"),
    "monitor.new_update": _l("The form to draft an update on measure %(measure)s"),
    "monitor.revise_update": _l("The form to revise update %(update)s"),
    "monitor.submit_update": _l("Submitting update %(update)s for review"),
    "monitor.update": _l("Update %(update)s"),
    "notifications.index": _l("The notifications"),
    "notifications.mark_all_read": _l("Marking all notifications read"),
    "notifications.mark_read": _l("Marking notification %(item)s read"),
    "notifications.preferences": _l("The notification settings"),
    "notifications.unsubscribe": _l("Stopping reminders by an email's link"),
    "notifications.unsubscribe_all": _l("Stopping all reminders by an email's link"),
    "plans_admin.archive_milestone": _l("Archiving milestone %(milestone)s"),
    "plans_admin.edit_milestone": _l("The form to change milestone %(milestone)s"),
    "plans_admin.measure": _l("The milestones of measure %(measure)s"),
    "registry_admin.add_links": _l("Linking %(organisation)s to measures"),
    "registry_admin.archive": _l("Archiving %(organisation)s"),
    "registry_admin.create": _l("The form to add an organisation"),
    "registry_admin.edit": _l("The form to edit %(organisation)s"),
    "registry_admin.end": _l("Ending monitoring link %(link)s"),
    "registry_admin.import_file": _l("Importing organisations from a survey export"),
    "registry_admin.index": _l("The organisations and their monitoring links"),
    "registry_admin.links": _l("The monitoring links of %(organisation)s"),
    "registry_admin.make_lead": _l("Making monitoring link %(link)s the lead"),
    "registry_admin.remove_lead": _l("Removing the lead of monitoring link %(link)s"),
    "registry_admin.restore": _l("Restoring %(organisation)s"),
    "registry_admin.template": _l("The organisation import template"),
    "reminders_admin.index": _l("The reminders and failed emails"),
    "reminders_admin.retry": _l("Sending reminder email %(digest)s again"),
    "reminders_admin.save": _l("Saving the reminder settings"),
    "review.approve": _l("Approving update %(update)s"),
    "review.comment": _l("Commenting on update %(update)s"),
    "review.decide": _l("Deciding on update %(update)s"),
    "review.decide_page": _l("The review form of update %(update)s"),
    "review.item": _l("Update %(update)s for review"),
    "review.queue": _l("The updates to review"),
    "review.return_update": _l("Returning update %(update)s for revision"),
}


def placeholder(argument: str) -> str | None:
    """The placeholder a URL value fills: measure_id → measure; None for other values
    (a token, a file's public id), which no name shows."""
    return argument.removesuffix("_id") if argument.endswith("_id") else None


def page_name(endpoint: str, values: dict, name_of: Callable[[str, object], str]) -> str | None:
    """The endpoint's name with its URL `values` named by `name_of(argument, value)`; None
    when the endpoint has no name, or its values do not fill it (a path of an older
    version of the app)."""
    label = PAGE_NAMES.get(endpoint)
    if label is None:
        return None
    filled = {
        placeholder(argument): name_of(argument, value)
        for argument, value in values.items()
        if placeholder(argument)
    }
    try:
        return str(label) % filled
    except (KeyError, TypeError, ValueError):
        return None
