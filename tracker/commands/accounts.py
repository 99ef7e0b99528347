"""`tracker create-user`, `tracker reset-two-step`, the commands of the two-step keys' seal,
and the first-run hook that makes the first administrator."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import or_, select

from tracker.extensions import db
from tracker.models import Organisation
from tracker.services import reminders
from tracker.services.accounts import emails, secret_box, two_step
from tracker.services.accounts import users as accounts
from tracker.services.accounts.users import find_user_by_email
from tracker.services.errors import ServiceError
from tracker.vocabulary import MailStatus, Role

DEFAULT_FIRST_ADMIN_EMAIL = "admin@example.org"


def _find_organisation(reference: str) -> Organisation:
    """An organisation by id or by its exact name (az or en)."""
    query = select(Organisation).where(Organisation.is_archived.is_(False))
    if reference.isdigit():
        organisation = db.session.scalar(query.where(Organisation.id == int(reference)))
    else:
        matches = db.session.scalars(
            query.where(or_(Organisation.name_az == reference, Organisation.name_en == reference))
        ).all()
        if len(matches) > 1:
            raise click.BadParameter(
                f"{len(matches)} organisations are named {reference!r}; give the id instead.",
                param_hint="--organisation",
            )
        organisation = matches[0] if matches else None
    if organisation is None:
        raise click.BadParameter(
            f"no organisation with the id or exact name {reference!r}.",
            param_hint="--organisation",
        )
    return organisation


def _password_from_stdin() -> str:
    """One line: the password; the line break that ends it is not part of it."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--password-stdin was given but standard input is empty.")
    return password


def _deliver_invitation(user, invitation) -> None:
    """With mail on, send the invitation now rather than wait for the scheduler (this is
    not a web request: nobody measures its time); the outbox's claim makes sure that a
    scheduler running beside this command does not send it too."""
    if not invitation.planned:
        click.echo("Mail is off (SMTP_HOST is not set): the invitation email was not sent.")
        click.echo("Give this invitation link to the person; it works once:")
        click.echo(invitation.link)
        return
    request = emails.latest_invitation(db.session, user)
    emails.deliver_account_mail(db.session, only=[request.id])
    db.session.refresh(request)
    if request.status == MailStatus.SENT:
        click.echo(f"Invitation sent to {user.email}.")
    elif request.status in (MailStatus.RETRY, MailStatus.PENDING, MailStatus.SENDING):
        click.echo(
            f"The invitation email could not be sent yet ({request.last_error or 'waiting'}); "
            "the scheduler tries again."
        )
    else:
        click.echo(f"The invitation email was not sent: {request.last_error or request.reason}.")
        click.echo("Send a new invitation from the admin page once mail works.")


@click.command("create-user")
@click.option("--email", required=True, help="The person's email address (their login).")
@click.option(
    "--role",
    required=True,
    type=click.Choice([str(role) for role in Role]),
    help="admin, reviewer or monitor.",
)
@click.option("--organisation", "organisation_ref", help="Monitors: organisation id or name.")
@click.option("--name", "display_name", default="", help="The person's name (optional).")
@click.option("--locale", default="az", type=click.Choice(["az", "en"]), show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of sending an invitation.",
)
@with_appcontext
def create_user_command(
    email: str,
    role: str,
    organisation_ref: str | None,
    display_name: str,
    locale: str,
    password_stdin: bool,
) -> None:
    """Create an account. Without --password-stdin, send an invitation by email (when mail
    is off, the invitation link is printed once)."""
    organisation_id = None
    if organisation_ref:
        organisation_id = _find_organisation(organisation_ref).id
    elif role == Role.MONITOR:
        raise click.BadParameter("a monitor needs --organisation.", param_hint="--organisation")
    password = _password_from_stdin() if password_stdin else None
    try:
        # the invitation is written in the user's language (send_invitation chooses it)
        account = {"email": email, "role": role, "organisation_id": organisation_id}
        user = accounts.create_user(
            db.session, **account, display_name=display_name, locale=locale, password=password
        )
        invitation = (
            None if password_stdin else emails.send_invitation(db.session, user, actor=None)
        )
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    if invitation is not None:
        _deliver_invitation(user, invitation)


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the emails waiting in the mail outbox (account emails and instant notices):
    the scheduler's job, once."""
    run = emails.deliver_account_mail(db.session)
    click.echo(f"Account mail: {run.summary()}")
    notices = reminders.deliver_notice_mail(db.session)
    click.echo(f"Notices: {notices.summary()}")


@click.command("reset-two-step")
@click.argument("email")
@with_appcontext
def reset_two_step_command(email: str) -> None:
    """Turn two-step verification off for EMAIL, whose owner lost both the app and the
    recovery codes (the last administrator, say): the password alone logs in until it is
    set up again. Audited as done by the system."""
    user = find_user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"No account has the email {email}.")
    try:
        two_step.reset_by_admin(db.session, user, actor=None)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Two-step verification is off for {user.email}; the password alone logs in.")


@click.command("new-two-step-key")
def new_two_step_key_command() -> None:
    """Print a new key for TWO_STEP_KEYS, which seals the two-step keys in the database."""
    click.echo(secret_box.new_key())


@click.command("reseal-two-step-keys")
@with_appcontext
def reseal_two_step_keys_command() -> None:
    """Seal every account's two-step key again with the first key of TWO_STEP_KEYS (put a
    new key first, keep the old ones after it, run this, then drop the old ones)."""
    result = two_step.reseal_all(db.session)
    db.session.commit()
    click.echo(f"{result.resealed} two-step keys sealed with the first key of TWO_STEP_KEYS.")
    if result.unreadable:
        raise click.ClickException(
            f"{len(result.unreadable)} could not be opened with any key of TWO_STEP_KEYS: "
            + ", ".join(result.unreadable)
            + ". Add the key they were sealed with, or turn two-step verification off for"
            " them (tracker reset-two-step EMAIL)."
        )


def create_first_admin() -> None:
    """First-run hook of `tracker serve`: an admin with a generated password, shown once."""
    email = (
        current_app.config.get("FIRST_ADMIN_EMAIL")
        or os.environ.get("TRACKER_ADMIN_EMAIL")
        or DEFAULT_FIRST_ADMIN_EMAIL
    )
    try:
        created = accounts.ensure_first_admin(db.session, email)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(f"Could not create the first administrator: {error}") from error
    if created is None:
        db.session.rollback()
        return
    user, password = created
    db.session.commit()
    click.echo("Created the first administrator. This password is shown only once:")
    click.echo(f"  email:    {user.email}")
    click.echo(f"  password: {password}")
    click.echo("Log in and change it on the account page.")


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(reset_two_step_command)
    app.cli.add_command(new_two_step_key_command)
    app.cli.add_command(reseal_two_step_keys_command)
