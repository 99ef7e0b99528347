"""The in-app notification list (the same items as the reminder emails) and the
unsubscribe links those emails carry."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField

from tracker.database import begin_writes_on_safe_request
from tracker.extensions import csrf, db
from tracker.i18n import current_locale, locale_of_link_for
from tracker.models import ReminderItem
from tracker.services import reminders
from tracker.services.mail import mail_enabled
from tracker.vocabulary import REMINDER_KIND_LABELS, DeliveryStatus, ReminderKind, Role
from tracker.web.confirmation import require_confirmation
from tracker.web.errors_map import http_error
from tracker.web.forms import ConfirmForm, TrackerForm
from tracker.web.pagination import Page, existing_page, page_number
from tracker.web.permissions import get_or_404, roles_required

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 50

#: every role has a notification list
signed_in = roles_required(*Role)

#: what the person sees about an item's email
DELIVERY_LABELS = {
    DeliveryStatus.PENDING: _l("Email pending"),
    DeliveryStatus.SENT: _l("Emailed"),
    DeliveryStatus.RETRY: _l("Email delayed, will retry"),
    DeliveryStatus.FAILED: _l("Email could not be delivered"),
    DeliveryStatus.IN_APP_ONLY: _l("In the app only"),
    DeliveryStatus.CANCELLED: _l("Email cancelled (unsubscribed)"),
    DeliveryStatus.QUEUED: _l("Email on its way"),
}
#: the same with mail off (no SMTP_HOST): what waits for the outbox will stay in the app
MAIL_OFF_LABELS = {
    **DELIVERY_LABELS,
    **dict.fromkeys(
        (DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.QUEUED),
        DELIVERY_LABELS[DeliveryStatus.IN_APP_ONLY],
    ),
}


class PreferencesForm(TrackerForm):
    deadline_approaching = BooleanField(REMINDER_KIND_LABELS[ReminderKind.DEADLINE_APPROACHING])
    overdue = BooleanField(REMINDER_KIND_LABELS[ReminderKind.OVERDUE])
    update_stale = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_STALE])
    update_returned = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_RETURNED])
    review_waiting = BooleanField(REMINDER_KIND_LABELS[ReminderKind.REVIEW_WAITING])
    update_submitted = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_SUBMITTED])
    update_approved = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_APPROVED])
    claim_proposed = BooleanField(REMINDER_KIND_LABELS[ReminderKind.CLAIM_PROPOSED])
    claim_returned = BooleanField(REMINDER_KIND_LABELS[ReminderKind.CLAIM_RETURNED])
    claim_approved = BooleanField(REMINDER_KIND_LABELS[ReminderKind.CLAIM_APPROVED])


def in_app_link(item: ReminderItem) -> str:
    """The same destination as the email's link, as a path on this site."""
    endpoint, values = reminders.link_target(item)
    return url_for(endpoint, **values)


@bp.get("/notifications")
@signed_in
def index():
    # seen notices are marked read below, after the page's reads
    begin_writes_on_safe_request(db.session)
    number = page_number()
    total, unread = reminders.notification_counts(db.session, current_user.id)
    page = existing_page(Page([], number, PAGE_SIZE, total))
    items = reminders.notifications(db.session, current_user.id, page.offset, PAGE_SIZE)
    opted_out = reminders.opted_out_kinds(db.session, current_user.id)
    preferences = PreferencesForm(data={str(kind): kind not in opted_out for kind in ReminderKind})
    locale = current_locale()
    reasons = reminders.return_reasons(db.session, items)
    page.items = [
        (item, reminders.item_detail(item, locale), in_app_link(item), reasons.get(item.id))
        for item in items
    ]
    # Seen is read: the page still marks what was new, the navigation's count drops now.
    reminders.mark_shown_read(db.session, current_user.id, [item.id for item in items])
    html = render_template(
        "reminders/notifications/index.html",
        total=total,
        unread=unread,
        page=page,
        preferences=preferences,
        kinds=reminders.relevant_kinds(current_user, opted_out),
        kind_labels=REMINDER_KIND_LABELS,
        delivery_labels=DELIVERY_LABELS if mail_enabled() else MAIL_OFF_LABELS,
        organisation_id=current_user.organisation_id if current_user.role == Role.MONITOR else None,
    )
    db.session.commit()
    return html


