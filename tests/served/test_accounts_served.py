"""Accounts on the served app (`tracker serve`: gunicorn workers and the scheduler):
reset and invitation emails leave through the mail outbox and the real scheduler, login
throttling answers 429 with Retry-After while the owner's browser gets in, sessions carry
the remember-me cookie and logout deletes it, and the invite form in Chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.accounts.conftest import PASSWORD, make_organisation, make_user
from tests.served.server import email_link, email_text
from tracker.extensions import db
from tracker.models import MailRequest

pytestmark = pytest.mark.served

WRONG = "not the right password"


def _set_password(client, link: str, password: str):
    path = link.split("://", 1)[1].split("/", 1)[1]
    return client.post_form(f"/{path}", {"password": password, "confirm": password})


def test_a_reset_email_arrives_through_the_scheduler_for_real_accounts_only(served):
    user = make_user("monitor.reset@example.org", role="reviewer")
    db.session.commit()
    visitor = served.client()
    for email in (user.email, "nobody.here@example.org"):
        response = visitor.post_form("/password/forgot", {"email": email})
        assert response.status_code == 302
    # The request only planned the email: the scheduler's mail job sends it.
    message = served.email_to(user.email, "/password/reset/")
    link = email_link(message, "/password/reset/")
    assert link.startswith(f"{served.url}/password/reset/")
    assert _set_password(visitor, link, "a brand new served passphrase").status_code == 302
    assert served.client().login(user.email, "a brand new served passphrase")
    # and the owner is told that the password changed, with the address it came from
    notice = served.email_to(user.email, "was changed")
    assert notice["Subject"] == "The password of your account was changed"
    assert "From the address: 127.0.0.1" in email_text(notice)
    outcomes = _outcomes_when_done()
    assert served.emails_to("nobody.here@example.org") == []
    assert outcomes == [
        (user.email, "sent", ""),
        ("nobody.here@example.org", "skipped", "no_account"),
        (user.email, "sent", ""),
    ]


def _outcomes_when_done(timeout: float = 10) -> list[tuple]:
    """The outbox's rows once the scheduler has dealt with every one of them."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        rows = db.session.execute(
            select(MailRequest.email, MailRequest.status, MailRequest.reason).order_by(
                MailRequest.id
            )
        ).all()
        db.session.rollback()  # let the scheduler write
        done = all(row.status not in ("pending", "sending", "retry") for row in rows)
        if done or time.monotonic() > deadline:
            return [tuple(row) for row in rows]
        time.sleep(0.1)


def test_an_attacker_slows_down_unknown_clients_but_not_the_owners_browser(served):
    user = make_user("reviewer.throttle@example.org", role="reviewer")
    db.session.commit()
    owner = served.client()
    owner.login(user.email, PASSWORD)
    assert owner.cookies.get("device")
    owner.post_form("/account", {}, action="/logout")
    attacker = served.client()
    statuses = [
        attacker.post_form("/login", {"email": user.email, "password": WRONG}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    refused = served.client().post_form("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # The owner's browser, with its device cookie, is judged by its own failures: none.
    assert owner.login(user.email, PASSWORD)
    assert owner.get("/account").status_code == 200


def test_remember_me_restores_the_session_and_logout_deletes_it(served):
    user = make_user("remembered@example.org", role="monitor", organisation=make_organisation("R"))
    db.session.commit()
    browser = served.client()
    response = browser.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    assert browser.cookies.get("remember_token")
    browser.cookies.clear(domain="127.0.0.1", path="/", name="session")
    assert browser.get("/account").status_code == 200  # restored by another worker too
    response = browser.post_form("/account", {}, action="/logout")
    assert "remember_token=" in response.headers.get("Set-Cookie", "")
    assert browser.cookies.get("remember_token") is None
    assert browser.get("/account").status_code == 302


@pytest.mark.browser
def test_the_invite_form_in_chromium(served, browser):
    organisation = make_organisation("Dəvət Birliyi")
    organisation_id = organisation.id
    make_user("inviting.admin@example.org", role="admin")
    db.session.commit()
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/login?lang=en")
    page.get_by_label("Email").fill("inviting.admin@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{served.url}/admin/users/invite?lang=en")

    # No role is chosen until the admin chooses one.
    role = page.get_by_label("Role")
    expect(role).to_have_value("")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#role-errors")).to_have_text("Choose a role.")

    # A monitor without an organisation: the error stands under the organisation.
    page.get_by_label("Email").fill("davet@example.org")
    page.get_by_label("Role").select_option("monitor")
    page.get_by_label("Language of the invitation").select_option("az")
    page.get_by_role("button", name="Send the invitation").click()
    error = page.locator("#organisation_id-errors")
    expect(error).to_contain_text("A monitor must belong to an organisation.")
    expect(page.locator("#email-errors")).to_have_count(0)
    select_box = page.locator("#organisation_id").bounding_box()
    error_box = error.bounding_box()
    locale_box = page.locator("#locale").bounding_box()
    assert select_box["y"] + select_box["height"] <= error_box["y"] < locale_box["y"]
    expect(page.locator("#organisation_id")).to_have_attribute(
        "aria-describedby", "organisation_id-hint organisation_id-errors"
    )

    page.get_by_label("Organisation (monitors only)").select_option(str(organisation_id))
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("davet@example.org is invited.")).to_be_visible()
    expect(page.get_by_text("The invitation will be emailed in a moment")).to_be_visible()

    # The email leaves with the scheduler; its page speaks the invitee's language.
    link = email_link(served.email_to("davet@example.org", "/invitation/"), "/invitation/")
    invitee = browser.new_context().new_page()
    invitee.goto(link)
    expect(invitee.locator("html")).to_have_attribute("lang", "az")
    expect(invitee.get_by_role("heading", name="Dəvətinizi qəbul edin")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Sent on")).to_be_visible()
