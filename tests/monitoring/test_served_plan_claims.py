"""A plan-wide government claim on the served app: a reviewer records it over HTTP, and a
visitor's scorecard shows it for the plan, while each measure nobody assessed still reads
"No update yet" (the claim is about the plan, not news of the measure)."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_review import claim_data
from tracker.extensions import db
from tracker.models import ActionPlan, GovernmentClaim

pytestmark = pytest.mark.served

SEEDED_PLAN = "az-nap-2020-2022"


def test_a_plan_wide_claim_is_not_each_measures_last_update(served, served_world):
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.key == SEEDED_PLAN))
    reviewer = signed_in(served, served_world, "reviewer")
    form = f"/claims/plans/{plan.id}/new"
    recorded = reviewer.post_form(form, claim_data("The plan was fully implemented"))
    assert recorded.status_code == 302
    db.session.expire_all()
    claim = db.session.scalar(select(GovernmentClaim).where(GovernmentClaim.plan_id == plan.id))
    assert claim.is_public and claim.measure_id is None

    visitor = requests.Session()  # no login, a cookie jar of its own
    page = visitor.get(f"{served.url}/plans/{SEEDED_PLAN}/?lang=en").text
    assert "The plan was fully implemented" in page
    first = page.split(f'href="/plans/{SEEDED_PLAN}/measures/1.1"')[2].split("</li>")[0]
    assert "No update yet" in first
    assert 'datetime="2022-11-20"' not in first
    api = visitor.get(f"{served.url}/api/v1/measures/{SEEDED_PLAN}/1.1").json()
    assert api["state"]["last_updated"] is None
