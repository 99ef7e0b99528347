"""Milestones in Chromium on the served app: an admin adds, changes and archives them on
the measure's admin page, and the public measure page shows what counts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.monitoring.conftest import make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.served]

PLAN = "az-nap-2020-2022"


def add(page, title_az: str, title_en: str, due: str) -> None:
    page.get_by_label("Title in Azerbaijani").fill(title_az)
    page.get_by_label("Title in English (optional)").fill(title_en)
    page.get_by_label("Due date", exact=True).fill(due)
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("The milestone is saved.")).to_be_visible()


def test_admin_edits_milestones_and_the_public_sees_them(served, browser):
    base = served.url
    make_user("admin@example.org", "admin", locale="en")
    db.session.commit()
    admin = browser.new_context().new_page()
    visitor = browser.new_context(java_script_enabled=False).new_page()
    for page in (admin, visitor):
        page.set_default_timeout(15_000)

    log_in(admin, base, "admin@example.org")
    admin.goto(f"{base}/plans/{PLAN}/measures/1.2?lang=en")
    admin.get_by_role("link", name="Edit milestones").click()
    expect(admin.get_by_role("heading", name="Milestones of measure 1.2")).to_be_visible()

    # A milestone without a title is refused beside its field, the page opens on the
    # summary that links to it, and nothing is saved.
    admin.get_by_label("Due date", exact=True).fill("2021-03-31")
    admin.get_by_role("button", name="Add the milestone").click()
    message = "Give the milestone a title in Azerbaijani."
    expect(admin.locator("#title_az-errors")).to_have_text(message)
    expect(admin.locator(".error-summary")).to_be_focused()
    expect(admin.locator(".error-summary").get_by_role("link", name=message)).to_be_visible()
    expect(admin.get_by_text("No milestones recorded.")).to_be_visible()

    add(admin, "Metodika hazırlanıb", "Methodology drafted", "2021-03-31")
    add(admin, "Səhv mərhələ", "Wrong milestone", "2021-04-30")
    add(admin, "Təlim keçirilib", "Training held", "2022-06-30")

    # Change one: it is done.
    admin.get_by_role("link", name="Edit milestone “Metodika hazırlanıb”").click()
    admin.get_by_label("State").select_option("done")
    admin.get_by_role("button", name="Save the milestone").click()
    expect(admin.get_by_text("The milestone is saved.")).to_be_visible()
    # Archive the wrong one: kept on the admin page, gone from the public one.
    admin.locator("tr", has_text="Səhv mərhələ").get_by_role("button", name="Archive").click()
    expect(admin.get_by_text("The milestone is archived.")).to_be_visible()
    expect(admin.locator("tr", has_text="Səhv mərhələ")).to_contain_text("Archived")

    visitor.goto(f"{base}/plans/{PLAN}/measures/1.2?lang=en")
    milestones = visitor.locator("section[aria-labelledby=milestones-heading] li")
    expect(milestones).to_have_count(2)
    expect(milestones.nth(0)).to_contain_text("Methodology drafted")
    expect(milestones.nth(0)).to_contain_text("Done")
    expect(milestones.nth(1)).to_contain_text("Training held")
    # the plan has ended (the served app runs on today's date): a final state, no day count
    expect(milestones.nth(1)).to_contain_text("Not done when the plan ended")
    assert "Wrong milestone" not in visitor.content()
    expect(visitor.get_by_role("link", name="Edit milestones")).to_have_count(0)
    visitor.goto(f"{base}/plans/{PLAN}/measures/1.2?lang=az")
    expect(visitor.get_by_text("Təlim keçirilib")).to_be_visible()
    for page in (admin, visitor):
        page.context.close()
