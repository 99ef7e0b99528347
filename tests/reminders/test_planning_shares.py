"""Planning in shares (services.reminders.planning): on PostgreSQL several connections write
the day's link reminders at once, each for a share of the organisations. The outbox is the
same as one connection's, and a share that fails leaves nothing of the day's planning."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from tests.factories import make_update
from tests.reminders.conftest import baku, link, make_organisation, make_user, measures_due
from tracker.extensions import db
from tracker.models import Organisation, ReminderItem, ReminderPlanning, User
from tracker.services import reminders
from tracker.services.reminders import planning
from tracker.vocabulary import ReminderKind, ReviewState

NOW = "2022-10-02T09:00"


@pytest.fixture
def busy(world):
    """The world, nine more organisations (so that every one of three shares has some),
    recent approved updates of three of them (no "no recent update" reminder for those
    links), a returned update and an update waiting for review."""
    measures = measures_due(2022)[:3] + measures_due(2021)[:1]
    for n in range(9):
        organisation = make_organisation(f"Birlik {n}")
        make_user(f"p{n}@example.org", organisation=organisation)
        for measure in measures:
            link(organisation, measure)
        if n < 3:
            make_update(measures[0], organisation, as_of=date(2022, 9, 1))
    make_update(
        world.m_2022[0],
        world.org_a,
        state=ReviewState.RETURNED,
        return_reason="Evidence missing",
        decided_dt=baku("2022-09-28T12:00"),
    )
    make_update(
        world.m_2022[1],
        world.org_b,
        state=ReviewState.SUBMITTED,
        submitted_dt=baku("2022-09-20T12:00"),
    )
    db.session.commit()
    return world


def plan(connections: int) -> tuple[int, int]:
    now = baku(NOW)
    result = reminders.plan_outbox(db.session, now.date(), now, connections=connections)
    db.session.commit()
    return result


def outbox_rows() -> list[tuple]:
    item = ReminderItem
    columns = (
        item.recipient_id,
        item.measure_id,
        item.kind,
        item.occurrence,
        item.organisation_id,
        item.update_id,
        item.milestone_id,
        item.reference_date,
        item.day_count,
        item.status,
    )
    return sorted(tuple(row) for row in db.session.execute(select(*columns)))


def recent_monitors() -> list:
    """The monitors of the organisations with a recent approved update (the fixture's)."""
    names = ["Birlik 0", "Birlik 1", "Birlik 2"]
    return list(
        db.session.scalars(
            select(User)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.name_az.in_(names))
        )
    )


def forget_the_day() -> None:
    db.session.execute(delete(ReminderItem))
    db.session.execute(delete(ReminderPlanning))
    db.session.commit()


def on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_three_connections_plan_the_same_outbox_as_one(busy, monkeypatch):
    due, new = plan(1)
    rows = outbox_rows()
    assert due == new == len(rows)
    stale = {(row[0], row[1]) for row in rows if row[2] == ReminderKind.UPDATE_STALE}
    assert stale and not {(m.id, busy.m_2022[0].id) for m in recent_monitors()} & stale
    kinds = Counter(str(row[2]) for row in rows)
    assert kinds.keys() >= {
        ReminderKind.DEADLINE_APPROACHING,
        ReminderKind.OVERDUE,
        ReminderKind.UPDATE_STALE,
        ReminderKind.UPDATE_RETURNED,
        ReminderKind.REVIEW_WAITING,
    }
    forget_the_day()

    threads = []
    record_selected = planning.record_selected

    def spy(session, planned, now):
        threads.append(threading.current_thread().name)
        return record_selected(session, planned, now)

    monkeypatch.setattr(planning, "record_selected", spy)
    assert plan(3) == (due, new)
    assert outbox_rows() == rows
    # PostgreSQL inserts the shares from three connections at once; SQLite has one writer
    assert len(threads) == (3 if on_postgresql() else 1)
    # and a second planning the same day finds them all
    assert plan(3) == (due, 0)


def test_a_share_that_fails_leaves_nothing_of_the_days_planning(busy, monkeypatch):
    if not on_postgresql():
        pytest.skip("SQLite plans with one connection")
    record_selected = planning.record_selected
    lock, failed = threading.Lock(), []

    def fail_in_one_share(session, planned, now):
        """The first of the other connections fails; this one and the third insert theirs."""
        if threading.current_thread().name.startswith("reminder-plan"):
            with lock:
                first = not failed
                failed.append(threading.current_thread().name)
            if first:
                raise RuntimeError("the connection dropped")
        return record_selected(session, planned, now)

    monkeypatch.setattr(planning, "record_selected", fail_in_one_share)
    with pytest.raises(RuntimeError, match="the connection dropped"):
        plan(3)
    db.session.rollback()
    assert len(failed) == 2
    # the shares that had inserted theirs were not committed either
    assert outbox_rows() == []
    assert db.session.scalar(select(func.count()).select_from(ReminderPlanning)) == 0

    monkeypatch.setattr(planning, "record_selected", record_selected)
    due, new = plan(3)
    assert due == new == len(outbox_rows()) > 0


def test_two_planners_in_shares_at_the_same_moment_both_finish_and_plan_once(busy, app):
    """Two runs planning at once (the scheduler and an admin's command, say), each with
    three connections: the second waits for the first and then finds the day planned."""
    due, new = plan(1)
    rows = outbox_rows()
    forget_the_day()
    start = threading.Barrier(2)

    def planner(_n):
        with app.app_context():
            try:
                start.wait()
                return plan(3)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(planner, n) for n in range(2)]
        # a planner that waited for ever on the other would fail here, not hang the suite
        results = sorted(future.result(timeout=120) for future in futures)
    assert outbox_rows() == rows
    # one planner wrote them all; the other found them planned
    assert results == [(due, 0), (due, new)]
