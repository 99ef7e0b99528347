"""The list of plans is paged: at OGP scale there are hundreds of plans, and /plans/ and
/api/v1/plans show them a page at a time, newest first, in the same queries on every page."""

from __future__ import annotations

import re

from tests import ogp_scale
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.services.plans import PLANS_PER_PAGE, list_plans

#: the seeded plan and 119 more: three pages of 50 (the last one of 20)
PLANS = ogp_scale.Scale(plans=120, measures=0, organisations=0, updates=0)


def _keys(html: str) -> list[str]:
    return re.findall(r'<li><a href="/plans/([^/"]+)/">', html)


def _many_plans(seeded) -> list[str]:
    ogp_scale.build(db.session, PLANS)
    return [plan.key for plan in list_plans(db.session)]


def test_the_plans_page_shows_a_page_of_plans_with_links_to_the_others(client, seeded):
    everyone = _many_plans(seeded)
    assert len(everyone) == 120 and PLANS_PER_PAGE == 50
    first = client.get("/plans/?lang=en").get_data(as_text=True)
    assert _keys(first) == everyone[:50]
    assert everyone[0] == "az-nap-2020-2022"  # the newest first
    assert "Page 1 of 3" in first
    assert 'href="/plans/?page=2' in first and 'rel="prev"' not in first
    second = client.get("/plans/?page=2&lang=en").get_data(as_text=True)
    assert _keys(second) == everyone[50:100]
    assert 'href="/plans/?page=1' in second and 'href="/plans/?page=3' in second
    last = client.get("/plans/?page=3&lang=en").get_data(as_text=True)
    assert _keys(last) == everyone[100:]
    assert 'rel="next"' not in last


def test_a_page_past_the_last_is_a_404_as_on_the_other_lists(client, seeded):
    _many_plans(seeded)
    past = client.get("/plans/?page=4&lang=en")
    assert past.status_code == 404  # an empty page under "121 plans" contradicted itself
    assert "This list has 3 pages; there is no page 4." in past.get_data(as_text=True)
    assert client.get("/registry/?page=999").status_code == 404  # the same rule
    assert client.get("/plans/?page=0").status_code == 400
    assert client.get("/plans/?page=two").status_code == 400


def test_the_plans_page_takes_the_same_queries_for_one_plan_or_120(client, seeded):
    def queries(url: str) -> int:
        client.get(url)
        with QueryCounter() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    one = queries("/plans/")
    _many_plans(seeded)
    assert queries("/plans/") == queries("/plans/?page=3") == one


def test_the_api_lists_plans_a_page_at_a_time(client, seeded):
    everyone = _many_plans(seeded)
    first = client.get("/api/v1/plans").get_json()
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 100, 120, 2)
    assert [p["key"] for p in first["plans"]] == everyone[:100]
    second = client.get("/api/v1/plans?page=2&per_page=100").get_json()
    assert [p["key"] for p in second["plans"]] == everyone[100:]
    small = client.get("/api/v1/plans?page=3&per_page=7").get_json()
    assert [p["key"] for p in small["plans"]] == everyone[14:21] and small["pages"] == 18
    past = client.get("/api/v1/plans?page=3")
    assert past.status_code == 200 and past.get_json()["plans"] == []
    assert client.get("/api/v1/plans?per_page=501").status_code == 400
    assert client.get("/api/v1/plans?page=0").status_code == 400
