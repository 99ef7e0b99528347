"""The day a notice shows on the served notification list is its day in Baku: a notice
recorded at 22:15 UTC (02:15 the next day in Baku) is dated the next day, as its text and
its email say, in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_decision
from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_claim_notices import propose
from tracker.extensions import db
from tracker.models import ReminderItem

pytestmark = pytest.mark.served

LATE_EVENING_UTC = datetime(2026, 3, 9, 22, 15, tzinfo=UTC)
BAKU_DAY = date(2026, 3, 10)


def test_the_notification_list_dates_a_notice_by_its_day_in_baku(served, served_world):
    world = served_world
    monitor, proposal = propose(served, world, "Dated in Baku")
    reviewing = signed_in(served, world, "reviewer")
    served_decision(reviewing, f"/review/claims/{proposal.id}", "return", reason="Name the decree.")
    db.session.expire_all()
    notice = db.session.scalar(
        select(ReminderItem).where(
            ReminderItem.claim_id == proposal.id,
            ReminderItem.recipient_id == world.users["monitor_a"].id,
        )
    )
    notice.planned_dt = LATE_EVENING_UTC
    notice.reference_date = BAKU_DAY
    db.session.commit()

    for lang, shown, utc_day in (
        ("az", "10 mart 2026", "9 mart 2026"),
        ("en", "March 10, 2026", "March 9, 2026"),
    ):
        page = monitor.get(f"/notifications?lang={lang}").text
        item = page.split(f'id="item-{notice.id}"', 1)[1].split("</li>", 1)[0]
        # the moment itself (a valid HTML date-time), shown as its day in Baku
        assert f'<time datetime="{LATE_EVENING_UTC.isoformat()}">{shown}</time>' in item
        assert utc_day not in item
