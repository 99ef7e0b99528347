"""Two-step verification on the served app (`tracker serve`: two gunicorn workers and the
scheduler), over real HTTP with a cookie jar per visitor, on the suite's database: a
monitor turns it on from the account page and is told by email; a login then needs a
code; a code wins once even when two browsers send it at the same moment to different
workers; a recovery code works once; wrong codes slow down like wrong passwords; the
administrator's reset lets the password alone in. In Chromium, at a phone's width: the
setup page and the code page, with no axe-core violation. A served app of its own with
TWO_STEP_REQUIRED_ROLES sends a reviewer to the setup until it is on."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.accounts.conftest import PASSWORD, make_organisation, make_user
from tests.conftest import POSTGRES_URL
from tests.monitoring.test_browser_path import log_in
from tests.served.server import email_text, served_app_running
from tracker.extensions import db
from tracker.models import User

pytestmark = pytest.mark.served

KEY = re.compile(r'<code class="setup-key" translate="no">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


MONITOR = "monitor.twostep@example.org"


def _monitor() -> int:
    """The monitor's id, read before the commit: on SQLite, reading the row again after
    it would open a transaction that holds the write lock while the server works."""
    organisation = make_organisation("Şəffaflıq Assosiasiyası")
    user_id = make_user(MONITOR, role="monitor", organisation=organisation).id
    db.session.commit()
    return user_id


def _turn_on(client) -> tuple[str, list[str]]:
    assert (
        client.post_form("/account/two-step", {}, action="/account/two-step/setup").status_code
        == 302
    )
    secret = KEY.search(client.get("/account/two-step").text).group(1).replace(" ", "")
    response = client.post_form(
        "/account/two-step",
        {"code": pyotp.TOTP(secret).now(), "password": PASSWORD},
        action="/account/two-step/on",
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return secret, RECOVERY.findall(response.text)


def _password_step(served, email: str):
    client = served.client()
    response = client.post_form("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    return client


def _code_step(client, code: str):
    return client.post_form("/login/code?lang=en", {"code": code})


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_a_login_needs_the_code_and_a_code_wins_once(served):
    _monitor()
    owner = served.client()
    owner.login(MONITOR, PASSWORD)
    secret, codes = _turn_on(owner)
    assert len(codes) == 10
    # the database holds the key sealed with the served app's TWO_STEP_KEYS
    stored = db.session.scalar(select(User.two_step_secret).where(User.email == MONITOR))
    db.session.rollback()  # on SQLite, the read must not hold the lock while the app works
    assert secret not in stored
    assert Fernet(served.env["TWO_STEP_KEYS"]).decrypt(stored.encode()).decode() == secret
    # the owner is told by email, through the scheduler's mail outbox
    notice = served.email_to(MONITOR, "/password/forgot")
    assert "127.0.0.1" in email_text(notice)
    # this browser stays in; a new login stops at the code
    assert _signed_in(owner)
    visitor = _password_step(served, MONITOR)
    assert not _signed_in(visitor)
    wrong = _code_step(visitor, "000000")
    assert wrong.status_code == 401
    assert "This code is not right, or it was already used." in wrong.text
    in_azerbaijani = visitor.post_form("/login/code?lang=az", {"code": "000000"})
    assert in_azerbaijani.status_code == 401
    assert "Bu kod düzgün deyil və ya artıq istifadə olunub." in in_azerbaijani.text
    # two browsers send the same fresh code at once, to the two workers: one wins. The
    # code of the next time step: the server takes it (clocks drift), and no earlier
    # login has used that step
    first, second = visitor, _password_step(served, MONITOR)
    tokens = [CSRF.search(client.get("/login/code").text).group(1) for client in (first, second)]
    code = pyotp.TOTP(secret).at(time.time() + 30)

    def send(client_and_token):
        client, token = client_and_token
        return client.post("/login/code", data={"csrf_token": token, "code": code}).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(send, zip((first, second), tokens, strict=True)))
    assert statuses == [302, 401], statuses
    assert sorted([_signed_in(first), _signed_in(second)]) == [False, True]


def test_recovery_codes_wrong_codes_and_the_administrators_reset(served):
    user_id = _monitor()
    make_user("admin.twostep@example.org", role="admin")
    db.session.commit()
    owner = served.client()
    owner.login(MONITOR, PASSWORD)
    _secret, codes = _turn_on(owner)
    # a recovery code, typed as it is printed: once
    visitor = _password_step(served, MONITOR)
    assert _code_step(visitor, codes[0]).status_code == 302 and _signed_in(visitor)
    again = _password_step(served, MONITOR)
    assert _code_step(again, codes[0]).status_code == 401
    # wrong codes from an unknown browser: slowed down like wrong passwords
    statuses = [_code_step(again, "111111").status_code for _ in range(5)]
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {401}
    refused = _code_step(again, codes[1])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # the administrator turns it off: the password alone logs in again
    staff = served.client()
    staff.login("admin.twostep@example.org", PASSWORD)
    page = f"/admin/users/{user_id}"
    assert "Turn two-step verification off" in staff.get(f"{page}?lang=en").text
    assert staff.post_form(page, {}, action=f"{page}/two-step/reset").status_code == 302
    assert (
        "Two-step verification turned off by an administrator"
        in staff.get(f"/admin/audit?lang=en&target_type=user&target_id={user_id}").text
    )
    owner.post_form("/account", {}, action="/logout")
    assert owner.login(MONITOR, PASSWORD)


@pytest.mark.browser
def test_setting_it_up_and_logging_in_with_a_code_in_chromium(served, browser):
    _monitor()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, served.url, MONITOR, PASSWORD)
    page.goto(f"{served.url}/account?lang=en")
    page.get_by_role("link", name="Set up two-step verification").click()
    page.get_by_role("button", name="Set up two-step verification").click()
    qr = page.get_by_role("img", name="QR code of the key for your authenticator app")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert Axe().run(page).violations_count == 0, Axe().run(page).generate_report()
    secret = page.locator(".setup-key").inner_text().replace(" ", "")
    page.get_by_label("The six-digit code the app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn two-step verification on").click()
    assert page.locator(".recovery-codes li").count() == 10
    with page.expect_download() as download:
        page.get_by_role("link", name="Download them as a text file").click()
    assert download.value.suggested_filename == "recovery-codes.txt"
    saved = Path(download.value.path()).read_text(encoding="utf-8").split()
    assert page.locator(".recovery-codes code").all_inner_texts() == saved[-10:]
    assert Axe().run(page).violations_count == 0
    context.clear_cookies()  # another day, the browser closed
    page.goto(f"{served.url}/login?lang=en")
    page.get_by_label("Email").fill(MONITOR)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/code")
    code_field = page.get_by_label("Code from your authenticator app, or a recovery code")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    assert page.evaluate("document.activeElement.name") == "code"
    assert Axe().run(page).violations_count == 0
    # the next time step's code: the setup spent this step's
    code_field.fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Log in").last.click()
    page.wait_for_url("**/monitor/")
    context.close()


@pytest.fixture(scope="module")
def served_requiring_two_step(tmp_path_factory, served_smtp):
    """`tracker serve` with TWO_STEP_REQUIRED_ROLES=reviewer,admin, on a database of its own."""
    workdir = tmp_path_factory.mktemp("served-two-step")
    required = {"TWO_STEP_REQUIRED_ROLES": "reviewer,admin"}
    running = served_app_running(workdir, served_smtp, POSTGRES_URL, required)
    with running as served, served.app_context():
        yield served
        db.session.remove()


def test_a_role_that_must_use_it_is_sent_to_the_setup_until_it_is_on(served_requiring_two_step):
    served = served_requiring_two_step
    make_user("reviewer.required@example.org", role="reviewer")
    db.session.commit()
    reviewer = served.client()
    reviewer.login("reviewer.required@example.org", PASSWORD)
    sent = reviewer.get("/review/?lang=en")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/account/two-step")
    as_json = reviewer.get("/review/", headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    assert "needs two-step verification" in as_json.json()["error"]["message"]
    _turn_on(reviewer)
    assert reviewer.get("/review/").status_code == 200
    # the public pages answer a visitor as ever
    assert served.client().get("/").status_code == 200


NEW_KEY, OLD_KEY, LOST_KEY = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture(scope="module")
def served_with_a_new_key(tmp_path_factory, served_smtp):
    """`tracker serve` whose TWO_STEP_KEYS put a new key before the old one."""
    workdir = tmp_path_factory.mktemp("served-new-key")
    keys = {"TWO_STEP_KEYS": f"{NEW_KEY},{OLD_KEY}"}
    running = served_app_running(workdir, served_smtp, POSTGRES_URL, keys)
    with running as served, served.app_context():
        yield served
        db.session.remove()


def _with_two_step_sealed_by(email: str, key: str) -> str:
    secret = pyotp.random_base32()
    user = make_user(email, role="reviewer")
    user.two_step_secret = Fernet(key).encrypt(secret.encode()).decode()
    user.two_step_enabled_dt = datetime.now(UTC)
    return secret


def test_a_new_key_in_front_keeps_codes_and_the_command_reseals(served_with_a_new_key):
    served = served_with_a_new_key
    kept = _with_two_step_sealed_by("kept.key@example.org", OLD_KEY)
    _with_two_step_sealed_by("lost.key@example.org", LOST_KEY)
    db.session.commit()
    # sealed with the old key: the served app still opens it
    kept_client = _password_step(served, "kept.key@example.org")
    assert _code_step(kept_client, pyotp.TOTP(kept).now()).status_code == 302
    assert _signed_in(kept_client)
    # sealed with a key the server no longer has: said in the person's language, 503
    lost_client = _password_step(served, "lost.key@example.org")
    lost = lost_client.post_form("/login/code?lang=az", {"code": "123456"})
    assert lost.status_code == 503
    assert "İki addımlı təsdiq yoxlana bilmir" in lost.text
    assert not _signed_in(lost_client)
    # the operator's command on the server: the kept key moves to the new one, the lost
    # one is named
    resealed = subprocess.run(
        [sys.executable, "-m", "tracker", "reseal-two-step-keys"],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resealed.returncode == 1, resealed.stdout + resealed.stderr
    assert "1 two-step keys sealed with the first key of TWO_STEP_KEYS." in resealed.stdout
    assert "lost.key@example.org" in resealed.stderr
    stored = db.session.scalar(
        select(User.two_step_secret).where(User.email == "kept.key@example.org")
    )
    db.session.rollback()
    assert Fernet(NEW_KEY).decrypt(stored.encode()).decode() == kept
