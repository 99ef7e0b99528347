from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_claim, make_organisation, make_update, seed_plan_copy
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion

PLAN = "/plans/az-nap-2020-2022/"


def _measure(code):
    return db.session.scalar(select(Measure).where(Measure.code == code))


def _measure_links(html: str) -> set[str]:
    return set(re.findall(r'/plans/az-nap-2020-2022/measures/(\d+\.\d+)"', html))


def test_scorecard_shows_nine_sections_and_sixty_four_measures(client, seeded):
    for lang in ("az", "en"):
        html = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
        assert len(_measure_links(html)) == 64
        assert len(re.findall(r'<h3 id="section-\d">', html)) == 9
    assert "Korrupsiyanın qarşısının alınması" in client.get("/?lang=az").get_data(as_text=True)
    assert "Measures by completion" in client.get("/?lang=en").get_data(as_text=True)


def test_a_closed_plan_shows_final_states_and_mid_2021_counts_overdue(app, client, seeded):
    app.config["TRACKER_TODAY"] = "2026-11-22"
    html = client.get(PLAN + "?lang=en").get_data(as_text=True)
    assert "Overdue by" not in html
    assert html.count("Not complete when the plan ended (December 31, 2022)") == 64
    measure_html = client.get(PLAN + "measures/1.1?lang=en").get_data(as_text=True)
    assert "Not complete when the plan ended (December 31, 2022)" in measure_html
    assert "Overdue by" not in measure_html
    # the deadline filter finds the unfinished measures, not an empty "overdue" list
    unfinished = client.get(PLAN + "?lang=en&overdue=yes").get_data(as_text=True)
    assert len(_measure_links(unfinished)) == 64
    assert '<option selected value="yes">Not complete when the plan ended</option>' in unfinished
    assert '<option value="no">Complete when the plan ended</option>' in unfinished
    assert _measure_links(client.get(PLAN + "?lang=en&overdue=no").get_data(as_text=True)) == set()
    app.config["TRACKER_TODAY"] = "2021-06-30"
    html = client.get(PLAN + "?lang=en").get_data(as_text=True)
    due_2020 = db.session.scalars(select(Measure.code).where(Measure.end_year == 2020)).all()
    assert html.count("Overdue by") == len(due_2020)
    overdue_only = client.get(PLAN + "?lang=en&overdue=yes").get_data(as_text=True)
    assert _measure_links(overdue_only) == set(due_2020)


def test_filters_by_section_agency_completion(client, seeded):
    org = make_organisation("A")
    make_update(_measure("2.1"), org, Completion.SUBSTANTIAL, date(2021, 1, 1))
    db.session.commit()
    assert _measure_links(client.get(PLAN + "?section=8").get_data(as_text=True)) == {
        "8.1",
        "8.2",
        "8.3",
    }
    by_agency = _measure_links(
        client.get(PLAN + "?agency=ministry-of-economy").get_data(as_text=True)
    )
    assert "3.1" in by_agency  # spelled "Iqtisadiyyat Nazirliyi" there: variants merge
    assert "2.11" in by_agency
    assert _measure_links(client.get(PLAN + "?completion=substantial").get_data(as_text=True)) == {
        "2.1"
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("161", {"1.7"}),
        ("ombudsman", {"1.8"}),
        ("HÖKUMƏT", None),  # upper case with Azerbaijani letters
        ("hokumet", None),  # typed without Azerbaijani letters
        ("İQTİSADİYYAT", None),
        ("iqtisadiyyat", None),
    ],
)
def test_search_treats_azerbaijani_letters_correctly(client, seeded, query, expected):
    found = _measure_links(client.get(PLAN, query_string={"q": query}).get_data(as_text=True))
    assert found
    if expected is not None:
        assert found == expected
    if query.lower().startswith(("i̇q", "iq")) or query.startswith("İQ"):
        # "Iqtisadiyyat" with a dotless capital I in 3.1 must match too
        assert "3.1" in found


