"""The registry in a real browser, on a phone-sized screen and without JavaScript: no
sideways scrolling, no CSP violation, and the search works.

Chromium runs in a thread of its own: another area's session-wide Playwright may already
be running in the main thread, and Playwright's sync API allows one per thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.registry.conftest import csv_bytes
from tests.registry.survey_export import generate
from tracker.extensions import db
from tracker.models import Measure, Organisation
from tracker.services.importing import import_organisations
from tracker.services.monitoring_links import link_measures

pytestmark = pytest.mark.browser


def in_browser(check, **context_options):
    """Run check(page) in a fresh Chromium on a thread of its own; return its result."""

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(**context_options)
                page = context.new_page()
                page.set_default_timeout(15_000)
                return check(page)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(run).result()


@pytest.fixture
def populated(app, seeded, registry, english):
    assert import_organisations(db.session, csv_bytes(generate(60, seed=4).table), "s.csv").ok
    forum = db.session.scalar(
        db.select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    measures = list(db.session.scalars(db.select(Measure).limit(3)))
    link_measures(db.session, forum, measures, is_lead=True)
    db.session.commit()
    return forum


def test_registry_pages_fit_a_phone_and_break_no_csp_rule(populated, live_server):
    paths = (
        "/registry/",
        f"/registry/{populated.id}",
        "/registry/stats",
        "/registry/coverage",
        "/plans/az-nap-2020-2022/measures/1.1",
    )

    def check(page):
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        widths = {}
        for path in paths:
            page.goto(f"{live_server}{path}?lang=en")
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
        return widths, problems

    widths, problems = in_browser(check, viewport={"width": 390, "height": 844})
    assert all(width <= 390 for width in widths.values()), widths
    # The browser asks for /favicon.ico, which the app does not serve: not our concern.
    assert [p for p in problems if "Failed to load resource" not in p] == []


def test_search_and_filters_work_without_javascript(populated, live_server):
    def check(page):
        page.goto(f"{live_server}/registry/?lang=en")
        page.get_by_label("Search by name or place").fill("MILLI QHT")
        page.get_by_label("Kind").select_option("coalition")
        page.get_by_role("button", name="Search").click()
        names = page.locator(".org-list .org-name").all_inner_texts()
        page.locator(".org-list .org-name").first.click()
        heading = page.get_by_role("heading", name="Measures it monitors").is_visible()
        leads = page.locator(".badge", has_text="Lead monitor").count()
        return names, heading, leads

    names, heading, leads = in_browser(check, java_script_enabled=False)
    assert names == ["National NGO Forum of Azerbaijan"]
    assert heading and leads == 3
