"""Admin pages in Chromium on the served app. The invite form: no role is chosen until the
admin chooses one (least privilege), an address that has an account is said at once with
the form's own mistakes, and a monitor without an organisation is told so beside the
organisation field, not under the email. The audit log: translated action
names and measure codes, and dates and emails that never break inside a word."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.monitoring.conftest import make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db
from tracker.models import Measure, User
from tracker.services import audit

pytestmark = [pytest.mark.browser, pytest.mark.served]


def test_the_invite_form_starts_without_a_role_and_places_the_organisation_error(served, page):
    make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    make_user("admin@example.org", "admin")
    db.session.commit()
    log_in(page, served.url, "admin@example.org")
    page.goto(f"{served.url}/admin/users/invite?lang=en")
    role = page.get_by_label("Role")
    expect(role).to_have_value("")
    assert role.evaluate("select => select.selectedOptions[0].text") == "Choose a role"

    # Sent without a role, to an address that has an account: both said at once.
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#role-errors")).to_have_text("Choose a role.")
    expect(page.locator("#email-errors")).to_have_text(
        "An account with this email address already exists."
    )

    # Sent without a role: refused, beside the role.
    page.get_by_label("Email").fill("new-monitor@example.org")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#role-errors")).to_contain_text("Choose a role.")
    assert page.locator("#email-errors").count() == 0

    # A monitor without an organisation: the message stands under the organisation field.
    page.get_by_label("Role").select_option("monitor")
    page.get_by_role("button", name="Send the invitation").click()
    errors = page.locator("#organisation_id-errors")
    expect(errors).to_contain_text("A monitor must belong to an organisation.")
    assert page.locator("#email-errors").count() == 0
    organisation = page.locator("#organisation_id").bounding_box()
    email = page.locator("#email").bounding_box()
    language = page.locator("#locale").bounding_box()
    box = errors.bounding_box()
    assert organisation["y"] + organisation["height"] <= box["y"] < language["y"]
    assert box["y"] > email["y"] + email["height"]
    expect(page.locator("#organisation_id")).to_have_attribute("aria-invalid", "true")
    # what was typed and chosen is kept, and nobody was invited
    expect(page.get_by_label("Email")).to_have_value("new-monitor@example.org")
    expect(page.get_by_label("Role")).to_have_value("monitor")
    db.session.commit()
    invited = select(func.count()).select_from(User).where(User.email.like("new-monitor%"))
    assert db.session.scalar(invited) == 0


def _one_line(locator) -> bool:
    """The element's text takes a single line box."""
    return locator.evaluate(
        "e => e.getClientRects().length === 1 && e.getBoundingClientRect().height"
        " < 1.6 * parseFloat(getComputedStyle(e).fontSize)"
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_the_audit_log_names_actions_and_measures_and_keeps_words_whole(served, browser, width):
    make_user("admin@example.org", "admin")
    organisation = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    measure = db.session.scalars(select(Measure).order_by(Measure.position)).first()
    code = measure.code
    audit.record(
        db.session,
        "link.lead_set",
        "monitoring_link",
        1,
        actor=None,
        details={
            "measure_id": measure.id,
            "organisation_id": organisation.id,
            "start_date": "2026-12-01",
            "email": "a-rather-long-address-for-a-narrow-column@example.org",
        },
    )
    db.session.commit()
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, "admin@example.org")
    page.goto(f"{served.url}/admin/audit?action=link.lead_set&lang=en")
    row = page.locator("table.audit-table tbody tr").first
    expect(row).to_contain_text("Lead organisation set")
    expect(row.locator("[data-action]")).not_to_have_text("link.lead_set")
    expect(row.get_by_role("link", name=code, exact=True)).to_be_visible()
    expect(row).to_contain_text("Transparency Association")
    assert "measure_id" not in row.inner_text()
    assert _one_line(row.locator("time"))
    # a day is written as the page's dates are; an address is never broken at its dots
    expect(row.locator(".audit-details")).to_contain_text("December 1, 2026")
    assert "2026-12-01" not in row.inner_text()
    address = "a-rather-long-address-for-a-narrow-column@example.org"
    assert _one_line(row.locator(".audit-details span", has_text=address)), address
    page.context.close()
