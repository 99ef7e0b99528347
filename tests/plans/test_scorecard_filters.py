"""The scorecard's filters by dispute, monitoring and organisation, with the "last updated"
date of each measure: on the page (GET parameters, validated) and in the API."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_claim, make_organisation, make_update
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure
from tracker.services.registry.links import link_measures
from tracker.vocabulary import Completion

PLAN = "/plans/az-nap-2020-2022/"


def _measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


def _codes(html: str) -> set[str]:
    return set(re.findall(r'/plans/az-nap-2020-2022/measures/(\d+\.\d+)"', html))


@pytest.fixture
def disputes(seeded):
    """1.1: the government claims complete, the CSO says limited (disputed). 1.2: both say
    complete. 2.1 and 2.2 are monitored by the watchdog, 2.2 by a second organisation too."""
    watchdog = make_organisation("Şəffaflıq Assosiasiyası", name_en="Transparency Association")
    second = make_organisation("Hüquq Cəmiyyəti", name_en="Law Society")
    make_claim(_measure("1.1"), Completion.COMPLETE, date(2022, 12, 1))
    make_update(_measure("1.1"), watchdog, Completion.LIMITED, date(2022, 11, 1))
    make_claim(_measure("1.2"), Completion.COMPLETE, date(2022, 12, 5))
    make_update(_measure("1.2"), watchdog, Completion.COMPLETE, date(2022, 10, 1))
    link_measures(db.session, watchdog, [_measure("2.1"), _measure("2.2")])
    link_measures(db.session, second, [_measure("2.2")])
    db.session.commit()
    return watchdog, second


def test_disputed_filter_and_the_headline_figure_links_to_it(client, disputes):
    html = client.get(PLAN + "?lang=en").get_data(as_text=True)
    figure = html.split('class="figure figure-disputed"')[1].split("</li>")[0]
    assert f'<a href="{PLAN}?disputed=yes#measures-heading">1</a>' in figure
    assert _codes(client.get(PLAN + "?disputed=yes").get_data(as_text=True)) == {"1.1"}
    not_disputed = _codes(client.get(PLAN + "?disputed=no").get_data(as_text=True))
    assert len(not_disputed) == 63 and "1.1" not in not_disputed


def test_monitored_and_organisation_filters(client, disputes):
    watchdog, second = disputes
    assert _codes(client.get(PLAN + "?monitored=yes").get_data(as_text=True)) == {"2.1", "2.2"}
    assert len(_codes(client.get(PLAN + "?monitored=no").get_data(as_text=True))) == 62
    by_second = client.get(PLAN + f"?organisation={second.id}&lang=en").get_data(as_text=True)
    assert _codes(by_second) == {"2.2"}
    assert f'<option selected value="{second.id}">Law Society</option>' in by_second
    combined = client.get(PLAN + f"?organisation={watchdog.id}&section=2").get_data(as_text=True)
    assert _codes(combined) == {"2.1", "2.2"}


@pytest.mark.parametrize(
    "query", ["disputed=maybe", "monitored=2", "organisation=999999", "organisation=x"]
)
def test_bad_filter_values_get_a_clear_message_not_a_500(client, disputes, query):
    response = client.get(PLAN + f"?{query}&lang=en")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose one of the options in the list." in html
    assert len(_codes(html)) == 64  # the unfiltered list


def test_each_measure_shows_when_it_was_last_updated(client, disputes):
    html = client.get(PLAN + "?lang=en").get_data(as_text=True)
    item = html.split(f'href="{PLAN}measures/1.1"')[2].split("</li>")[0]
    # the newest of the approved assessment (2022-11-01) and the claim (2022-12-01)
    assert 'Last updated: <time datetime="2022-12-01">December 1, 2022</time>' in item
    other = html.split(f'href="{PLAN}measures/9.4"')[2].split("</li>")[0]
    assert "No update yet" in other


def test_the_api_filters_the_same_way(client, disputes):
    _watchdog, second = disputes

    def codes(query: str) -> set[str]:
        response = client.get(f"/api/v1/measures?per_page=500&{query}")
        assert response.status_code == 200, response.get_json()
        return {m["code"] for m in response.get_json()["measures"]}

    assert codes("disputed=true") == {"1.1"}
    assert codes("monitored=true") == {"2.1", "2.2"}
    assert codes(f"organisation={second.id}") == {"2.2"}
    assert len(codes("monitored=false&disputed=false")) == 61
    bad = client.get("/api/v1/measures?disputed=perhaps")
    assert bad.status_code == 400
    assert "disputed must be true or false" in bad.get_json()["error"]["message"]


def test_filtering_takes_the_same_queries_with_more_links(client, disputes, seeded):
    url = PLAN + "?monitored=yes&disputed=no"
    client.get(url)

    def queries() -> int:
        with QueryCounter() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    few = queries()
    for n in range(5):
        organisation = make_organisation(f"Birlik {n}")
        link_measures(db.session, organisation, list(db.session.scalars(select(Measure))))
    db.session.commit()
    assert queries() == few


def test_the_organisation_choices_are_in_the_pages_alphabet(client, seeded):
    """A name in quotes sorted after every letter ("“Clean World”" after "Women…"), and
    the English page took the code points' order, not the alphabet's."""
    names = (
        ("Qadınlar və İnnovasiyalar İctimai Birliyi", "Women and Innovations Public Union"),
        ("“Təmiz Dünya” Qadınlara Yardım İctimai Birliyi", "“Clean World” Aid to Women"),
        ("Çevik Gənclər", "Agile Youth"),
    )
    for name_az, name_en in names:
        link_measures(db.session, make_organisation(name_az, name_en=name_en), [_measure("1.1")])
    db.session.commit()

    def choices(lang: str) -> list[str]:
        html = client.get(PLAN + f"?lang={lang}").get_data(as_text=True)
        select_html = html.split('name="organisation"')[1].split("</select>")[0]
        return re.findall(r'<option value="\d+">([^<]+)</option>', select_html)

    assert choices("en") == [
        "Agile Youth",
        "“Clean World” Aid to Women",
        "Women and Innovations Public Union",
    ]
    assert choices("az") == [
        "Çevik Gənclər",
        "Qadınlar və İnnovasiyalar İctimai Birliyi",
        "“Təmiz Dünya” Qadınlara Yardım İctimai Birliyi",
    ]
