"""Login throttling after OWASP's device cookies: a browser that has logged in to the
account before is not slowed down by other clients' failures; unknown clients are slowed
per account and per address with 429 and a growing Retry-After, never locked out for good;
behind a proxy each forwarded address counts on its own."""

from __future__ import annotations

import threading
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

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
from tests.helpers import QueryCounter, csrf_token_from
from tracker import clock, create_app
from tracker.extensions import db
from tracker.models import AuditEntry, LoginAttempt
from tracker.services.accounts import throttle

WRONG = "not the right password"


@pytest.fixture
def frozen(monkeypatch) -> StoppedClock:
    frozen_clock = StoppedClock()
    monkeypatch.setattr(clock, "now_utc", frozen_clock)
    return frozen_clock


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def retry_after(response) -> int:
    assert response.status_code == 429, response.status_code
    return int(response.headers["Retry-After"])


def device_cookie_of(client) -> str:
    cookie = client.get_cookie("device")
    assert cookie is not None, "no device cookie"
    return cookie.value


# -- device cookies ----------------------------------------------------------------------


def test_an_attackers_failures_from_many_addresses_leave_the_real_users_browser_in(
    app, admin, frozen
):
    laptop = client_at(app, "198.51.100.10")
    assert login_with_form(laptop, admin.email).status_code == 302
    assert device_cookie_of(laptop)
    post_with_csrf(laptop, "/account", "/logout")  # logging out keeps the device cookie
    assert laptop.get_cookie("device") is not None

    statuses = []
    for number in range(50):
        attacker = client_at(app, f"203.0.113.{number + 1}")
        statuses.append(login_with_form(attacker, admin.email, WRONG).status_code)
        frozen.advance(20)
    # Five guesses are judged; then unknown clients wait, with a growing interval.
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) <= {401, 429}
    assert statuses.count(401) < 10
    stranger = client_at(app, "192.0.2.99")
    assert retry_after(login_with_form(stranger, admin.email)) > 0

    # The admin's own browser is judged by its own failures alone: none.
    response = login_with_form(laptop, admin.email)
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200


def test_failures_from_a_device_cookie_count_against_that_cookie_only(app, admin, frozen):
    laptop = client_at(app, "198.51.100.10")
    assert login_with_form(laptop, admin.email).status_code == 302
    post_with_csrf(laptop, "/account", "/logout")
    for _ in range(5):
        assert login_with_form(laptop, admin.email, WRONG).status_code == 401
    assert retry_after(login_with_form(laptop, admin.email)) == 60
    # Neither the account nor the address is slowed down for others by them.
    colleague = client_at(app, "198.51.100.10")
    assert login_with_form(colleague, admin.email).status_code == 302
    frozen.advance(61)
    assert login_with_form(laptop, admin.email).status_code == 302
    fresh()
    devices = db.session.scalars(
        select(LoginAttempt.device).where(
            LoginAttempt.is_success.is_(False), LoginAttempt.is_throttled.is_(False)
        )
    ).all()
    assert len(devices) == 5 and len(set(devices)) == 1 and devices[0] != ""


def test_a_device_cookie_helps_only_the_account_it_was_issued_for(app, admin, frozen):
    other = make_user("reviewer@example.org", role="reviewer")
    db.session.commit()
    browser = client_at(app, "198.51.100.10")
    assert login_with_form(browser, other.email).status_code == 302
    post_with_csrf(browser, "/account", "/logout")
    token = device_cookie_of(browser)
    assert throttle.device_nonce(token, other.email)
    assert throttle.device_nonce(token, admin.email) == ""
    assert throttle.device_nonce(token[:-2] + "xx", other.email) == ""
    assert throttle.device_nonce("garbage", other.email) == ""
    # The cookie does not name the account.
    assert "reviewer" not in token and "example.org" not in token

    for number in range(5):
        login_with_form(client_at(app, f"203.0.113.{number + 1}"), admin.email, WRONG)
    # With the reviewer's cookie, the admin's account is an unknown client's: slowed.
    assert retry_after(login_with_form(browser, admin.email)) > 0


