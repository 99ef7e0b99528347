"""Concurrency through the served app (issue 11, item 7), on the test run's database:
concurrent writers lose nothing, and parallel approvals make exactly one decision.

Two schedulers with one digest each are covered by
tests/reminders/test_processes.py::test_two_schedulers_catch_up_once_and_a_restart_sends_nothing_twice
and test_two_send_reminders_processes_at_the_same_moment_send_one_digest_each (real
processes on the same database); the in-process races by tests/monitoring/test_review.py
and tests/test_app.py::test_concurrent_read_then_write_loses_no_update."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import PASSWORD, password_hash
from tests.accounts.route_world import build_world
from tests.reliability.writers import writers_running
from tracker.extensions import db
from tracker.models import AuditEntry, ReviewDecision, StatusUpdate, User

pytestmark = pytest.mark.served

WRITERS = 4
UPDATES_EACH = 10
APPROVERS = 10


def tagged_narratives(prefix: str) -> Counter:
    db.session.rollback()
    found = db.session.scalars(
        select(StatusUpdate.narrative_en).where(StatusUpdate.narrative_en.like(f"{prefix}%"))
    )
    return Counter(found)


def test_four_monitors_writing_at_once_lose_no_update(served):
    world = build_world(str(served.upload_folder))
    monitors = [(world.users["monitor_a"].email, world.measure_a.id)]
    monitors.append((world.users["monitor_b"].email, world.measure_b.id))
    for number in range(WRITERS - 2):
        user = User(
            email=f"monitor.a{number}@example.org",
            role="monitor",
            organisation_id=world.organisation_a.id,
            password_hash=password_hash(),
        )
        db.session.add(user)
        monitors.append((user.email, world.measure_a.id))
    db.session.commit()
    jobs = [
        (email, measure, f"WRITER-{i}", UPDATES_EACH) for i, (email, measure) in enumerate(monitors)
    ]
    with writers_running(served, jobs) as statuses:
        pass
    assert statuses == [[302] * UPDATES_EACH] * WRITERS
    written = tagged_narratives("WRITER-")
    expected = {f"WRITER-{i}-{n}" for i in range(WRITERS) for n in range(UPDATES_EACH)}
    assert set(written) == expected  # none lost
    assert set(written.values()) == {1}  # none doubled


def test_parallel_approvals_through_the_served_app_make_one_decision(served):
    world = build_world(str(served.upload_folder))
    update_id, email = world.submitted_a.id, world.users["reviewer"].email
    db.session.commit()
    clients, tokens = [], []
    for _ in range(APPROVERS):
        client = served.client()
        client.login(email, PASSWORD)
        tokens.append(client.csrf_token(f"/review/updates/{update_id}"))
        clients.append(client)
    barrier = threading.Barrier(APPROVERS)
    statuses: list[int] = [0] * APPROVERS
    pages: list[str] = [""] * APPROVERS

    def approve(index: int) -> None:
        barrier.wait()
        response = clients[index].post(
            f"/review/updates/{update_id}/approve", data={"csrf_token": tokens[index]}
        )
        statuses[index], pages[index] = response.status_code, response.text

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(APPROVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302] + [409] * (APPROVERS - 1), statuses
    # each one too late is told so, and offered the update as it is now
    link = f'href="/review/updates/{update_id}"'
    assert all(link in page for status, page in zip(statuses, pages, strict=True) if status == 409)
    db.session.rollback()
    decisions = db.session.scalars(
        select(ReviewDecision.decision).where(ReviewDecision.update_id == update_id)
    ).all()
    assert decisions == ["approved"]
    approved = (AuditEntry.action == "update.approved") & (AuditEntry.target_id == str(update_id))
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(approved)) == 1
