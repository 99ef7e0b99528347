"""Which reminders are due, to whom: the planning rules against a real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.factories import make_update
from tests.helpers import QueryCounter
from tests.reminders.conftest import baku, link, make_organisation, make_user
from tracker.extensions import db
from tracker.models import GovernmentClaim, Measure, Milestone, ReminderItem
from tracker.services import reminders
from tracker.services.accounts import users
from tracker.services.monitoring import review
from tracker.services.plans.status import measure_states
from tracker.services.reminders import KindSettings, plan_reminders, record_planned
from tracker.vocabulary import Completion, ReminderKind, ReviewState

DEADLINE = ReminderKind.DEADLINE_APPROACHING
OVERDUE = ReminderKind.OVERDUE
STALE = ReminderKind.UPDATE_STALE
RETURNED = ReminderKind.UPDATE_RETURNED
WAITING = ReminderKind.REVIEW_WAITING


def plan(day: str, time: str = "09:00"):
    return plan_reminders(db.session, date.fromisoformat(day), baku(f"{day}T{time}"))


def of_kind(planned, kind):
    return [r for r in planned if r.kind == kind]


def pairs(planned):
    return {(r.recipient_id, r.measure_id) for r in planned}


def test_90_days_before_the_due_date_the_monitors_of_each_organisation_get_it(world):
    deadline = of_kind(plan("2022-10-02"), DEADLINE)
    m1, m2 = world.m_2022
    assert pairs(deadline) == {
        (world.a_az.id, m1.id),
        (world.a_az.id, m2.id),
        (world.a_en.id, m1.id),
        (world.a_en.id, m2.id),
        (world.b_az.id, m1.id),
    }
    assert {r.occurrence for r in deadline} == {"2022-12-31/90"}
    assert {r.day_count for r in deadline} == {90}
    assert {r.organisation_id for r in deadline if r.recipient_id == world.b_az.id} == {
        world.org_b.id
    }


def test_nobody_else_is_reminded(world):
    recipients = {r.recipient_id for r in plan("2022-10-02")}
    assert world.c_az.id not in recipients
    assert world.admin.id not in recipients
    assert world.reviewer.id not in recipients


def test_the_day_before_the_90_day_mark_no_deadline_reminder_is_due(world):
    assert of_kind(plan("2022-10-01"), DEADLINE) == []


def test_a_missed_day_is_caught_up_with_the_current_window_only(world):
    assert {r.occurrence for r in of_kind(plan("2022-10-05"), DEADLINE)} == {"2022-12-31/90"}
    assert {r.occurrence for r in of_kind(plan("2022-12-01"), DEADLINE)} == {"2022-12-31/30"}
    assert {r.occurrence for r in of_kind(plan("2022-12-24"), DEADLINE)} == {"2022-12-31/7"}
    assert {r.occurrence for r in of_kind(plan("2022-12-30"), DEADLINE)} == {"2022-12-31/7"}


def test_overdue_starts_on_the_due_date_and_repeats_every_30_days(world):
    m1 = world.m_2022[0]

    def overdue_of_m1(day):
        return {
            (r.occurrence, r.day_count)
            for r in of_kind(plan(day), OVERDUE)
            if r.measure_id == m1.id and r.recipient_id == world.a_az.id
        }

    assert overdue_of_m1("2022-12-30") == set()
    assert overdue_of_m1("2022-12-31") == {("2022-12-31/0", 0)}
    assert of_kind(plan("2022-12-31"), DEADLINE) == []


def test_a_measure_due_before_the_plans_end_is_reminded_every_30_days(seeded):
    organisation = make_organisation("Erkən Birlik")
    monitor = make_user("early@example.org", organisation=organisation)
    m1_1 = db.session.scalar(select(Measure).where(Measure.code == "1.1"))  # due 2020-12-31
    link(organisation, m1_1)
    db.session.commit()

    def overdue_of(day):
        return {
            (r.occurrence, r.day_count)
            for r in of_kind(plan(day), OVERDUE)
            if r.measure_id == m1_1.id and r.recipient_id == monitor.id
        }

    assert overdue_of("2021-01-01") == {("2020-12-31/0", 1)}
    assert overdue_of("2021-01-30") == {("2020-12-31/1", 30)}


def test_no_reminder_about_a_closed_plans_measures(world):
    """Once the plan has ended, its measures' states are final: no overdue, deadline or
    stale reminder is planned for them, however long after."""
    for day in ("2023-01-01", "2023-01-30", "2026-11-22"):
        planned = plan(day)
        assert of_kind(planned, OVERDUE) == []
        assert of_kind(planned, DEADLINE) == []
        assert of_kind(planned, STALE) == []


def test_on_the_plans_last_day_every_monitored_measure_not_complete_is_overdue(seeded):
    organisation = make_organisation("Hamısını İzləyən Birlik")
    monitor = make_user("all@example.org", organisation=organisation)
    measures = list(db.session.scalars(select(Measure).order_by(Measure.position)))
    for measure in measures:
        link(organisation, measure)
    complete, later = measures[0], measures[-1]
    make_update(complete, organisation, Completion.COMPLETE, as_of=date(2022, 11, 1))
    db.session.add(
        Milestone(measure_id=later.id, title_az="Son", due_date=date(2023, 3, 31), is_final=True)
    )
    db.session.commit()

    overdue = of_kind(plan("2022-12-31"), OVERDUE)

    states = measure_states(db.session, measures, date(2022, 12, 31))
    not_complete_and_due = {
        m.id
        for m in measures
        if states[m.id].completion != Completion.COMPLETE and states[m.id].days_remaining == 0
    }
    assert len(not_complete_and_due) == 62
    assert {r.measure_id for r in overdue} == not_complete_and_due
    assert {r.recipient_id for r in overdue} == {monitor.id}
    assert complete.id not in {r.measure_id for r in overdue}
    # the final milestone moved this one's due date: it is approaching, not overdue
    assert [r.occurrence for r in of_kind(plan("2022-12-31"), DEADLINE)] == ["2023-03-31/90"]
    # the next day the plan has ended; the measure with the later milestone still runs
    assert of_kind(plan("2023-01-01"), OVERDUE) == []
    assert [r.measure_id for r in of_kind(plan("2023-01-01"), DEADLINE)] == [later.id]


def test_no_approved_update_within_the_cadence_is_stale(world):
    m1, m2 = world.m_2022
    make_update(m1, world.org_a, as_of=date(2022, 8, 1))
    db.session.commit()
    stale = {
        (r.measure_id, r.occurrence)
        for r in of_kind(plan("2022-10-02"), STALE)
        if r.recipient_id == world.a_az.id
    }
    # m1: 62 days since its approved update; m2: none since the link began in 2020
    assert stale == {(m2.id, "2020-01-01/11")}
    later = {r.measure_id for r in of_kind(plan("2022-10-30"), STALE)}
    assert m1.id in later


def test_an_update_waiting_for_review_is_not_stale(world):
    m2 = world.m_2022[1]
    make_update(m2, world.org_a, state=ReviewState.SUBMITTED, submitted_dt=baku("2022-09-30T10:00"))
    db.session.commit()
    stale = {r.measure_id for r in of_kind(plan("2022-10-02"), STALE)}
    assert m2.id not in stale


def test_sqlite_checks_the_review_queue_of_each_link_in_its_partial_index(world):
    """Without the partial index SQLite chose among three single-column indexes by the
    order they were made in: the same day's planning took 1.5, 3 or 7 s at 500,000 links."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan of SQLite's query planner")
    plans = []

    def explain(connection, _cursor, statement, parameters, _context, _many):
        if statement.startswith("INSERT INTO tmp_reminder_due"):
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append([row[3] for row in rows])

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        plan("2022-10-02")
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    [steps] = plans
    on_updates = [step for step in steps if "status_update" in step]
    assert on_updates, steps
    assert all("ix_status_update_awaiting_review" in step for step in on_updates), steps


