"""Issue 10, finding 3: a monitor moved to reviewer may not review their own update, nor one
of an organisation they belonged to, nor one written while an organisation of theirs
(current or past) monitored the measure. Roles move through the one accounts write path
(services.accounts.users.change_role), which keeps the membership history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import force_locale
from sqlalchemy import select

from tests.monitoring.conftest import as_user, make_user
from tests.monitoring.test_review import decide, submitted_update
from tracker.extensions import db
from tracker.models import MonitoringLink, OrganisationMembership, StatusUpdate
from tracker.services.accounts import users
from tracker.services.monitoring.conflicts import Written, review_refusal
from tracker.vocabulary import ReviewState


def move_to_reviewer(world, user) -> None:
    users.change_role(db.session, user, role="reviewer", organisation_id=None, actor=world.admin)
    db.session.commit()


def state_of(update_id: int) -> str:
    db.session.expire_all()
    return db.session.get(StatusUpdate, update_id).review_state


def test_a_monitor_moved_to_reviewer_cannot_approve_their_own_update(client, world):
    update = submitted_update(client, world)
    move_to_reviewer(world, world.monitor_a)
    as_user(client, world.monitor_a)
    page = client.get(f"/review/updates/{update.id}").get_data(as_text=True)
    assert f'action="/review/updates/{update.id}/approve"' not in page
    assert "someone else must review it" in page
    response = decide(client, update.id, "approve")
    assert response.status_code == 403
    assert "You wrote this or a version it revises" in response.get_data(as_text=True)
    assert decide(client, update.id, "return", reason="Fine").status_code == 403
    assert state_of(update.id) == ReviewState.SUBMITTED


def test_nor_a_revision_of_their_update_written_by_a_colleague(client, world):
    first = submitted_update(client, world)
    first.review_state = ReviewState.RETURNED
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    revision = StatusUpdate(
        measure_id=first.measure_id,
        organisation_id=world.org_a.id,
        author_id=colleague.id,
        replaces_id=first.id,
        completion="limited",
        as_of_date=date(2021, 6, 20),
        review_state=ReviewState.SUBMITTED,
    )
    db.session.add(revision)
    db.session.commit()
    move_to_reviewer(world, world.monitor_a)
    as_user(client, world.monitor_a)
    response = decide(client, revision.id, "approve")
    assert response.status_code == 403
    assert "You wrote this or a version it revises" in response.get_data(as_text=True)
    assert state_of(revision.id) == ReviewState.SUBMITTED


def test_a_past_organisation_that_wrote_the_update_is_a_conflict(client, world):
    colleague = users.create_user(
        db.session, email="colleague@example.org", role="monitor", organisation_id=world.org_a.id
    )
    db.session.commit()
    update = submitted_update(client, world)
    move_to_reviewer(world, colleague)
    as_user(client, colleague)
    response = decide(client, update.id, "approve")
    assert response.status_code == 403
    assert "your own organisation, current or past" in response.get_data(as_text=True)
    assert state_of(update.id) == ReviewState.SUBMITTED


def test_a_past_organisation_that_monitored_the_measure_meanwhile_is_a_conflict(client, world):
    """B monitored 1.1 while A's update was written: B's former monitor may not review it.
    A link of B that ended before the update was written is no conflict."""
    measure = world.measure("1.1")
    link = MonitoringLink(
        organisation_id=world.org_b.id,
        measure_id=measure.id,
        start_date=date(2021, 1, 1),
        end_date=date(2021, 12, 31),
    )
    db.session.add(link)
    db.session.commit()
    update = submitted_update(client, world)
    move_to_reviewer(world, world.monitor_b)
    as_user(client, world.monitor_b)
    response = decide(client, update.id, "approve")
    assert response.status_code == 403
    assert (
        "Law Centre, your organisation now or in the past, monitored measure 1.1"
        in response.get_data(as_text=True)
    )
    assert state_of(update.id) == ReviewState.SUBMITTED

    link.end_date = date(2020, 12, 31)
    db.session.commit()
    assert decide(client, update.id, "approve").status_code == 302
    assert state_of(update.id) == ReviewState.APPROVED


def test_role_changes_keep_the_membership_history(app, world):
    user = users.create_user(
        db.session, email="mover@example.org", role="monitor", organisation_id=world.org_a.id
    )
    db.session.flush()
    users.change_role(
        db.session, user, role="monitor", organisation_id=world.org_b.id, actor=world.admin
    )
    users.change_role(db.session, user, role="reviewer", organisation_id=None, actor=world.admin)
    db.session.commit()
    rows = db.session.scalars(
        select(OrganisationMembership)
        .where(OrganisationMembership.user_id == user.id)
        .order_by(OrganisationMembership.id)
    ).all()
    assert [(row.organisation_id, row.to_dt is None) for row in rows] == [
        (world.org_a.id, False),
        (world.org_b.id, False),
    ]
    assert rows[0].from_dt <= rows[0].to_dt <= rows[1].from_dt <= rows[1].to_dt
    assert users.organisation_history(db.session, user) == {world.org_a.id, world.org_b.id}
    # an account older than the history gets its current organisation's row on its move
    move_to_reviewer(world, world.monitor_a)
    assert users.organisation_history(db.session, world.monitor_a) == {world.org_a.id}


def test_an_unrelated_reviewer_still_decides(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    assert decide(client, update.id, "approve").status_code == 302
    assert state_of(update.id) == ReviewState.APPROVED


def test_the_days_it_was_written_on_are_baku_days(world):
    """Written at 21:30 UTC on June 30 is July 1 in Baku (UTC+4), the day a link's dates
    name: a link that starts on July 1 monitored it, one that ended on June 30 did not."""
    measure = world.measure("1.1")
    moment = datetime(2021, 6, 30, 21, 30, tzinfo=UTC)
    written = Written(
        author_ids=frozenset({world.monitor_a.id}),
        organisation_id=world.org_a.id,
        measure_id=measure.id,
        started=moment,
        finished=moment,
    )
    link = MonitoringLink(
        organisation_id=world.org_b.id, measure_id=measure.id, start_date=date(2021, 7, 1)
    )
    db.session.add(link)
    db.session.commit()
    move_to_reviewer(world, world.monitor_b)
    with force_locale("en"):
        assert "monitored measure 1.1" in str(review_refusal(db.session, world.monitor_b, written))
        link.start_date, link.end_date = date(2021, 1, 1), date(2021, 6, 30)
        db.session.commit()
        assert review_refusal(db.session, world.monitor_b, written) is None
