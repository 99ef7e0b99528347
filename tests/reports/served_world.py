"""Fixtures of the report tests on the served app: the reports conftest's `monitoring`
records are written to the served database, on the plan `serve` seeded, with the served
app's real date as "today". Test modules import them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import ActionPlan

PLAN = "az-nap-2020-2022"
#: the plan's last day: the latest date its report may describe
PLAN_END = date(2022, 12, 31)


@pytest.fixture
def seeded(served):
    """The plan `serve` seeded (for the `monitoring` fixture): looked up, not seeded again."""
    return db.session.scalar(select(ActionPlan).where(ActionPlan.key == PLAN))


@pytest.fixture
def today(served):
    """The served app runs on the real clock; its config cannot be set per test."""
    return served.today()


def latest_report_date(served) -> date:
    """The date a plan report describes by default: today, or the plan's end once passed."""
    return min(served.today(), PLAN_END)
