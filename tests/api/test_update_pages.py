"""/api/v1/updates pages by number or, following `next`, after the last update shown (keyset
paging, as quick deep in a million updates as at the start): both give the same list."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.factories import make_organisation, make_update
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion, ReviewState

PLAN = "az-nap-2020-2022"


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _ids(answer: dict) -> list[int]:
    return [u["id"] for u in answer["updates"]]


def _updates(seeded):
    m11, m12 = (
        db.session.scalar(select(Measure).where(Measure.code == code)) for code in ("1.1", "1.2")
    )
    a, b = make_organisation("A"), make_organisation("B")
    made = [
        make_update(m, o, Completion.LIMITED, date(2021, 1, 1 + n))
        for n, (m, o) in enumerate([(m11, a), (m12, b)] * 4)
    ]
    draft = make_update(m11, a, Completion.COMPLETE, date(2021, 2, 1), ReviewState.SUBMITTED)
    db.session.commit()
    return made, draft


def test_next_walks_the_list_in_the_order_of_the_numbered_pages(client, seeded):
    _updates(seeded)
    numbered = []
    for number in (1, 2, 3):
        answer = client.get(f"/api/v1/updates?per_page=3&page={number}").get_json()
        numbered += _ids(answer)
    assert len(numbered) == 8
    first = client.get("/api/v1/updates?per_page=3").get_json()
    walked, answer = _ids(first), first
    assert first["page"] == 1 and first["next"].endswith(f"after={walked[-1]}")
    with QueryCounter() as keyset:
        answer = client.get(_local(answer["next"])).get_json()
    walked += _ids(answer)
    assert answer["page"] is None and answer["total"] == 8
    answer = client.get(_local(answer["next"])).get_json()
    walked += _ids(answer)
    assert answer["next"] is None  # the end: two updates on the last page
    assert walked == numbered
    with QueryCounter() as numbered_page:
        client.get("/api/v1/updates?per_page=3&page=2")
    assert keyset.count == numbered_page.count


def test_next_keeps_the_filters(client, seeded):
    made, _draft = _updates(seeded)
    url = f"/api/v1/updates?plan={PLAN}&measure=1.1&since=2021-01-01&per_page=2"
    first = client.get(url).get_json()
    assert "plan=" in first["next"] and "measure=1.1" in first["next"]
    assert "since=2021-01-01" in first["next"]
    second = client.get(_local(first["next"])).get_json()
    expected = [u.id for u in made if u.measure.code == "1.1"]
    assert sorted(_ids(first) + _ids(second)) == sorted(expected)
    assert second["next"] is None


def test_after_a_page_number_or_an_unpublished_update(client, seeded):
    made, draft = _updates(seeded)
    both = client.get(f"/api/v1/updates?page=2&after={made[3].id}")
    assert both.status_code == 400
    assert "after" in both.get_json()["error"]["message"]
    assert client.get("/api/v1/updates?after=0").status_code == 400
    assert client.get("/api/v1/updates?after=x").status_code == 400
    for cursor in (draft.id, 999_999):  # a submitted update, no update: nothing after it
        answer = client.get(f"/api/v1/updates?after={cursor}").get_json()
        assert answer["updates"] == [] and answer["next"] is None


def test_a_measure_the_plan_lacks_is_a_404_that_names_it(client, seeded):
    """As an unknown plan or organisation is: a mistyped code is not an empty list."""
    _updates(seeded)
    answer = client.get(f"/api/v1/updates?plan={PLAN}&measure=99.9")
    assert answer.status_code == 404
    assert "99.9" in answer.get_json()["error"]["message"]
    found = client.get(f"/api/v1/updates?plan={PLAN}&measure=1.2").get_json()
    assert found["total"] == 4 and {u["measure"]["code"] for u in found["updates"]} == {"1.2"}
