"""/api/v1/organisations filters by coalition: the coalitions are read only for a request
that names one, and a coalition that is not one is a 400 naming the field."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import QueryCounter
from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.registry import seed_registry
from tracker.services.registry.organisations import OrganisationData, create_organisation
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
