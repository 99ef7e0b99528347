"""/api/v1/organisations filters by coalition: the coalitions are read only for a request
that names one, and a coalition that is not one is a 400 naming the field. The public
registry's total is counted once per version of the public data and filter, and every
committed write is counted anew."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.registry import seed_registry
from tracker.services.registry.organisations import (
    OrganisationData,
    archive_organisation,
    create_organisation,
    restore_organisation,
)
from tracker.vocabulary import OrganisationKind


def _lists_coalitions(statements: list[str]) -> int:
    return sum(1 for s in statements if "organisation.kind =" in s)


def test_the_coalition_filter_lists_the_members_and_checks_the_coalition(client, app):
    seed_registry(db.session)
    forum = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    assert forum.kind == OrganisationKind.COALITION
    member = create_organisation(
        db.session, OrganisationData(name_az="Üzv Birlik", coalition_ids=(forum.id,))
    )
    other = db.session.scalar(
        select(Organisation).where(Organisation.kind == OrganisationKind.ORGANISATION).limit(1)
    )
    db.session.commit()
    with QueryCounter() as plain:
        everyone = client.get("/api/v1/organisations?per_page=500").get_json()
    assert everyone["total"] == 27
    with QueryCounter() as filtered:
        members = client.get(f"/api/v1/organisations?coalition={forum.id}").get_json()
    assert [o["id"] for o in members["organisations"]] == [member.id]
    # the coalitions (the filter's choices) are read for this filter only
    assert [_lists_coalitions(s) for s in (plain.statements, filtered.statements)] == [0, 1]
    wrong = client.get(f"/api/v1/organisations?coalition={other.id}")
    assert wrong.status_code == 400 and "coalition" in wrong.get_json()["error"]["fields"]


def _counts(statements: list[str]) -> int:
    return sum(1 for s in statements if "count(*)" in s.lower())


def test_the_total_is_counted_once_per_data_version_and_follows_each_write(client, app):
    seed_registry(db.session)
    db.session.commit()
    with QueryCounter() as first:
        assert client.get("/api/v1/organisations?per_page=2").get_json()["total"] == 26
    assert _counts(first.statements) == 1
    with QueryCounter() as later:
        assert client.get("/api/v1/organisations?per_page=2&page=3").get_json()["total"] == 26
        assert "26" in client.get("/registry/?page=1").get_data(as_text=True)
        searched = client.get("/api/v1/organisations?q=forum").get_json()["total"]
    assert _counts(later.statements) == 1  # the other filter only
    created = create_organisation(db.session, OrganisationData(name_az="Yeni Forum Birliyi"))
    db.session.commit()  # the public data moves on: counted anew
    assert client.get("/api/v1/organisations").get_json()["total"] == 27
    assert client.get("/api/v1/organisations?q=forum").get_json()["total"] == searched + 1
    archive_organisation(db.session, created)
    db.session.commit()
    assert client.get("/api/v1/organisations").get_json()["total"] == 26
    assert client.get("/api/v1/organisations?q=forum").get_json()["total"] == searched
    restore_organisation(db.session, created)
    db.session.commit()
    assert client.get("/api/v1/organisations?per_page=2").get_json()["total"] == 27
