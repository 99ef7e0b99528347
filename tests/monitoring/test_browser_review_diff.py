"""The review page in Chromium on the served app: the reviewer sees what a revision
changed (escaped) and decides with the page's one text box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.monitoring.conftest import make_organisation, make_update, make_user
from tests.monitoring.test_browser_path import log_in
from tests.monitoring.test_review_diff import PAYLOAD
from tracker.extensions import db
from tracker.models import Measure, ReviewDecision, StatusUpdate

pytestmark = [pytest.mark.browser, pytest.mark.served]


def test_reviewer_sees_the_diff_and_returns_with_one_box(served, browser):
    base = served.url
    organisation = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    monitor = make_user("leyla@example.org", "monitor", organisation)
    make_user("reviewer@example.org", "reviewer", locale="en")
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    first = make_update(
        measure,
        monitor,
        "returned",
        narrative="The ministry drafted the methodology.",
        evidence=[{"title": "Old letter", "url": "https://example.gov.az/old"}],
    )
    second = make_update(
        measure,
        monitor,
        "submitted",
        completion="substantial",
        narrative=f"The ministry adopted the methodology {PAYLOAD}.",
        replaces_id=first.id,
        evidence=[{"title": "Ministry reply", "url": "https://example.gov.az/reply"}],
    )
    first_id, second_id = first.id, second.id
    db.session.commit()

    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, base, "reviewer@example.org")
    page.goto(f"{base}/review/updates/{second_id}?lang=en")
    diff = page.locator(".review-diff")
    expect(
        diff.get_by_role("heading", name=f"What changed since update #{first_id}")
    ).to_be_visible()
    expect(diff.locator("del", has_text="drafted")).to_be_visible()
    expect(diff.locator("ins", has_text="adopted")).to_be_visible()
    expect(diff.locator("ins", has_text="Substantial")).to_be_visible()
    expect(diff.get_by_text("Removed: Old letter")).to_be_visible()
    expect(diff.get_by_text("Added: Ministry reply")).to_be_visible()
    expect(diff.get_by_text(PAYLOAD)).to_be_visible()  # shown as text, never run
    assert dialogs == []

    assert page.locator("textarea").count() == 1
    page.get_by_label("Comment for the monitor").fill("Please cite the ministry's letter number.")
    page.get_by_role("button", name="Return to the monitor").click()
    expect(
        page.get_by_text("The update was returned to the monitor with your reason.")
    ).to_be_visible()
    page.context.close()

    db.session.rollback()
    returned = db.session.get(StatusUpdate, second_id)
    assert returned.review_state == "returned"
    assert returned.return_reason == "Please cite the ministry's letter number."
    assert [d.comment for d in db.session.scalars(select(ReviewDecision))] == [
        "Please cite the ministry's letter number."
    ]
    db.session.commit()
