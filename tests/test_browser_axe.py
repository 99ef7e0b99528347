"""axe-core, the accessibility engine that GOV.UK and others run in CI, over one page of
every kind in Chromium on the served app: the public pages and each role's signed-in
pages, in both languages, on a wide screen and a phone. The rules are WCAG 2.2 A and AA
and axe's best practices (a page has one main heading and landmarks, headings go in
order, ids are unique, every control has a name, a box that scrolls takes the focus). A
page passes with no violation at all."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

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
