"""Accounts, login throttling and the audit log."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, utc_now
from tracker.vocabulary import Purpose, Role


def site_default_locale() -> str:
    """A new account speaks the site's default language until its owner picks one."""
    if has_app_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "az")
    return "az"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: argon2id hash; None until the invitation is accepted
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Role: "admin", "reviewer" or "monitor"
    role: Mapped[Role] = mapped_column(EnumText(Role, 20))
    #: a monitor belongs to exactly one organisation
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: "az" or "en": the language of emails and the default of the interface
    locale: Mapped[str] = mapped_column(String(5), default=lambda: site_default_locale())
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: bumped on logout, password change and disabling: every older session stops working
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_login_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the latest invitation was sent; None for accounts made with a password
    invited_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the authenticator app's shared key, sealed (services.accounts.secret_box): set
    #: while two-step verification is being set up, and while it is on
    two_step_secret: Mapped[str | None] = mapped_column(String(255))
    #: when two-step verification was turned on; None while it is off
    two_step_enabled_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the 30-second time step of the last code accepted: a code is good once only
    two_step_last_step: Mapped[int | None] = mapped_column(BigInteger)

    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; a stale version fails to load.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def has_two_step(self) -> bool:
        """A code from the authenticator app (or a recovery code) is asked after the
        password."""
        return self.two_step_enabled_dt is not None and bool(self.two_step_secret)


class OrganisationMembership(db.Model):
    """A period during which a user belonged to an organisation: open (`to_dt` None) while
    it lasts. Written by the accounts service whenever a user's role or organisation
    changes, so that a user's past organisations are known after a move (a monitor made a
    reviewer keeps them: they may not review what their organisations monitored)."""

    __tablename__ = "organisation_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    from_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    to_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """Every login attempt (and every password typed to confirm one's identity), kept in
    the database so that throttling holds across workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the email as typed, lower-cased
    email: Mapped[str] = mapped_column(String(320), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    #: the nonce of the device cookie the attempt came with, when that cookie is valid for
    #: this account ("" for an unknown client): its failures count against it alone
    device: Mapped[str] = mapped_column(String(32), default="", index=True)
    is_success: Mapped[bool] = mapped_column(default=False)
    #: refused by the throttle without checking the password; not counted as a failure
    is_throttled: Mapped[bool] = mapped_column(default=False)
    attempted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app (a lost phone): only its
    SHA-256 is kept, and it is spent once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsedToken(db.Model):
    """A single-use token (invitation, password reset) that has been spent."""

    __tablename__ = "used_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token's unique id, never the token itself
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[Purpose] = mapped_column(EnumText(Purpose, 40))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    used_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class AuditEntry(db.Model):
    """Append-only log: who did what to which record, when and from where. Never secrets."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the actor's email at the time, or "system"/"anonymous"
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    #: e.g. "login.success", "update.approved", "link.created"
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
