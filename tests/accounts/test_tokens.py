"""Invitations and password resets: signed, single-use, expiring tokens bound to one user
and one purpose, delivered through the mail outbox to a real SMTP server."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from tests.accounts.conftest import (
    PASSWORD,
    fresh,
    link_in,
    login_with_form,
    make_user,
    post_with_csrf,
    text_of,
)
from tests.helpers import csrf_token_from
from tracker.extensions import db
from tracker.models import AuditEntry, MailRequest, UsedToken, User
from tracker.services.accounts import emails, tokens, users
from tracker.services.accounts.passwords import verify_password
from tracker.services.accounts.tokens import TokenError
from tracker.vocabulary import Purpose

NEW_PASSWORD = "a new and long passphrase"


def _invite(admin_client, email="new.monitor@example.org", role="reviewer", **extra):
    return post_with_csrf(
        admin_client,
        "/admin/users/invite",
        "/admin/users/invite",
        {"email": email, "role": role, "organisation_id": "0", "locale": "en", **extra},
    )


def _set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf_token_from(client, path)
    return client.post(
        path, data={"csrf_token": token, "password": password, "confirm": confirm or password}
    )


def deliver() -> None:
    """What the scheduler's mail outbox job does, once."""
    fresh()
    emails.deliver_account_mail(db.session)


def _move_clock(days: int, app) -> None:
    app.config["TRACKER_TODAY"] = (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    return client


# -- invitations -----------------------------------------------------------------------


def test_an_invitation_goes_by_email_and_sets_the_password_once(app, admin_client, mail_on):
    response = _invite(admin_client, display_name="Leyla")
    assert response.status_code == 302
    assert mail_on.messages == []  # planned by the request, sent by the scheduler's job
    deliver()
    [message] = mail_on.messages
    assert message["To"] == "new.monitor@example.org"
    assert message["Subject"] == "Your invitation to the Open Government Tracker"
    assert message.get_body(preferencelist=("html",)) is not None
    path = link_in(message, "/invitation/")
    assert text_of(message).count("http://127.0.0.1:5000/invitation/") == 1

    # Opening the link changes nothing; it can be opened again.
    invitee = app.test_client()
    page = invitee.get(path)
    assert page.status_code == 200
    assert "new.monitor@example.org" in page.get_data(as_text=True)
    assert invitee.get(path).status_code == 200
    fresh()
    assert db.session.scalar(select(func.count(UsedToken.id))) == 0

    response = _set_password(invitee, path)
    assert response.status_code == 302
    assert invitee.get("/account").status_code == 200
    fresh()
    user = db.session.scalar(select(User).where(User.email == "new.monitor@example.org"))
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.last_login_dt is not None  # the link logged them in (the users list shows it)
    assert db.session.scalar(select(func.count(UsedToken.id))) == 1
    [used] = db.session.scalars(select(UsedToken)).all()
    assert used.purpose == "invitation" and used.user_id == user.id
    assert len(used.token_digest) == 64 and used.token_digest not in path  # a digest, not the token

    # Spent: neither the page nor the form works again.
    second = app.test_client()
    assert second.get(path).status_code == 400
    response = second.post(path, data={"csrf_token": csrf_token_from(second, "/login")})
    assert response.status_code == 400
    assert "already" in response.get_data(as_text=True)
    fresh()
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "user.invited" in actions and "invitation.accepted" in actions


def test_with_mail_off_the_admin_sees_the_link_once(app, admin_client):
    response = _invite(admin_client)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "was not sent" in html
    path = "/invitation/" + html.split("/invitation/")[1].split('"')[0]
    assert _set_password(app.test_client(), path).status_code == 302


def test_an_expired_invitation_is_refused(app, admin_client, mail_on):
    _invite(admin_client)
    deliver()
    path = link_in(mail_on.messages[0], "/invitation/")
    _move_clock(8, app)
    response = app.test_client().get(path)
    assert response.status_code == 400
    assert "This link has expired." in response.get_data(as_text=True)
    _move_clock(6, app)
    assert app.test_client().get(path).status_code == 200


def test_a_new_invitation_voids_the_old_link(app, admin_client, mail_on):
    _invite(admin_client)
    deliver()
    first = link_in(mail_on.messages[0], "/invitation/")
    fresh()
    user = db.session.scalar(select(User).where(User.email == "new.monitor@example.org"))
    _move_clock(1, app)  # a later second, so the new invitation's time differs
    response = post_with_csrf(
        admin_client, f"/admin/users/{user.id}", f"/admin/users/{user.id}/invitation"
    )
    assert response.status_code == 302
    deliver()
    second = link_in(mail_on.messages[1], "/invitation/")
    assert app.test_client().get(first).status_code == 400
    assert _set_password(app.test_client(), second).status_code == 302


def test_a_token_for_one_purpose_does_not_work_for_another(app, admin):
    user = make_user("person@example.org", role="reviewer")
    db.session.commit()
    reset_token = tokens.make_token(user, Purpose.PASSWORD_RESET)
    client = app.test_client()
    assert client.get(f"/invitation/{reset_token}").status_code == 400
    assert client.get(f"/password/reset/{reset_token}").status_code == 200


def test_a_token_is_bound_to_its_user(app, admin):
    victim = make_user("victim@example.org", role="admin")
    attacker = make_user("attacker@example.org", role="reviewer")
    db.session.commit()
    token = tokens.make_token(attacker, Purpose.PASSWORD_RESET)
    serializer = URLSafeTimedSerializer(app.secret_key, salt="tracker.accounts.password_reset")
    payload = serializer.loads(token)
    # Re-signed with the right key but another user id: the fingerprint gives it away.
    forged = serializer.dumps({**payload, "uid": victim.id})
    assert app.test_client().get(f"/password/reset/{forged}").status_code == 400
    # Changed without the key: the signature gives it away.
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert app.test_client().get(f"/password/reset/{tampered}").status_code == 400
    assert app.test_client().get("/password/reset/garbage").status_code == 400


def test_a_token_of_a_disabled_account_is_refused(app, admin):
    user = make_user("person@example.org", role="reviewer")
    db.session.commit()
    token = tokens.make_token(user, Purpose.PASSWORD_RESET)
    user.is_enabled = False
    db.session.commit()
    assert app.test_client().get(f"/password/reset/{token}").status_code == 400


def test_two_simultaneous_uses_of_one_token_set_one_password(app, admin):
    user = make_user("person@example.org", role="reviewer", password=None)
    db.session.commit()
    token = tokens.make_token(user, Purpose.INVITATION)
    path = f"/invitation/{token}"
    clients = [app.test_client() for _ in range(4)]
    csrf = [csrf_token_from(c, path) for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def accept(client, csrf_token, number):
        start.wait()
        password = f"{NEW_PASSWORD} {number}"
        response = client.post(
            path, data={"csrf_token": csrf_token, "password": password, "confirm": password}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=accept, args=(c, t, n))
        for n, (c, t) in enumerate(zip(clients, csrf, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 400, 400, 400]
    fresh()
    assert db.session.scalar(select(func.count(UsedToken.id))) == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "invitation.accepted")
        )
        == 1
    )


