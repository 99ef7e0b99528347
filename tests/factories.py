"""Small factories for records the tests need. They add to the session and flush."""

from __future__ import annotations

from datetime import date

from tracker.extensions import db
from tracker.models import GovernmentClaim, Measure, Organisation, StatusUpdate
from tracker.vocabulary import Completion, ReviewState


def make_organisation(name: str = "Şəffaflıq Assosiasiyası", **fields) -> Organisation:
    organisation = Organisation(name_az=name, name_en=fields.pop("name_en", ""), **fields)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_update(
    measure: Measure,
    organisation: Organisation,
    completion: Completion = Completion.LIMITED,
    as_of: date = date(2022, 6, 1),
    state: ReviewState = ReviewState.APPROVED,
    **fields,
) -> StatusUpdate:
    update = StatusUpdate(
        measure_id=measure.id,
        organisation_id=organisation.id,
        completion=str(completion),
        as_of_date=as_of,
        review_state=str(state),
        **fields,
    )
    db.session.add(update)
    db.session.flush()
    return update


def make_claim(
    measure: Measure,
    completion: Completion = Completion.COMPLETE,
    claimed_on: date = date(2022, 12, 1),
) -> GovernmentClaim:
    claim = GovernmentClaim(
        measure_id=measure.id,
        claimed_completion=str(completion),
        claim_date=claimed_on,
        source_title="Government report",
    )
    db.session.add(claim)
    db.session.flush()
    return claim
