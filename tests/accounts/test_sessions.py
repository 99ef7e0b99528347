"""Sessions: idle and absolute lifetimes per role, enforced on the server on every request
(remember-me included); the password asked again before sensitive actions; cookies with
the __Host- prefix and HSTS under HTTPS; logout deletes the remember-me cookie."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from tests.accounts.conftest import (
    PASSWORD,
    FreshContextClient,
    StoppedClock,
    fresh,
    login_with_form,
    make_user,
    post_with_csrf,
)
from tests.conftest import make_test_config
from tests.helpers import csrf_token_from
from tracker import clock, create_app
from tracker.extensions import db
from tracker.models import AuditEntry, User

WRONG = "not the right password"


@pytest.fixture
def wall(monkeypatch) -> StoppedClock:
    wall_clock = StoppedClock()
    monkeypatch.setattr(clock, "real_now_utc", wall_clock)
    return wall_clock


def set_cookie_header(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def expires_of(header: str) -> datetime:
    return parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])


def is_logged_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def flashes(client) -> str:
    return client.get("/login").get_data(as_text=True)


# -- idle and absolute lifetimes -----------------------------------------------------------


def test_an_idle_admin_session_ends_after_two_hours_and_a_monitor_after_eight(
    app, admin, monitor, wall
):
    admin_browser, monitor_browser = app.test_client(), app.test_client()
    login_with_form(admin_browser, admin.email)
    login_with_form(monitor_browser, monitor.email)
    wall.advance(hours=1, minutes=59)
    assert is_logged_in(admin_browser)  # used: the idle time starts again
    wall.advance(hours=1, minutes=59)
    assert is_logged_in(admin_browser)
    wall.advance(hours=2, minutes=1)
    assert not is_logged_in(admin_browser)
    assert "You were logged out after 2 hours without activity." in flashes(admin_browser)
    # The monitor, idle for 5 h 59 min so far, is still in; after 8 h idle, out.
    assert is_logged_in(monitor_browser)
    wall.advance(hours=8, minutes=1)
    assert not is_logged_in(monitor_browser)


def test_a_session_ends_at_its_absolute_lifetime_however_busy(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    for _ in range(11):
        wall.advance(hours=1)
        assert is_logged_in(browser)
    wall.advance(minutes=59)
    assert is_logged_in(browser)
    wall.advance(minutes=2)  # 12 h 1 min after logging in
    assert not is_logged_in(browser)
    assert "Your session reached its limit of 12 hours." in flashes(browser)
    # Logging in again starts a new session.
    assert login_with_form(browser, admin.email).status_code == 302
    assert is_logged_in(browser)


def test_the_limits_are_settings(app, monitor, wall):
    app.config["SESSION_IDLE_MINUTES"] = {**app.config["SESSION_IDLE_MINUTES"], "monitor": 30}
    browser = app.test_client()
    login_with_form(browser, monitor.email)
    wall.advance(minutes=31)
    assert not is_logged_in(browser)


def test_a_session_without_its_times_is_ended(app, admin):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = admin.get_id()  # as a session made before the limits
        session["_fresh"] = True
    assert not is_logged_in(browser)


# -- remember me -----------------------------------------------------------------------------


def _restart_browser(client) -> None:
    """Closing the browser drops the session cookie; the remember-me cookie stays."""
    client.delete_cookie("session")


def test_remember_me_survives_a_browser_restart_within_the_limits(app, admin, wall):
    browser = app.test_client()
    response = login_with_form(browser, admin.email, remember="y")
    remember = set_cookie_header(response, "remember_token")
    assert "HttpOnly" in remember and "SameSite=Lax" in remember and "Path=/" in remember
    # The browser drops it at the absolute limit: twelve hours for an admin.
    assert expires_of(remember) <= wall.moment + timedelta(hours=12, seconds=1)
    assert expires_of(remember) >= wall.moment + timedelta(hours=11, minutes=59)

    wall.advance(hours=1)
    _restart_browser(browser)
    assert is_logged_in(browser)
    wall.advance(hours=1, minutes=50)
    _restart_browser(browser)
    assert is_logged_in(browser)  # the cookie was refreshed with the last-seen time


def test_remember_me_does_not_stretch_the_absolute_lifetime(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email, remember="y")
    kept = browser.get_cookie("remember_token").value
    for _ in range(11):
        wall.advance(hours=1)
        _restart_browser(browser)
        assert is_logged_in(browser)
    wall.advance(hours=1, minutes=1)
    _restart_browser(browser)
    assert not is_logged_in(browser)
    # A client that ignores the cookie's expiry and replays it gets nothing either.
    replay = app.test_client()
    replay.set_cookie("remember_token", kept)
    assert not is_logged_in(replay)


def test_remember_me_does_not_skip_the_idle_timeout(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email, remember="y")
    wall.advance(hours=2, minutes=1)
    _restart_browser(browser)
    assert not is_logged_in(browser)


def test_without_remember_there_is_no_remember_cookie(app, client, admin):
    response = login_with_form(client, admin.email)
    assert not any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))
    _restart_browser(client)
    assert not is_logged_in(client)


def test_logout_deletes_the_remember_cookie(app, admin):
    browser = app.test_client()
    login_with_form(browser, admin.email, remember="y")
    assert browser.get_cookie("remember_token") is not None
    response = post_with_csrf(browser, "/account", "/logout")
    deleted = set_cookie_header(response, "remember_token")
    assert expires_of(deleted) < datetime.now(UTC)
    assert browser.get_cookie("remember_token") is None
    assert browser.get_cookie("device") is not None  # the device cookie stays


# -- the password again before sensitive actions -----------------------------------------------


def _role_change(client, user_id: int, role: str):
    token = csrf_token_from(client, f"/admin/users/{user_id}")
    return client.post(
        f"/admin/users/{user_id}/role",
        data={"csrf_token": token, "role": role, "organisation_id": "0"},
        headers={"Referer": f"http://localhost/admin/users/{user_id}"},
    )


def test_changing_a_role_asks_for_the_password_after_ten_minutes(app, admin, monitor, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    wall.advance(minutes=11)
    response = _role_change(browser, monitor.id, "reviewer")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/confirm?next=/admin/users/{monitor.id}"
    fresh()
    assert db.session.get(User, monitor.id).role == "monitor"  # nothing changed

    confirm = response.headers["Location"]
    token = csrf_token_from(browser, confirm)
    page = browser.get(confirm).get_data(as_text=True)
    assert "Confirm your password" in page
    next_field = f'value="/admin/users/{monitor.id}"'
    assert next_field in page
    wrong = browser.post(
        "/account/confirm",
        data={"csrf_token": token, "password": WRONG, "next": f"/admin/users/{monitor.id}"},
    )
    assert wrong.status_code == 400
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    right = browser.post(
        "/account/confirm",
        data={"csrf_token": token, "password": PASSWORD, "next": f"/admin/users/{monitor.id}"},
    )
    assert right.status_code == 302 and right.headers["Location"] == f"/admin/users/{monitor.id}"
    assert _role_change(browser, monitor.id, "reviewer").status_code == 302
    fresh()
    assert db.session.get(User, monitor.id).role == "reviewer"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "password.confirm_failed" in actions and "password.confirmed" in actions
    # Within the next ten minutes, no second question.
    wall.advance(minutes=9)
    assert browser.get("/admin/users/invite").status_code == 200


def test_inviting_asks_for_the_password_after_ten_minutes(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    assert browser.get("/admin/users/invite").status_code == 200
    wall.advance(minutes=11)
    response = browser.get("/admin/users/invite")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/confirm?next=/admin/users/invite"


def test_a_remembered_session_asks_for_the_password_before_a_role_change(app, admin, monitor):
    browser = app.test_client()
    login_with_form(browser, admin.email, remember="y")
    _restart_browser(browser)
    assert is_logged_in(browser)  # restored from the cookie, but the password is not fresh
    response = _role_change(browser, monitor.id, "reviewer")
    assert response.headers["Location"].startswith("/account/confirm")


def test_the_confirmation_goes_back_only_to_this_site(app, admin):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    token = csrf_token_from(browser, "/account/confirm?next=//evil.example/x")
    response = browser.post(
        "/account/confirm",
        data={"csrf_token": token, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_a_password_change_needs_the_current_password(app, admin):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    new = "a brand new passphrase 2022"
    response = post_with_csrf(
        browser,
        "/account",
        "/account/password",
        {"current_password": "", "new_password": new, "confirm": new},
    )
    assert response.status_code == 400
    assert "Enter your current password." in response.get_data(as_text=True)


# -- HTTPS -----------------------------------------------------------------------------


@pytest.fixture
def https_app(database_url, tmp_path, app):
    secure = create_app(make_test_config(database_url, tmp_path / "https", TRACKER_HTTPS=True))
    secure.test_client_class = FreshContextClient
    yield secure
    with secure.app_context():
        db.session.remove()
        db.engine.dispose()


def test_over_https_every_cookie_has_the_host_prefix_and_hsts_is_always_sent(https_app, admin):
    client = https_app.test_client()
    base = "https://tracker.example"
    page = client.get("/login", base_url=base)
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    response = client.post(
        "/login",
        base_url=base,
        # Over HTTPS, Flask-WTF also wants a same-site Referer.
        headers={"Referer": f"{base}/login"},
        data={
            "csrf_token": token.split('"')[0],
            "email": admin.email,
            "password": PASSWORD,
            "remember": "y",
        },
    )
    assert response.status_code == 302
    for name in ("__Host-session", "__Host-remember_token", "__Host-device"):
        cookie = set_cookie_header(response, name)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Path=/" in cookie and "Domain=" not in cookie
    names = [h.split("=")[0] for h in response.headers.getlist("Set-Cookie")]
    assert not {"session", "remember_token", "device"} & set(names)
    assert client.get("/account", base_url=base).status_code == 200
    # HSTS on every answer, even one that reached the app over plain HTTP (a proxy that
    # does not say so): browsers take it from HTTPS answers only.
    for url in ("/", "/login", "/no-such-page"):
        hsts = client.get(url, base_url="http://tracker.example").headers
        assert hsts["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    logout = client.post(
        "/logout",
        base_url=base,
        headers={"Referer": f"{base}/account"},
        data={"csrf_token": _csrf(client, base)},
    )
    deleted = set_cookie_header(logout, "__Host-remember_token")
    assert "Secure" in deleted and "Path=/" in deleted


def _csrf(client, base: str) -> str:
    html = client.get("/account", base_url=base).get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_without_https_there_is_no_hsts(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_users_get_limits_of_their_own_role(app, wall):
    reviewer = make_user("reviewer@example.org", role="reviewer")
    db.session.commit()
    browser = app.test_client()
    login_with_form(browser, reviewer.email)
    wall.advance(hours=2, minutes=1)
    assert not is_logged_in(browser)


# -- the warning before a session ends (WCAG 2.2.1) -------------------------------------------


def _time_left_on_page(client, url: str = "/account") -> dict[str, str]:
    """The session's time left, as the page hands it to static/js/session_timeout.js."""
    html = client.get(url).get_data(as_text=True)
    dialog = html.split('<dialog id="session-timeout"')[1].split(">")[0]
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', dialog))


