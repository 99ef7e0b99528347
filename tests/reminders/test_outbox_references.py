"""The outbox's references hold without foreign-key constraints (models.ReminderItem): after
planning every kind of reminder, sending them, and the instant notices, every id a row
holds names an existing row of its table."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import exists, func, inspect, select

from tests.factories import make_update
from tests.reminders.conftest import baku
from tracker.extensions import db
from tracker.models import (
    GovernmentClaim,
    Measure,
    Milestone,
    Organisation,
    ReminderDigest,
    ReminderItem,
    StatusUpdate,
    User,
)
from tracker.services.reminders import notify_proposed, notify_submitted, run_reminders
from tracker.vocabulary import DeliveryStatus, ReminderKind, ReviewState

#: each id column of the outbox and the table it names
REFERENCES = (
    (ReminderItem.recipient_id, User),
    (ReminderItem.measure_id, Measure),
    (ReminderItem.organisation_id, Organisation),
    (ReminderItem.update_id, StatusUpdate),
    (ReminderItem.milestone_id, Milestone),
    (ReminderItem.claim_id, GovernmentClaim),
    (ReminderItem.digest_id, ReminderDigest),
)


def dangling() -> dict[str, int]:
    """Per id column: the rows whose id names nothing."""
    found = {}
    for column, model in REFERENCES:
        missing = ~exists().where(model.id == column)
        count = db.session.scalar(
            select(func.count()).select_from(ReminderItem).where(column.is_not(None), missing)
        )
        found[column.key] = count
    return found


def used() -> dict[str, int]:
    """Per id column: the rows that hold an id (so the check above is not vacuous)."""
    return {
        column.key: db.session.scalar(
            select(func.count()).select_from(ReminderItem).where(column.is_not(None))
        )
        for column, _model in REFERENCES
    }


@pytest.fixture
def busy_world(world):
    """Every kind of reminder is due on 2022-10-02: deadlines and "no recent update" on
    the links, an overdue measure, a milestone, a returned update and one waiting for
    review."""
    m1 = world.m_2022[0]
    db.session.add(
        Milestone(measure_id=m1.id, title_az="Aralıq hesabat", due_date=date(2022, 11, 1))
    )
    make_update(
        m1,
        world.org_a,
        state=ReviewState.RETURNED,
        return_reason="Evidence missing",
        decided_dt=baku("2022-09-28T12:00"),
    )
    make_update(
        world.m_2021,
        world.org_b,
        state=ReviewState.SUBMITTED,
        submitted_dt=baku("2022-09-20T08:00"),
    )
    db.session.commit()
    return world


def _proposal(world) -> GovernmentClaim:
    """A government claim a monitor of A proposed, and its reviewers' notices."""
    claim = GovernmentClaim(
        measure_id=world.m_2022[0].id,
        claimed_completion="complete",
        claim_date=date(2022, 9, 1),
        source_title="Ministry report",
        source_url="https://example.gov.az/report",
        recorded_by_id=world.a_az.id,
        organisation_id=world.org_a.id,
        review_state=ReviewState.SUBMITTED,
        created_dt=datetime.fromisoformat("2022-10-01T08:00:00+00:00"),
    )
    db.session.add(claim)
    db.session.flush()
    assert notify_proposed(db.session, claim) == 1
    return claim


def test_every_id_in_the_outbox_names_a_row_after_planning_and_sending(busy_world, smtp):
    _proposal(busy_world)
    report = run_reminders(db.session, baku("2022-10-02T09:00"))
    assert report.digests_sent >= 4
    kinds = set(db.session.scalars(select(ReminderItem.kind).distinct()))
    assert {
        ReminderKind.DEADLINE_APPROACHING,
        ReminderKind.OVERDUE,
        ReminderKind.UPDATE_STALE,
        ReminderKind.UPDATE_RETURNED,
        ReminderKind.REVIEW_WAITING,
    } <= kinds
    holding = used()
    assert all(holding[name] > 0 for name in holding), holding
    sent = db.session.scalar(
        select(func.count())
        .select_from(ReminderItem)
        .where(ReminderItem.status == DeliveryStatus.SENT, ReminderItem.digest_id.is_(None))
    )
    assert sent == 0
    assert dangling() == dict.fromkeys(holding, 0)


def test_an_instant_notice_names_existing_rows(busy_world):
    submitted = make_update(
        busy_world.m_2022[1],
        busy_world.org_a,
        state=ReviewState.SUBMITTED,
        submitted_dt=baku("2022-10-01T08:00"),
    )
    assert notify_submitted(db.session, submitted) >= 1
    db.session.commit()
    notice = db.session.scalars(
        select(ReminderItem).where(ReminderItem.kind == ReminderKind.UPDATE_SUBMITTED)
    ).first()
    assert notice.update_id == submitted.id
    assert notice.recipient.email == "rena@example.org"
    assert notice.measure.code == busy_world.m_2022[1].code
    proposed = _proposal(busy_world)
    db.session.commit()
    [notice] = db.session.scalars(
        select(ReminderItem).where(ReminderItem.kind == ReminderKind.CLAIM_PROPOSED)
    )
    assert (notice.claim_id, notice.recipient.email) == (proposed.id, "rena@example.org")
    assert dangling()["update_id"] == 0 and dangling()["claim_id"] == 0


def test_the_outbox_has_no_foreign_key_constraints_but_its_relationships_load(busy_world, smtp):
    """The ORM still follows the references both ways (digest ↔ items)."""
    assert inspect(db.engine).get_foreign_keys("reminder_item") == []
    run_reminders(db.session, baku("2022-10-02T09:00"))
    digest = db.session.scalars(select(ReminderDigest)).first()
    assert digest.items and all(item.digest is digest for item in digest.items)
    assert len(digest.items) == digest.item_count