def test_a_new_link_is_not_stale_before_the_cadence(world):
    organisation = make_organisation("Yeni Birlik")
    monitor = make_user("new@example.org", organisation=organisation)
    link(organisation, world.m_2022[0], start=date(2022, 9, 1))
    db.session.commit()
    assert monitor.id not in {r.recipient_id for r in of_kind(plan("2022-10-02"), STALE)}
    assert monitor.id in {r.recipient_id for r in of_kind(plan("2022-11-30"), STALE)}


def test_a_returned_update_reminds_its_own_organisation_once(world):
    m1 = world.m_2022[0]
    returned = make_update(
        m1,
        world.org_a,
        state=ReviewState.RETURNED,
        return_reason="Evidence missing",
        decided_dt=baku("2022-09-28T12:00"),
    )
    db.session.commit()
    found = of_kind(plan("2022-10-02"), RETURNED)
    assert pairs(found) == {(world.a_az.id, m1.id), (world.a_en.id, m1.id)}
    assert {r.update_id for r in found} == {returned.id}
    assert len({r.occurrence for r in found}) == 1

    # Once a revision exists, the returned update needs no more reminders.
    make_update(m1, world.org_a, state=ReviewState.DRAFT, replaces_id=returned.id)
    db.session.commit()
    assert of_kind(plan("2022-10-03"), RETURNED) == []


