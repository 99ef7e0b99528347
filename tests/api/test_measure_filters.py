"""/api/v1/measures selects what the scorecard page selects: its overdue= filter is the
page's "Deadline" filter (MeasureFilter.late) while the plan runs and once it has ended,
as_of included; a section the plan does not have and a date before the plan's start are
refused with the messages the pages give."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_update
from tests.reports.conftest import tr
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion

PLAN = "az-nap-2020-2022"
PAGE = f"/plans/{PLAN}/"
#: a day after the plan ended (31 December 2022)
AFTER_THE_END = "2026-11-22"


#: the PDF's refusal of a date before the plan's start, in each language (its date written
#: as every page writes one)
BEFORE_THE_START = {
    "en": "The plan starts on January 1, 2020: choose a date from then.",
    "az": "Plan 1 yanvar 2020 tarixində başlayır: bu tarixdən etibarən bir tarix seçin.",
}


def _before_the_start(lang: str) -> str:
    return BEFORE_THE_START[lang]


def _measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


def _page_codes(client, deadline: str) -> set[str]:
    response = client.get(f"{PAGE}?overdue={deadline}&lang=en")
    assert response.status_code == 200
    return set(re.findall(rf'/plans/{PLAN}/measures/(\d+\.\d+)"', response.get_data(as_text=True)))


def _api(client, query: str) -> list[dict]:
    response = client.get(f"/api/v1/measures?per_page=500&{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["measures"]


def _api_codes(client, query: str) -> set[str]:
    return {m["code"] for m in _api(client, query)}


@pytest.fixture
def deadlines(monitoring):
    """Besides `monitoring`'s complete 2.1 (due 2022): 1.5, due 2020, complete before the
    day the tests run on (2021-06-30); 1.8, due 2020, complete only after it."""
    make_update(_measure("1.5"), monitoring.watchdog, Completion.COMPLETE, date(2021, 2, 1))
    make_update(_measure("1.8"), monitoring.watchdog, Completion.COMPLETE, date(2021, 9, 1))
    db.session.commit()
    return monitoring


def test_overdue_is_the_pages_deadline_filter_while_the_plan_runs(client, deadlines):
    late, on_time = _page_codes(client, "yes"), _page_codes(client, "no")
    assert "1.8" in late and "1.5" in on_time and "2.1" in on_time
    assert len(late) == 9 and len(late | on_time) == 64
    assert _api_codes(client, "overdue=true") == late
    assert _api_codes(client, "overdue=false") == on_time
    assert all(m["state"]["is_overdue"] for m in _api(client, "overdue=true"))


def test_overdue_is_the_pages_deadline_filter_once_the_plan_has_ended(app, client, deadlines):
    running_late = _page_codes(client, "yes")
    app.config["TRACKER_TODAY"] = AFTER_THE_END
    late, on_time = _page_codes(client, "yes"), _page_codes(client, "no")
    # complete when the plan ended: those completed by then (4.3 in August 2021)
    assert on_time == {"1.5", "1.8", "2.1", "4.3"}
    assert len(late) == 60
    assert _api_codes(client, "overdue=true") == late
    assert _api_codes(client, "overdue=false") == on_time
    found = _api(client, "overdue=true")
    assert all(m["state"]["ended_incomplete"] and not m["state"]["is_overdue"] for m in found)
    # the plan's last day, looked at once it is over, is its final state
    assert _api_codes(client, "overdue=true&as_of=2022-12-31") == late
    # an earlier day is seen as it was then: what the page said on that day
    assert _api_codes(client, "overdue=true&as_of=2021-06-30") == running_late


def test_a_section_the_plan_does_not_have_is_a_400_as_on_the_page(client, deadlines):
    assert client.get(f"{PAGE}?section=99").status_code == 400
    for lang in ("en", "az"):
        response = client.get(f"/api/v1/measures?section=99&lang={lang}")
        assert response.status_code == 400
        message = tr(lang, "The plan has no section %(number)s.", number=99)
        assert response.get_json() == {"error": {"status": 400, "message": message}}
    assert _api_codes(client, "section=9") == {"9.1", "9.2", "9.3", "9.4"}


def test_an_unknown_agency_or_organisation_is_refused_as_on_the_page(client, deadlines):
    """A typo in agency= or organisation= read as "no measure" before; the page refuses it."""
    assert client.get(f"{PAGE}?agency=no-such-agency").status_code == 400
    response = client.get("/api/v1/measures?agency=no-such-agency&lang=en")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "There is no agency no-such-agency."
    assert _api_codes(client, "agency=prosecutor-generals-office") == {
        "1.1",
        "1.10",
        "1.7",
        "3.3",
        "3.5",
        "8.1",
    }
    response = client.get("/api/v1/measures?organisation=999999&lang=en")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "There is no such organisation."
    watchdog = deadlines.watchdog.id
    assert _api_codes(client, f"organisation={watchdog}") == {"1.1", "1.2", "2.1", "4.3"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/measures?as_of=2019-12-31",
        f"/api/v1/measures/{PLAN}/1.1?as_of=2019-12-31",
        f"/api/v1/scorecard/{PLAN}?as_of=2019-12-31",
    ],
)
def test_a_date_before_the_plan_started_is_refused_as_the_pdf_refuses_it(client, deadlines, url):
    for lang in ("en", "az"):
        message = _before_the_start(lang)
        pdf = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2019-12-31&lang={lang}")
        assert pdf.status_code == 400 and message in pdf.get_data(as_text=True)
        response = client.get(f"{url}&lang={lang}")
        assert response.status_code == 400
        assert response.get_json() == {"error": {"status": 400, "message": message}}
    assert client.get(url.replace("2019-12-31", "2020-01-01")).status_code == 200