@bp.app_context_processor
def unread_notices() -> dict:
    """`unread_notices()` in every template: the signed-in person's unread count, asked
    only by the pages that show it."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return reminders.unread_count(db.session, current_user.id)

    return {"unread_notices": count}


@bp.post("/notifications/<id:item_id>/read")
@signed_in
def mark_read(item_id: int):
    item = get_or_404(ReminderItem, item_id)
    if item.recipient_id != current_user.id:
        raise http_error(404)
    require_confirmation()
    if reminders.mark_read(item):
        db.session.commit()
    return redirect(url_for("notifications.index", page=request.args.get("page", 1)))


@bp.post("/notifications/read-all")
@signed_in
def mark_all_read():
    require_confirmation()
    reminders.mark_all_read(db.session, current_user.id)
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/preferences")
@signed_in
def preferences():
    form = PreferencesForm()
    if not form.validate_on_submit():
        raise http_error(400)
    opted_out = reminders.opted_out_kinds(db.session, current_user.id)
    changed = False
    for kind in reminders.relevant_kinds(current_user, opted_out):
        subscribed = bool(form[str(kind)].data)
        changed |= reminders.set_subscription(db.session, current_user, kind, subscribed)
    db.session.commit()
    if changed:
        flash(_("Your reminder settings are saved."), "success")
    return redirect(url_for("notifications.index"))


def masked_email(email: str) -> str:
    """ "a…@example.org": enough to recognise one's own address, not to read someone else's."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


@bp.errorhandler(reminders.InvalidUnsubscribeToken)
def _link_refused(_error):
    """A link this site did not make, altered, or for an account that is gone: a 400 that
    says so and where reminders are managed instead, as a bad password link answers."""
    return render_template("reminders/notifications/unsubscribe_invalid.html"), 400


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET shows what the link will stop; only the POST (with CSRF) changes anything.
    A link this site did not make is a 400 (_link_refused)."""
    user, kind = reminders.unsubscribe_target(db.session, token)
    form = ConfirmForm()
    done = False
    if request.method == "POST":
        if not form.validate_on_submit():
            raise http_error(400)
        reminders.set_subscription(db.session, user, kind, subscribed=False)
        db.session.commit()
        done = True
    already = kind in reminders.opted_out_kinds(db.session, user.id) and not done
    # the email's reader, who may never have chosen a language here
    with force_locale(locale_of_link_for(user.locale)):
        return render_template(
            "reminders/notifications/unsubscribe.html",
            form=form,
            kind_label=REMINDER_KIND_LABELS[kind],
            email=masked_email(user.email),
            done=done,
            already=already,
        )


@bp.route("/unsubscribe-all/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe_all(token: str):
    """The List-Unsubscribe link of the digests (RFC 8058). A mail client's one-click POST
    carries no cookie and no CSRF token: the signed token in the URL is the authority, so
    this one view is exempt from CSRF. GET shows the page with the button; POST stops
    every kind of reminder email. A link this site did not make is a 400."""
    user = reminders.list_unsubscribe_target(db.session, token)
    done = False
    if request.method == "POST":
        reminders.unsubscribe_all(db.session, user)
        db.session.commit()
        done = True
    stopped = set(ReminderKind) <= reminders.opted_out_kinds(db.session, user.id)
    with force_locale(locale_of_link_for(user.locale)):
        return render_template(
            "reminders/notifications/unsubscribe_all.html",
            email=masked_email(user.email),
            done=done,
            already=not done and stopped,
        )