def test_spending_twice_in_the_service_raises(app, admin):
    user = make_user("person@example.org", role="reviewer")
    db.session.commit()
    token = tokens.make_token(user, Purpose.PASSWORD_RESET)
    claims = tokens.read_token(db.session, token, Purpose.PASSWORD_RESET)
    tokens.spend_token(db.session, claims)
    db.session.commit()
    with pytest.raises(TokenError):
        tokens.read_token(db.session, token, Purpose.PASSWORD_RESET)
    with pytest.raises(TokenError):
        tokens.spend_token(db.session, claims)


def test_a_weak_password_on_the_invitation_page_is_refused_and_the_link_still_works(app, admin):
    user = make_user("person@example.org", role="reviewer", password=None)
    db.session.commit()
    path = f"/invitation/{tokens.make_token(user, Purpose.INVITATION)}"
    client = app.test_client()
    response = _set_password(client, path, "password1")
    assert response.status_code == 400
    assert "most common" in response.get_data(as_text=True)
    response = _set_password(client, path, NEW_PASSWORD, "something else entirely")
    assert response.status_code == 400
    assert _set_password(client, path).status_code == 302


# -- password resets -------------------------------------------------------------------


def test_a_password_reset_goes_by_email_and_ends_old_sessions(app, admin, mail_on):
    logged_in = app.test_client()
    login_with_form(logged_in, admin.email)
    forgetful = app.test_client()
    response = post_with_csrf(
        forgetful, "/password/forgot", "/password/forgot", {"email": "Admin@Example.org"}
    )
    assert response.status_code == 302
    deliver()
    [message] = mail_on.messages
    assert message["To"] == "admin@example.org"
    path = link_in(message, "/password/reset/")
    before = fresh_user(admin).last_login_dt
    assert _set_password(forgetful, path).status_code == 302
    assert forgetful.get("/account").status_code == 200
    assert fresh_user(admin).last_login_dt > before
    assert logged_in.get("/account").status_code == 302  # the old session ended
    assert login_with_form(app.test_client(), admin.email, PASSWORD).status_code == 401
    assert app.test_client().get(path).status_code == 400  # spent
    fresh()
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"password.reset_requested", "password.reset"} <= actions


def test_a_password_set_by_a_reset_link_is_told_to_the_owner(app, admin, mail_on):
    # as a change from the account page is: whoever reads the mailbox can take the account
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": admin.email})
    deliver()
    path = link_in(mail_on.messages[0], "/password/reset/")
    assert _set_password(client, path).status_code == 302
    deliver()
    assert len(mail_on.messages) == 2
    notice = mail_on.messages[1]
    assert notice["To"] == admin.email
    assert notice["Subject"] == "The password of your account was changed"
    text = text_of(notice)
    assert f"The password of your Open Government Tracker account {admin.email} was changed" in text
    assert "From the address: 203.0.113.9" in text and "/password/forgot" in text
    # a weak password changes nothing and tells nobody
    other = app.test_client()
    post_with_csrf(other, "/password/forgot", "/password/forgot", {"email": admin.email})
    deliver()
    again = link_in(mail_on.messages[2], "/password/reset/")
    assert _set_password(other, again, "short").status_code == 400
    deliver()
    assert len(mail_on.messages) == 3


