"""The mail outbox: a password reset request does the same work for every address (the
same queries, no token, no rendering, no SMTP connection) and the scheduler's job sends
the email for a real account only, exactly once; invitations are planned the same way."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from tests.accounts.conftest import (
    PASSWORD,
    fresh,
    link_in,
    login_with_form,
    make_user,
    post_with_csrf,
    text_of,
)
from tests.helpers import QueryCounter, csrf_token_from, free_port
from tracker import clock
from tracker.extensions import db
from tracker.models import AuditEntry, MailRequest, User
from tracker.services import mail_outbox
from tracker.services.accounts import emails
from tracker.vocabulary import MailKind


def deliver():
    fresh()
    return emails.deliver_account_mail(db.session)


def rows() -> list[MailRequest]:
    fresh()
    return db.session.scalars(select(MailRequest).order_by(MailRequest.id)).all()


@pytest.fixture
def spies(monkeypatch):
    """Counts the tokens made and the emails rendered."""
    calls = {"token": 0, "render": 0}
    real_token, real_render = emails.make_token, emails.render_template

    def make_token(*args, **kwargs):
        calls["token"] += 1
        return real_token(*args, **kwargs)

    def render_template(*args, **kwargs):
        calls["render"] += 1
        return real_render(*args, **kwargs)

    monkeypatch.setattr(emails, "make_token", make_token)
    monkeypatch.setattr(emails, "render_template", render_template)
    return calls


def _reset_request(app, email: str):
    """POST the forgot form, counting the statements of the request alone."""
    client = app.test_client()
    token = csrf_token_from(client, "/password/forgot")
    with QueryCounter() as counter:
        response = client.post("/password/forgot", data={"csrf_token": token, "email": email})
    assert response.status_code == 302
    return response, counter.statements


def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    app, admin, mail_on, spies
):
    disabled = make_user("gone@example.org", role="reviewer", is_enabled=False)
    db.session.commit()
    connections = mail_on.handler.connections
    answers = {}
    for email in (admin.email, "nobody@example.org", disabled.email, "ADMIN@example.org "):
        answers[email] = _reset_request(app, email)
    statements = [tuple(s) for _response, s in answers.values()]
    assert len(set(statements)) == 1, "the requests ran different statements"
    assert len({r.headers["Location"] for r, _s in answers.values()}) == 1
    # No token, no email rendered, no connection to the mail server during any request.
    assert spies == {"token": 0, "render": 0}
    assert mail_on.handler.connections == connections
    assert mail_on.messages == []

    # The scheduler's job sends exactly one email per request of the real, enabled account.
    run = deliver()
    assert (run.sent, run.skipped) == (2, 2)
    assert [m["To"] for m in mail_on.messages] == [admin.email, admin.email]
    assert spies == {"token": 2, "render": 4}  # text and HTML of each
    assert [(r.status, r.reason, r.user_id) for r in rows()] == [
        ("sent", "", admin.id),
        ("skipped", "no_account", None),
        ("skipped", "disabled", disabled.id),
        ("sent", "", admin.id),
    ]
    assert deliver().sent == 0 and len(mail_on.messages) == 2  # nothing twice


def test_the_request_records_what_was_asked_when_and_from_where(app, mail_on):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": " Who@Example.org"})
    [row] = rows()
    assert (row.kind, row.email, row.client_ip, row.status) == (
        "password_reset",
        "who@example.org",
        "198.51.100.23",
        "pending",
    )
    assert abs(row.requested_dt - clock.now_utc()) < timedelta(minutes=1)
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "password.reset_requested")
    ).all()
    assert entry.target_type == "login" and entry.ip == "198.51.100.23"


def test_two_senders_at_once_send_each_email_once(app, mail_on):
    people = [make_user(f"person{n}@example.org", role="reviewer") for n in range(8)]
    db.session.commit()
    client = app.test_client()
    for person in people:
        post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": person.email})
    fresh()
    start = threading.Barrier(2)
    runs = []

    def sender():
        with app.app_context():
            start.wait()
            runs.append(emails.deliver_account_mail(db.session))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["To"] for m in mail_on.messages) == sorted(p.email for p in people)
    assert sum(run.sent for run in runs) == len(people)
    assert {r.status for r in rows()} == {"sent"}


def test_a_4xx_answer_is_retried_after_a_backoff_and_a_5xx_fails(app, admin, mail_on):
    other = make_user("other@example.org", role="reviewer")
    db.session.commit()
    mail_on.handler.refuse[admin.email] = "451 4.3.0 Try again later"
    mail_on.handler.refuse[other.email] = "550 5.1.1 No such user"
    client = app.test_client()
    for email in (admin.email, other.email):
        post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": email})
    run = deliver()
    assert (run.sent, run.retry, run.failed) == (0, 1, 1)
    later, gone = rows()
    assert later.status == "retry" and later.attempts == 1 and "451" in later.last_error
    assert later.next_attempt_dt > clock.now_utc()
    assert gone.status == "failed" and gone.smtp_code == 550
    assert deliver().sent == 0  # not before the backoff
    del mail_on.handler.refuse[admin.email]
    run = emails.deliver_account_mail(db.session, clock.now_utc() + timedelta(minutes=2))
    assert run.sent == 1 and [m["To"] for m in mail_on.messages] == [admin.email]


def test_an_unreachable_server_keeps_the_emails_for_later(app, admin):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    client = app.test_client()
    for _ in range(2):
        post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": admin.email})
    run = deliver()
    assert run.stopped_early and run.retry == 1
    assert [r.status for r in rows()] == ["retry", "pending"]


def test_a_claim_left_by_a_process_that_died_is_recovered(app, admin, mail_on):
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": admin.email}
    )
    [row] = rows()
    assert mail_outbox.claim(db.session, row.id, clock.now_utc()) is not None
    db.session.commit()
    assert deliver().sent == 0  # someone else's live claim is left alone
    row = rows()[0]
    row.claimed_dt = clock.now_utc() - mail_outbox.CLAIM_TIMEOUT - timedelta(seconds=1)
    db.session.commit()
    run = deliver()
    assert run.recovered == 1 and run.sent == 1


@pytest.mark.parametrize("meanwhile", ["removed", "taken over"])
def test_a_row_removed_or_taken_over_while_its_email_is_sent_is_left_alone(
    app, admin, mail_on, monkeypatch, caplog, meanwhile
):
    """The answer is recorded only while the claim is still this run's: a row that a
    cleanup removed, or whose stale claim another run took, is not written over (the job
    used to fail on the missing row)."""
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": admin.email}
    )
    real_send = mail_outbox.SmtpSender.send

    def send_while_another_process_writes(sender, message):
        result = real_send(sender, message)
        with db.engine.begin() as connection:
            if meanwhile == "removed":
                connection.execute(delete(MailRequest))
            else:
                connection.execute(update(MailRequest).values(claim_token="another-run"))
        return result

    monkeypatch.setattr(mail_outbox.SmtpSender, "send", send_while_another_process_writes)
    run = deliver()
    assert len(mail_on.messages) == 1 and run.sent == 0
    assert "removed or taken over while it was sent" in caplog.text
    if meanwhile == "removed":
        assert rows() == []
    else:
        [row] = rows()
        assert (row.status, row.claim_token, row.sent_dt) == ("sending", "another-run", None)


def test_with_mail_off_the_page_promises_no_email_and_plans_none(app, admin):
    client = app.test_client()
    page = client.get("/password/forgot?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This server does not send email, so it cannot send you a link." in html
    assert "Ask an administrator" in html and "<form" not in html.split("<main")[1]
    az = app.test_client().get("/password/forgot?lang=az").get_data(as_text=True)
    assert "Bu server e-poçt göndərmir" in az
    token = csrf_token_from(client, "/login")  # the page itself has no form to take it from
    answer = client.post(
        "/password/forgot?lang=en", data={"csrf_token": token, "email": admin.email}
    )
    assert answer.status_code == 503
    assert "cannot send you a link" in answer.get_data(as_text=True)
    assert rows() == []
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "password.reset_requested")
        )
        == 0
    )


def test_a_reset_planned_before_mail_was_turned_off_is_skipped_and_never_shown(
    app, admin, caplog, spies
):
    emails.request_password_reset(db.session, admin.email)
    db.session.commit()
    run = deliver()
    assert run.skipped == 1
    [row] = rows()
    assert (row.status, row.reason) == ("skipped", "mail_off")
    assert spies["token"] == 0
    assert "/password/reset/" not in caplog.text


# -- invitations ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    return client


def _invite(admin_client, email="new@example.org"):
    return post_with_csrf(
        admin_client,
        "/admin/users/invite",
        "/admin/users/invite",
        {"email": email, "role": "reviewer", "organisation_id": "0", "locale": "en"},
    )


def test_an_invitation_is_only_planned_by_the_admins_request(app, admin_client, mail_on, spies):
    connections = mail_on.handler.connections
    response = _invite(admin_client)
    assert response.status_code == 302
    assert (spies, mail_on.handler.connections) == ({"token": 0, "render": 0}, connections)
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "new@example.org is invited." in page
    assert "The invitation will be emailed in a moment" in page
    assert "Waiting to be sent" in page
    deliver()
    [message] = mail_on.messages
    assert message["To"] == "new@example.org"
    assert "/invitation/" in text_of(message)
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent on" in page


def test_a_new_invitation_replaces_one_still_waiting(app, admin_client, mail_on):
    _invite(admin_client)
    [row] = rows()
    page = f"/admin/users/{row.user_id}"
    assert post_with_csrf(admin_client, page, f"{page}/invitation").status_code == 302
    deliver()
    assert [r.status for r in rows()] == ["cancelled", "sent"]
    [message] = mail_on.messages
    assert app.test_client().get(link_in(message, "/invitation/")).status_code == 200


def test_an_invitation_accepted_before_it_left_is_not_sent(app, admin_client, mail_on):
    _invite(admin_client)
    [row] = rows()
    user = db.session.get(User, row.user_id)
    user.password_hash = "set another way"
    db.session.commit()
    deliver()
    assert mail_on.messages == []
    assert rows()[0].reason == "already_accepted"


def test_a_failed_invitation_shows_on_the_users_page(app, admin_client, mail_on):
    mail_on.handler.refuse["new@example.org"] = "550 5.1.1 No such user"
    _invite(admin_client)
    deliver()
    [row] = rows()
    page = admin_client.get(f"/admin/users/{row.user_id}").get_data(as_text=True)
    assert "Not delivered" in page and "550 5.1.1 No such user" in page


def test_with_mail_off_the_admin_gets_the_link_and_nothing_is_planned(app, admin_client):
    response = _invite(admin_client)
    assert response.status_code == 200
    assert "Mail is off on this server." in response.get_data(as_text=True)
    assert "<h1>Invitation link</h1>" in response.get_data(as_text=True)
    assert rows() == []


def _password_link(admin_client, user: User):
    page = f"/admin/users/{user.id}"
    return post_with_csrf(admin_client, page + "?lang=en", f"{page}/password-link?lang=en")


def test_with_mail_off_the_admin_makes_a_password_link_that_works_once(app, admin_client):
    monitor = make_user("forgetful@example.org", "reviewer")
    user_page = admin_client.get(f"/admin/users/{monitor.id}?lang=en").get_data(as_text=True)
    assert "Make a password link" in user_page
    response = _password_link(admin_client, monitor)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Password link</h1>" in html
    assert "With this link forgetful@example.org can choose a new password." in html
    [path] = re.findall(r'href="https?://[^"/]+(/password/reset/[^"]+)"', html)
    new = "a completely new passphrase"
    person = app.test_client()
    token = csrf_token_from(person, path)
    done = person.post(path, data={"csrf_token": token, "password": new, "confirm": new})
    assert done.status_code == 302
    assert login_with_form(app.test_client(), monitor.email, new).status_code == 302
    assert app.test_client().get(path).status_code == 400  # used once
    # the link itself went to no outbox; the notice of the new password is planned as
    # every security notice is (with mail off, the outbox skips it)
    assert [row.kind for row in rows()] == [MailKind.PASSWORD_CHANGED]
    fresh()
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "password.link_made")
    ).all()
    assert (entry.target_id, entry.summary) == (str(monitor.id), monitor.email)


def test_a_password_link_is_refused_with_mail_on_or_for_an_invited_account(
    app, admin_client, mail_on
):
    monitor = make_user("forgetful@example.org", "reviewer")
    user_page = admin_client.get(f"/admin/users/{monitor.id}?lang=en").get_data(as_text=True)
    assert "Make a password link" not in user_page
    refused = _password_link(admin_client, monitor)
    assert refused.status_code == 400
    assert "the person can ask for a link on the login page" in refused.get_data(as_text=True)
    app.config["SMTP_HOST"] = None
    invited = make_user("invited@example.org", "reviewer", password=None)
    refused = _password_link(admin_client, invited)
    assert refused.status_code == 400
    assert "send a new invitation instead" in refused.get_data(as_text=True)
    fresh()
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "password.link_made")
    ).all()


def test_send_mail_runs_the_job_once(app, runner, admin, mail_on):
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": admin.email}
    )
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Account mail: 1 sent" in result.output
    assert len(mail_on.messages) == 1


def test_the_reset_link_of_the_email_works(app, admin, mail_on):
    post_with_csrf(
        app.test_client(), "/password/forgot", "/password/forgot", {"email": admin.email}
    )
    deliver()
    path = link_in(mail_on.messages[0], "/password/reset/")
    client = app.test_client()
    new = "a completely new passphrase"
    token = csrf_token_from(client, path)
    response = client.post(path, data={"csrf_token": token, "password": new, "confirm": new})
    assert response.status_code == 302
    assert login_with_form(app.test_client(), admin.email, PASSWORD).status_code == 401
    # the reset email, then the notice that the password changed
    assert [row.kind for row in rows()] == [MailKind.PASSWORD_RESET, MailKind.PASSWORD_CHANGED]


def test_finished_rows_are_kept_thirty_days(app, admin, mail_on):
    client = app.test_client()
    for email in (admin.email, "nobody@example.org", admin.email):
        post_with_csrf(client, "/password/forgot", "/password/forgot", {"email": email})
    deliver()
    old_sent, old_skipped, recent = rows()
    for row in (old_sent, old_skipped):
        row.requested_dt -= timedelta(days=31)
    db.session.commit()
    # and one still waiting, asked for long ago (a server down for a month)
    waiting = mail_outbox.plan(db.session, MailKind.PASSWORD_RESET, "late@example.org")
    waiting.requested_dt -= timedelta(days=40)
    waiting.next_attempt_dt = clock.now_utc() + timedelta(hours=1)
    db.session.commit()
    deliver()
    assert [r.id for r in rows()] == [recent.id, waiting.id]
