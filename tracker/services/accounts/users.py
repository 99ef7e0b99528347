"""Accounts: creating users, their roles and organisations, enabling and disabling them,
their language and their passwords, and the first administrator.

Views, the CLI and the first-run hook call these functions with the session and the
actor; they leave the commit to the caller. Logging in is in `login`, the signed links of
invitations and resets in `tokens`, and the emails that carry them in `emails`.
"""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import Organisation, OrganisationMembership, User
from tracker.services import audit
from tracker.services.accounts.passwords import check_password_policy, hash_password
from tracker.services.errors import InvalidInput
from tracker.vocabulary import Role


def _refuse(field: str, message: str) -> InvalidInput:
    """The error for one input field of a service function."""
    return InvalidInput(problems={field: [message]})


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _checked_email(email: str) -> str:
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise _refuse("email", _("Enter a valid email address.")) from error
    return email


def _checked_locale(locale: str) -> str:
    if locale not in current_app.config.get("LANGUAGES", ("az", "en")):
        raise _refuse("locale", _("Choose one of the listed languages."))
    return locale


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _checked_role_and_organisation(
    session: Session, role: str, organisation_id: int | None
) -> tuple[Role, int | None]:
    if role not in set(Role):
        raise _refuse("role", _("Choose one of the listed roles."))
    if role != Role.MONITOR:
        # Only monitors belong to an organisation; reviewers and admins speak for the
        # Platform, so an organisation sent with them is dropped, never stored.
        return Role(role), None
    if not organisation_id:
        raise _refuse("organisation_id", _("A monitor must belong to an organisation. Choose one."))
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.is_archived:
        raise _refuse("organisation_id", _("Choose one of the listed organisations."))
    return Role(role), organisation.id


def _checked_new_email(session: Session, email: str) -> str:
    email = _checked_email(email)
    if find_user_by_email(session, email) is not None:
        raise _refuse("email", _("An account with this email address already exists."))
    return email


def account_problems(
    session: Session, *, email: str, role: str, organisation_id: int | None, locale: str = "az"
) -> dict[str, list[str]]:
    """Every problem of a new account's details, by input name: all of create_user's
    checks, so that a form can show them at once."""
    problems: dict[str, list[str]] = {}
    checks = (
        lambda: _checked_new_email(session, email),
        lambda: _checked_role_and_organisation(session, role, organisation_id),
        lambda: _checked_locale(locale),
    )
    for check in checks:
        try:
            check()
        except InvalidInput as error:
            for name, messages in error.problems.items():
                problems.setdefault(name, []).extend(messages)
    return problems


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_id: int | None = None,
    display_name: str = "",
    locale: str = "az",
    password: str | None = None,
    actor: User | None = None,
) -> User:
    """Create an account. Without a password it can only be entered through an invitation."""
    account = {"email": email, "role": role, "organisation_id": organisation_id}
    problems = account_problems(session, **account, locale=locale)
    if problems:
        raise InvalidInput(problems=problems)
    email = normalise_email(email)
    role, organisation_id = _checked_role_and_organisation(session, role, organisation_id)
    password_hash = None
    if password is not None:
        check_password_policy(password, email=email)
        password_hash = hash_password(password)
    user = User(
        email=email,
        role=role,
        organisation_id=organisation_id,
        display_name=display_name.strip()[:200],
        locale=locale,
        password_hash=password_hash,
        is_enabled=True,
        session_version=1,
    )
    session.add(user)
    session.flush()
    _record_membership(session, user, organisation_id)
    audit.record(
        session,
        "user.created",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={"role": str(role), "organisation_id": organisation_id},
    )
    return user


def _record_membership(session: Session, user: User, organisation_id: int | None) -> None:
    """Close the user's open membership of any other organisation and open one of
    `organisation_id` (if any). A user whose current organisation has no row (an account
    older than the history) gets the row it would have had, from the account's creation."""
    now = clock.now_utc()
    open_rows = session.scalars(
        select(OrganisationMembership).where(
            OrganisationMembership.user_id == user.id, OrganisationMembership.to_dt.is_(None)
        )
    ).all()
    open_ids = {row.organisation_id for row in open_rows}
    if user.organisation_id is not None and user.organisation_id not in open_ids:
        row = OrganisationMembership(
            user_id=user.id, organisation_id=user.organisation_id, from_dt=user.created_dt or now
        )
        session.add(row)
        open_rows.append(row)
    for row in open_rows:
        if row.organisation_id != organisation_id:
            row.to_dt = now
    if organisation_id is not None and organisation_id not in open_ids | {user.organisation_id}:
        session.add(
            OrganisationMembership(user_id=user.id, organisation_id=organisation_id, from_dt=now)
        )
    session.flush()


