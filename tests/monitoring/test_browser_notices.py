"""Instant notices in Chromium on the served app (gunicorn and the scheduler): the reviewer
sees the unread count as soon as a monitor submits, and gets the email from the mail-outbox
job; the monitor sees it as soon as the reviewer returns the update. Opening the
notifications page reads them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.monitoring.conftest import make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tests.served.server import email_text
from tracker.extensions import db
from tracker.models import Measure, MonitoringLink

pytestmark = [pytest.mark.browser, pytest.mark.served]


def unread(page):
    return page.locator(".site-nav-wide .unread-count [aria-hidden=true]")


def test_reviewer_and_monitor_see_the_notices_at_once(served, browser):
    base = served.url
    organisation = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    measure = db.session.query(Measure).filter_by(code="1.1").one()
    db.session.add(
        MonitoringLink(
            organisation_id=organisation.id, measure_id=measure.id, start_date=served.today()
        )
    )
    make_user("leyla@example.org", "monitor", organisation, locale="en")
    make_user("reviewer@example.org", "reviewer", locale="en")
    db.session.commit()

    monitor = browser.new_context().new_page()
    reviewer = browser.new_context().new_page()
    for page in (monitor, reviewer):
        page.set_default_timeout(15_000)
    log_in(reviewer, base, "reviewer@example.org")
    reviewer.goto(f"{base}/review/?lang=en")
    expect(unread(reviewer)).to_have_count(0)

    # The monitor submits an update.
    log_in(monitor, base, "leyla@example.org")
    monitor.goto(f"{base}/monitor/?lang=en")
    monitor.get_by_role("link", name="Post an update on measure 1.1").click()
    monitor.get_by_label("Completion", exact=True).select_option("limited")
    monitor.get_by_label("As of").fill(served.today().isoformat())
    monitor.get_by_label("Narrative in English").fill("Work has begun.")
    monitor.get_by_label("Agency inactive").check()
    monitor.locator("#evidence-0-evidence_type").select_option("official_website")
    monitor.locator("#evidence-0-title").fill("Ministry announcement")
    monitor.locator("#evidence-0-evidence_date").fill(served.today().isoformat())
    monitor.locator("#evidence-0-url").fill("https://example.gov.az/announcement")
    monitor.get_by_role("button", name="Submit for review").click()
    expect(monitor.get_by_text("Your update was submitted for review.")).to_be_visible()

    # The reviewer's next page shows one unread notice; the email follows in seconds.
    reviewer.reload()
    expect(unread(reviewer)).to_have_text("1")
    message = served.email_to("reviewer@example.org", "submitted an update")
    assert message["Subject"] == "1.1: Update submitted for review"
    assert f"{base}/review/updates/" in email_text(message)

    # Opening the notifications reads them; the notice leads to the review page.
    reviewer.get_by_role("link", name="Notifications").click()
    expect(reviewer.get_by_text("Transparency Association submitted an update on")).to_be_visible()
    expect(unread(reviewer)).to_have_count(0)
    reviewer.locator(".notification a").first.click()
    reviewer.get_by_label("Comment for the monitor").fill("Cite the ministry's reply.")
    reviewer.get_by_role("button", name="Return to the monitor").click()
    expect(reviewer.get_by_text("The update was returned")).to_be_visible()

    # The monitor sees it on the next page, without waiting for the daily digest.
    monitor.goto(f"{base}/monitor/?lang=en")
    expect(unread(monitor)).to_have_text("1")
    message = served.email_to("leyla@example.org", "returned the update")
    assert "/revise" in email_text(message)
    monitor.get_by_role("link", name="Notifications").click()
    expect(monitor.get_by_text("A reviewer returned the update of")).to_be_visible()
    expect(unread(monitor)).to_have_count(0)
    for page in (monitor, reviewer):
        page.context.close()
