"""Every signed-in page fits a 320 px phone (WCAG 2.1, 1.4.10 Reflow) in both languages:
the monitor's, the reviewer's and the admin's, with an update, a proposed claim and a
milestone in the data so that their pages have something to show. A wide table scrolls
in its own box, so it does not count. A fieldset, a decision's card and a long email in a
heading once reached past the screen."""

from __future__ import annotations

import pytest

from tests.monitoring.test_browser_path import log_in
from tests.served_pages import signed_in_pages
from tests.test_browser_layout import _FIRST_TOO_WIDE

pytestmark = [pytest.mark.browser, pytest.mark.served]

WCAG_REFLOW = {"width": 320, "height": 640}


@pytest.mark.parametrize("lang", ["az", "en"])
def test_every_signed_in_page_fits_a_320_px_phone(served, browser, lang):
    too_wide = {}
    for email, paths in signed_in_pages().items():
        context = browser.new_context(viewport=WCAG_REFLOW)
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, served.url, email)
        for path in paths:
            response = page.goto(f"{served.url}{path}?lang={lang}")
            assert response.status == 200, path
            if page.evaluate("document.scrollingElement.scrollWidth") > WCAG_REFLOW["width"]:
                too_wide[path] = " ".join(
                    page.evaluate(_FIRST_TOO_WIDE, WCAG_REFLOW["width"]).split()
                )
        context.close()
    assert not too_wide, "\n".join(f"{path}: {what}" for path, what in too_wide.items())