def test_review_waiting_more_than_7_days_goes_to_reviewers(world):
    m1 = world.m_2022[0]
    old = make_update(
        m1, world.org_b, state=ReviewState.SUBMITTED, submitted_dt=baku("2022-09-24T08:00")
    )
    make_update(
        world.m_2022[1],
        world.org_a,
        state=ReviewState.SUBMITTED,
        submitted_dt=baku("2022-09-26T08:00"),
    )
    db.session.commit()
    waiting = of_kind(plan("2022-10-02"), WAITING)
    assert pairs(waiting) == {(world.reviewer.id, m1.id)}
    assert waiting[0].update_id == old.id
    assert waiting[0].occurrence == f"update-{old.id}/1"
    assert waiting[0].day_count == 8


def _submitted(measure, organisation, author, day_time: str):
    return make_update(
        measure,
        organisation,
        state=ReviewState.SUBMITTED,
        author_id=author.id,
        created_dt=baku(f"{day_time[:10]}T07:00"),
        submitted_dt=baku(day_time),
    )


def _make_reviewer(world, monitor) -> None:
    """Through the accounts write path, which keeps their organisations' history."""
    users.change_role(db.session, monitor, role="reviewer", organisation_id=None, actor=world.admin)


def test_review_waiting_goes_only_to_reviewers_the_review_rule_lets_review_it(world):
    m1, m2 = world.m_2022  # A monitors both, B monitors m1 (and m_2021)
    by_b = _submitted(m1, world.org_b, world.b_az, "2022-09-24T08:00")
    by_a = _submitted(m2, world.org_a, world.a_az, "2022-09-20T08:00")
    by_b_2021 = _submitted(world.m_2021, world.org_b, world.b_az, "2022-09-20T08:00")
    both = users.create_user(
        db.session, email="both@example.org", role="monitor", organisation_id=world.org_a.id
    )
    users.change_role(
        db.session, both, role="monitor", organisation_id=world.org_b.id, actor=world.admin
    )
    for monitor in (world.b_az, world.a_en, both):
        _make_reviewer(world, monitor)
    db.session.commit()
    waiting = of_kind(plan("2022-10-02"), WAITING)
    reminded: dict[int, set[int]] = {}
    for r in waiting:
        reminded.setdefault(r.recipient_id, set()).add(r.update_id)
    assert reminded == {
        world.reviewer.id: {by_b.id, by_a.id, by_b_2021.id},
        # B's own updates are refused to B's former monitor
        world.b_az.id: {by_a.id},
        # A's, and B's on a measure A monitored while it was written
        world.a_en.id: {by_b_2021.id},
        # `both` may review none: no reminder at all
    }
    # the very rule the review pages and decisions apply
    for reviewer in (world.reviewer, world.b_az, world.a_en, both):
        for update in (by_b, by_a, by_b_2021):
            allowed = review.refusal(db.session, reviewer, update) is None
            assert allowed == (update.id in reminded.get(reviewer.id, set()))


def test_review_waiting_counts_calendar_days_in_baku(world):
    reminders.save_settings(
        db.session, KindSettings(WAITING, is_enabled=True, interval_days=1), world.admin
    )
    late = _submitted(world.m_2022[0], world.org_b, world.b_az, "2022-10-01T23:30")
    _submitted(world.m_2022[1], world.org_a, world.a_az, "2022-10-02T00:30")  # today
    db.session.commit()
    # 9 hours and a half, but yesterday in Baku: one day, as the other kinds count
    waiting = of_kind(plan("2022-10-02", "09:00"), WAITING)
    assert [(r.update_id, r.day_count, r.occurrence) for r in waiting] == [
        (late.id, 1, f"update-{late.id}/1")
    ]
    assert waiting[0].reference_date == date(2022, 10, 1)


def test_an_unsubscribed_kind_is_not_planned_for_that_person(world):
    reminders.set_subscription(db.session, world.a_az, DEADLINE, subscribed=False)
    db.session.commit()
    deadline_recipients = {r.recipient_id for r in of_kind(plan("2022-10-02"), DEADLINE)}
    assert world.a_az.id not in deadline_recipients
    assert world.a_en.id in deadline_recipients
    assert world.a_az.id in {r.recipient_id for r in of_kind(plan("2022-10-02"), STALE)}


def test_the_admins_settings_change_the_rules(world):
    reminders.save_settings(
        db.session, KindSettings(DEADLINE, is_enabled=True, offsets_days=(60,)), world.admin
    )
    reminders.save_settings(
        db.session, KindSettings(OVERDUE, is_enabled=False, interval_days=30), world.admin
    )
    db.session.commit()
    assert of_kind(plan("2022-10-02"), DEADLINE) == []
    assert {r.occurrence for r in of_kind(plan("2022-11-01"), DEADLINE)} == {"2022-12-31/60"}
    assert of_kind(plan("2023-01-01"), OVERDUE) == []


