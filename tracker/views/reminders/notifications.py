"""The in-app notification list (the same items as the reminder emails) and the
unsubscribe links those emails carry."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError
from wtforms import BooleanField

from tracker import clock
from tracker.extensions import db
from tracker.i18n import current_locale
from tracker.models import Measure, ReminderItem, User
from tracker.services.reminders import planning as reminders
from tracker.services.reminders.digests import KIND_ORDER, item_detail, link_candidates
from tracker.services.reminders.planning import MONITOR_KINDS
from tracker.vocabulary import REMINDER_KIND_LABELS, ReminderKind, Role
from tracker.web.permissions import roles_required

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 50

#: every role has a notification list
signed_in = roles_required(*Role)

#: what the person sees about an item's email
DELIVERY_LABELS = {
    reminders.DeliveryStatus.PENDING: _l("Email pending"),
    reminders.DeliveryStatus.SENDING: _l("Email being sent"),
    reminders.DeliveryStatus.SENT: _l("Emailed"),
    reminders.DeliveryStatus.RETRY: _l("Email delayed, will retry"),
    reminders.DeliveryStatus.FAILED: _l("Email could not be delivered"),
    reminders.DeliveryStatus.IN_APP_ONLY: _l("In the app only"),
    reminders.DeliveryStatus.CANCELLED: _l("Email cancelled (unsubscribed)"),
}


class ButtonForm(FlaskForm):
    """A POST-only button: the form carries only the CSRF token."""


class PreferencesForm(FlaskForm):
    deadline_approaching = BooleanField(REMINDER_KIND_LABELS[ReminderKind.DEADLINE_APPROACHING])
    overdue = BooleanField(REMINDER_KIND_LABELS[ReminderKind.OVERDUE])
    update_stale = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_STALE])
    update_returned = BooleanField(REMINDER_KIND_LABELS[ReminderKind.UPDATE_RETURNED])
    review_waiting = BooleanField(REMINDER_KIND_LABELS[ReminderKind.REVIEW_WAITING])


def relevant_kinds(user, opted_out: set[ReminderKind]) -> list[ReminderKind]:
    """The kinds a person can receive given their role, and any they have stopped."""
    if user.role == Role.MONITOR:
        kinds = set(MONITOR_KINDS)
    elif user.role == Role.REVIEWER:
        kinds = {ReminderKind.REVIEW_WAITING}
    else:
        kinds = set()
    kinds |= opted_out
    return [kind for kind in ReminderKind if kind in kinds]


def in_app_link(item: ReminderItem) -> str:
    """The same destination as the email's link, as a path on this site."""
    for endpoint, values in link_candidates(item):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **values)
            except BuildError:
                continue
    return url_for("notifications.index", _anchor=f"item-{item.id}")


def _page_number() -> int:
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400)
    return int(page)


@bp.get("/notifications")
@signed_in
def index():
    page = _page_number()
    base = ReminderItem.recipient_id == current_user.id
    total = db.session.scalar(select(func.count()).select_from(ReminderItem).where(base))
    unread = db.session.scalar(
        select(func.count()).select_from(ReminderItem).where(base, ReminderItem.read_dt.is_(None))
    )
    items = db.session.scalars(
        select(ReminderItem)
        .options(
            joinedload(ReminderItem.measure).joinedload(Measure.plan),
            joinedload(ReminderItem.organisation),
            joinedload(ReminderItem.milestone),
        )
        .where(base)
        .order_by(
            ReminderItem.planned_dt.desc(),
            # within a run, in the digest's order: what needs acting on first
            case({kind: n for n, kind in enumerate(KIND_ORDER)}, value=ReminderItem.kind),
            ReminderItem.reference_date,
            ReminderItem.id,
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).unique()
    opted_out = reminders.opted_out_kinds(db.session, current_user.id)
    kinds = relevant_kinds(current_user, opted_out)
    preferences = PreferencesForm(data={str(kind): kind not in opted_out for kind in ReminderKind})
    locale = current_locale()
    entries = [(item, item_detail(item, locale), in_app_link(item)) for item in items]
    return render_template(
        "reminders/notifications/index.html",
        entries=entries,
        total=total,
        unread=unread,
        page=page,
        has_next=page * PAGE_SIZE < total,
        button_form=ButtonForm(),
        preferences=preferences,
        kinds=kinds,
        kind_labels=REMINDER_KIND_LABELS,
        delivery_labels=DELIVERY_LABELS,
        organisation_id=current_user.organisation_id if current_user.role == Role.MONITOR else None,
    )


@bp.post("/notifications/<int:item_id>/read")
@signed_in
def mark_read(item_id: int):
    item = db.session.get(ReminderItem, item_id)
    if item is None or item.recipient_id != current_user.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if item.read_dt is None:
        item.read_dt = clock.now_utc()
        db.session.commit()
    return redirect(url_for("notifications.index", page=request.args.get("page", 1)))


@bp.post("/notifications/read-all")
@signed_in
def mark_all_read():
    if not ButtonForm().validate_on_submit():
        abort(400)
    db.session.execute(
        update(ReminderItem)
        .where(ReminderItem.recipient_id == current_user.id, ReminderItem.read_dt.is_(None))
        .values(read_dt=clock.now_utc())
    )
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/preferences")
@signed_in
def preferences():
    form = PreferencesForm()
    if not form.validate_on_submit():
        abort(400)
    opted_out = reminders.opted_out_kinds(db.session, current_user.id)
    changed = False
    for kind in relevant_kinds(current_user, opted_out):
        subscribed = bool(form[str(kind)].data)
        changed |= reminders.set_subscription(db.session, current_user, kind, subscribed)
    db.session.commit()
    if changed:
        flash(_("Your reminder settings are saved."), "success")
    return redirect(url_for("notifications.index"))


def _token_or_400(token: str) -> tuple[User, ReminderKind]:
    try:
        user_id, kind = reminders.read_unsubscribe_token(token)
    except reminders.InvalidUnsubscribeToken:
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(400)
    return user, kind


def masked_email(email: str) -> str:
    """ "a…@example.org": enough to recognise one's own address, not to read someone else's."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET shows what the link will stop; only the POST (with CSRF) changes anything."""
    user, kind = _token_or_400(token)
    form = ButtonForm()
    done = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        reminders.set_subscription(db.session, user, kind, subscribed=False)
        db.session.commit()
        done = True
    already = kind in reminders.opted_out_kinds(db.session, user.id) and not done
    return render_template(
        "reminders/notifications/unsubscribe.html",
        form=form,
        kind_label=REMINDER_KIND_LABELS[kind],
        email=masked_email(user.email),
        done=done,
        already=already,
    )
