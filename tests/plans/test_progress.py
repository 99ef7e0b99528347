"""Progress over time: every month's state comes from the one state function (the monthly
batch gives exactly what `measure_states` gives on each day) in a constant number of
queries; and the "what changed" list of approved updates and claims between two dates."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_claim, make_organisation, make_update
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure
from tracker.services.plans import ChangeQuery, approved_changes
from tracker.services.plans import scorecard as sc
from tracker.services.plans.status import measure_states, measure_states_by_month, month_ends
from tracker.vocabulary import Completion, ReviewState

PLAN = "/plans/az-nap-2020-2022/"


def _measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


def _all() -> list[Measure]:
    return list(db.session.scalars(select(Measure).order_by(Measure.position)))


@pytest.fixture
def history(seeded):
    a, b = make_organisation("A", name_en="Alpha"), make_organisation("B", name_en="Beta")
    m11, m12, m21 = _measure("1.1"), _measure("1.2"), _measure("2.1")
    make_update(m11, a, Completion.NOT_STARTED, date(2020, 3, 15))
    make_update(m11, a, Completion.LIMITED, date(2020, 11, 30))
    make_update(m11, b, Completion.SUBSTANTIAL, date(2021, 2, 1))
    make_update(m12, a, Completion.COMPLETE, date(2021, 7, 31))
    make_update(m12, b, Completion.COMPLETE, date(2021, 5, 1), ReviewState.SUBMITTED)
    make_update(m21, b, Completion.LIMITED, date(2020, 6, 1), is_archived=True)
    make_update(m21, b, Completion.SUBSTANTIAL, date(2022, 1, 10))
    make_claim(m11, Completion.COMPLETE, date(2021, 1, 20))
    make_claim(m21, Completion.COMPLETE, date(2022, 2, 1))
    db.session.commit()
    return a, b


def test_month_ends():
    assert month_ends(date(2020, 11, 5), date(2021, 2, 1)) == [
        date(2020, 11, 30),
        date(2020, 12, 31),
        date(2021, 1, 31),
        date(2021, 2, 28),
    ]


def test_every_month_is_what_the_state_function_gives_on_that_day(history):
    measures = _all()
    ends = month_ends(date(2020, 1, 1), date(2023, 2, 1))
    by_month = measure_states_by_month(db.session, measures, ends)
    assert list(by_month) == ends
    for day in ends:
        assert by_month[day] == measure_states(db.session, measures, day), day
    m11 = _measure("1.1").id
    assert by_month[date(2020, 2, 29)][m11].completion == Completion.NO_EVIDENCE
    assert by_month[date(2020, 12, 31)][m11].completion == Completion.LIMITED
    assert by_month[date(2021, 2, 28)][m11].completion == Completion.SUBSTANTIAL
    assert by_month[date(2021, 2, 28)][m11].is_disputed
    assert by_month[date(2023, 1, 31)][m11].ended_incomplete


def test_many_updates_in_a_month_and_any_days_give_the_state_functions_answer(history):
    """The database keeps only the last assessment per measure, organisation and day of
    `ends`: several in one month, and days that are not month ends, change nothing."""
    a, b = history
    m11 = _measure("1.1")
    make_update(m11, a, Completion.COMPLETE, date(2021, 3, 3))
    make_update(m11, a, Completion.NOT_STARTED, date(2021, 3, 20))
    make_update(m11, b, Completion.LIMITED, date(2021, 3, 20))
    make_update(m11, b, Completion.COMPLETE, date(2021, 3, 20))  # same day: the later id
    make_update(m11, a, Completion.LIMITED, date(2021, 3, 31))
    db.session.commit()
    measures = _all()
    ends = [date(2021, 3, 2), date(2021, 3, 10), date(2021, 3, 20), date(2021, 3, 30)]
    ends += month_ends(date(2021, 3, 31), date(2021, 5, 1))
    by_day = measure_states_by_month(db.session, measures, ends)
    for day in ends:
        assert by_day[day] == measure_states(db.session, measures, day), day
    assert by_day[date(2021, 3, 10)][m11.id].completion == Completion.COMPLETE
    assert by_day[date(2021, 3, 30)][m11.id].completion == Completion.COMPLETE  # b's, later
    assert by_day[date(2021, 3, 31)][m11.id].completion == Completion.LIMITED


def test_the_monthly_history_takes_the_same_queries_for_3_or_36_months(history):
    measures = _all()

    def queries(ends) -> int:
        with QueryCounter() as counter:
            measure_states_by_month(db.session, measures, ends)
        return counter.count

    few = queries(month_ends(date(2020, 1, 1), date(2020, 3, 1)))
    assert few == queries(month_ends(date(2020, 1, 1), date(2022, 12, 1))) == 4


def test_progress_runs_from_the_plans_start_to_today(app, history):
    app.config["TRACKER_TODAY"] = "2021-06-15"
    plan = sc.default_plan(db.session)
    months = sc.progress_by_month(db.session, plan, sc.load_measures(db.session, plan))
    assert [m.month_end for m in months][:2] == [date(2020, 1, 31), date(2020, 2, 29)]
    assert months[-1].month_end == date(2021, 6, 15)  # the current month: as of today
    assert len(months) == 18
    last = months[-1].counts
    assert (last[Completion.SUBSTANTIAL], last[Completion.NO_EVIDENCE]) == (1, 63)
    app.config["TRACKER_TODAY"] = "2026-11-22"  # after the plan: its 36 months
    months = sc.progress_by_month(db.session, plan, sc.load_measures(db.session, plan))
    assert len(months) == 36 and months[-1].month_end == date(2022, 12, 31)


def test_the_plan_page_shows_the_chart_and_its_table(app, client, history):
    app.config["TRACKER_TODAY"] = "2026-11-22"
    html = client.get(PLAN + "?lang=en").get_data(as_text=True)
    section = html.split('id="progress-heading"')[1].split("</section>")[0]
    assert section.count("<rect ") >= 36
    assert "December 2022: Substantial – 2" in section
    rows = re.findall(r'<tr><th scope="row"><time datetime="([\d-]+)">([^<]*)</time>', section)
    assert len(rows) == 36 and rows[-1] == ("2022-12-31", "December 2022")
    assert rows[0] == ("2020-01-31", "January 2020")
    assert f'href="{PLAN}changes"' in section


@pytest.mark.parametrize(("lang", "november"), [("en", "November 2022"), ("az", "noyabr 2022")])
def test_the_months_are_named_in_the_pages_language(app, client, history, lang, november):
    """The chart's labels, the bars' titles and the table's first column name the month as
    people write it ("noyabr 2022"), not as ISO 8601 ("2022-11")."""
    app.config["TRACKER_TODAY"] = "2026-11-22"
    html = client.get(f"{PLAN}?lang={lang}").get_data(as_text=True)
    section = html.split('id="progress-heading"')[1].split("</section>")[0]
    assert f">{november}</text>" in section  # the chart's label
    assert f"<title>{november}: " in section
    assert f'<time datetime="2022-11-30">{november}</time>' in section
    assert not re.search(r">20[0-9]{2}-[0-9]{2}[<:]", section)


def _change_rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return re.findall(r'<time datetime="([\d-]+)">', body)


def test_what_changed_between_two_dates(client, history):
    html = client.get(PLAN + "changes?since=2021-01-01&until=2021-12-31&lang=en").get_data(
        as_text=True
    )
    # approved updates (not the submitted one) and the claim, newest first
    assert _change_rows(html) == ["2021-07-31", "2021-02-01", "2021-01-20"]
    assert "Government claim" in html and "Beta" in html and "Alpha" in html
    assert "3 changes." in html
    everything = client.get(PLAN + "changes?lang=en").get_data(as_text=True)
    assert len(_change_rows(everything)) == 7  # 5 approved updates (one archived) + 2 claims


def test_each_change_names_its_measure_organisation_and_completion(history):
    plan = sc.default_plan(db.session)
    query = ChangeQuery(plan_id=plan.id, since=date(2021, 1, 1), until=date(2021, 12, 31))
    changes, total = approved_changes(db.session, query)
    assert total == 3
    update, _older_update, claim = changes
    assert (update.kind, update.measure_code, update.organisation_name_en) == (
        "update",
        "1.2",
        "Alpha",
    )
    assert update.completion is Completion.COMPLETE and update.day == date(2021, 7, 31)
    assert update.plan_key == "az-nap-2020-2022" and not update.is_claim
    # a claim has no organisation: its names and narrative are blank, not None
    assert claim.is_claim and claim.organisation_id is None
    assert (claim.organisation_name_az, claim.organisation_name_en) == ("", "")
    assert claim.completion is Completion.COMPLETE and claim.measure_code == "1.1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "Enter the date as YYYY-MM-DD"),
        ("until=2021-13-01", "Enter the date as YYYY-MM-DD"),
        ("since=2022-01-01&until=2021-01-01", "The end date must not be before the start date."),
    ],
)
def test_bad_dates_get_a_clear_message(client, history, query, message):
    response = client.get(PLAN + f"changes?{query}&lang=en")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_list_is_paginated(client, seeded):
    organisation = make_organisation("Çox Yazan Birlik")
    measure = _measure("3.1")
    for day in range(1, 29):
        for month in (1, 2, 3):
            make_update(measure, organisation, Completion.LIMITED, date(2021, month, day))
    db.session.commit()
    first = client.get(PLAN + "changes?since=2021-01-01").get_data(as_text=True)
    assert len(_change_rows(first)) == 50
    assert f'href="{PLAN}changes?page=2&amp;since=2021-01-01" rel="next"' in first
    second = client.get(PLAN + "changes?since=2021-01-01&page=2").get_data(as_text=True)
    assert len(_change_rows(second)) == 84 - 50
    assert client.get(PLAN + "changes?page=0").status_code == 400
    assert client.get(PLAN + "changes?page=x").status_code == 400
