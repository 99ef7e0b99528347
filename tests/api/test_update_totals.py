"""/api/v1/updates counts its total once per version of the public data and filters: the
pages of a long list do not count a million rows each, and the next write is counted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.factories import make_organisation, make_update
from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion, ReviewState


def _counts(statements: list[str]) -> int:
    return sum(1 for s in statements if "count(" in s.lower())


def test_the_total_is_counted_once_per_data_version_and_filter(client, seeded):
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    organisation = make_organisation("A")
    for day in range(1, 6):
        make_update(measure, organisation, Completion.LIMITED, date(2021, 3, day))
    db.session.commit()
    with QueryCounter() as first:
        answer = client.get("/api/v1/updates?per_page=2").get_json()
    assert (answer["total"], len(answer["updates"])) == (5, 2)
    assert _counts(first.statements) == 1
    with QueryCounter() as later:
        assert client.get("/api/v1/updates?per_page=2&page=3").get_json()["total"] == 5
        since = client.get("/api/v1/updates?since=2021-03-04").get_json()
    assert _counts(later.statements) == 1  # the other filter only
    assert since["total"] == 2
    make_update(measure, organisation, Completion.COMPLETE, date(2021, 3, 9))
    make_update(
        measure, organisation, Completion.COMPLETE, date(2021, 3, 10), ReviewState.SUBMITTED
    )
    db.session.commit()  # the public data moves on: counted anew
    assert client.get("/api/v1/updates?per_page=2").get_json()["total"] == 6
    assert client.get("/api/v1/updates?since=2021-03-04").get_json()["total"] == 3
