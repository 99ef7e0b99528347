"""Admin page for reminders: the settings of each kind, the outbox's figures and the
messages the mail server refused for good."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, ValidationError

from tracker.extensions import db
from tracker.models import ReminderDigest
from tracker.services import reminders
from tracker.services.reminders import KindSettings
from tracker.vocabulary import REMINDER_KIND_LABELS, DigestStatus, ReminderKind, Role
from tracker.web.confirmation import require_confirmation
from tracker.web.errors_map import http_error
from tracker.web.forms import BoundedNumberField, TrackerForm
from tracker.web.permissions import get_or_404, require_roles

bp = Blueprint("reminders_admin", __name__, url_prefix="/admin/reminders")
require_roles(bp, Role.ADMIN)

MAX_DAYS = 3650
MAX_OFFSETS = 10


def parse_offsets(text: str) -> tuple[int, ...]:
    """ "90, 30, 7" → (90, 30, 7); raises ValueError with a translated message."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError(_("Enter at least one number of days."))
    if len(parts) > MAX_OFFSETS:
        raise ValueError(_("Enter at most %(num)d numbers of days.", num=MAX_OFFSETS))
    values = set()
    for part in parts:
        # checked as ASCII text first: 5,000 digits would make int() raise its own message
        digits = part.lstrip("0")
        if not (part.isascii() and part.isdigit()) or len(digits) > len(str(MAX_DAYS)):
            digits = "0"
        if not 1 <= int(digits or "0") <= MAX_DAYS:
            raise ValueError(
                _("Each number of days must be a whole number from 1 to %(max)d.", max=MAX_DAYS)
            )
        values.add(int(digits))
    return tuple(sorted(values, reverse=True))


def _offsets_validator(_form, field) -> None:
    try:
        parse_offsets(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from error


def _days_field(label):
    return BoundedNumberField(
        label, [InputRequired()], minimum=1, maximum=MAX_DAYS, render_kw={"inputmode": "numeric"}
    )


class SettingsForm(TrackerForm):
    deadline_approaching_enabled = BooleanField(_l("Send these reminders"))
    deadline_approaching_offsets = StringField(
        _l("Days before the due date (comma-separated)"),
        validators=[_offsets_validator],
        render_kw={"inputmode": "numeric"},
    )
    overdue_enabled = BooleanField(_l("Send these reminders"))
    overdue_interval = _days_field(_l("Repeat every (days) after the due date"))
    update_stale_enabled = BooleanField(_l("Send these reminders"))
    update_stale_interval = _days_field(_l("Reporting cadence: an approved update every (days)"))
    update_returned_enabled = BooleanField(_l("Send these reminders"))
    review_waiting_enabled = BooleanField(_l("Send these reminders"))
    review_waiting_interval = _days_field(_l("Remind when an item has waited more than (days)"))
    update_submitted_enabled = BooleanField(_l("Send these reminders"))
    update_approved_enabled = BooleanField(_l("Send these reminders"))
    claim_proposed_enabled = BooleanField(_l("Send these reminders"))
    claim_returned_enabled = BooleanField(_l("Send these reminders"))
    claim_approved_enabled = BooleanField(_l("Send these reminders"))

    @classmethod
    def from_settings(cls, settings: dict[ReminderKind, KindSettings]) -> SettingsForm:
        data = {}
        for kind, values in settings.items():
            data[f"{kind}_enabled"] = values.is_enabled
            if values.offsets_days:
                data[f"{kind}_offsets"] = ", ".join(str(d) for d in values.offsets_days)
            if values.interval_days is not None:
                data[f"{kind}_interval"] = values.interval_days
        return cls(data=data)

    def to_settings(self, current: dict[ReminderKind, KindSettings]) -> list[KindSettings]:
        result = []
        for kind, values in current.items():
            offsets = self._fields.get(f"{kind}_offsets")
            interval = self._fields.get(f"{kind}_interval")
            result.append(
                KindSettings(
                    kind,
                    is_enabled=bool(self[f"{kind}_enabled"].data),
                    offsets_days=parse_offsets(offsets.data) if offsets else values.offsets_days,
                    interval_days=interval.data if interval else values.interval_days,
                )
            )
        return result


def _render(form: SettingsForm, status: int = 200):
    return (
        render_template(
            "reminders/admin/index.html",
            form=form,
            kinds=list(ReminderKind),
            kind_labels=REMINDER_KIND_LABELS,
            counts=reminders.outbox_counts(db.session),
            failed=reminders.failed_digests(db.session),
        ),
        status,
    )


@bp.get("/")
def index():
    return _render(SettingsForm.from_settings(reminders.load_settings(db.session)))


@bp.post("/")
def save():
    form = SettingsForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    changed = False
    for settings in form.to_settings(reminders.load_settings(db.session)):
        changed |= reminders.save_settings(db.session, settings, current_user)
    db.session.commit()
    flash(
        _("The reminder settings are saved.") if changed else _("Nothing was changed."),
        "success",
    )
    return redirect(url_for("reminders_admin.index"))


@bp.post("/digests/<id:digest_id>/retry")
def retry(digest_id: int):
    digest = get_or_404(ReminderDigest, digest_id)
    if digest.status != DigestStatus.FAILED:
        raise http_error(404)
    require_confirmation()
    count = reminders.requeue_failed_digest(db.session, digest, current_user)
    db.session.commit()
    flash(
        _("%(num)d reminders will be sent again on the next run.", num=count)
        if count
        else _("Nothing to send again."),
        "success",
    )
    return redirect(url_for("reminders_admin.index"))
