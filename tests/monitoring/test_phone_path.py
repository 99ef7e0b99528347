"""The whole monitor → reviewer → public path in Azerbaijani on a 390 px-wide phone, on the
served app: a monitor posts an update, a reviewer returns it with one comment box, the monitor
revises it, the reviewer approves it, and a visitor reads it on the measure page. On every page
of the path nothing is wider than the screen, and the folded menu keeps the header small.

Each page is also saved as a screenshot (in the test's folder, or in PHONE_SCREENSHOTS when
that is set) for people to look at; the assertions do not read the pictures."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.monitoring.conftest import PASSWORD, link, make_organisation, make_user
from tracker.extensions import db
from tracker.models import Measure

pytestmark = [pytest.mark.browser, pytest.mark.served]

PLAN = "az-nap-2020-2022"
PHONE = {"width": 390, "height": 844}


class Walk:
    """A phone-sized page of one person, that checks and photographs each step."""

    def __init__(self, browser, base: str, folder: Path, who: str) -> None:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.base, self.folder, self.who = base, folder, who
        self.step = 0

    def check(self, name: str, menu_open: bool = False) -> None:
        """Nothing on the page is wider than the phone, and the header stays small while
        the menu is folded."""
        page = self.page
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{self.who}/{name}: the page is {width} px wide"
        header = page.locator(".site-header").bounding_box()
        if not menu_open:
            assert header["height"] < 0.25 * PHONE["height"], f"{self.who}/{name}: {header}"
        assert page.locator("html").get_attribute("lang") == "az"
        self.step += 1
        page.screenshot(path=self.folder / f"{self.who}-{self.step:02d}-{name}.png", full_page=True)

    def log_in(self, email: str) -> None:
        self.page.goto(f"{self.base}/login?lang=az")
        self.check("login")
        self.page.locator("input[name=email]").fill(email)
        self.page.locator("input[name=password]").fill(PASSWORD)
        self.page.locator("form button[type=submit], form input[type=submit]").last.click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("PHONE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_monitor_reviewer_and_public_path_in_azerbaijani_on_a_phone(served, browser, screenshots):
    base = served.url
    as_of = (served.today() - timedelta(days=3)).isoformat()
    organisation = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    make_user("monitor@example.org", "monitor", organisation, locale="az")
    make_user("reviewer@example.org", "reviewer", locale="az")
    measure = db.session.query(Measure).filter_by(code="1.1").one()
    link(organisation, measure)
    measure_id = measure.id
    db.session.commit()  # and no read after it: on SQLite it would hold off the server's writes

    monitor = Walk(browser, base, screenshots, "monitor")
    reviewer = Walk(browser, base, screenshots, "reviewer")
    visitor = Walk(browser, base, screenshots, "public")

    # The monitor opens the menu, finds the measure and posts an update.
    monitor.log_in("monitor@example.org")
    monitor.page.goto(f"{base}/monitor/")
    monitor.check("my-measures")
    monitor.page.locator("details.nav-menu > summary").click()
    expect(monitor.page.locator("details.nav-menu nav")).to_be_visible()
    monitor.check("menu-open", menu_open=True)
    monitor.page.goto(f"{base}/monitor/measures/{measure_id}/updates/new")
    monitor.check("update-form")
    form = monitor.page
    form.locator("select[name=completion]").select_option("limited")
    form.locator("input[name=progress_percent]").fill("30")
    form.locator("input[name=as_of_date]").fill(as_of)
    form.locator("textarea[name=narrative_az]").fill("Metodologiya hələ layihə mərhələsindədir.")
    # past its due date, a measure not complete needs a reason for the delay
    form.locator("input[name=delay_reasons][value=agency_inactive]").check()
    form.locator("#evidence-0-evidence_type").select_option("official_website")
    form.locator("#evidence-0-title").fill("Nazirliyin elanı")
    form.locator("#evidence-0-evidence_date").fill(as_of)
    form.locator("#evidence-0-url").fill("https://example.gov.az/elan")
    form.locator("[name=submit_for_review]").click()
    form.wait_for_url(re.compile(r"/monitor/updates/\d+"))
    monitor.check("submitted")
    first_id = int(re.search(r"/monitor/updates/(\d+)", form.url).group(1))

    # The reviewer sees the count, opens the update and returns it with the one box.
    reviewer.log_in("reviewer@example.org")
    reviewer.page.goto(f"{base}/review/")
    reviewer.check("queue")
    reviewer.page.goto(f"{base}/review/updates/{first_id}")
    reviewer.check("review")
    reviewer.page.locator("textarea[name=comment]").fill("Nazirliyin cavabını əlavə edin.")
    reviewer.page.locator("[name=return_update]").click()
    reviewer.check("returned")

    # The monitor reads the reason and revises.
    monitor.page.goto(f"{base}/monitor/")
    expect(monitor.page.get_by_text("Nazirliyin cavabını əlavə edin.")).to_be_visible()
    monitor.check("returned-seen")
    monitor.page.locator(f"a[href*='/monitor/updates/{first_id}/revise']").first.click()
    monitor.check("revise-form")
    monitor.page.locator("textarea[name=narrative_az]").fill(
        "Metodologiya hələ layihədir; nazirlik bunu yazılı təsdiqlədi."
    )
    monitor.page.locator("[name=submit_for_review]").click()
    monitor.page.wait_for_url(re.compile(r"/monitor/updates/\d+"))
    second_id = int(re.search(r"/monitor/updates/(\d+)", monitor.page.url).group(1))
    assert second_id != first_id

    # The reviewer sees what changed and approves.
    reviewer.page.goto(f"{base}/review/updates/{second_id}")
    expect(reviewer.page.locator("section.review-diff ins").first).to_be_visible()
    reviewer.check("diff")
    reviewer.page.locator("[name=approve]").click()
    reviewer.check("approved")

    # The public reads it under the organisation's name, never the person's.
    visitor.page.goto(f"{base}/?lang=az")
    visitor.check("scorecard")
    visitor.page.goto(f"{base}/plans/{PLAN}/measures/1.1?lang=az")
    visitor.check("measure")
    updates = visitor.page.locator("section[aria-labelledby=updates-heading]")
    expect(updates.get_by_text("Şəffaflıq Assosiasiyası").first).to_be_visible()
    expect(updates.get_by_text("nazirlik bunu yazılı təsdiqlədi")).to_be_visible()
    html = visitor.page.content()
    assert "monitor@example.org" not in html and "reviewer@example.org" not in html
    for walk in (monitor, reviewer, visitor):
        walk.page.context.close()
