"""Two-step verification in process: setting it up from the account page (a key shown as a
QR code and as text, confirmed by a code and the password), the login's second step (a
code is good once, a recovery code once, wrong codes are throttled like passwords, the
wait ends after five minutes), a reset link still asks for the code, turning it off, and
the administrator's reset. The served app's own test is tests/served/test_two_step_served.py."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.accounts.conftest import (
    PASSWORD,
    StoppedClock,
    fresh,
    login_with_form,
    make_organisation,
    make_user,
    post_with_csrf,
    text_of,
)
from tests.helpers import csrf_token_from
from tracker import clock
from tracker.config import _instance_secret, build_config
from tracker.extensions import db
from tracker.models import AuditEntry, LoginAttempt, RecoveryCode, User
from tracker.services.accounts import emails, tokens, two_step
from tracker.vocabulary import Purpose

SETTINGS = "/account/two-step"
CODE_PAGE = "/login/code"
KEY = re.compile(r'<code class="setup-key" translate="no">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@pytest.fixture
def wall(monkeypatch) -> StoppedClock:
    wall_clock = StoppedClock()
    monkeypatch.setattr(clock, "real_now_utc", wall_clock)
    return wall_clock


def code_at(secret: str, wall: StoppedClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(wall.moment + timedelta(seconds=30 * steps))


def turn_on(client, wall: StoppedClock) -> tuple[str, list[str]]:
    """Through the pages: start the setup, read the key, confirm with a code."""
    assert post_with_csrf(client, SETTINGS, f"{SETTINGS}/setup").status_code == 302
    page = client.get(SETTINGS).get_data(as_text=True)
    secret = KEY.search(page).group(1).replace(" ", "")
    response = post_with_csrf(
        client, SETTINGS, f"{SETTINGS}/on", {"code": code_at(secret, wall), "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return secret, RECOVERY.findall(response.get_data(as_text=True))


def second_step(client, code: str):
    return post_with_csrf(client, CODE_PAGE, CODE_PAGE, {"code": code})


def is_logged_in(client) -> bool:
    return client.get("/account").status_code == 200


@pytest.fixture
def reviewer(app):
    user = make_user("reviewer@example.org", role="reviewer")
    db.session.commit()
    return user


@pytest.fixture
def with_two_step(app, client, reviewer, wall):
    """The reviewer turned it on and logged out; returns (key, recovery codes)."""
    login_with_form(client, reviewer.email)
    secret, codes = turn_on(client, wall)
    post_with_csrf(client, "/account", "/logout")
    wall.advance(30)  # the next code
    return secret, codes


def test_setting_it_up_shows_the_key_and_turns_on_with_a_code_and_the_password(
    app, client, reviewer, wall
):
    login_with_form(client, reviewer.email)
    page = client.get("/account").get_data(as_text=True)
    assert "Set up two-step verification" in page
    post_with_csrf(client, SETTINGS, f"{SETTINGS}/setup")
    response = client.get(SETTINGS)
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert '<svg width="' in page and "<title>QR code of the key" in page
    secret = KEY.search(page).group(1).replace(" ", "")
    fresh()
    assert db.session.get(User, reviewer.id).has_two_step is False
    # a wrong code, then a wrong password: nothing turns on, the problem is beside its field
    wrong = post_with_csrf(
        client, SETTINGS, f"{SETTINGS}/on", {"code": "000000", "password": PASSWORD}
    )
    assert wrong.status_code == 400
    assert "This code does not match the key" in wrong.get_data(as_text=True)
    bad_password = post_with_csrf(
        client, SETTINGS, f"{SETTINGS}/on", {"code": code_at(secret, wall), "password": "nope"}
    )
    assert bad_password.status_code == 400
    assert "The current password is not correct." in bad_password.get_data(as_text=True)
    fresh()
    assert db.session.get(User, reviewer.id).two_step_enabled_dt is None
    done = post_with_csrf(
        client, SETTINGS, f"{SETTINGS}/on", {"code": code_at(secret, wall), "password": PASSWORD}
    )
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    fresh()
    user = db.session.get(User, reviewer.id)
    assert user.has_two_step
    stored = db.session.scalars(select(RecoveryCode.code_digest)).all()
    assert len(stored) == 10 and not {code.replace("-", "") for code in codes} & set(stored)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "two_step.enabled" in actions
    # this browser stays logged in; the account page says it is on
    assert "Recovery codes, or turn it off" in client.get("/account").get_data(as_text=True)


def test_turning_it_on_logs_out_every_other_session(app, client, reviewer, wall):
    other = app.test_client()
    login_with_form(other, reviewer.email)
    login_with_form(client, reviewer.email)
    turn_on(client, wall)
    assert is_logged_in(client)
    assert not is_logged_in(other)


def test_a_login_asks_for_the_code_after_the_password(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    response = login_with_form(client, reviewer.email)
    assert response.status_code == 302 and response.headers["Location"].endswith(CODE_PAGE)
    assert not is_logged_in(client)
    wrong = second_step(client, "123456")
    assert wrong.status_code == 401
    assert "This code is not right, or it was already used." in wrong.get_data(as_text=True)
    assert "123456" not in wrong.get_data(as_text=True)  # the box is empty for the next try
    assert not is_logged_in(client)
    right = second_step(client, code_at(secret, wall))
    assert right.status_code == 302 and right.headers["Location"].endswith("/review/")
    assert is_logged_in(client)
    fresh()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "login.success").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.details == {"second_step": "app"}


def test_a_code_in_other_digits_or_letters_is_a_wrong_code_not_an_error(
    app, client, reviewer, with_two_step
):
    login_with_form(client, reviewer.email)
    for typed in ("١٢٣٤٥٦", "１２３４５６", "ǅǅǅǅǅǅǅǅǅǅ", "x" * 64):
        response = second_step(client, typed)
        assert response.status_code == 401, typed
        assert "This code is not right" in response.get_data(as_text=True)


def test_the_code_page_speaks_azerbaijani_by_default(app, client, reviewer, with_two_step):
    login_with_form(client, reviewer.email)
    page = client.get(f"{CODE_PAGE}?lang=az").get_data(as_text=True)
    assert 'lang="az"' in page and "İki addımlı təsdiq" in page


def test_a_code_is_good_once(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    code = code_at(secret, wall)
    login_with_form(client, reviewer.email)
    assert second_step(client, code).status_code == 302
    again = app.test_client()
    login_with_form(again, reviewer.email)
    assert second_step(again, code).status_code == 401
    # an earlier step's code after a later one: refused too
    assert second_step(again, code_at(secret, wall, steps=-1)).status_code == 401
    wall.advance(30)
    assert second_step(again, code_at(secret, wall)).status_code == 302


def test_a_recovery_code_logs_in_once(app, client, reviewer, with_two_step):
    _secret, codes = with_two_step
    login_with_form(client, reviewer.email)
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 302
    assert "You used a recovery code; 9 are left." in client.get("/review/").get_data(as_text=True)
    fresh()
    assert two_step.recovery_codes_left(db.session, db.session.get(User, reviewer.id)) == 9
    again = app.test_client()
    login_with_form(again, reviewer.email)
    assert second_step(again, codes[0]).status_code == 401
    assert second_step(again, codes[1]).status_code == 302


def test_wrong_codes_are_throttled_like_wrong_passwords(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    login_with_form(client, reviewer.email)
    statuses = [second_step(client, "000000").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = second_step(client, code_at(secret, wall))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert not is_logged_in(client)


def test_the_wait_for_the_code_ends_after_five_minutes(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    login_with_form(client, reviewer.email)
    token = csrf_token_from(client, CODE_PAGE)
    wall.advance(301)
    response = client.post(CODE_PAGE, data={"csrf_token": token, "code": code_at(secret, wall)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not is_logged_in(client)
    assert "the time to type the code ran out" in client.get("/login").get_data(as_text=True)


def test_a_password_reset_link_still_asks_for_the_code(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    token = tokens.make_token(db.session.get(User, reviewer.id), Purpose.PASSWORD_RESET)
    link = f"/password/reset/{token}"
    new_password = "a new and long passphrase"
    response = post_with_csrf(
        client, link, link, {"password": new_password, "confirm": new_password}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(CODE_PAGE)
    assert not is_logged_in(client)
    done = second_step(client, code_at(secret, wall))
    assert done.status_code == 302
    assert "Your password is changed." in client.get("/account").get_data(as_text=True)


def test_turning_it_off_takes_the_password(app, client, reviewer, with_two_step, wall):
    secret, _codes = with_two_step
    login_with_form(client, reviewer.email)
    second_step(client, code_at(secret, wall))
    refused = post_with_csrf(client, SETTINGS, f"{SETTINGS}/off", {"off-password": "nope"})
    assert refused.status_code == 400
    assert "The current password is not correct." in refused.get_data(as_text=True)
    done = post_with_csrf(client, SETTINGS, f"{SETTINGS}/off", {"off-password": PASSWORD})
    assert done.status_code == 302
    fresh()
    user = db.session.get(User, reviewer.id)
    assert not user.has_two_step and user.two_step_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == []
    post_with_csrf(client, "/account", "/logout")
    response = login_with_form(client, reviewer.email)
    assert response.headers["Location"].endswith("/review/")


def test_new_recovery_codes_replace_the_old_ones(app, client, reviewer, with_two_step, wall):
    secret, old_codes = with_two_step
    login_with_form(client, reviewer.email)
    second_step(client, code_at(secret, wall))
    response = post_with_csrf(
        client, SETTINGS, f"{SETTINGS}/recovery-codes", {"codes-password": PASSWORD}
    )
    new_codes = RECOVERY.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    post_with_csrf(client, "/account", "/logout")
    login_with_form(client, reviewer.email)
    assert second_step(client, old_codes[0]).status_code == 401
    assert second_step(client, new_codes[0]).status_code == 302


def test_the_users_list_shows_who_uses_it(app, client, reviewer, with_two_step):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    login_with_form(client, admin.email)
    page = client.get("/admin/users?lang=en").get_data(as_text=True)
    rows = {
        email: cells
        for email, cells in re.findall(
            r'<tr>\s*<td><a href="/admin/users/\d+">([^<]+)</a>(.*?)</tr>', page, re.S
        )
    }
    assert "<td>On</td>" in rows[reviewer.email] and "<td>Off</td>" in rows[admin.email]


def test_an_administrator_turns_it_off_for_a_locked_out_person(
    app, client, reviewer, with_two_step
):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    login_with_form(client, admin.email)
    page = f"/admin/users/{reviewer.id}"
    assert "Turn two-step verification off" in client.get(page).get_data(as_text=True)
    response = post_with_csrf(client, page, f"{page}/two-step/reset")
    assert response.status_code == 302
    fresh()
    assert not db.session.get(User, reviewer.id).has_two_step
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "two_step.reset")
    ).one()
    assert entry.actor_id == admin.id
    # a second reset: nothing to turn off, said so
    again = post_with_csrf(client, page, f"{page}/two-step/reset")
    assert again.status_code == 409
    assert "Two-step verification is off for this account." in again.get_data(as_text=True)
    other = app.test_client()
    assert login_with_form(other, reviewer.email).headers["Location"].endswith("/review/")


def test_stopping_a_setup_leaves_it_off(app, client, reviewer):
    login_with_form(client, reviewer.email)
    post_with_csrf(client, SETTINGS, f"{SETTINGS}/setup")
    assert post_with_csrf(client, SETTINGS, f"{SETTINGS}/cancel").status_code == 302
    fresh()
    assert db.session.get(User, reviewer.id).two_step_secret is None
    assert "Set up two-step verification" in client.get(SETTINGS).get_data(as_text=True)


def test_the_command_line_turns_it_off_for_a_locked_out_administrator(
    app, runner, client, reviewer, with_two_step
):
    result = runner.invoke(args=["reset-two-step", "Reviewer@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Two-step verification is off for reviewer@example.org" in result.output
    fresh()
    assert not db.session.get(User, reviewer.id).has_two_step
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "two_step.reset")
    ).one()
    assert entry.actor_id is None and entry.actor_label == "system"
    assert login_with_form(client, reviewer.email).headers["Location"].endswith("/review/")
    # again, or for an unknown email: a message and exit code 1, nothing written
    for args in (["reset-two-step", reviewer.email], ["reset-two-step", "nobody@example.org"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1
        assert "Error:" in refused.output


def test_the_owner_gets_an_email_of_every_change_to_the_accounts_security(
    app, client, reviewer, wall, mail_on
):
    # in the owner's language, with the time and the address it came from; through the
    # mail outbox (the scheduler's job, run here once) to a real SMTP server
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    login_with_form(client, reviewer.email)
    turn_on(client, wall)
    post_with_csrf(client, SETTINGS, f"{SETTINGS}/recovery-codes", {"codes-password": PASSWORD})
    post_with_csrf(client, SETTINGS, f"{SETTINGS}/off", {"off-password": PASSWORD})
    new_password = "another long passphrase"
    data = {"current_password": PASSWORD, "new_password": new_password, "confirm": new_password}
    post_with_csrf(client, "/account", "/account/password", data)
    fresh()
    db.session.get(User, reviewer.id).locale = "az"
    db.session.commit()
    emails.deliver_account_mail(db.session)
    subjects = [message["Subject"] for message in mail_on.messages]
    assert subjects == [
        "Hesabınız üçün iki addımlı təsdiq aktivdir",
        "Hesabınız üçün yeni bərpa kodları",
        "Hesabınız üçün iki addımlı təsdiq sönülüdür",
        "Hesabınızın şifrəsi dəyişdirildi",
    ]
    text = text_of(mail_on.messages[0])
    assert "reviewer@example.org hesabınız üçün iki addımlı təsdiq aktivləşdirildi" in text
    assert "Ünvan: 198.51.100.7" in text and "/password/forgot" in text
    assert all(message["To"] == reviewer.email for message in mail_on.messages)


def test_the_administrators_reset_is_emailed_to_the_owner(
    app, client, reviewer, with_two_step, mail_on
):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    login_with_form(client, admin.email)
    page = f"/admin/users/{reviewer.id}"
    post_with_csrf(client, page, f"{page}/two-step/reset")
    emails.deliver_account_mail(db.session)
    [message] = [m for m in mail_on.messages if "turned off" in text_of(m)]
    assert message["To"] == reviewer.email
    assert "From the address" not in text_of(message)


@pytest.fixture
def required_for_staff(app):
    app.config["TWO_STEP_REQUIRED_ROLES"] = ("reviewer", "admin")


def test_a_role_that_must_use_it_goes_to_the_setup_until_it_is_on(
    app, client, reviewer, wall, required_for_staff
):
    login_with_form(client, reviewer.email)
    response = client.get("/review/")
    assert response.status_code == 302 and response.headers["Location"].endswith(SETTINGS)
    as_json = client.get("/review/", headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    assert as_json.get_json()["error"]["message"].startswith("Your role needs two-step")
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "Your role needs two-step verification. Set it up to go on" in page
    assert "Your role (Reviewer (Open Government Platform)) needs two-step verification." in page
    turn_on(client, wall)
    assert client.get("/review/").status_code == 200
    # and it stays on: no form to turn it off, and the action refuses
    assert "Turn two-step verification off" not in client.get(SETTINGS).get_data(as_text=True)
    refused = post_with_csrf(client, SETTINGS, f"{SETTINGS}/off", {"off-password": PASSWORD})
    assert refused.status_code == 302
    assert "it stays on" in client.get(SETTINGS).get_data(as_text=True)
    fresh()
    assert db.session.get(User, reviewer.id).has_two_step


def test_other_roles_are_not_sent_to_the_setup(app, client, required_for_staff):
    organisation = make_organisation("Monitor Birliyi")
    monitor = make_user("monitor@example.org", role="monitor", organisation=organisation)
    db.session.commit()
    login_with_form(client, monitor.email)
    assert client.get("/monitor/").status_code == 200


def test_an_unknown_role_in_the_setting_stops_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("TWO_STEP_REQUIRED_ROLES", "admin, auditor")
    with pytest.raises(ValueError, match="unknown role 'auditor'"):
        build_config(tmp_path)
    monkeypatch.setenv("TWO_STEP_REQUIRED_ROLES", " Admin ,reviewer")
    assert build_config(tmp_path)["TWO_STEP_REQUIRED_ROLES"] == ("admin", "reviewer")


# -- the authenticator keys are kept sealed --------------------------------------------

OTHER_KEY = Fernet.generate_key().decode()


def _stored_secret(user: User) -> str:
    fresh()
    return db.session.scalar(select(User.two_step_secret).where(User.id == user.id))


def _login_with_code(app, user: User, code: str):
    client = app.test_client()
    login_with_form(client, user.email)
    return second_step(client, code)


def test_the_key_is_kept_sealed_with_a_key_outside_the_database(app, reviewer, with_two_step):
    secret, _codes = with_two_step
    stored = _stored_secret(reviewer)
    assert secret not in stored and len(stored) > 100
    [seal_key] = app.config["TWO_STEP_KEYS"]
    assert Fernet(seal_key).decrypt(stored.encode()).decode() == secret


def test_a_new_key_in_front_keeps_the_codes_and_reseal_moves_every_key_to_it(
    app, runner, reviewer, with_two_step, wall
):
    secret, _codes = with_two_step
    [old_key] = app.config["TWO_STEP_KEYS"]
    app.config["TWO_STEP_KEYS"] = (OTHER_KEY, old_key)
    assert _login_with_code(app, reviewer, code_at(secret, wall)).status_code == 302
    result = runner.invoke(args=["reseal-two-step-keys"])
    assert result.exit_code == 0, result.output
    assert "1 two-step keys sealed with the first key of TWO_STEP_KEYS." in result.output
    assert Fernet(OTHER_KEY).decrypt(_stored_secret(reviewer).encode()).decode() == secret
    app.config["TWO_STEP_KEYS"] = (OTHER_KEY,)  # the old key can go now
    wall.advance(30)
    assert _login_with_code(app, reviewer, code_at(secret, wall)).status_code == 302


def test_a_key_the_server_cannot_open_is_said_and_not_counted_against_the_person(
    app, runner, reviewer, with_two_step, wall
):
    secret, _codes = with_two_step
    app.config["TWO_STEP_KEYS"] = (OTHER_KEY,)
    fresh()
    attempts_before = db.session.scalar(select(func.count(LoginAttempt.id)))
    client = app.test_client()
    login_with_form(client, reviewer.email)
    for _try in range(6):  # more than the throttle allows: none of them counts
        refused = second_step(client, code_at(secret, wall))
        assert refused.status_code == 503
        assert "cannot be checked: the server cannot read your account" in refused.get_data(
            as_text=True
        )
    fresh()
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == attempts_before
    assert not is_logged_in(client)
    # the command names the account it cannot open, and changes nothing
    stored = _stored_secret(reviewer)
    result = runner.invoke(args=["reseal-two-step-keys"])
    assert result.exit_code == 1
    assert "1 could not be opened with any key of TWO_STEP_KEYS: reviewer@example.org" in (
        result.output
    )
    assert _stored_secret(reviewer) == stored
    # the way out: the administrator's reset, then the password alone and a new setup
    assert runner.invoke(args=["reset-two-step", reviewer.email]).exit_code == 0
    again = app.test_client()
    assert login_with_form(again, reviewer.email).headers["Location"].endswith("/review/")
    turn_on(again, wall)


def test_a_setup_sealed_with_a_key_that_is_gone_starts_again(app, client, reviewer, wall):
    login_with_form(client, reviewer.email)
    post_with_csrf(client, SETTINGS, f"{SETTINGS}/setup")
    app.config["TWO_STEP_KEYS"] = (OTHER_KEY,)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert KEY.search(page.get_data(as_text=True)) is None
    turn_on(client, wall)  # a new key, sealed with the key the server has now


def test_the_sealing_key_comes_from_the_environment_or_once_from_the_instance(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("TWO_STEP_KEYS", raising=False)
    first = build_config(tmp_path)["TWO_STEP_KEYS"]
    assert build_config(tmp_path)["TWO_STEP_KEYS"] == first
    key_file = tmp_path / "two_step_key"
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert first == (key_file.read_text().strip(),)
    monkeypatch.setenv("TWO_STEP_KEYS", f" {OTHER_KEY} , {first[0]}")
    assert build_config(tmp_path)["TWO_STEP_KEYS"] == (OTHER_KEY, first[0])
    monkeypatch.setenv("TWO_STEP_KEYS", f"{OTHER_KEY},not-a-key")
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        build_config(tmp_path)


def test_workers_starting_together_keep_one_instance_key(tmp_path):
    # each worker makes its own key slowly; the one written first is everyone's
    def slow_key() -> str:
        time.sleep(0.05)
        return Fernet.generate_key().decode()

    path = tmp_path / "two_step_key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _n: _instance_secret(path, slow_key), range(8)))
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two_step_key"]


def test_new_two_step_key_prints_a_key_the_setting_takes(runner, monkeypatch, tmp_path):
    result = runner.invoke(args=["new-two-step-key"])
    assert result.exit_code == 0
    key = result.output.strip()
    monkeypatch.setenv("TWO_STEP_KEYS", key)
    assert build_config(tmp_path)["TWO_STEP_KEYS"] == (key,)
