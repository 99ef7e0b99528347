"""As a new visitor would: download the reports from the served app's pages in a real
browser, open them, and find the scorecard's numbers.

The reports conftest's `monitoring` records are written to the served database: the plan
is the one `serve` seeded, and "today" is the served app's real date."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import ActionPlan

pytestmark = [pytest.mark.browser, pytest.mark.served]
PLAN = "az-nap-2020-2022"


@pytest.fixture
def seeded(served):
    """The plan `serve` seeded (for the `monitoring` fixture): looked up, not seeded again."""
    return db.session.scalar(select(ActionPlan).where(ActionPlan.key == PLAN))


@pytest.fixture
def today(served):
    """The served app runs on the real clock; its config cannot be set per test."""
    return served.today()


def _figures_on_scorecard(page) -> dict[str, str]:
    figures = {}
    for item in page.locator(".figures .figure").all():
        figures[item.locator(".label").inner_text().strip()] = (
            item.locator(".value").inner_text().strip()
        )
    return figures


def test_plan_report_from_the_scorecard_matches_its_figures(monitoring, served, page, tmp_path):
    page.goto(f"{served.url}/plans/{PLAN}/?lang=en")
    figures = _figures_on_scorecard(page)
    day_before = served.today()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Plan progress report, PDF (English)").click()
    download = download_info.value
    # The report describes the situation today, as the served app's clock has it (the day
    # may turn between the click and the answer).
    days = {day_before, served.today()}
    assert download.suggested_filename in {f"{PLAN}-{day.isoformat()}-en.pdf" for day in days}
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    reader = PdfReader(path)
    summary = reader.pages[1].extract_text()
    assert figures["Measures"] == "64" and re.search(r"\b64\s+measures", summary)
    # after the plan's end the scorecard counts what was not complete, not days overdue
    late = figures.get("Overdue") or figures["Not complete when the plan ended"]
    label = "overdue" if "Overdue" in figures else "not complete when the plan ended"
    assert re.search(rf"\b{late}\s+{label}", summary)
    assert re.search(rf"\b{figures['Disputed with the government']}\s+disputed", summary)
    assert figures["Score"].rstrip("%") in summary
    assert figures["Measures with evidence"] in summary
    # the interface is still in English, and the archive link is in the menu
    page.get_by_role("link", name="Reports archive").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_archive_form_downloads_without_javascript(monitoring, served, browser, tmp_path):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served.url}/reports/archive?lang=en")
    page.get_by_label("Situation as of").fill("2021-03-01")
    page.get_by_label("Language of the report").select_option("az")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{PLAN}-2021-03-01-az.pdf"
    path = tmp_path / "report.pdf"
    download.save_as(path)
    content = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Korrupsiyanın qarşısının alınması" in content
    context.close()
