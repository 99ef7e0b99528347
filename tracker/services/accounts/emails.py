"""The account emails: invitations and password resets, each rendered in the user's
language from templates/email/<name>.txt and .html, with a link built on PUBLIC_BASE_URL.

When mail is off or fails, the link comes back undelivered: the admin page or the CLI
shows an invitation's link; a reset's link is never shown (anyone can ask for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import AuditEntry, User
from tracker.services import audit, mail
from tracker.services.accounts.tokens import make_token, token_max_age
from tracker.services.accounts.users import create_user, find_user_by_email
from tracker.services.errors import InvalidInput
from tracker.vocabulary import Purpose
from tracker.web.links import public_url

#: password reset emails sent to one account per hour at most
MAX_RESET_EMAILS_PER_HOUR = 3


@dataclass(frozen=True)
class SentLink:
    """An account email's link. `delivered` is False when mail is off or failed: the
    link then has to reach the person another way (the admin or the CLI shows it)."""

    link: str
    delivered: bool
    error: str = ""


def _send_account_email(
    user: User, template: str, subject, link: str, valid_for: timedelta
) -> SentLink:
    """Render templates/email/<template>.txt and .html in the user's language and send."""
    with force_locale(user.locale or "az"):
        translated_subject = str(subject)
        context = {
            "user": user,
            "link": link,
            "subject": translated_subject,
            "valid_for": format_timedelta(valid_for, threshold=1.0),
        }
        text_body = render_template(f"email/{template}.txt", **context)
        html_body = render_template(f"email/{template}.html", **context)
    if not mail.mail_enabled():
        return SentLink(link=link, delivered=False, error=_("Mail is off on this server."))
    try:
        mail.send_message(user.email, translated_subject, text_body, html_body)
    except mail.MailDeliveryError as error:
        current_app.logger.warning("Could not send %s to user %s: %s", template, user.id, error)
        return SentLink(link=link, delivered=False, error=str(error))
    return SentLink(link=link, delivered=True)


def _send_link(user: User, purpose: Purpose, endpoint: str, template: str, subject) -> SentLink:
    """Email the user a new token of `purpose` as a link to the page `endpoint`."""
    link = public_url(endpoint, token=make_token(user, purpose))
    return _send_account_email(user, template, subject, link, token_max_age(purpose))


def send_invitation(session: Session, user: User, *, actor: User | None) -> SentLink:
    """(Re)send an invitation; an earlier invitation link stops working."""
    if user.password_hash is not None:
        raise InvalidInput(_("This person has already accepted the invitation."))
    if not user.is_enabled:
        raise InvalidInput(_("Enable the account before sending an invitation."))
    user.invited_dt = clock.now_utc()
    session.flush()
    sent = _send_link(
        user,
        Purpose.INVITATION,
        "auth.accept_invitation",
        "invitation",
        _l("Your invitation to the Open Government Tracker"),
    )
    audit.record(
        session,
        "user.invited",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"delivered": sent.delivered},
    )
    return sent


def invite_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_id: int | None,
    display_name: str = "",
    locale: str = "az",
    actor: User | None,
) -> tuple[User, SentLink]:
    """Create an account without a password and send it an invitation."""
    user = create_user(
        session,
        email=email,
        role=role,
        organisation_id=organisation_id,
        display_name=display_name,
        locale=locale,
        actor=actor,
    )
    return user, send_invitation(session, user, actor=actor)


def _recent_reset_requests(session: Session, user: User) -> int:
    since = clock.now_utc() - timedelta(hours=1)
    return session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "password.reset_requested",
            AuditEntry.target_type == "user",
            AuditEntry.target_id == str(user.id),
            AuditEntry.occurred_dt >= since,
        )
    )


def request_password_reset(session: Session, email: str) -> None:
    """Email a reset link when the account exists. The caller shows the same message
    either way, so the form does not reveal who has an account."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_enabled:
        return
    if _recent_reset_requests(session, user) >= MAX_RESET_EMAILS_PER_HOUR:
        return
    sent = _send_link(
        user,
        Purpose.PASSWORD_RESET,
        "auth.reset_password",
        "password_reset",
        _l("Reset your Open Government Tracker password"),
    )
    if not sent.delivered:
        # Never show or log the link here: anyone can ask for a reset.
        current_app.logger.warning(
            "Password reset for user %s not delivered: %s", user.id, sent.error
        )
    audit.record(
        session,
        "password.reset_requested",
        "user",
        user.id,
        actor=None,
        summary=user.email,
        details={"delivered": sent.delivered},
    )
