"""Every public page and public API answer makes the same number of SQL queries at a small
scale and at a larger one (more plans, measures, organisations, links and updates): the
shape of OGP-wide data (tests/ogp_scale.py) without its size. The cache is off here
(tests/conftest.py), so each count is the page's own rendering."""

from __future__ import annotations

from sqlalchemy import select

from tests import ogp_scale
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure, Organisation

PLAN = "az-nap-2020-2022"
SMALL = ogp_scale.Scale(plans=3, measures=120, organisations=60, updates=500)
LARGER = ogp_scale.Scale(plans=8, measures=400, organisations=300, updates=4_000)


def _urls() -> list[str]:
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1").limit(1))
    organisation = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    agency = measure.agency_links[0].agency.key
    db.session.commit()
    return [
        "/",
        "/plans/",
        f"/plans/{PLAN}/",
        f"/plans/{PLAN}/sections/1",
        f"/plans/{PLAN}/measures/1.1",
        "/plans/ogp-0001/",
        "/agencies/",
        f"/agencies/{agency}",
        "/registry/",
        f"/registry/{organisation.id}",
        "/registry/coverage",
        "/registry/stats",
        "/data/",
        "/feeds/updates.atom",
        "/api/v1/plans",
        f"/api/v1/plans/{PLAN}",
        "/api/v1/agencies",
        f"/api/v1/agencies/{agency}",
        f"/api/v1/measures?plan={PLAN}",
        f"/api/v1/measures/{measure.id}/updates",
        f"/api/v1/measures/{PLAN}/1.1",
        "/api/v1/organisations",
        f"/api/v1/organisations/{organisation.id}",
        "/api/v1/registry/stats",
        f"/api/v1/scorecard/{PLAN}",
        "/api/v1/updates",
    ]


def _counts(client) -> dict[str, int]:
    counts = {}
    for url in _urls():
        assert client.get(url).status_code == 200, url  # warm-up
        with QueryCounter() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = counter.count
    return counts


def test_every_public_page_makes_as_many_queries_at_a_larger_scale(client, seeded):
    from tracker.services.registry import seed_registry

    seed_registry(db.session)
    ogp_scale.build(db.session, SMALL)
    small = _counts(client)
    ogp_scale.build(db.session, LARGER)
    assert ogp_scale.counts(db.session)["status_update"] == LARGER.updates
    larger = _counts(client)
    assert {url: n for url, n in larger.items() if n != small[url]} == {}, small
    assert max(small.values()) <= 25, small


def test_a_measures_updates_come_a_page_at_a_time(client, seeded):
    from tests.factories import make_organisation, make_update

    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    organisation = make_organisation()
    for _ in range(130):
        make_update(measure, organisation)
    url = f"/api/v1/measures/{measure.id}/updates"
    first = client.get(url).get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 100, 130)
    assert len(first["updates"]) == 100
    last = client.get(f"{url}?page=3&per_page=50").get_json()
    assert len(last["updates"]) == 30 and last["total"] == 130
    ids = [u["id"] for u in first["updates"]] + [
        u["id"] for u in client.get(f"{url}?page=2").get_json()["updates"]
    ]
    assert len(set(ids)) == 130
    assert client.get(f"{url}?per_page=0").status_code == 400