def _stay_logged_in(client, token: str):
    return client.post(
        "/session/keep-alive", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )


def test_a_signed_in_page_says_how_long_its_session_has_left(app, monitor, wall):
    browser = app.test_client()
    login_with_form(browser, monitor.email)
    wall.advance(hours=3)
    left = _time_left_on_page(browser)
    # this request was activity: 8 h idle from now; 24 h from the login, 3 h ago
    assert left["idle-seconds"] == str(8 * 3600)
    assert left["absolute-seconds"] == str(21 * 3600)
    assert left["warning-seconds"] == "300"
    assert left["keep-alive-url"] == "/session/keep-alive"
    # in the reader's language
    assert "Sistemdə qal" in browser.get("/account?lang=az").get_data(as_text=True)
    assert "Stay logged in" in browser.get("/account?lang=en").get_data(as_text=True)
    # no one signed in: no warning
    assert '<dialog id="session-timeout"' not in app.test_client().get("/").get_data(as_text=True)


def test_stay_logged_in_starts_the_idle_time_again_but_not_the_absolute_limit(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    token = _time_left_on_page(browser)["csrf-token"]
    wall.advance(hours=1, minutes=56)  # the warning is open: 4 minutes left
    answer = _stay_logged_in(browser, token)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {
        "idle_seconds": 2 * 3600,
        "absolute_seconds": 12 * 3600 - (3600 + 56 * 60),
    }
    wall.advance(hours=1, minutes=59)
    assert is_logged_in(browser)


def test_stay_logged_in_needs_the_csrf_token_and_a_session_that_has_not_ended(app, admin, wall):
    browser = app.test_client()
    login_with_form(browser, admin.email)
    token = _time_left_on_page(browser)["csrf-token"]
    refused = browser.post("/session/keep-alive", headers={"Accept": "application/json"})
    assert refused.status_code == 400
    assert "Traceback" not in refused.get_data(as_text=True)
    wall.advance(hours=2, minutes=1)
    ended = _stay_logged_in(browser, token)
    assert ended.status_code in (400, 401)
    assert set(ended.get_json()["error"]) == {"status", "message"}
    assert not is_logged_in(browser)
    # someone who is not logged in, with a token of their own
    anonymous = app.test_client()
    anonymous_token = csrf_token_from(anonymous, "/login")
    answer = _stay_logged_in(anonymous, anonymous_token)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == "You are logged out. Log in again."
