"""The agencies list is paged, on the page and in the API: a plan can name more bodies than
one page should show. The order is the same as before paging (most measures first). Its
late column counts overdue measures while the plan runs and, once it has ended, the
measures not complete when it ended."""

from __future__ import annotations

import re

from tracker.extensions import db
from tracker.services.plans import build_scorecard, default_plan
from tracker.services.plans import scorecard as sc
from tracker.views.plans import public


def _all_agency_keys() -> list[str]:
    card = build_scorecard(db.session, default_plan(db.session))
    return [f.agency.key for f in sc.agency_figures(card.measures, card.states)]


def _keys(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/agencies/([^?"]+)\?', html)


def test_the_agencies_page_shows_a_page_at_a_time(client, seeded, monkeypatch):
    everyone = _all_agency_keys()
    assert len(everyone) > 10
    monkeypatch.setattr(public, "AGENCIES_PER_PAGE", 5)
    first = client.get("/agencies/?lang=en").get_data(as_text=True)
    assert _keys(first) == everyone[:5]
    pages = -(-len(everyone) // 5)
    assert f"Page 1 of {pages}" in first
    assert 'href="/agencies/?page=2&amp;plan=az-nap-2020-2022' in first
    second = client.get("/agencies/?page=2&lang=en").get_data(as_text=True)
    assert _keys(second) == everyone[5:10]
    last = client.get(f"/agencies/?page={pages}&lang=en").get_data(as_text=True)
    assert _keys(last) == everyone[(pages - 1) * 5 :] and 'rel="next"' not in last
    assert client.get("/agencies/?page=0").status_code == 400


def test_the_seeded_plans_agencies_fit_on_the_first_page(client, seeded):
    everyone = _all_agency_keys()
    page = client.get("/agencies/?lang=en").get_data(as_text=True)
    assert _keys(page) == everyone[: public.AGENCIES_PER_PAGE]
    assert ('rel="next"' in page) == (len(everyone) > public.AGENCIES_PER_PAGE)


def test_the_api_lists_agencies_a_page_at_a_time(client, seeded):
    everyone = _all_agency_keys()
    plan = "az-nap-2020-2022"
    first = client.get(f"/api/v1/agencies?plan={plan}&per_page=7").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 7, len(everyone))
    assert first["pages"] == -(-len(everyone) // 7)
    assert [a["key"] for a in first["agencies"]] == everyone[:7]
    second = client.get(f"/api/v1/agencies?plan={plan}&per_page=7&page=2").get_json()
    assert [a["key"] for a in second["agencies"]] == everyone[7:14]
    default = client.get(f"/api/v1/agencies?plan={plan}").get_json()
    assert [a["key"] for a in default["agencies"]] == everyone[: default["per_page"]]
    past = client.get(f"/api/v1/agencies?plan={plan}&page=99").get_json()
    assert past["agencies"] == [] and past["total"] == len(everyone)
    assert client.get(f"/api/v1/agencies?plan={plan}&per_page=501").status_code == 400


def _late_column(html: str) -> tuple[str, dict[str, str]]:
    header = re.findall(r'<th scope="col" class="num">([^<]+)</th>', html)[-1]
    rows = re.findall(
        r'<th scope="row"><a href="/agencies/([^?"]+)\?[^>]*>[^<]*</a></th>'
        r'(?:<td class="num">\d+</td>\s*){2}<td class="num">(\d+)</td>',
        re.sub(r">\s+<", "><", html),
    )
    return header, dict(rows)


def test_the_late_column_counts_measures_not_complete_once_the_plan_has_ended(app, client, seeded):
    # The plan ended on 31 December 2022: nothing is "overdue" any more, and the column
    # once showed a zero for every agency
    app.config["TRACKER_TODAY"] = "2026-12-01"
    header, late = _late_column(client.get("/agencies/?lang=en").get_data(as_text=True))
    assert header == "Not complete when the plan ended"
    card = build_scorecard(db.session, default_plan(db.session))
    figures = {f.agency.key: f for f in sc.agency_figures(card.measures, card.states)}
    assert late == {key: str(len(f.measures)) for key, f in figures.items()}
    assert late["ministry-of-justice"] == "19"
    # while the plan ran: the overdue measures, as of that day
    app.config["TRACKER_TODAY"] = "2021-06-30"
    header, late = _late_column(client.get("/agencies/?lang=en").get_data(as_text=True))
    assert header == "Overdue"
    card = build_scorecard(db.session, default_plan(db.session))
    overdue = {
        f.agency.key: str(f.summary.overdue) for f in sc.agency_figures(card.measures, card.states)
    }
    assert late == overdue and set(overdue.values()) != {"0"}
