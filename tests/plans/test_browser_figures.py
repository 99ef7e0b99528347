"""The public figures in Chromium on the served app (real clock: the 2020–2022 plan has
ended): the headline score shows its basis, shares take each language's decimal sign on
the page and in the PDF alike, and a closed plan shows each measure's final state instead
of counting days."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import make_organisation, make_update
from tests.helpers import poll_report
from tracker.extensions import db
from tracker.models import Measure, Organisation
from tracker.vocabulary import Completion

pytestmark = [pytest.mark.browser, pytest.mark.served]

PLAN = "az-nap-2020-2022"


def _one_limited_assessment() -> None:
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    organisation = make_organisation("Şəffaflıq Assosiasiyası", name_en="Transparency Association")
    make_update(measure, organisation, Completion.LIMITED, date(2022, 6, 1))
    db.session.commit()  # the server sees it


def test_headline_score_shows_its_basis_on_the_page_and_in_the_api(served, page):
    _one_limited_assessment()
    page.goto(served.url + "/?lang=en")
    score = page.locator(".figure-score")
    assert score.inner_text().split() == ["33.3%", "Score", "(1", "of", "64", "assessed)"]
    data = served.client().get(f"/api/v1/scorecard/{PLAN}").json()
    assert data["summary"]["score"] == 33.3
    assert (data["summary"]["scored"], data["summary"]["total"]) == (1, 64)


@pytest.mark.parametrize(
    ("lang", "score", "evidence"), [("az", "33,3", "1,6"), ("en", "33.3", "1.6")]
)
def test_shares_take_the_languages_decimal_sign_on_the_page_and_in_the_pdf(
    served, page, lang, score, evidence
):
    # 1 of 64 measures has evidence: 1.5625 %, shown to one decimal. Azerbaijani writes
    # "33,3%" (the mapping report itself writes "56,3 %"); the page once wrote "33.3%"
    # in both languages while the PDF wrote "33,3"
    _one_limited_assessment()
    page.goto(f"{served.url}/?lang={lang}")
    figures = page.locator(".figures .value").all_inner_texts()
    assert f"{score}%" in figures and f"{evidence}%" in figures, figures
    response = poll_report(served.client(), f"/reports/plan/{PLAN}.pdf?lang={lang}")
    assert response.status_code == 200
    content = "\n".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    assert score in content and f"{evidence}%" in content
    other = "." if lang == "az" else ","
    assert f"33{other}3" not in content and f"1{other}6%" not in content


def test_a_closed_plan_shows_final_states_not_days_overdue(served, page):
    _one_limited_assessment()
    page.goto(served.url + f"/plans/{PLAN}/?lang=en")
    badges = page.locator(".measure-list .badge-overdue")
    assert badges.count() == 64
    assert set(badges.all_inner_texts()) == {"Not complete when the plan ended (December 31, 2022)"}
    assert page.get_by_text("Overdue by").count() == 0
    figures = page.locator(".figures").inner_text()
    assert "Not complete when the plan ended" in figures
    assert "Overdue" not in figures

    page.get_by_role("link", name="1.1", exact=True).click()
    facts = page.locator("dl.facts").inner_text()
    assert "Not complete when the plan ended (December 31, 2022)" in facts
    assert "Overdue" not in facts
    data = served.client().get(f"/api/v1/scorecard/{PLAN}").json()
    assert data["summary"]["is_closed"] is True
    assert data["summary"]["overdue"] == 0
    assert data["summary"]["ended_incomplete"] == 64

    # the PDF (of the plan's last day) and the measures file give the same final figure
    client = served.client()
    response = poll_report(client, f"/reports/plan/{PLAN}.pdf?lang=en")
    assert response.status_code == 200
    summary = PdfReader(BytesIO(response.content)).pages[1].extract_text()
    assert re.search(r"\b64\s+not\s+complete\s+when\s+the\s+plan\s+ended", summary)
    assert not re.search(r"\d+\s+overdue", summary)
    rows = list(csv.DictReader(io.StringIO(client.get("/data/measures.csv").text)))
    assert sum(row["ended_incomplete"] == "true" for row in rows) == 64


def test_scorecard_filters_dispute_monitoring_and_organisation(served, page):
    from tests.factories import make_claim
    from tracker.services.registry.links import link_measures

    measure_1_1 = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    measure_3_1 = db.session.scalar(select(Measure).where(Measure.code == "3.1"))
    watchdog = make_organisation("Şəffaflıq Assosiasiyası", name_en="Transparency Association")
    make_claim(measure_1_1, Completion.COMPLETE, date(2022, 12, 1))
    make_update(measure_1_1, watchdog, Completion.LIMITED, date(2022, 11, 1))
    link_measures(db.session, watchdog, [measure_3_1])
    db.session.commit()

    page.goto(served.url + "/?lang=en")
    page.locator(".figure-disputed .value a").click()
    page.wait_for_url("**disputed=yes**")
    assert page.locator(".measure-list li").count() == 1
    item = page.locator(".measure-list li").first
    assert item.get_by_role("link", name="1.1", exact=True).is_visible()
    assert "Last updated: December 1, 2022" in item.inner_text()

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Monitoring organisation").select_option(label="Transparency Association")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**organisation=**")
    assert page.locator(".measure-list li").all_inner_texts()[0].startswith("3.1")
    assert page.locator(".measure-list li").count() == 1

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Monitoring", exact=True).select_option(label="Not monitored")
    page.get_by_role("button", name="Apply").click()
    assert page.locator(".measure-list li").count() == 63

    response = page.goto(served.url + "/?lang=en&disputed=perhaps")
    assert response.status == 400
    assert page.get_by_text("Choose one of the options in the list.").first.is_visible()


def test_follow_a_measure_and_an_organisation_by_their_feeds(served, page):
    from defusedxml import ElementTree as SafeET

    atom = "{http://www.w3.org/2005/Atom}"
    _one_limited_assessment()
    page.goto(served.url + f"/plans/{PLAN}/measures/1.1?lang=en")
    link = page.get_by_role("link", name="Follow (Atom feed)")
    assert link.is_visible()
    alternate = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    assert alternate.get_attribute("href") == link.get_attribute("href")
    # a feed reader has a cookie jar of its own: the address gives it the page's language
    response = served.client().get(link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = SafeET.fromstring(response.content)
    titles = [e.findtext(f"{atom}title") for e in feed.findall(f"{atom}entry")]
    assert titles == ["1.1 · Transparency Association: Limited"]
    author = feed.find(f"{atom}entry/{atom}author/{atom}name").text
    assert author == "Transparency Association"
    assert feed.find(f"{atom}link[@rel='self']").get("href").startswith(served.url)
    # and its entries open the English page
    entry_link = feed.find(f"{atom}entry/{atom}link").get("href")
    assert entry_link == f"{served.url}/plans/{PLAN}/measures/1.1?lang=en"

    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Şəffaflıq Assosiasiyası")
    )
    page.goto(served.url + f"/registry/{organisation.id}?lang=en")
    follow = page.get_by_role("link", name="Follow (Atom feed)")
    assert follow.is_visible()
    body = page.request.get(served.url + follow.get_attribute("href")).body()
    assert len(SafeET.fromstring(body).findall(f"{atom}entry")) == 1
    # the Azerbaijani page (the default) gives the default feed, whose links need no ?lang=
    page.goto(served.url + f"/registry/{organisation.id}?lang=az")
    href = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute(
        "href"
    )
    assert href == f"/registry/{organisation.id}/feed.atom"
    feed = SafeET.fromstring(served.client().get(href).content)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "az"
    links = [link.get("href") for link in feed.iter(f"{atom}link")]
    assert len(links) == 3 and all("?" not in link for link in links), links


def test_progress_chart_and_what_changed_between_two_dates(served, page):
    _one_limited_assessment()  # 1.1, limited, as of 2022-06-01
    page.goto(served.url + f"/plans/{PLAN}/?lang=en")
    progress = page.locator("section", has=page.locator("#progress-heading"))
    chart = progress.locator("svg.bar-chart")
    assert chart.get_attribute("role") == "img"
    # the plan has ended: the chart stops at its last month, and says so
    assert "Each bar is a month of the plan" in progress.locator("figcaption").inner_text()
    assert "the current month" not in progress.inner_text()
    assert chart.locator("text").count() == 36  # the plan's months, January 2020 … December 2022
    assert chart.locator("text").first.inner_html() == "January 2020"
    progress.get_by_text("The figures as a table").click()
    june = progress.locator("tr", has=page.locator('time[datetime="2022-06-30"]'))
    assert "1" in june.locator("td").all_inner_texts()  # one limited measure from June 2022
    may = progress.locator("tr", has=page.locator('time[datetime="2022-05-31"]'))
    assert may.locator("td").all_inner_texts()[0] == "64"  # all without evidence

    progress.get_by_role("link", name="What changed since").click()
    page.wait_for_url("**/changes**")
    page.get_by_label("Since").fill("2022-01-01")
    page.get_by_label("Until").fill("2022-12-31")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.changes tbody tr")
    assert rows.count() == 1
    assert "Transparency Association" in rows.first.inner_text()
    page.get_by_label("Since").fill("2022-07-01")
    page.get_by_role("button", name="Show").click()
    assert page.locator("table.changes").count() == 0
    assert page.get_by_text("0 changes.").is_visible()
    page.get_by_label("Until").fill("2022-01-01")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_text("The end date must not be before the start date.").is_visible()


def test_the_new_public_pages_fit_a_phone(served, browser):
    _one_limited_assessment()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    widths = {}
    for path in ("/", f"/plans/{PLAN}/changes", f"/plans/{PLAN}/measures/1.1"):
        for lang in ("az", "en"):
            page.goto(f"{served.url}{path}?lang={lang}")
            widths[f"{path} {lang}"] = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert all(width <= 390 for width in widths.values()), widths


_CHART_GEOMETRY = """svg => {
    const texts = [...svg.querySelectorAll(':scope > text')];
    const rects = [...svg.querySelectorAll('rect')];
    const box = svg.getBoundingClientRect();
    return {
        svgLeft: box.left, svgRight: box.right,
        fontPixels: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize)
            * t.getScreenCTM().a)),
        labelRight: Math.max(...texts.filter(t => t.getAttribute('text-anchor') === 'end')
            .map(t => t.getBoundingClientRect().right)),
        labelLeft: Math.min(...texts.map(t => t.getBoundingClientRect().left)),
        barLeft: Math.min(...rects.map(r => r.getBoundingClientRect().left)),
        rightmost: Math.max(...texts.concat(rects).map(e => e.getBoundingClientRect().right)),
    };
}"""


@pytest.mark.parametrize("width", [360, 1366])
def test_the_charts_text_keeps_its_size_and_place_on_a_phone_and_a_wide_screen(
    served, browser, width
):
    # The charts were 640-unit drawings scaled to their column: on a phone the section
    # numbers and month labels came out 6 to 8 pixels high
    _one_limited_assessment()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{served.url}/plans/{PLAN}/?lang=az")
    for heading in ("#chart-heading", "#progress-heading"):
        chart = page.locator("section", has=page.locator(heading)).locator("svg.bar-chart")
        geometry = chart.evaluate(_CHART_GEOMETRY)
        assert geometry["fontPixels"] >= 11, (heading, geometry)
        assert geometry["labelLeft"] >= geometry["svgLeft"] - 0.5, (heading, geometry)
        assert geometry["labelRight"] <= geometry["barLeft"], (heading, geometry)
        assert geometry["rightmost"] <= geometry["svgRight"] + 0.5, (heading, geometry)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
