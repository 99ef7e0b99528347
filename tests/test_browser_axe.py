"""axe-core, the accessibility engine that GOV.UK and others run in CI, over one page of
every kind in Chromium on the served app: the public pages and each role's signed-in
pages, in both languages, on a wide screen and a phone. The rules are WCAG 2.2 A and AA
and axe's best practices (a page has one main heading and landmarks, headings go in
order, ids are unique, every control has a name, a box that scrolls takes the focus). A
page passes with no violation at all."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.monitoring.test_browser_path import log_in
from tests.served_pages import public_paths, signed_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.served]

RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def _violations(axe: Axe, page) -> list[str]:
    """Each violation as "rule (impact), N× first place: what is wrong"."""
    found = []
    for violation in axe.run(page, options=RULES).response["violations"]:
        node = violation["nodes"][0]
        found.append(
            f"{violation['id']} ({violation['impact']}), {len(violation['nodes'])}× "
            f"{' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}"
        )
    return found


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)], ids=["wide", "phone"])
@pytest.mark.parametrize("lang", ["az", "en"])
def test_axe_finds_no_violation_on_any_page(served, browser, lang, viewport):
    axe = Axe()
    accounts = signed_in_pages()
    found = {}
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(15_000)
    for path in public_paths(served.url):
        page.goto(f"{served.url}{path}?lang={lang}")
        found[path] = _violations(axe, page)
    context.close()
    for email, paths in accounts.items():
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, served.url, email)
        for path in paths:
            page.goto(f"{served.url}{path}?lang={lang}")
            found[path] = _violations(axe, page)
        context.close()
    lines = [f"{path} {violation}" for path, listed in found.items() for violation in listed]
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("lang", ["az", "en"])
def test_axe_finds_no_violation_on_error_pages_and_forms_that_come_back_with_errors(
    served, browser, lang
):
    axe = Axe()
    accounts = signed_in_pages()
    measure_form = next(path for path in accounts["monitor@example.org"] if "/new" in path)
    found = {}
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    for path, status in (
        (f"/plans/az-nap-2020-2022/measures/99.9?lang={lang}", 404),
        (f"/registry/?region=nowhere&lang={lang}", 400),
    ):
        response = page.goto(f"{served.url}{path}")
        assert response.status == status, path
        found[path] = _violations(axe, page)
    page.goto(f"{served.url}/login?lang={lang}")
    page.locator("#email").fill("nobody@example.org")
    page.locator("#password").fill("not the password")
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["/login (wrong password)"] = _violations(axe, page)
    log_in(page, served.url, "monitor@example.org")
    assert page.goto(f"{served.url}/admin/?lang={lang}").status == 403
    found["/admin/ (as a monitor)"] = _violations(axe, page)
    page.goto(f"{served.url}{measure_form}?lang={lang}")
    page.evaluate("document.querySelector('form.update-form').noValidate = true")
    page.locator("input[name=submit_for_review]").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    found[f"{measure_form} (with errors)"] = _violations(axe, page)
    page.context.close()
    lines = [f"{path} {violation}" for path, listed in found.items() for violation in listed]
    assert not lines, "\n".join(lines)
