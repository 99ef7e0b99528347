"""As a new visitor would: download the reports from the served app's pages in a real
browser, open them, and find the scorecard's numbers.

A download first shows a page saying the report is being prepared; it reloads itself
(a meta refresh, no JavaScript needed) until the scheduler has built the file, and the
download then starts. The reports conftest's `monitoring` records are written to the
served database (tests.reports.served_world)."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from tests.reports.served_world import PLAN, latest_report_date, seeded, today  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.served]
#: the scheduler builds queued reports every second; a build takes a few seconds
DOWNLOAD_TIMEOUT_MS = 120_000


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
    day_before = latest_report_date(served)
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as download_info:
        page.get_by_role("link", name="Plan progress report, PDF (English)").click()
        page.get_by_role("heading", name="Your report is being prepared").wait_for()
    download = download_info.value
    # The report describes the latest date it may: today as the served app's clock has it
    # (the day may turn between the click and the answer), or the plan's end once passed.
    days = {day_before, latest_report_date(served)}
    assert download.suggested_filename in {f"{PLAN}-{day.isoformat()}-en.pdf" for day in days}
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    reader = PdfReader(path)
    summary = reader.pages[1].extract_text()
    assert figures["Measures"] == "64" and re.search(r"\b64\s+measures", summary)
    # overdue depends on the date: the API's scorecard for the report's date says how many;
    # once the plan has ended, the report (of its last day) counts those not complete then
    as_of = download.suggested_filename.removeprefix(f"{PLAN}-")[:10]
    card = served.client().get(f"/api/v1/scorecard/{PLAN}?as_of={as_of}").json()["summary"]
    if card["is_closed"]:
        late = rf"\b{card['ended_incomplete']}\s+not\s+complete\s+when\s+the\s+plan\s+ended"
        assert card["overdue"] == 0 and re.search(late, summary)
        assert figures["Not complete when the plan ended"] == str(card["ended_incomplete"])
    else:
        assert re.search(rf"\b{card['overdue']}\s+overdue", summary)
    assert re.search(rf"\b{figures['Disputed with the government']}\s+disputed", summary)
    assert figures["Score"].rstrip("%") in summary
    assert figures["Measures with evidence"] in summary
    # the interface is still in English, and the archive link is in the menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports archive").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_archive_form_downloads_without_javascript(monitoring, served, browser, tmp_path):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served.url}/reports/archive?lang=en")
    page.get_by_label("Situation as of").fill("2021-03-01")
    page.get_by_label("Language of the report").select_option("az")
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Download PDF").click()
        # no JavaScript: the page's meta refresh brings the file once it is built
        page.get_by_role("heading", name="Your report is being prepared").wait_for()
    download = download_info.value
    assert download.suggested_filename == f"{PLAN}-2021-03-01-az.pdf"
    path = tmp_path / "report.pdf"
    download.save_as(path)
    content = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Korrupsiyanın qarşısının alınması" in content
    context.close()