def test_an_old_device_cookie_no_longer_counts(app, admin):
    app.config["LOGIN_DEVICE_COOKIE_DAYS"] = 1

    class TwoDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 86400

    fresh_token = throttle.make_device_token(admin.email)
    payload = URLSafeTimedSerializer(app.secret_key, salt=throttle.DEVICE_SALT).loads(fresh_token)
    old_token = URLSafeTimedSerializer(
        app.secret_key, salt=throttle.DEVICE_SALT, signer=TwoDaysAgo
    ).dumps(payload)
    assert throttle.device_nonce(fresh_token, admin.email) == payload["n"]
    assert throttle.device_nonce(old_token, admin.email) == ""


# -- unknown clients: per account --------------------------------------------------------


def test_unknown_clients_wait_after_five_failures_and_are_never_locked_for_good(app, admin, frozen):
    for number in range(5):
        client = client_at(app, f"203.0.113.{number + 1}")
        assert login_with_form(client, admin.email, WRONG).status_code == 401
    # Even the right password is not judged now, from an unknown client.
    refused = login_with_form(client_at(app, "192.0.2.1"), admin.email)
    assert retry_after(refused) == 60
    assert "Wait 1 minute and try again." in refused.get_data(as_text=True)
    # Other accounts are not affected.
    other = make_user("other@example.org", role="reviewer")
    db.session.commit()
    assert login_with_form(client_at(app, "192.0.2.1"), other.email).status_code == 302
    # When the interval is over, the right password gets in.
    frozen.advance(61)
    assert login_with_form(client_at(app, "192.0.2.1"), admin.email).status_code == 302
    [entry] = [e for e in _audit() if e.action == "login.throttled"]
    assert entry.details["retry_after"] == 60 and entry.details["known_device"] is False


def test_a_success_clears_the_account_count(app, admin, frozen):
    for _ in range(4):
        assert login_with_form(app.test_client(), admin.email, WRONG).status_code == 401
    assert login_with_form(app.test_client(), admin.email).status_code == 302
    for _ in range(4):
        assert login_with_form(app.test_client(), admin.email, WRONG).status_code == 401
    assert login_with_form(app.test_client(), admin.email).status_code == 302


def test_known_and_unknown_accounts_cost_the_same_queries(app, admin, frozen):
    counts = []
    for email in (admin.email, "nobody@example.org", admin.email, "nobody2@example.org"):
        client = app.test_client()
        token = csrf_token_from(client, "/login")
        with QueryCounter() as counter:
            response = client.post(
                "/login", data={"csrf_token": token, "email": email, "password": WRONG}
            )
        assert response.status_code == 401
        counts.append(counter.count)
    assert counts[0] == counts[1] == counts[2] == counts[3]


# -- unknown clients: per address --------------------------------------------------------


def test_per_address_the_answer_is_429_with_a_retry_after_that_grows(app, admin, frozen):
    app.config.update(LOGIN_FAILURES_PER_ADDRESS=3, LOGIN_THROTTLE_MAX_SECONDS=200)
    attacker = client_at(app, "203.0.113.7")
    for number in range(3):
        assert login_with_form(attacker, f"guess{number}@example.org", WRONG).status_code == 401
    waits = [retry_after(login_with_form(attacker, "guess9@example.org", WRONG))]
    for _ in range(3):
        frozen.advance(waits[-1])
        assert login_with_form(attacker, "guess10@example.org", WRONG).status_code == 401
        waits.append(retry_after(login_with_form(attacker, "guess11@example.org", WRONG)))
    assert waits == [60, 120, 200, 200]  # doubled each time, up to the cap
    # Throttled attempts are not counted: hammering does not stretch the wait.
    for _ in range(10):
        assert retry_after(login_with_form(attacker, admin.email)) == 200
    frozen.advance(200)
    assert login_with_form(attacker, admin.email).status_code == 302
    # Another address was never slowed down.
    assert (
        login_with_form(client_at(app, "198.51.100.1"), "x@example.org", WRONG).status_code == 401
    )


