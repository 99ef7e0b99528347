"""Report downloads on the served app (gunicorn workers and the scheduler) over HTTP: the
web request only queues the report and says it is being prepared; the scheduler's job
builds it; the same address then serves the PDF, from the cache for every later visitor.
Dates outside the plan get a clear 400."""

from __future__ import annotations

import io
import re

import pytest
from defusedxml import ElementTree as SafeET
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import poll_report
from tests.reports.conftest import SECRET_MARKERS
from tests.reports.served_world import PLAN, latest_report_date, seeded, today  # noqa: F401
from tracker.extensions import db
from tracker.models import ReportRequest
from tracker.vocabulary import ReportRequestStatus

pytestmark = pytest.mark.served


def test_the_scheduler_builds_the_report_and_the_page_then_serves_it(served, monitoring):
    url = f"/reports/plan/{PLAN}.pdf?as_of=2021-06-30&lang=en"
    visitor = served.client()
    first = visitor.get(url)
    assert first.status_code == 202
    assert '<meta http-equiv="refresh"' in first.text
    # a visitor who never chose a language (a shared link) reads it in the report's
    assert "Your report is being prepared" in first.text
    # one who chose Azerbaijani keeps it: ?lang= here is the report's language
    chose_az = served.client()
    chose_az.get("/?lang=az")
    assert "Hesabatınız hazırlanır" in chose_az.get(url).text
    served_pdf = poll_report(visitor, url)
    assert served_pdf.status_code == 200
    assert served_pdf.headers["Content-Type"] == "application/pdf"
    assert served_pdf.headers["Content-Disposition"] == (
        f'attachment; filename="{PLAN}-2021-06-30-en.pdf"'
    )
    reader = PdfReader(io.BytesIO(served_pdf.content))
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert "Plan progress report" in content and "As of June 30, 2021" in content
    for marker in SECRET_MARKERS:
        assert marker not in content
    # another visitor gets the cached file at once: one request row, built once
    again = served.client().get(url)
    assert again.status_code == 200 and again.content == served_pdf.content
    rows = db.session.execute(select(ReportRequest.status)).scalars().all()
    db.session.commit()
    assert rows == [ReportRequestStatus.READY]


def test_the_default_date_is_the_latest_the_plan_allows(served, monitoring):
    url = f"/reports/plan/{PLAN}/section/1.pdf?lang=en"
    response = poll_report(served.client(), url)
    assert response.status_code == 200
    day = latest_report_date(served).isoformat()
    assert response.headers["Content-Disposition"].endswith(f'-section-1-{day}-en.pdf"')
    content = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Section report" in content


def test_dates_outside_the_plan_are_a_clear_400(served, monitoring):
    visitor = served.client()
    before = visitor.get(f"/reports/plan/{PLAN}.pdf?as_of=2019-06-30&lang=en")
    assert before.status_code == 400 and "The plan starts on" in before.text
    message = re.search(r"The plan starts on [^<]*\.", before.text).group()
    # the API and the files refuse it the same way
    api = visitor.get(f"/api/v1/measures?plan={PLAN}&as_of=2019-06-30&lang=en")
    assert api.status_code == 400 and api.json()["error"]["message"] == message
    csv = visitor.get(f"/data/measures.csv?plan={PLAN}&as_of=2019-06-30&lang=en")
    assert csv.status_code == 400 and message in csv.text
    after = visitor.get(f"/reports/plan/{PLAN}.pdf?as_of=2023-01-02&lang=en")
    assert after.status_code == 400
    assert "The plan ended on" in after.text or "in the future" in after.text
    rows = db.session.execute(select(ReportRequest.id)).all()
    db.session.commit()
    assert rows == []


def test_the_apis_overdue_filter_is_the_scorecards_deadline_filter(served, monitoring):
    # the served app runs on the real clock: the plan has ended
    visitor = served.client()

    def page(deadline: str) -> set[str]:
        html = visitor.get(f"/plans/{PLAN}/?overdue={deadline}").text
        return set(re.findall(rf'/plans/{PLAN}/measures/(\d+\.\d+)"', html))

    def api(overdue: str) -> set[str]:
        found = visitor.get(f"/api/v1/measures?plan={PLAN}&per_page=500&overdue={overdue}")
        return {m["code"] for m in found.json()["measures"]}

    late = page("yes")
    assert len(late) == 62 and api("true") == late
    assert page("no") == api("false") == {"2.1", "4.3"}
    # a filter naming nothing the plan has is refused, as the page refuses it
    for query, status in (("section=99", 400), ("agency=no-such-agency", 400)):
        assert visitor.get(f"/plans/{PLAN}/?{query}").status_code == 400
        assert visitor.get(f"/api/v1/measures?plan={PLAN}&{query}").status_code == status
    assert visitor.get(f"/api/v1/measures?plan={PLAN}&organisation=999999").status_code == 404


@pytest.mark.parametrize(("lang", "november"), [("az", "noyabr 2022"), ("en", "November 2022")])
def test_the_scorecards_months_are_named_over_http(served, monitoring, lang, november):
    """The month-by-month chart and its table name the months as people write them, in the
    page's language ("noyabr 2022"), not as ISO 8601 ("2022-11")."""
    html = served.client().get(f"/plans/{PLAN}/?lang={lang}").text
    progress = html.split('id="progress-heading"')[1].split("</section>")[0]
    assert f">{november}</text>" in progress  # the chart's label
    assert f"<title>{november}: " in progress  # a bar's title, read by screen readers
    assert f'<time datetime="2022-11-30">{november}</time>' in progress  # the table
    assert not re.search(r">20[0-9]{2}-[0-9]{2}[<:]", progress)


def test_the_feeds_write_dates_and_links_in_their_language_over_http(served, monitoring):
    site = served.url
    atom = "{http://www.w3.org/2005/Atom}"
    feed_url = f"/plans/{PLAN}/measures/1.1/feed.atom"
    firsts = {}
    for lang, query in (("en", "?lang=en"), ("az", "")):
        response = served.client().get(feed_url + query)
        assert response.status_code == 200
        feed = SafeET.fromstring(response.content)
        entry = feed.find(f"{atom}entry")
        firsts[lang] = entry.findtext(f"{atom}content").splitlines()[0]
        assert entry.find(f"{atom}link").get("href") == f"{site}/plans/{PLAN}/measures/1.1{query}"
    assert firsts == {"en": "As of May 1, 2021.", "az": "1 may 2021 tarixinə."}
    for query in ("?lang=en", ""):
        response = served.client().get(f"/calendar/plan/{PLAN}.ics{query}")
        assert response.status_code == 200
        events = Calendar.from_ical(response.content).walk("VEVENT")
        urls = [str(e["URL"]) for e in events]
        assert f"{site}/plans/{PLAN}/measures/1.1{query}" in urls
        assert all(("lang=" in url) == bool(query) for url in urls)
    en_page = served.client().get("/calendar/?lang=en").text
    assert f"{site}/calendar/plan/{PLAN}.ics?lang=en" in en_page
    az_page = served.client().get("/calendar/").text
    assert f'"{site}/calendar/plan/{PLAN}.ics"' in az_page
