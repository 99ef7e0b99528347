"""The invite form in Chromium on the served app: no role is chosen until the admin
chooses one (least privilege), and a monitor without an organisation is told so beside
the organisation field, not under the email."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.monitoring.conftest import make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db
from tracker.models import User

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

    # Sent without a role: refused, beside the role.
    page.get_by_label("Email").fill("new-monitor@example.org")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#role-errors")).to_contain_text("Choose a role.")

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