def fresh_user(user: User) -> User:
    fresh()
    return db.session.get(User, user.id)


def test_the_forgot_form_answers_the_same_for_unknown_addresses(app, admin, mail_on):
    client = app.test_client()
    answers = []
    for email in (admin.email, "nobody@example.org"):
        response = post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": email})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        flash = page.split('<p class="flash flash-success">')[1].split("</p>")[0]
        answers.append((response.headers["Location"], flash))
    assert answers[0] == answers[1]
    assert "If an account exists for this address" in answers[0][1]
    deliver()
    assert [m["To"] for m in mail_on.messages] == [admin.email]


def test_reset_emails_are_limited_per_hour(app, admin, mail_on):
    client = app.test_client()
    for _ in range(5):
        post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": admin.email})
    deliver()
    assert len(mail_on.messages) == 3
    post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": admin.email})
    deliver()
    assert len(mail_on.messages) == 3
    fresh()
    reasons = db.session.scalars(select(MailRequest.reason).order_by(MailRequest.id)).all()
    assert reasons == ["", "", "", "rate_limited", "rate_limited", "rate_limited"]


def test_a_reset_link_expires_after_an_hour(app, admin, mail_on):
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": admin.email}
    )
    deliver()
    path = link_in(mail_on.messages[0], "/password/reset/")
    _move_clock(1, app)
    response = app.test_client().get(path)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_reset_link_dies_when_the_password_changes_another_way(app, admin):
    token = tokens.make_token(admin, Purpose.PASSWORD_RESET)
    users.set_password(db.session, admin, NEW_PASSWORD, action="password.changed")
    db.session.commit()
    assert app.test_client().get(f"/password/reset/{token}").status_code == 400


def test_emails_are_in_the_users_language(app, admin, mail_on):
    make_user("az@example.org", role="reviewer", locale="az")
    db.session.commit()
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": "az@example.org"}
    )
    deliver()
    [message] = mail_on.messages
    assert message["Subject"] == "Açıq Hökumət İzləyicisi üçün şifrənizi bərpa edin"
    assert "Salam," in text_of(message)
    assert "/password/reset/" in text_of(message)


def test_links_use_the_public_base_url_not_the_host_header(app, admin, mail_on):
    app.config["PUBLIC_BASE_URL"] = "https://tracker.example.org/base"
    client = app.test_client()
    page = client.get("/password/forgot", base_url="http://evil.example")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    response = client.post(
        "/password/forgot",
        base_url="http://evil.example",
        data={"csrf_token": token.split('"')[0], "email": admin.email},
    )
    assert response.status_code == 302
    deliver()
    assert "https://tracker.example.org/base/password/reset/" in text_of(mail_on.messages[0])
    assert "evil.example" not in text_of(mail_on.messages[0])


# -- the landing pages speak the person's language -------------------------------------


@pytest.mark.parametrize(
    ("locale", "heading"), [("az", "Dəvətinizi qəbul edin"), ("en", "Accept your invitation")]
)
def test_the_invitation_page_is_in_the_invitees_language(app, admin, locale, heading):
    app.config["BABEL_DEFAULT_LOCALE"] = "en" if locale == "az" else "az"
    user = make_user(f"{locale}@example.org", role="reviewer", password=None, locale=locale)
    db.session.commit()
    path = f"/invitation/{tokens.make_token(user, Purpose.INVITATION)}"
    client = app.test_client()
    html = client.get(path).get_data(as_text=True)
    assert f'<html lang="{locale}"' in html and heading in html
    # A weak password comes back in the same language.
    response = _set_password(client, path, "short", "short")
    assert response.status_code == 400
    assert f'<html lang="{locale}"' in response.get_data(as_text=True)
    # The visitor may still choose the other language.
    other = "en" if locale == "az" else "az"
    assert f'<html lang="{other}"' in client.get(f"{path}?lang={other}").get_data(as_text=True)


def test_the_welcome_after_an_invitation_is_in_the_invitees_language(app, admin):
    user = make_user("az@example.org", role="reviewer", password=None, locale="az")
    db.session.commit()
    client = app.test_client()
    response = _set_password(client, f"/invitation/{tokens.make_token(user, Purpose.INVITATION)}")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="az"' in page
    assert "Xoş gəlmisiniz" in page


def test_the_audit_log_never_keeps_a_links_token(app):
    """A refusal or a rejected form logs its path, which administrators read: the secret
    of a password, invitation or unsubscribe link is left out of it."""
    from tracker.web.request_origin import loggable_path

    for path, logged in (
        ("/password/reset/a-secret-reset-token", "/password/reset/<token>"),
        ("/invitation/a-secret-invitation", "/invitation/<token>"),
        ("/unsubscribe/a-secret-link", "/unsubscribe/<token>"),
        ("/admin/users/5", "/admin/users/5"),
    ):
        with app.test_request_context(path):
            assert loggable_path() == logged
