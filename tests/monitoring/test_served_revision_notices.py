"""On the served app: a reviewer returns an update over HTTP, its monitor is told; once the
monitor submits the revision, the notice of the return is no longer new (the unread count
in the navigation drops), while a draft revision leaves it new."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_decision, update_form
from tests.monitoring.conftest import served_signed_in as signed_in
from tracker.extensions import db
from tracker.models import ReminderItem, StatusUpdate
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served

UNREAD = re.compile(r'class="unread-count"[^>]*><span aria-hidden="true">(\d+)</span>')


def unread(client) -> int:
    match = UNREAD.search(client.get("/monitor/").text)
    return int(match.group(1)) if match else 0


def returned_notice(update_id: int, monitor_id: int) -> ReminderItem:
    db.session.expire_all()
    return db.session.scalar(
        select(ReminderItem).where(
            ReminderItem.update_id == update_id,
            ReminderItem.recipient_id == monitor_id,
            ReminderItem.kind == ReminderKind.UPDATE_RETURNED,
        )
    )


def test_submitting_the_revision_settles_the_notice_of_the_return(served, served_world):
    world = served_world
    update_id = world.submitted_a.id
    reviewing = signed_in(served, world, "reviewer")
    served_decision(
        reviewing, f"/review/updates/{update_id}", "return", reason="Cite the ministry's reply."
    )
    monitor = signed_in(served, world, "monitor_a")
    monitor_id = world.users["monitor_a"].id
    assert returned_notice(update_id, monitor_id).read_dt is None
    before = unread(monitor)
    assert before >= 1

    revise = f"/monitor/updates/{update_id}/revise"
    saved = monitor.post_form(revise, update_form())  # a draft: the work is not done
    assert saved.status_code == 302
    assert returned_notice(update_id, monitor_id).read_dt is None
    revision = db.session.scalar(select(StatusUpdate).where(StatusUpdate.replaces_id == update_id))
    submitted = monitor.post_form(
        f"/monitor/updates/{revision.id}", {}, action=f"/monitor/updates/{revision.id}/submit"
    )
    assert submitted.status_code == 302
    assert returned_notice(update_id, monitor_id).read_dt is not None
    assert unread(monitor) == before - 1
