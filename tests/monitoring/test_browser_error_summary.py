"""A form that comes back with errors, in Chromium on the served app: the page opens on a
summary of what to fix, each error a link that takes the keyboard to its field (the
pattern of the GOV.UK Design System), in the reader's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.monitoring.conftest import link, make_organisation, make_update, make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db
from tracker.models import Measure

pytestmark = [pytest.mark.browser, pytest.mark.served]


def test_the_update_form_opens_on_a_summary_whose_links_lead_to_the_fields(served, browser):
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    make_user("monitor@example.org", "monitor", organisation, locale="az")
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    link(organisation, measure)
    measure_id = measure.id
    db.session.commit()  # and no more reads: an open read would hold SQLite's lock

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, "monitor@example.org")
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=az")
    # the server's checks, not the browser's: no level, a percentage out of range, no
    # narrative, and evidence with a title but no type
    page.evaluate("document.querySelector('form.update-form').noValidate = true")
    page.locator("#progress_percent").fill("150")
    page.locator("#evidence-0-title").fill("Nazirliyin cavabı")
    page.locator("input[name=submit_for_review]").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Bəzi sahələrə diqqət yetirmək lazımdır.")
    links = summary.get_by_role("link")
    targets = [target.get_attribute("href") for target in links.all()]
    assert targets[:3] == ["#completion", "#progress_percent", "#narrative_az"], targets
    assert any(target.startswith("#evidence-0-") for target in targets), targets
    # each link says what its field says, an evidence item's with the item's number
    for target in links.all():
        field_id = target.get_attribute("href")[1:]
        said = page.locator(f"#{field_id}-errors li").first.inner_text()
        if field_id.startswith("evidence-0-"):
            assert target.inner_text() == f"Sübut elementi 1: {said}"
        else:
            assert target.inner_text() == said
    links.first.click()
    expect(page.locator("#completion")).to_be_focused()
    # sent again from there, the page opens on the new summary, not on the field the
    # address's #completion names: the form posts to its address without the fragment
    page.evaluate("document.querySelector('form.update-form').noValidate = true")
    page.locator("input[name=submit_for_review]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    assert "#" not in page.url, page.url
    page.context.close()


def test_the_review_form_opens_on_a_summary_when_a_return_has_no_reason(served, browser):
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    monitor = make_user("monitor@example.org", "monitor", organisation, locale="az")
    make_user("reviewer@example.org", "reviewer", locale="az")
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    update_id = make_update(measure, monitor, "submitted").id
    db.session.commit()  # and no more reads: an open read would hold SQLite's lock

    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, "reviewer@example.org")
    page.goto(f"{served.url}/review/updates/{update_id}?lang=az")
    page.locator("button[name=return_update], input[name=return_update]").focus()
    page.keyboard.press("Enter")

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#comment")
    # the address the form posted to, opened again, leads back to the update
    page.goto(page.url)
    assert page.url.endswith(f"/review/updates/{update_id}"), page.url
    page.context.close()
