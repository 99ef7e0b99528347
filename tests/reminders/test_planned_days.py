"""A second planning the same day from the same inputs skips the day's reminders (they are
all in the outbox already); any change to what they are planned from plans them again."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.factories import make_update
from tests.helpers import QueryCounter
from tests.reminders.conftest import baku, link, make_user, measures_due
from tracker.extensions import db
from tracker.models import ReminderItem, ReminderPlanning
from tracker.services import reminders
from tracker.services.reminders import KindSettings
from tracker.vocabulary import ReminderKind, ReviewState

DAY = "2022-10-02"


def plan_outbox(day: str = DAY, time: str = "09:00") -> tuple[int, int]:
    result = reminders.plan_outbox(db.session, date.fromisoformat(day), baku(f"{day}T{time}"))
    db.session.commit()
    return result


def outbox_rows(**where) -> int:
    statement = select(func.count()).select_from(ReminderItem).filter_by(**where)
    return db.session.scalar(statement)


def test_the_second_planning_of_the_day_skips_what_the_first_put_in_the_outbox(world):
    due, new = plan_outbox()
    assert due > 0 and new == due == outbox_rows()
    with QueryCounter() as queries:
        assert plan_outbox(time="15:00") == (due, 0)
    written = [s for s in queries.statements if s.lstrip().upper().startswith("INSERT")]
    assert written == []  # neither the run's working tables nor the outbox
    assert not any("tmp_reminder" in s for s in queries.statements)
    # the opt-outs serve the inputs' digest and the review queue: read once
    assert sum("FROM reminder_opt_out" in s for s in queries.statements) == 1
    assert outbox_rows() == due
    planned = db.session.get(ReminderPlanning, date.fromisoformat(DAY))
    assert planned.due_count == due and len(planned.inputs_key) == 64


def test_a_new_link_the_same_day_is_planned_by_the_next_run(world):
    due, _new = plan_outbox()
    measure = measures_due(2022)[2]
    link(world.org_a, measure)  # public data: its version moves on at commit
    db.session.commit()
    due_again, new = plan_outbox(time="12:00")
    assert new > 0 and due_again == due + new
    assert outbox_rows(measure_id=measure.id, recipient_id=world.a_az.id) > 0


def test_a_new_monitor_the_same_day_is_planned_by_the_next_run(world):
    plan_outbox()
    newcomer = make_user("nigar@example.org", organisation=world.org_a, locale="az")
    db.session.commit()
    _due, new = plan_outbox(time="12:00")
    assert new > 0 and outbox_rows(recipient_id=newcomer.id) == new


def test_a_monitor_enabled_again_the_same_day_is_planned_by_the_next_run(world):
    world.a_en.is_enabled = False
    db.session.commit()
    plan_outbox()
    assert outbox_rows(recipient_id=world.a_en.id) == 0
    world.a_en.is_enabled = True
    db.session.commit()
    _due, new = plan_outbox(time="12:00")
    assert new > 0 and outbox_rows(recipient_id=world.a_en.id) == new


def test_a_resubscription_the_same_day_is_planned_by_the_next_run(world):
    deadline = ReminderKind.DEADLINE_APPROACHING
    reminders.set_subscription(db.session, world.a_az, deadline, subscribed=False)
    db.session.commit()
    plan_outbox()
    assert outbox_rows(recipient_id=world.a_az.id, kind=deadline) == 0
    reminders.set_subscription(db.session, world.a_az, deadline, subscribed=True)
    db.session.commit()
    _due, new = plan_outbox(time="12:00")
    assert new > 0 and outbox_rows(recipient_id=world.a_az.id, kind=deadline) == new


def test_a_settings_change_the_same_day_is_planned_by_the_next_run(world):
    deadline = ReminderKind.DEADLINE_APPROACHING
    reminders.save_settings(db.session, KindSettings(deadline, is_enabled=False), world.admin)
    db.session.commit()
    plan_outbox()
    assert outbox_rows(kind=deadline) == 0
    reminders.save_settings(
        db.session, KindSettings(deadline, is_enabled=True, offsets_days=(90, 30, 7)), world.admin
    )
    db.session.commit()
    _due, new = plan_outbox(time="12:00")
    assert new > 0 and outbox_rows(kind=deadline) == new


def test_the_next_day_is_planned_afresh(world):
    plan_outbox()
    with QueryCounter() as queries:
        due_next, _new = plan_outbox("2022-10-03")
    assert due_next > 0
    assert any("tmp_reminder_due" in s for s in queries.statements)  # planned, not skipped
    days = db.session.scalars(select(ReminderPlanning.day).order_by(ReminderPlanning.day)).all()
    assert days == [date(2022, 10, 2), date(2022, 10, 3)]


def test_the_review_queue_counts_calendar_days_so_the_days_first_run_plans_it(world):
    waiting = ReminderKind.REVIEW_WAITING
    update = make_update(
        world.m_2022[0],
        world.org_b,
        state=ReviewState.SUBMITTED,
        submitted_dt=baku("2022-09-25T10:00"),
    )
    db.session.commit()
    # 7 calendar days in Baku, although 6 days and 23 hours
    plan_outbox(time="09:00")
    assert outbox_rows(kind=waiting, update_id=update.id, recipient_id=world.reviewer.id) == 1
    assert plan_outbox(time="11:00")[1] == 0  # a later run the same day adds nothing
    assert outbox_rows(kind=waiting) == 1