def organisation_history(session: Session, user) -> set[int]:
    """Every organisation the user belongs or ever belonged to."""
    return organisation_histories(session, [user])[user.id]


def organisation_histories(session: Session, users) -> dict[int, set[int]]:
    """Every organisation each user belongs or ever belonged to, by user id (one query)."""
    found = {user.id: set() for user in users}
    if found:
        memberships = session.execute(
            select(OrganisationMembership.user_id, OrganisationMembership.organisation_id).where(
                OrganisationMembership.user_id.in_(sorted(found))
            )
        )
        for user_id, organisation_id in memberships:
            found[user_id].add(organisation_id)
    for user in users:
        if getattr(user, "organisation_id", None) is not None:
            found[user.id].add(user.organisation_id)
    return found


def _is_last_enabled_admin(session: Session, user: User) -> bool:
    """True when `user` is the only enabled administrator."""
    if user.role != Role.ADMIN or not user.is_enabled:
        return False
    others = session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.is_enabled.is_(True), User.id != user.id
        )
    )
    return others == 0


def _last_admin_message() -> str:
    return _("At least one administrator must remain. Make another one first.")


def change_role(
    session: Session, user: User, *, role: str, organisation_id: int | None, actor: User
) -> bool:
    """Set a user's role and organisation. Returns False when nothing changed."""
    role, organisation_id = _checked_role_and_organisation(session, role, organisation_id)
    if role == user.role and organisation_id == user.organisation_id:
        return False
    if role != Role.ADMIN and _is_last_enabled_admin(session, user):
        raise _refuse("role", _last_admin_message())
    before = {"role": user.role, "organisation_id": user.organisation_id}
    _record_membership(session, user, organisation_id)
    user.role = role
    user.organisation_id = organisation_id
    audit.record(
        session,
        "user.role_changed",
        "user",
        user.id,
        actor=actor,
        summary=user.email,
        details={
            "before": before,
            "after": {"role": str(role), "organisation_id": organisation_id},
        },
    )
    return True


def bump_session_version(user: User) -> None:
    """Every session and remember cookie issued before this stops working."""
    user.session_version = (user.session_version or 1) + 1


def disable_user(session: Session, user: User, *, actor: User) -> None:
    if user.id == actor.id:
        raise InvalidInput(_("You cannot disable your own account."))
    if not user.is_enabled:
        raise InvalidInput(_("This account is already disabled."))
    if _is_last_enabled_admin(session, user):
        raise InvalidInput(_last_admin_message())
    user.is_enabled = False
    bump_session_version(user)
    audit.record(session, "user.disabled", "user", user.id, actor=actor, summary=user.email)


def enable_user(session: Session, user: User, *, actor: User) -> None:
    if user.is_enabled:
        raise InvalidInput(_("This account is already enabled."))
    user.is_enabled = True
    audit.record(session, "user.enabled", "user", user.id, actor=actor, summary=user.email)


def set_language(session: Session, user: User, locale: str) -> None:
    user.locale = _checked_locale(locale)


def set_password(session: Session, user: User, new_password: str, *, action: str) -> None:
    """Store a new password and end every existing session of the user."""
    check_password_policy(new_password, email=user.email, field="new_password")
    user.password_hash = hash_password(new_password)
    bump_session_version(user)
    audit.record(session, action, "user", user.id, actor=user, summary=user.email)


def ensure_first_admin(session: Session, email: str) -> tuple[User, str] | None:
    """Create an administrator with a generated password when there is none.

    Returns the user and the password (to be shown once), or None when an admin exists."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
        return None
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        local, _at, domain = email.partition("@")
        email = f"{local}-{secrets.token_hex(3)}@{domain}"
    password = secrets.token_urlsafe(15)
    # the interface's default language, like every account; the admin may change it
    user = create_user(session, email=email, role=Role.ADMIN, password=password)
    return user, password
