"""The warning before a signed-in session ends (WCAG 2.2.1), in Chromium on the served app,
with the page's clock moved forward by Playwright: the warning opens five minutes before
the idle limit, "Stay logged in" (or Escape) asks the server to start the idle time again,
the absolute limit is announced and cannot be stretched, a session that has ended
leaves the page, and what was typed in it, where it was, and activity in another tab of
the session moves the warning of a tab left open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.monitoring.test_browser_path import log_in
from tests.served_pages import signed_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.served]

NARRATIVE = "The ministry published the methodology on its website in June."


def _update_form(served, browser):
    """A monitor on a new update's form, with the page's clock under the test's control."""
    form_path = next(path for path in signed_in_pages()["monitor@example.org"] if "/new" in path)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.clock.install()
    log_in(page, served.url, "monitor@example.org")
    return page, f"{served.url}{form_path}?lang=en"


def test_the_warning_opens_before_the_idle_limit_and_stay_logged_in_keeps_the_session(
    served, browser
):
    page, form = _update_form(served, browser)
    page.goto(form)
    page.locator("#narrative_en").fill(NARRATIVE)
    dialog = page.locator("#session-timeout")
    page.clock.run_for("07:54:00")  # a monitor's idle limit is 8 hours
    expect(dialog).to_be_hidden()
    page.clock.run_for("01:30")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_accessible_name("You will be logged out soon")
    expect(dialog.locator("#session-idle-text time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    stay = dialog.get_by_role("button", name="Stay logged in")
    expect(stay).to_be_focused()
    with page.expect_response("**/session/keep-alive") as answer:
        stay.click()
    assert answer.value.status == 200
    assert answer.value.json()["idle_seconds"] == 8 * 3600
    expect(dialog).to_be_hidden()
    expect(page.locator("#narrative_en")).to_have_value(NARRATIVE)
    # the next warning comes 8 hours after the keep-alive; Escape also means "stay"
    page.clock.run_for("07:56:00")
    expect(dialog).to_be_visible()
    with page.expect_response("**/session/keep-alive") as answer:
        page.keyboard.press("Escape")
    assert answer.value.status == 200
    expect(dialog).to_be_hidden()
    # the server kept the session: the form is still the monitor's
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("Post an update"))).to_be_visible()
    page.context.close()


def test_the_absolute_limit_is_announced_and_an_ended_session_leaves_the_text(served, browser):
    page, form = _update_form(served, browser)
    # a session ten minutes from its absolute limit (the server's answer, rewritten)
    page.route(
        form,
        lambda route: route.fulfill(
            response=(fetched := route.fetch()),
            body=re.sub(
                r'data-absolute-seconds="\d+"', 'data-absolute-seconds="600"', fetched.text()
            ),
        ),
    )
    page.goto(form)
    page.locator("#narrative_en").fill(NARRATIVE)
    dialog = page.locator("#session-timeout")
    page.clock.run_for("05:30")
    expect(dialog).to_have_accessible_name("Your session ends soon")
    expect(dialog.get_by_role("button", name="Stay logged in")).to_be_hidden()
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog).to_be_hidden()
    page.clock.run_for("04:40")
    expect(dialog).to_have_accessible_name("You have been logged out")
    expect(dialog.get_by_role("link", name="Log in again")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#narrative_en")).to_have_value(NARRATIVE)
    page.context.close()


def test_activity_in_another_tab_moves_the_warning_of_a_tab_left_open(served, browser):
    form_path = next(path for path in signed_in_pages()["monitor@example.org"] if "/new" in path)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.clock.install()
    form = context.new_page()
    form.set_default_timeout(15_000)
    log_in(form, served.url, "monitor@example.org")
    form.goto(f"{served.url}{form_path}?lang=en")
    form.locator("#narrative_en").fill(NARRATIVE)
    dialog = form.locator("#session-timeout")
    context.clock.run_for("04:00:00")
    other = context.new_page()
    other.goto(f"{served.url}/monitor/?lang=en")  # activity: the idle time starts again
    context.clock.run_for("03:56:00")  # the form's own warning would have opened at 7 h 55 min
    expect(dialog).to_be_hidden()
    context.clock.run_for("04:00:00")  # 7 h 56 min after the other tab's page
    expect(dialog).to_have_accessible_name("You will be logged out soon")
    # the other tab stays in use: the form's open warning closes by itself
    other.reload()
    expect(dialog).to_be_hidden()
    expect(form.locator("#narrative_en")).to_have_value(NARRATIVE)
    context.close()
