"""Issue 13, item 4, in Chromium on the served app: the footer says only what the data
holds. Until a reviewer records a claim about the whole plan, neither the footer nor any
measure says the government declared anything; once one is recorded, both show it with
its source. A first attempt with two mistakes names both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.monitoring.conftest import make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.served]

PLAN = "az-nap-2020-2022"
SOURCE = "https://president.az/final-report-2023"


def test_the_footer_and_each_measure_show_a_plan_wide_claim_only_once_recorded(served, browser):
    base = served.url
    make_user("reviewer@example.org", "reviewer")
    db.session.commit()
    visitor = browser.new_context(java_script_enabled=False).new_page()
    reviewer = browser.new_context().new_page()
    for page in (visitor, reviewer):
        page.set_default_timeout(15_000)

    visitor.goto(f"{base}/plans/{PLAN}/measures/1.1?lang=en")
    footer = visitor.locator("footer")
    expect(footer).not_to_contain_text("fully implemented")
    expect(footer).not_to_contain_text("The government's claim")
    expect(visitor.locator("#claims-heading + .side-by-side")).to_contain_text(
        "No government claim recorded yet."
    )

    log_in(reviewer, base, "reviewer@example.org")
    reviewer.goto(f"{base}/plans/{PLAN}/measures/1.1?lang=en")
    reviewer.get_by_role("link", name="Record a claim about the whole plan").click()
    expect(reviewer.get_by_role("heading", level=1)).to_contain_text("the whole plan")
    claimed_day = served.today() - timedelta(days=30)
    claimed_on = claimed_day.isoformat()
    shown_on = f"{claimed_day:%B} {claimed_day.day}, {claimed_day.year}"  # the page's format
    reviewer.get_by_label("Completion the government claims").select_option("complete")
    # a date that does not exist and no source's name: both named by one submission
    reviewer.get_by_label("Date of the claim").fill("2021-02-30")
    reviewer.get_by_label("Link to the source (http:// or https://)").fill(SOURCE)
    reviewer.get_by_role("button", name="Record the claim").click()
    expect(reviewer.locator("#claim_date-errors")).to_have_text(
        "Enter the date as YYYY-MM-DD, for example 2021-06-30."
    )
    expect(reviewer.locator("#source_title-errors")).to_have_text(
        "Name the source: the report, statement or page."
    )
    expect(reviewer.locator(".field-error")).to_have_count(2)
    reviewer.get_by_label("Date of the claim").fill(claimed_on)
    reviewer.get_by_label("Source (report, statement or page)").fill(
        "Final report on the 2020–2022 plan"
    )
    reviewer.get_by_label("Link to the source (http:// or https://)").fill(SOURCE)
    reviewer.get_by_role("button", name="Record the claim").click()
    expect(reviewer.get_by_text("The government's claim was recorded.")).to_be_visible()

    for code in ("1.1", "2.1"):
        visitor.goto(f"{base}/plans/{PLAN}/measures/{code}?lang=en")
        expect(footer).to_contain_text(
            f"The government's claim about the 2020–2022 plan: Complete ({shown_on})."
        )
        expect(
            footer.get_by_role("link", name="Final report on the 2020–2022 plan")
        ).to_have_attribute("href", SOURCE)
        card = visitor.locator("#claims-heading + .side-by-side .card").first
        expect(card).to_contain_text("Claimed for the whole plan")
        expect(
            card.get_by_role("link", name="Final report on the 2020–2022 plan")
        ).to_have_attribute("href", SOURCE)
    # the Azerbaijani interface says it too
    visitor.goto(f"{base}/plans/{PLAN}/measures/1.1?lang=az")
    expect(footer.get_by_role("link", name="Final report on the 2020–2022 plan")).to_be_visible()
