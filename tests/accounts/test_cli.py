"""`tracker create-user` and the first administrator made by `tracker serve`."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.accounts.conftest import fresh, link_in, login_with_form, make_organisation
from tracker.commands.accounts import create_first_admin
from tracker.extensions import db
from tracker.models import User
from tracker.services.accounts.passwords import verify_password

STRONG = "a strong passphrase for the cli"


def _user(email: str) -> User | None:
    fresh()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_user_with_a_password_from_stdin(app, runner, client):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Reviewer@Example.org",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        input=STRONG + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created reviewer reviewer@example.org" in result.output
    assert STRONG not in result.output
    user = _user("reviewer@example.org")
    assert verify_password(user.password_hash, STRONG)
    assert login_with_form(client, "reviewer@example.org", STRONG).status_code == 302


def test_create_user_without_a_password_sends_an_invitation(app, runner, mail_on, client):
    organisation = make_organisation("İctimai Nəzarət Mərkəzi")
    db.session.commit()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "monitor@example.org",
            "--role",
            "monitor",
            "--organisation",
            "İctimai Nəzarət Mərkəzi",
            "--locale",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Invitation sent to monitor@example.org." in result.output
    assert "/invitation/" not in result.output  # mail is on: the link goes by email only
    [message] = mail_on.messages
    assert "İctimai Nəzarət Mərkəzi" in message.get_body(preferencelist=("plain",)).get_content()
    assert client.get(link_in(message, "/invitation/")).status_code == 200
    user = _user("monitor@example.org")
    assert user.password_hash is None
    assert user.organisation_id == organisation.id


def test_with_mail_off_the_invitation_link_is_printed_once(app, runner):
    result = runner.invoke(args=["create-user", "--email", "r@example.org", "--role", "reviewer"])
    assert result.exit_code == 0, result.output
    assert result.output.count("/invitation/") == 1
    assert "not sent" in result.output


def test_the_organisation_can_be_given_by_id(app, runner):
    organisation = make_organisation("Açıq Hökumət")
    db.session.commit()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "m@example.org",
            "--role",
            "monitor",
            "--organisation",
            str(organisation.id),
        ]
    )
    assert result.exit_code == 0, result.output
    assert _user("m@example.org").organisation_id == organisation.id


def test_bad_input_is_refused_with_a_message_and_writes_nothing(app, runner):
    cases = [
        (["--email", "m@example.org", "--role", "monitor"], "a monitor needs --organisation"),
        (
            ["--email", "m@example.org", "--role", "monitor", "--organisation", "Nowhere"],
            "no organisation",
        ),
        (["--email", "x@example.org", "--role", "superuser"], "Invalid value for '--role'"),
        (["--email", "not-an-email", "--role", "reviewer"], "Enter a valid email address."),
    ]
    for args, message in cases:
        result = runner.invoke(args=["create-user", *args])
        assert result.exit_code != 0, args
        assert message in result.output, result.output
    for password, message in (
        ("short", "at least 8"),
        ("password123", "most common"),
        ("", "empty"),
    ):
        result = runner.invoke(
            args=["create-user", "--email", "p@example.org", "--role", "admin", "--password-stdin"],
            input=password + "\n" if password else "",
        )
        assert result.exit_code != 0
        assert message in result.output, result.output
    fresh()
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_an_existing_email_is_refused(app, runner):
    args = ["create-user", "--email", "r@example.org", "--role", "reviewer"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_the_first_run_creates_one_admin_and_shows_the_password_once(app, capsys, client):
    create_first_admin()
    output = capsys.readouterr().out
    assert "shown only once" in output
    email = output.split("email:")[1].split()[0]
    password = output.split("password:")[1].split()[0]
    assert email == "admin@example.org"
    assert len(password) >= 16
    assert _user(email).locale == "az"  # the interface's default language
    assert login_with_form(client, email, password).status_code == 302

    create_first_admin()  # the next start: an admin exists, nothing is made or printed
    assert capsys.readouterr().out == ""
    fresh()
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "admin")) == 1


def test_the_first_admin_email_comes_from_the_environment(app, capsys, monkeypatch):
    monkeypatch.setenv("TRACKER_ADMIN_EMAIL", "Platform.Admin@Example.org")
    create_first_admin()
    assert "platform.admin@example.org" in capsys.readouterr().out
    assert _user("platform.admin@example.org").role == "admin"