def test_ended_links_disabled_people_and_archived_organisations_get_nothing(world):
    organisation = make_organisation("Keçmiş Birlik")
    ended = make_user("ended@example.org", organisation=organisation)
    link(organisation, world.m_2022[0], end=date(2022, 9, 30))
    world.b_az.is_enabled = False
    world.org_a.is_archived = True
    db.session.commit()
    recipients = {r.recipient_id for r in plan("2022-10-02")}
    assert recipients.isdisjoint({ended.id, world.b_az.id, world.a_az.id, world.a_en.id})


def test_non_final_milestones_get_their_own_deadline_reminders(world):
    m1 = world.m_2022[0]
    milestone = Milestone(measure_id=m1.id, title_az="Aralıq hesabat", due_date=date(2022, 11, 1))
    db.session.add(milestone)
    db.session.commit()
    found = [r for r in of_kind(plan("2022-10-02"), DEADLINE) if r.milestone_id]
    assert pairs(found) == {(world.a_az.id, m1.id), (world.a_en.id, m1.id), (world.b_az.id, m1.id)}
    assert {r.occurrence for r in found} == {f"milestone-{milestone.id}:2022-11-01/30"}


def test_recording_the_same_plan_twice_adds_nothing(world):
    now = baku("2022-10-02T09:00")
    planned = plan("2022-10-02")
    assert record_planned(db.session, planned, now) == len(planned)
    db.session.commit()
    assert record_planned(db.session, plan("2022-10-02", "17:00"), now) == 0
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(ReminderItem))
    assert count == len(planned)


def test_planning_takes_the_same_number_of_queries_at_any_size(world):
    def count_queries():
        db.session.expire_all()
        with QueryCounter() as counter:
            plan("2022-10-02")
        return counter.count

    small = count_queries()
    measures = list(db.session.scalars(select(Measure)))
    for n in range(15):
        organisation = make_organisation(f"Birlik {n}")
        make_user(f"m{n}@example.org", organisation=organisation)
        make_user(f"r{n}@example.org", role="reviewer")
        for measure in measures[n : n + 20]:
            link(organisation, measure)
            make_update(measure, organisation, as_of=date(2022, 1, 1) + timedelta(days=n))
    db.session.commit()
    assert count_queries() == small


def test_the_review_queue_takes_the_same_number_of_queries_at_any_size(world):
    """Reviewers with past organisations, waiting revisions of revisions and proposed
    government claims: the rule is applied to all of them at once."""

    def count_queries():
        db.session.expire_all()
        with QueryCounter() as counter:
            waiting = of_kind(plan("2022-10-02"), WAITING)
        return counter.count, len(waiting)

    _submitted(world.m_2022[0], world.org_b, world.b_az, "2022-09-20T08:00")
    _make_reviewer(world, world.a_en)
    db.session.commit()
    small, reminded = count_queries()
    assert reminded == 1  # world.reviewer; A monitored the measure meanwhile
    for n in range(8):
        organisation = make_organisation(f"Birlik {n}")
        monitor = make_user(f"m{n}@example.org", organisation=organisation)
        link(organisation, world.m_2022[1])
        version = None
        for depth in range(n % 3 + 1):  # returned and revised, up to twice
            version = make_update(
                world.m_2022[1],
                organisation,
                state=ReviewState.SUBMITTED if depth == n % 3 else ReviewState.RETURNED,
                author_id=monitor.id,
                submitted_dt=baku(f"2022-09-1{depth}T08:00"),
                replaces_id=version.id if version else None,
            )
        db.session.add(
            GovernmentClaim(
                measure_id=world.m_2022[n % 2].id,
                claimed_completion="complete",
                claim_date=date(2022, 9, 1),
                source_title="Ministry report",
                recorded_by_id=monitor.id,
                organisation_id=organisation.id,
                review_state=ReviewState.SUBMITTED,
                created_dt=baku(f"2022-09-1{n}T08:00"),
            )
        )
        _make_reviewer(world, make_user(f"r{n}@example.org", organisation=organisation))
    db.session.commit()
    queries, reminded = count_queries()
    assert queries == small
    # world.reviewer gets every item (B's update, 8 updates, 8 claims). The new reviewers'
    # organisations all monitored the second measure: B's update, and the 4 claims on the
    # first measure, to each of them but its own organisation's.
    assert reminded == 17 + 8 + 4 * 7