def test_search_ignores_quotes_curly_apostrophes_and_dashes(client, seeded):
    """A query pasted from a document carries its punctuation: typographic quotes, a curly
    apostrophe, an en dash. They separate words, as spaces do, and find the same measures."""

    def found(query: str) -> set[str]:
        html = client.get(PLAN, query_string={"q": query, "lang": "en"}).get_data(as_text=True)
        return _measure_links(html)

    plain = found("e-government information system")
    assert plain and plain == found("“E–Government Information System”")
    assert plain == found('"e government" (information system).')
    chamber = found("chamber's official")
    assert chamber and chamber == found("Chamber’s official")
    assert found("awareness-raising") == found("awareness‑raising") == found("«awareness raising»")
    # the dots of a code stay: "1.7" is a code, not the words "1" and "7"
    assert found("1.7") == found("«1.7»") == {"1.7"}
    assert found('"') == found("")


def test_search_with_no_match_says_so(client, seeded):
    html = client.get(PLAN + "?q=zzzqqq&lang=en").get_data(as_text=True)
    assert "No measure matches these filters." in html


def test_invalid_filter_is_a_400_with_a_message(client, seeded):
    response = client.get(PLAN + "?section=99&lang=en")
    assert response.status_code == 400
    assert "Choose one of the options in the list." in response.get_data(as_text=True)


def test_measure_page_shows_text_agencies_period_and_state(app, client, seeded):
    app.config["TRACKER_TODAY"] = "2022-06-30"
    html = client.get(PLAN + "measures/1.2?lang=en").get_data(as_text=True)
    measure = _measure("1.2")
    assert measure.title_en in html
    assert measure.indicator_en in html
    assert measure.title_az in html  # the Azerbaijani original one click away
    assert "Executing agencies" in html and "Recommended to" in html
    assert "mərkəzi icra hakimiyyəti orqanları" in html
    assert "2020–2022" in html and "December 31, 2022" in html
    assert "184 days left (as of June 30, 2022)" in html


def test_measure_page_shows_claim_beside_assessments(client, seeded):
    org = make_organisation("Şəffaflıq Assosiasiyası", name_en="Transparency Association")
    measure = _measure("1.1")
    make_claim(measure, Completion.COMPLETE)
    make_update(measure, org, Completion.LIMITED, date(2022, 11, 1))
    db.session.commit()
    html = client.get(PLAN + "measures/1.1?lang=en").get_data(as_text=True)
    assert "Government claim" in html and "Transparency Association" in html
    assert "Disputed" in html
    assert client.get(PLAN + "?lang=en").get_data(as_text=True).count("badge-disputed") == 1


def test_a_complete_measure_says_complete_once(client, seeded):
    """Its deadline badge said "Complete" a second time beside the completion badge."""
    make_update(_measure("1.1"), make_organisation(), Completion.COMPLETE, date(2020, 12, 1))
    db.session.commit()
    html = client.get(PLAN + "measures/1.1?lang=en").get_data(as_text=True)
    badges = html.split('<p class="meta">', 1)[1].split("</p>", 1)[0]
    assert badges.count(">Complete<") == 1
    scorecard = client.get(PLAN + "?lang=en").get_data(as_text=True)
    row = scorecard.split(f'href="{PLAN}measures/1.1"', 1)[1].split("</li>", 1)[0]
    assert row.count(">Complete<") == 1


def test_unknown_plan_measure_section_agency_are_404(client, seeded):
    for url in [
        "/plans/nope/",
        PLAN + "measures/99.9",
        PLAN + "sections/42",
        "/agencies/nope",
        "/agencies/?plan=nope",
    ]:
        assert client.get(url).status_code == 404, url


def test_agency_pages_merge_spelling_variants(client, seeded):
    html = client.get("/agencies/?lang=en").get_data(as_text=True)
    assert "Ministry of Economy" in html
    page = client.get("/agencies/ministry-of-economy?lang=en").get_data(as_text=True)
    assert "Iqtisadiyyat Nazirliyi" in page and "İqtisadiyyat Nazirliyi" in page
    assert "3.1" in _measure_links(page)


