"""Logging in and out: redirects, old sessions and headers. Throttling is in
test_throttle.py, session lifetimes and cookies in test_sessions.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import (
    PASSWORD,
    fresh,
    login_with_form,
    make_user,
    post_with_csrf,
)
from tracker.extensions import db
from tracker.models import AuditEntry, LoginAttempt, User
from tracker.services.accounts import passwords

WRONG = "not the right password"


def _audit(action: str) -> list[AuditEntry]:
    fresh()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ).all()


def _error_text(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('<p class="errors" role="alert">')
    return html[start : html.index("</p>", start)]


# -- logging in ------------------------------------------------------------------------


def test_login_logs_in_and_records_it_without_the_password(app, client, admin):
    response = login_with_form(client, "ADMIN@example.org ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/account").status_code == 200
    [entry] = _audit("login.success")
    assert entry.actor_id == admin.id
    assert entry.ip == "127.0.0.1"
    assert entry.target_type == "user" and entry.target_id == str(admin.id)
    assert entry.occurred_dt.tzinfo is not None
    every_entry = " ".join(
        repr(e.details) + e.summary for e in db.session.scalars(select(AuditEntry))
    )
    assert PASSWORD not in every_entry
    fresh()
    assert db.session.get(User, admin.id).last_login_dt is not None


def test_unknown_account_and_wrong_password_get_the_same_answer(app, client, admin, monkeypatch):
    dummy_checks = []
    real_dummy = passwords.verify_against_dummy
    monkeypatch.setattr(
        passwords, "verify_against_dummy", lambda p: dummy_checks.append(1) or real_dummy(p)
    )
    wrong_password = login_with_form(client, "admin@example.org", WRONG)
    unknown_user = login_with_form(client, "nobody@example.org", WRONG)
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert _error_text(wrong_password) == _error_text(unknown_user)
    # The unknown account was checked against a dummy hash: no timing difference to measure.
    assert dummy_checks == [1]
    failures = _audit("login.failure")
    assert [f.details["reason"] for f in failures] == ["wrong_password", "unknown_account"]
    assert all(f.ip == "127.0.0.1" and f.actor_id is None for f in failures)
    assert all(WRONG not in repr(f.details) + f.summary for f in failures)


def test_a_disabled_account_cannot_log_in_and_gets_the_same_answer(app, client, admin):
    user = make_user("gone@example.org", role="reviewer", is_enabled=False)
    db.session.commit()
    disabled = login_with_form(client, user.email)
    wrong = login_with_form(client, "admin@example.org", WRONG)
    assert disabled.status_code == 401
    assert _error_text(disabled) == _error_text(wrong)
    assert client.get("/account").status_code == 302


def test_an_invited_account_without_a_password_cannot_log_in(app, client):
    make_user("invited@example.org", role="reviewer", password=None)
    db.session.commit()
    assert login_with_form(client, "invited@example.org", "").status_code == 400
    assert login_with_form(client, "invited@example.org", WRONG).status_code == 401


def test_an_empty_form_is_refused_with_a_message(app, client):
    response = login_with_form(client, "", "")
    assert response.status_code == 400
    assert "Enter your email address." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0


def test_a_login_without_csrf_token_is_refused_and_writes_nothing(app, client, admin):
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302
    fresh()
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0


def test_login_starts_a_new_session(app, client, admin):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    login_with_form(client, admin.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"


# -- where login sends you -------------------------------------------------------------


@pytest.mark.parametrize("target", ["/admin/users", "/account?tab=password", "/review/"])
def test_next_on_this_site_is_followed(app, client, admin, target):
    assert login_with_form(client, admin.email, next=target).headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "https:evil.example",
        "/account\r\nSet-Cookie: x=1",
        " //evil.example",
        "",
    ],
)
def test_next_off_the_site_is_ignored(app, client, admin, target):
    response = login_with_form(client, admin.email, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_the_login_page_drops_an_unsafe_next_and_keeps_a_safe_one(app, client):
    assert 'value="https://evil.example/"' not in client.get(
        "/login?next=https://evil.example/"
    ).get_data(as_text=True)
    assert 'value="/admin/audit"' in client.get("/login?next=/admin/audit").get_data(as_text=True)


def test_a_logged_in_visitor_of_the_login_page_goes_home(app, client, admin):
    login_with_form(client, admin.email)
    assert client.get("/login").headers["Location"] == "/admin/"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/admin/"


def test_anonymous_visitors_of_a_private_page_are_sent_to_login_and_back(app, client, admin):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/admin/users"' in login_page
    assert login_with_form(client, admin.email, next="/admin/users").headers["Location"] == (
        "/admin/users"
    )


# -- old sessions stop working ---------------------------------------------------------


def _cookies(client) -> dict[str, str]:
    return {
        name: client.get_cookie(name).value
        for name in ("session", "remember_token")
        if client.get_cookie(name)
    }


def _client_with(app, cookies: dict[str, str]):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def test_logout_ends_every_session_including_remembered_ones(app, admin):
    laptop, phone = app.test_client(), app.test_client()
    login_with_form(laptop, admin.email, remember="y")
    login_with_form(phone, admin.email, remember="y")
    stolen = _cookies(laptop)
    assert set(stolen) == {"session", "remember_token"}
    assert _client_with(app, stolen).get("/account").status_code == 200

    response = post_with_csrf(laptop, "/account", "/logout")
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    assert _client_with(app, stolen).get("/account").status_code == 302
    assert (
        _client_with(app, {"remember_token": stolen["remember_token"]}).get("/account").status_code
        == 302
    )
    [entry] = _audit("logout")
    assert entry.actor_id == admin.id


def test_logout_is_post_only_and_needs_the_token(app, client, admin):
    login_with_form(client, admin.email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200
    fresh()
    assert db.session.get(User, admin.id).session_version == 1


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, admin):
    laptop, phone = app.test_client(), app.test_client()
    login_with_form(laptop, admin.email)
    login_with_form(phone, admin.email)
    before = _cookies(laptop)
    new_password = "a brand new passphrase 2022"
    response = post_with_csrf(
        laptop,
        "/account",
        "/account/password",
        {"current_password": PASSWORD, "new_password": new_password, "confirm": new_password},
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert _client_with(app, before).get("/account").status_code == 302
    assert login_with_form(app.test_client(), admin.email, PASSWORD).status_code == 401
    assert login_with_form(app.test_client(), admin.email, new_password).status_code == 302
    assert len(_audit("password.changed")) == 1


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failure(app, client, admin):
    login_with_form(client, admin.email)
    response = post_with_csrf(
        client,
        "/account",
        "/account/password",
        {
            "current_password": WRONG,
            "new_password": "another passphrase",
            "confirm": "another passphrase",
        },
    )
    assert response.status_code == 400
    assert "The current password is not correct." in response.get_data(as_text=True)
    fresh()
    assert passwords.verify_password(db.session.get(User, admin.id).password_hash, PASSWORD)
    assert (
        db.session.scalar(
            select(func.count(LoginAttempt.id)).where(LoginAttempt.is_success.is_(False))
        )
        == 1
    )


@pytest.mark.parametrize(
    ("new_password", "confirm", "message"),
    [
        ("short", "short", "Use at least 8 characters."),
        ("iloveyou1", "iloveyou1", "most common"),
        ("a fine passphrase", "another passphrase", "The two passwords differ."),
    ],
)
def test_a_bad_new_password_is_refused_with_what_to_fix(
    app, client, admin, new_password, confirm, message
):
    login_with_form(client, admin.email)
    response = post_with_csrf(
        client,
        "/account",
        "/account/password",
        {"current_password": PASSWORD, "new_password": new_password, "confirm": confirm},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    fresh()
    assert db.session.get(User, admin.id).session_version == 1


def test_disabling_an_account_ends_its_sessions(app, admin, monitor):
    monitor_client, admin_client = app.test_client(), app.test_client()
    login_with_form(monitor_client, monitor.email, remember="y")
    assert monitor_client.get("/account").status_code == 200
    login_with_form(admin_client, admin.email)
    response = post_with_csrf(
        admin_client, f"/admin/users/{monitor.id}", f"/admin/users/{monitor.id}/disable"
    )
    assert response.status_code == 302
    assert monitor_client.get("/account").status_code == 302
    assert login_with_form(app.test_client(), monitor.email).status_code == 401


def test_the_language_is_saved_on_the_account(app, client, admin):
    login_with_form(client, admin.email)
    response = post_with_csrf(client, "/account", "/account/language", {"locale": "en"})
    assert response.status_code == 302
    fresh()
    assert db.session.get(User, admin.id).locale == "en"
    assert (
        post_with_csrf(client, "/account", "/account/language", {"locale": "fr"}).status_code == 400
    )


@pytest.mark.parametrize(
    ("chosen", "flash", "page_language"),
    [(None, "You are logged in.", "en"), ("az", "Sistemə daxil oldunuz.", "az")],
)
def test_the_welcome_is_in_the_language_of_the_pages_after_it(
    app, client, chosen, flash, page_language
):
    """Logged in, the pages are in the account's language unless the visitor chose one; the
    "logged in" message said it in the login page's default (Azerbaijani) instead."""
    app.config["BABEL_DEFAULT_LOCALE"] = "az"
    user = make_user("english.reader@example.org", role="admin", locale="en")
    db.session.commit()
    if chosen:
        client.get(f"/login?lang={chosen}")
    page = client.get(login_with_form(client, user.email).headers["Location"])
    html = page.get_data(as_text=True)
    assert f'<html lang="{page_language}">' in html and flash in html


# -- headers ---------------------------------------------------------------------------


def test_every_page_has_a_csp_and_nosniff(app, client):
    for url in ("/login", "/password/forgot", "/", "/no-such-page"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_authenticated_pages_are_not_cached(app, client, admin):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_with_form(client, admin.email)
    for url in ("/account", "/admin/", "/admin/users", "/admin/audit", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
