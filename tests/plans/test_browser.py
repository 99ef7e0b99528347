"""The scorecard in a real browser, on the served app: open it, switch the language, open a
measure."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.served]


def test_scorecard_language_switch_and_measure(served, page):
    # The served app runs with the product's default language, Azerbaijani.
    page.goto(served.url + "/")
    assert page.locator("html").get_attribute("lang") == "az"
    assert page.locator("h3[id^=section-]").count() == 9
    assert page.locator(".measure-list li").count() == 64

    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url("**lang=en**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Headline figures").is_visible()

    page.get_by_role("link", name="1.7", exact=True).click()
    assert "/measures/1.7" in page.url
    assert page.locator("h1").inner_text().strip() != ""
    assert page.get_by_text("Recommended to").first.is_visible()
    # The language choice is remembered without ?lang=
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_text("Azerbaijani original").click()
    assert page.get_by_text("161 - qaynar xətt").first.is_visible()


def test_filters_work_without_javascript(served, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served.url + "/?lang=en")
    page.get_by_label("Section", exact=True).select_option("8")
    page.get_by_role("button", name="Apply").click()
    assert page.locator(".measure-list li").count() == 3
    # a search pasted with typographic quotes and an en dash finds what plain words find
    page.goto(served.url + "/?lang=en")
    page.get_by_label("Search", exact=True).fill("“E–Government Information System”")
    page.get_by_role("button", name="Apply").click()
    pasted = page.locator(".measure-list li").all_inner_texts()
    page.get_by_label("Search", exact=True).fill("e-government information system")
    page.get_by_role("button", name="Apply").click()
    assert pasted and pasted == page.locator(".measure-list li").all_inner_texts()
    context.close()