def test_without_a_plan_the_home_page_explains(client):
    response = client.get("/?lang=en")
    assert response.status_code == 200
    assert "No action plan has been loaded yet" in response.get_data(as_text=True)


def test_language_choice_is_remembered(client, seeded):
    client.get("/?lang=en")
    assert '<html lang="en">' in client.get("/agencies/").get_data(as_text=True)
    client.get("/?lang=az")
    assert '<html lang="az">' in client.get("/agencies/").get_data(as_text=True)


def test_pages_have_landmarks_and_labels(client, seeded):
    html = client.get(PLAN).get_data(as_text=True)
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    for field in ("q", "section", "agency", "completion", "overdue", "disputed", "monitored"):
        assert f'<label for="{field}">' in html


PAGES = [
    PLAN,
    PLAN + "?disputed=no&monitored=no",
    PLAN + "sections/1",
    PLAN + "measures/1.1",
    "/agencies/",
    "/agencies/ministry-of-finance",
    "/api/v1/plans/az-nap-2020-2022",
    "/api/v1/agencies",
]


@pytest.mark.parametrize("url", PAGES)
def test_queries_per_page_do_not_grow_with_the_data(app, client, seeded, url, tmp_path):
    # Baseline: one approved update per measure (an empty list loads nothing more).
    first = make_organisation("A")
    for measure in db.session.scalars(select(Measure)).all():
        make_update(measure, first, Completion.LIMITED, date(2021, 1, 1))
    db.session.commit()
    client.get(url)  # warm up: session, language
    with QueryCounter() as small:
        assert client.get(url).status_code == 200
    # Then many more updates from more organisations, and a second plan.
    others = [make_organisation(f"Org {n}") for n in range(4)]
    for measure in db.session.scalars(select(Measure)).all():
        for day in range(2, 8):
            make_update(measure, others[day % 4], Completion.SUBSTANTIAL, date(2021, 1, day))
    db.session.commit()
    seed_plan_copy(tmp_path, "az-nap-copy")
    with QueryCounter() as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count, (small.count, large.count)


def test_plan_or_default_names_a_plan_or_takes_the_latest(seeded):
    from tracker.services.plans import default_plan, get_plan, plan_or_default

    latest = default_plan(db.session)
    assert plan_or_default(db.session, None) is latest
    assert plan_or_default(db.session, "") is latest
    assert plan_or_default(db.session, "az-nap-2020-2022") is get_plan(
        db.session, "az-nap-2020-2022"
    )
    assert plan_or_default(db.session, "nope") is None


def test_the_scorecard_links_to_the_other_plans_only_when_there_are_others(
    client, seeded, tmp_path
):
    all_plans = 'href="/plans/"'
    assert all_plans not in client.get("/?lang=en").get_data(as_text=True)
    seed_plan_copy(tmp_path, "az-nap-copy")
    assert all_plans in client.get("/?lang=en").get_data(as_text=True)


def test_the_report_links_of_an_ended_plan_say_which_day_the_reports_describe(app, client, seeded):
    """The scorecard shows today's final state; its reports describe the plan's last day
    (an "as of" date runs up to the plan's end), so the figures may differ: the links say
    so, in the page's language."""
    url = "/plans/az-nap-2020-2022/"
    app.config["TRACKER_TODAY"] = "2026-12-06"
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "The reports describe December 31, 2022, the plan's last day" in english
    azerbaijani = client.get(url + "?lang=az").get_data(as_text=True)
    assert "Hesabatlar planın son günü olan 31 dekabr 2022 tarixini" in azerbaijani
    section = client.get(url + "sections/1?lang=en").get_data(as_text=True)
    assert "The reports describe December 31, 2022" in section
    app.config["TRACKER_TODAY"] = "2021-06-30"
    assert "The reports describe" not in client.get(url + "?lang=en").get_data(as_text=True)
