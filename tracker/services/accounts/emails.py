"""The account emails: invitations and password resets.

A request only plans them in the mail outbox (tracker.services.mail_outbox): a reset
request writes the same row and the same audit entry whether or not an account has the
address, and makes no token, renders nothing and opens no connection, so neither its
answer nor its timing tells who has an account. The scheduler's job (`scheduled_mail_job`,
every MAIL_OUTBOX_INTERVAL_SECONDS) finds the account, makes the signed link, renders the
email in the person's language from templates/email/<name>.txt and .html (links built on
PUBLIC_BASE_URL) and sends it; for an unknown or disabled address it sends nothing.

With mail off (no SMTP_HOST) an invitation is not planned: its link comes back to the
admin's page or the CLI, which show it once. A reset's link is never shown (anyone can
ask for one); with mail off the job records that it could not be sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import MailRequest, User
from tracker.services import audit, mail, mail_outbox
from tracker.services.accounts.tokens import make_token, token_max_age
from tracker.services.accounts.users import create_user, find_user_by_email, normalise_email
from tracker.services.errors import InvalidInput
from tracker.services.mail_outbox import ComposedMail, OutboxRun, Skip
from tracker.vocabulary import MailKind, MailStatus, Purpose
from tracker.web.links import public_url

logger = logging.getLogger(__name__)

#: password reset emails sent to one account per hour at most
MAX_RESET_EMAILS_PER_HOUR = 3


@dataclass(frozen=True)
class Invitation:
    """What became of an invitation: planned in the outbox (mail on), or, with mail off,
    the one-time link for the admin to hand over."""

    planned: bool
    link: str | None = None


# --- what requests do ------------------------------------------------------------------


def send_invitation(
    session: Session, user: User, *, actor: User | None, client_ip: str = ""
) -> Invitation:
    """(Re)invite an account: earlier invitation links stop working, and an invitation
    still waiting in the outbox is replaced by this one."""
    if user.password_hash is not None:
        raise InvalidInput(_("This person has already accepted the invitation."))
    if not user.is_enabled:
        raise InvalidInput(_("Enable the account before sending an invitation."))
    user.invited_dt = clock.now_utc()
    session.flush()
    if mail.mail_enabled():
        mail_outbox.cancel_pending(session, MailKind.INVITATION, user.id, "superseded")
        mail_outbox.plan(
            session, MailKind.INVITATION, user.email, user_id=user.id, client_ip=client_ip
        )
        invitation = Invitation(planned=True)
    else:
        link = public_url("auth.accept_invitation", token=make_token(user, Purpose.INVITATION))
        invitation = Invitation(planned=False, link=link)
    audit.record(
        session,
        "user.invited",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"mail": "planned" if invitation.planned else "off: link shown"},
    )
    return invitation


def invite_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_id: int | None,
    display_name: str = "",
    locale: str = "az",
    actor: User | None,
    client_ip: str = "",
) -> tuple[User, Invitation]:
    """Create an account without a password and invite it."""
    account = {"email": email, "role": role, "organisation_id": organisation_id}
    user = create_user(session, **account, display_name=display_name, locale=locale, actor=actor)
    return user, send_invitation(session, user, actor=actor, client_ip=client_ip)


def request_password_reset(session: Session, email: str, *, client_ip: str = "") -> None:
    """Plan a reset email for the address. Exactly the same work for every address: no
    lookup, one outbox row and one audit entry; the job decides whether to send."""
    email = normalise_email(email)[:320]
    mail_outbox.plan(session, MailKind.PASSWORD_RESET, email, client_ip=client_ip)
    audit.record(
        session,
        "password.reset_requested",
        "login",
        email[:64],
        actor=None,
        summary=email,
        details={"email": email},
    )


def sends_mail() -> bool:
    """Whether this server sends email (SMTP_HOST is set): a page that would promise an
    email asks first."""
    return mail.mail_enabled()


def make_password_link(session: Session, user: User, *, actor: User | None) -> str:
    """With mail off, the administrator gives a person who forgot their password a link to
    choose a new one, as with an invitation: it works once, and only this answer shows it.
    With mail on, the person asks for the email themselves on the login page."""
    if sends_mail():
        raise InvalidInput(
            _("This server sends email: the person can ask for a link on the login page.")
        )
    if not user.is_enabled:
        raise InvalidInput(_("Enable the account before making a password link."))
    if user.password_hash is None:
        raise InvalidInput(
            _("This person has not accepted the invitation yet: send a new invitation instead.")
        )
    link = public_url("auth.reset_password", token=make_token(user, Purpose.PASSWORD_RESET))
    audit.record(
        session,
        "password.link_made",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"mail": "off: link shown"},
    )
    return link


def latest_invitation(session: Session, user: User) -> MailRequest | None:
    """The newest invitation email of the account, for the admin's page."""
    return mail_outbox.latest_for(session, MailKind.INVITATION, user.id)


# --- what the scheduler's job does ------------------------------------------------------