def test_behind_a_proxy_each_forwarded_address_counts_on_its_own(
    app, admin, database_url, tmp_path, frozen
):
    settings = {"TRACKER_PROXY_HOPS": 1, "LOGIN_FAILURES_PER_ADDRESS": 3}
    proxied = create_app(make_test_config(database_url, tmp_path / "proxied", **settings))
    proxied.test_client_class = FreshContextClient

    def visitor(address: str):
        client = proxied.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        return client

    first, second = visitor("203.0.113.1"), visitor("203.0.113.2")
    for number in range(3):
        assert login_with_form(first, f"guess{number}@example.org", WRONG).status_code == 401
    assert retry_after(login_with_form(first, "guess3@example.org", WRONG)) == 60
    assert login_with_form(second, "guess4@example.org", WRONG).status_code == 401
    assert login_with_form(second, admin.email).status_code == 302
    fresh()
    addresses = db.session.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)).all()
    assert set(addresses) == {"203.0.113.1", "203.0.113.2"}
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_without_proxy_hops_a_forwarded_address_is_ignored(app, admin, frozen):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    for number in range(3):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{number}"
        login_with_form(client, f"guess{number}@example.org", WRONG)
    forged = app.test_client()
    forged.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.200"
    assert retry_after(login_with_form(forged, "guess9@example.org", WRONG)) == 60


# -- several workers at once -------------------------------------------------------------


def test_the_counters_hold_across_workers(app, admin, database_url, tmp_path):
    """Two app instances stand for two worker processes sharing the database."""
    other_worker = create_app(make_test_config(database_url, tmp_path / "worker2"))
    other_worker.test_client_class = FreshContextClient
    for _ in range(3):
        assert login_with_form(app.test_client(), admin.email, WRONG).status_code == 401
    for _ in range(2):
        assert login_with_form(other_worker.test_client(), admin.email, WRONG).status_code == 401
    assert login_with_form(app.test_client(), admin.email).status_code == 429
    assert login_with_form(other_worker.test_client(), admin.email).status_code == 429
    with other_worker.app_context():
        db.session.remove()
        db.engine.dispose()


def test_parallel_guesses_get_no_more_tries_than_the_limit(app, admin):
    email = admin.email
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token_from(c, "/login") for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client, token):
        start.wait()
        response = client.post(
            "/login", data={"csrf_token": token, "email": email, "password": WRONG}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Serialised (SQLite) exactly five are checked; with true parallelism (PostgreSQL) an
    # attempt that sees the others' pending rows is refused too. Never more than five.
    assert len(statuses) == 12 and set(statuses) <= {401, 429}
    fresh()
    checked = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.is_throttled.is_(False))
    )
    assert checked == statuses.count(401) <= 5


# -- the signed-in user's password checks count too ----------------------------------------


def test_wrong_current_passwords_slow_down_the_password_change(app, admin, frozen):
    client = client_at(app, "198.51.100.10")
    login_with_form(client, admin.email)
    form = {"current_password": WRONG, "new_password": "a new passphrase", "confirm": ""}
    form["confirm"] = form["new_password"]
    for _ in range(5):
        assert post_with_csrf(client, "/account", "/account/password", form).status_code == 400
    response = post_with_csrf(
        client, "/account", "/account/password", {**form, "current_password": PASSWORD}
    )
    assert retry_after(response) == 60
    assert "Wait 1 minute" in response.get_data(as_text=True)
    frozen.advance(61)
    response = post_with_csrf(
        client, "/account", "/account/password", {**form, "current_password": PASSWORD}
    )
    assert response.status_code == 302


def _audit() -> list[AuditEntry]:
    fresh()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
