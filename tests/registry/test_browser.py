"""The registry in a real browser on the served app, on a phone-sized screen and without
JavaScript: no sideways scrolling, no CSP violation, and the search works."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from tests.monitoring.test_browser_path import log_in
from tests.registry.conftest import csv_bytes
from tests.registry.survey_export import generate
from tests.served_pages import signed_in_pages
from tracker.extensions import db
from tracker.models import Measure, Organisation
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.links import link_measures

pytestmark = [pytest.mark.browser, pytest.mark.served]


@pytest.fixture
def populated(served):
    """The registry that `serve` seeded, a survey's 60 organisations imported into it, and
    the National NGO Forum leading the monitoring of three measures of the seeded plan."""
    with force_locale("en"):
        assert import_organisations(db.session, csv_bytes(generate(60, seed=4).table), "s.csv").ok
    forum = db.session.scalar(
        db.select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    measures = list(db.session.scalars(db.select(Measure).limit(3)))
    link_measures(db.session, forum, measures, is_lead=True)
    db.session.commit()
    return forum


def test_registry_pages_fit_a_phone_and_break_no_csp_rule(populated, served, browser):
    paths = (
        "/registry/",
        f"/registry/{populated.id}",
        "/registry/stats",
        "/registry/coverage",
        "/plans/az-nap-2020-2022/measures/1.1",
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    widths = {}
    for path in paths:
        page.goto(f"{served.url}{path}?lang=en")
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    context.close()

    assert all(width <= 390 for width in widths.values()), widths
    # The browser asks for /favicon.ico, which the app does not serve: not our concern.
    assert [p for p in problems if "Failed to load resource" not in p] == []


def test_search_and_filters_work_without_javascript(populated, served, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/registry/?lang=en")
    page.get_by_label("Search by name or place").fill("MILLI QHT")
    page.get_by_label("Kind").select_option("coalition")
    page.get_by_role("button", name="Search").click()
    names = page.locator(".org-list .org-name").all_inner_texts()
    page.locator(".org-list .org-name").first.click()
    heading = page.get_by_role("heading", name="Measures it monitors").is_visible()
    leads = page.locator(".badge", has_text="Lead monitor").count()
    context.close()

    assert names == ["National NGO Forum of Azerbaijan"]
    assert heading and leads == 3


def _tile_boxes(page) -> dict[str, dict]:
    tiles = page.locator(".region-map .region-tile")
    return {tile.get_attribute("data-region"): tile.bounding_box() for tile in tiles.all()}


def test_the_region_map_keeps_its_geography_wide_and_its_text_size_on_a_phone(
    populated, served, browser
):
    # The map was a 660-unit SVG scaled to the column: on a phone its region names came
    # out 6 pixels high. Its tiles are now HTML: a grid on a wide screen, a list on a phone
    from tests.test_browser_contrast import _LOW_CONTRAST

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/registry/stats?lang=az")
    boxes = _tile_boxes(page)
    assert len(boxes) == 14
    # Baku east of Absheron-Khizi, Nakhchivan under East Zangezur, Gazakh-Tovuz top left
    assert boxes["baku"]["x"] > boxes["absheron_khizi"]["x"]
    assert boxes["baku"]["y"] == boxes["absheron_khizi"]["y"]
    assert boxes["nakhchivan"]["x"] == boxes["east_zangezur"]["x"]
    assert boxes["nakhchivan"]["y"] > boxes["east_zangezur"]["y"]
    assert min(box["x"] for box in boxes.values()) == boxes["gazakh_tovuz"]["x"]
    assert min(box["y"] for box in boxes.values()) == boxes["gazakh_tovuz"]["y"]
    # the busiest region is the darkest, and every tile's text can be read on its shade
    counts = {
        tile.get_attribute("data-region"): int(tile.locator(".region-count").inner_text())
        for tile in page.locator(".region-map .region-tile").all()
    }
    assert max(counts.values()) > 0, "the imported survey names no region: nothing to shade"
    busiest = max(counts, key=counts.get)
    assert "region-shade-5" in page.locator(f"[data-region={busiest}]").get_attribute("class")
    assert [line for line in page.evaluate(_LOW_CONTRAST) if "region" in line] == []

    page.set_viewport_size({"width": 360, "height": 780})
    sizes = page.locator(".region-map .region-name").evaluate_all(
        "names => names.map(n => parseFloat(getComputedStyle(n).fontSize))"
    )
    assert min(sizes) >= 13, sizes
    assert all(box["x"] + box["width"] <= 360 for box in _tile_boxes(page).values())
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    context.close()


@pytest.mark.parametrize("width", [360, 1366])
def test_the_paired_bar_charts_text_keeps_its_size_inside_the_chart(
    populated, served, browser, width
):
    # The charts were 440-unit drawings scaled to their column: 10-pixel labels on a phone
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/registry/stats?lang=az")
    charts = page.locator("svg.pair-chart")
    assert charts.count() == 8
    for chart in charts.all():
        edges = chart.evaluate(
            """svg => {
              const box = svg.getBoundingClientRect();
              const texts = [...svg.querySelectorAll("text")].map(t => t.getBoundingClientRect());
              return {right: box.right, left: box.left, sizes: texts.map(t => t.height),
                      furthest: Math.max(...texts.map(t => t.right)),
                      nearest: Math.min(...texts.map(t => t.left))};
            }"""
        )
        assert min(edges["sizes"]) >= 13, edges["sizes"]
        assert edges["nearest"] >= edges["left"] - 1
        assert edges["furthest"] <= edges["right"] + 1, edges
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    context.close()


@pytest.mark.parametrize("width", [390, 1366])
def test_an_admin_makes_a_lead_monitor_and_ends_a_link_by_clicking_its_buttons(
    served, browser, width
):
    # the "Make lead monitor" form once lay over the "End link" button at 1366 px, so that
    # a click on "End link" made the organisation lead instead
    links_path = next(
        path for path in signed_in_pages()["admin@example.org"] if path.endswith("/links")
    )
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, "admin@example.org")
    page.goto(f"{served.url}{links_path}?lang=en")
    page.get_by_role("button", name="Make lead monitor").click()
    expect(page.get_by_text("The lead monitor was changed.")).to_be_visible()
    expect(page.locator("tbody .badge")).to_have_text("Lead monitor")
    page.get_by_label("End on").fill("2026-01-31")
    page.get_by_role("button", name="End link").click()
    expect(page.get_by_text("The monitoring link was ended.")).to_be_visible()
    expect(page.locator("tbody td").nth(1)).to_have_text("January 31, 2026")
    page.context.close()