def _compose(user: User, template: str, subject, context: dict) -> ComposedMail:
    """templates/email/<template>.txt and .html; the caller has set the user's language."""
    translated_subject = str(subject)
    context = {"user": user, "subject": translated_subject, **context}
    text_body = render_template(f"email/{template}.txt", **context)
    html_body = render_template(f"email/{template}.html", **context)
    return ComposedMail(user.email, translated_subject, text_body, html_body, user_id=user.id)


def _render(user: User, template: str, subject, link: str, valid_for: timedelta) -> ComposedMail:
    """An email with a one-time link, in the user's language."""
    with force_locale(user.locale or "az"):
        duration = format_timedelta(valid_for, threshold=1.0)
        return _compose(user, template, subject, {"link": link, "valid_for": duration})


def _resets_sent_since(session: Session, user: User, since: datetime) -> int:
    return session.scalar(
        select(func.count(MailRequest.id)).where(
            MailRequest.kind == MailKind.PASSWORD_RESET,
            MailRequest.user_id == user.id,
            MailRequest.status == MailStatus.SENT,
            MailRequest.sent_dt >= since,
        )
    )


def compose_password_reset(
    session: Session, row: MailRequest, now: datetime
) -> ComposedMail | Skip:
    user = find_user_by_email(session, row.email)
    if user is None:
        return Skip("no_account")
    if not user.is_enabled:
        return Skip("disabled", user.id)
    if _resets_sent_since(session, user, now - timedelta(hours=1)) >= MAX_RESET_EMAILS_PER_HOUR:
        return Skip("rate_limited", user.id)
    link = public_url("auth.reset_password", token=make_token(user, Purpose.PASSWORD_RESET))
    subject = _l("Reset your Open Government Tracker password")
    return _render(user, "password_reset", subject, link, token_max_age(Purpose.PASSWORD_RESET))


def compose_invitation(session: Session, row: MailRequest, now: datetime) -> ComposedMail | Skip:
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is None:
        return Skip("no_account")
    if not user.is_enabled:
        return Skip("disabled", user.id)
    if user.password_hash is not None:
        return Skip("already_accepted", user.id)
    link = public_url("auth.accept_invitation", token=make_token(user, Purpose.INVITATION))
    subject = _l("Your invitation to the Open Government Tracker")
    return _render(user, "invitation", subject, link, token_max_age(Purpose.INVITATION))


#: each security notice's subject, and what it says happened
SECURITY_NOTICES = {
    MailKind.TWO_STEP_ON: (
        _l("Two-step verification is on for your account"),
        _l(
            "Two-step verification was turned on for your Open Government Tracker account "
            "%(email)s."
        ),
    ),
    MailKind.TWO_STEP_OFF: (
        _l("Two-step verification is off for your account"),
        _l(
            "Two-step verification was turned off for your Open Government Tracker account "
            "%(email)s: the password alone now logs in."
        ),
    ),
    MailKind.RECOVERY_CODES: (
        _l("New recovery codes for your account"),
        _l(
            "New recovery codes were made for your Open Government Tracker account %(email)s; "
            "the earlier ones no longer work."
        ),
    ),
    MailKind.PASSWORD_CHANGED: (
        _l("The password of your account was changed"),
        _l("The password of your Open Government Tracker account %(email)s was changed."),
    ),
}


def plan_security_notice(
    session: Session, user: User, kind: MailKind, *, client_ip: str = ""
) -> None:
    """Tell the account's owner by email that its security changed (the scheduler sends
    it): someone who took over the account cannot keep it quiet."""
    mail_outbox.plan(session, kind, user.email, user_id=user.id, client_ip=client_ip)


def compose_security_notice(
    session: Session, row: MailRequest, now: datetime
) -> ComposedMail | Skip:
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is None:
        return Skip("no_account")
    if not user.is_enabled:
        return Skip("disabled", user.id)
    subject, event = SECURITY_NOTICES[row.kind]
    with force_locale(user.locale or "az"):
        context = {
            "event": str(event) % {"email": user.email},
            "when": row.requested_dt,
            "client_ip": row.client_ip,
            "reset_link": public_url("auth.forgot_password"),
        }
        return _compose(user, "security_notice", subject, context)


COMPOSERS = {
    MailKind.INVITATION: compose_invitation,
    MailKind.PASSWORD_RESET: compose_password_reset,
    **dict.fromkeys(SECURITY_NOTICES, compose_security_notice),
}


def deliver_account_mail(
    session: Session, now: datetime | None = None, *, only: list[int] | None = None
) -> OutboxRun:
    """Send the account emails that are due (or only the rows `only`); commits per row.
    Rows finished more than MAIL_OUTBOX_KEEP_DAYS ago are deleted first."""
    now = now or clock.now_utc()
    keep = timedelta(days=int(current_app.config.get("MAIL_OUTBOX_KEEP_DAYS", 30)))
    mail_outbox.purge_finished(session, now - keep, COMPOSERS)
    run = mail_outbox.deliver_due(session, now, COMPOSERS, only=only)
    if run.sent or run.skipped or run.retry or run.failed or run.recovered:
        logger.info("Account mail: %s", run.summary())
    return run


def scheduled_mail_job(session: Session, now: datetime) -> None:
    """The scheduler's frequent job (tracker.scheduler, MAIL_OUTBOX_INTERVAL_SECONDS)."""
    deliver_account_mail(session, now)
