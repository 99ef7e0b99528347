"""On the served app: the notifications page marks what it shows as read while other
people write. On SQLite a GET that reads and then writes in one deferred transaction is
refused at once ("database is locked") when another process wrote in between; the page
takes the write lock up front instead, so nothing of the kind reaches the log (the served
fixture fails a test whose requests logged it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tests.accounts.route_world import build_world
from tests.monitoring.conftest import served_signed_in as signed_in
from tracker.extensions import db
from tracker.models import ReminderItem
from tracker.vocabulary import DeliveryStatus, ReminderKind

pytestmark = pytest.mark.served
ROUNDS = 25
NOTICES_EACH = 12


def _notices_for(user, world) -> None:
    measure = world.measure_a
    for number in range(NOTICES_EACH):
        db.session.add(
            ReminderItem(
                recipient_id=user.id,
                measure_id=measure.id,
                kind=ReminderKind.UPDATE_APPROVED,
                occurrence=f"served-writes-{user.id}-{number}",
                reference_date=date(2022, 12, 31),
                next_attempt_dt=datetime(2023, 1, 1, tzinfo=UTC),
                status=DeliveryStatus.SENT,
            )
        )


def _unread(user) -> int:
    count = db.session.scalar(
        select(func.count())
        .select_from(ReminderItem)
        .where(ReminderItem.recipient_id == user.id, ReminderItem.read_dt.is_(None))
    )
    db.session.commit()
    return count


def test_the_notifications_page_marks_notices_read_while_others_write(served):
    world = build_world(str(served.upload_folder))
    reader, writer = world.users["monitor_a"], world.users["monitor_b"]
    _notices_for(reader, world)
    _notices_for(writer, world)
    db.session.commit()
    reading = signed_in(served, world, "monitor_a")
    writing = signed_in(served, world, "monitor_b")
    token = writing.csrf_token("/notifications")

    def read() -> list[int]:
        return [reading.get("/notifications").status_code for _ in range(ROUNDS)]

    def write() -> list[int]:
        data = {"csrf_token": token}
        return [
            writing.post("/notifications/read-all", data=data).status_code for _ in range(ROUNDS)
        ]

    with ThreadPoolExecutor(max_workers=2) as pool:
        reads, writes = pool.submit(read), pool.submit(write)
        assert reads.result() == [200] * ROUNDS
        assert writes.result() == [302] * ROUNDS
    # the reader's page marked what it showed (the first page of its list) as read
    assert _unread(reader) == 0
