"""The whole monitoring path in Chromium, as new users would walk it on the served app: an
admin invites a monitor (by email) and links the organisation to three measures; the monitor
posts an update with a link and a PDF; a reviewer returns it with a reason; the monitor
revises it; the reviewer approves it and records the government's claim; the public measure
page and the scorecard then show it under the organisation's name, beside the claim.

The served app runs on the real clock, after the 2020–2022 plan has ended: the monitor
reports the measure's state as of today, from evidence of the last weeks, and the
government's claim is a few weeks old."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.monitoring.conftest import PASSWORD, PDF_BYTES, make_organisation, make_user
from tests.served.server import email_link
from tracker.extensions import db
from tracker.models import AuditEntry, ReviewDecision, StatusUpdate, User

pytestmark = [pytest.mark.browser, pytest.mark.served]

PLAN = "az-nap-2020-2022"
MONITOR_EMAIL = "leyla@example.org"
MONITOR_PASSWORD = "a long monitoring passphrase"


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def test_invite_monitor_update_return_revise_approve_and_publish(served, browser):
    base = served.url
    # The plan has ended; the monitor reports on it today (dates as the served app sees them).
    today = served.today()
    as_of = today.isoformat()
    announced_on = (today - timedelta(days=14)).isoformat()
    drafted_on = (today - timedelta(days=26)).isoformat()
    claimed_on = (today - timedelta(days=45)).isoformat()
    organisation = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    organisation_id = organisation.id
    make_user("admin@example.org", "admin")
    make_user("reviewer@example.org", "reviewer")
    db.session.commit()  # the server sees the data; this process holds no lock

    admin = browser.new_context().new_page()
    monitor = browser.new_context().new_page()
    reviewer = browser.new_context().new_page()
    visitor = browser.new_context(java_script_enabled=False).new_page()
    for page in (admin, monitor, reviewer, visitor):
        page.set_default_timeout(15_000)

    # 1. The admin invites the monitor; with mail on, the link goes by email, not on the page.
    log_in(admin, base, "admin@example.org")
    admin.goto(f"{base}/admin/users/invite?lang=en")
    admin.get_by_label("Email").fill(MONITOR_EMAIL)
    admin.get_by_label("Role").select_option("monitor")
    admin.get_by_label("Organisation (monitors only)").select_option(str(organisation_id))
    admin.get_by_role("button", name="Send the invitation").click()
    # The request only plans the email; the scheduler sends it a moment later.
    expect(admin.get_by_text(f"{MONITOR_EMAIL} is invited.")).to_be_visible()
    assert admin.locator(".token-link").count() == 0  # the one-time link is not shown
    invitation = email_link(served.email_to(MONITOR_EMAIL, "/invitation/"), "/invitation/")
    assert "/invitation/" in invitation
    assert invitation.startswith(f"{base}/invitation/")  # PUBLIC_BASE_URL: no rewriting

    # 2. ... and links the organisation to three measures.
    admin.goto(f"{base}/admin/organisations/{organisation_id}/links")
    admin.get_by_label("Measure codes, e.g. 1.1, 2.3").fill("1.1, 1.2, 1.3")
    admin.get_by_role("button", name="Add").click()
    expect(admin.get_by_text("Linked 3 measures")).to_be_visible()

    # 3. The monitor accepts the invitation and lands on the dashboard.
    monitor.goto(invitation + "?lang=en")
    monitor.get_by_label("New password", exact=True).fill(MONITOR_PASSWORD)
    monitor.get_by_label("New password again").fill(MONITOR_PASSWORD)
    monitor.get_by_role("button", name="Save the password").click()
    monitor.goto(f"{base}/monitor/?lang=en")
    expect(monitor.get_by_role("heading", name="My measures")).to_be_visible()
    assert monitor.locator(".monitor-measures > li").count() == 3

    # 4. The monitor posts an update with a link and a PDF, straight to review.
    monitor.get_by_role("link", name="Post an update on measure 1.1").click()
    monitor.get_by_label("Completion", exact=True).select_option("limited")
    monitor.get_by_label("Progress in percent (optional)").fill("40")
    monitor.get_by_label("As of").fill(as_of)
    monitor.get_by_label("Narrative in English").fill("The methodology is still a draft.")
    monitor.get_by_label("Agency inactive").check()
    monitor.locator("#evidence-0-evidence_type").select_option("official_website")
    monitor.locator("#evidence-0-title").fill("Ministry announcement")
    monitor.locator("#evidence-0-evidence_date").fill(announced_on)
    monitor.locator("#evidence-0-url").fill("https://example.gov.az/announcement")
    monitor.locator("#evidence-1-evidence_type").select_option("official_document")
    monitor.locator("#evidence-1-title").fill("Draft methodology")
    monitor.locator("#evidence-1-evidence_date").fill(drafted_on)
    monitor.locator("#evidence-1-file").set_input_files(
        {"name": "methodology.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    monitor.get_by_role("button", name="Submit for review").click()
    expect(monitor.get_by_text("Your update was submitted for review.")).to_be_visible()
    first_id = int(re.search(r"/monitor/updates/(\d+)", monitor.url).group(1))

    # 5. The reviewer sees it waiting and returns it with a reason.
    log_in(reviewer, base, "reviewer@example.org")
    reviewer.goto(f"{base}/review/?lang=en")
    expect(reviewer.get_by_text("1 update is waiting for review.")).to_be_visible()
    reviewer.get_by_role("link", name=f"Review #{first_id}").click()
    expect(reviewer.get_by_text("Draft methodology", exact=True)).to_be_visible()
    assert MONITOR_EMAIL not in reviewer.content()
    reviewer.get_by_label(
        "Comment for the monitor (needed to return the update or to add a comment)"
    ).fill("Please cite the ministry's reply to your request.")
    reviewer.get_by_role("button", name="Return to the monitor").click()
    expect(reviewer.get_by_text("The update was returned")).to_be_visible()

    # 6. The monitor reads the reason, revises (keeping the PDF) and submits again.
    monitor.goto(f"{base}/monitor/")
    expect(monitor.get_by_text("Please cite the ministry's reply to your request.")).to_be_visible()
    monitor.get_by_role("link", name=f"Revise update #{first_id}").click()
    expect(monitor.get_by_label("Draft methodology")).to_be_checked()
    monitor.get_by_label("Narrative in English").fill(
        "The methodology is still a draft; the ministry confirmed it in writing."
    )
    monitor.get_by_role("button", name="Submit for review").click()
    expect(monitor.get_by_text("Your update was submitted for review.")).to_be_visible()
    second_id = int(re.search(r"/monitor/updates/(\d+)", monitor.url).group(1))
    assert second_id != first_id

    # 7. The reviewer approves the revision, then records the government's claim.
    reviewer.goto(f"{base}/review/")
    reviewer.get_by_role("link", name=f"Review #{second_id}").click()
    expect(reviewer.get_by_text(f"The version it replaces: update #{first_id}")).to_be_visible()
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_text("The update was approved and is now public.")).to_be_visible()
    reviewer.goto(f"{base}/plans/{PLAN}/measures/1.1")
    reviewer.get_by_role("link", name="Record a government claim").click()
    reviewer.get_by_label("Completion the government claims").select_option("complete")
    reviewer.get_by_label("Date of the claim").fill(claimed_on)
    reviewer.get_by_label("Source (report, statement or page)").fill("Government progress report")
    reviewer.get_by_label("Link to the source (http:// or https://)").fill(
        "https://example.gov.az/progress"
    )
    reviewer.get_by_role("button", name="Record the claim").click()
    expect(reviewer.get_by_text("The government's claim was recorded.")).to_be_visible()

    # 8. The public sees it under the organisation's name, beside the claim, disputed.
    visitor.goto(f"{base}/plans/{PLAN}/measures/1.1?lang=en")
    updates = visitor.locator("section[aria-labelledby=updates-heading]")
    expect(updates.get_by_role("heading", name="Transparency Association")).to_be_visible()
    expect(updates.get_by_text("the ministry confirmed it in writing")).to_be_visible()
    expect(updates.get_by_role("link", name="Download Draft methodology.pdf")).to_be_visible()
    # the claim card names its source, and so does the list of claims on record
    claims = visitor.locator("section[aria-labelledby=claims-heading]")
    expect(claims.get_by_role("link", name="Government progress report")).to_be_visible()
    on_record = visitor.locator("section[aria-labelledby=claims-history-heading]")
    expect(on_record.get_by_role("link", name="Government progress report")).to_be_visible()
    expect(visitor.get_by_text("Disputed", exact=False).first).to_be_visible()
    html = visitor.content()
    assert MONITOR_EMAIL not in html and "reviewer@example.org" not in html
    assert "The methodology is still a draft.<" not in html  # the returned version is not public

    visitor.goto(f"{base}/?lang=en")
    disputed = visitor.locator(".figure", has_text="Disputed with the government")
    assert disputed.locator(".value").inner_text().strip() == "1"

    for page in (admin, monitor, reviewer, visitor):
        page.context.close()

    # The record behind it: two versions, one returned then archived, one approved.
    db.session.rollback()  # a fresh transaction sees what the server wrote
    monitor_id = db.session.scalar(select(User.id).where(User.email == MONITOR_EMAIL))
    versions = db.session.scalars(select(StatusUpdate).order_by(StatusUpdate.id)).all()
    assert [(v.review_state, v.is_archived) for v in versions] == [
        ("returned", True),
        ("approved", False),
    ]
    assert versions[1].replaces_id == versions[0].id
    assert {v.author_id for v in versions} == {monitor_id}
    assert [d.decision for d in db.session.scalars(select(ReviewDecision))] == [
        "returned",
        "approved",
    ]
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {
        "update.created",
        "update.submitted",
        "update.returned",
        "update.approved",
        "file.uploaded",
        "claim.recorded",
    } <= actions
    db.session.commit()
