"""Small factories for records the tests need. They add to the session and flush."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tracker.extensions import db
from tracker.models import GovernmentClaim, Measure, Organisation, StatusUpdate
from tracker.services.plans.seeding import seed_plan_file
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


SEED_PLAN = Path(__file__).resolve().parent.parent / "seed" / "action_plan_2020_2022.yaml"


def seed_plan_copy(folder: Path, key: str, title_en: str | None = None) -> None:
    """A second plan: the seeded plan's file under another key (and English title)."""
    text = SEED_PLAN.read_text(encoding="utf-8").replace("key: az-nap-2020-2022", f"key: {key}")
    if title_en:
        original = 'en: "National Action Plan on the Promotion of Open Government for 2020–2022"'
        text = text.replace(original, f'en: "{title_en}"', 1)
    copy = folder / f"{key}.yaml"
    copy.write_text(text, encoding="utf-8")
    seed_plan_file(db.session, copy)
    db.session.commit()
