"""Review and government claims on the served app (gunicorn workers and the scheduler),
over HTTP: a monitor moved to reviewer cannot approve their own update (issue 10,
finding 3)."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_world import build_world
from tracker.extensions import db
from tracker.models import StatusUpdate
from tracker.services.accounts import users

pytestmark = pytest.mark.served


@pytest.fixture
def world(served):
    built = build_world(str(served.upload_folder))
    db.session.commit()
    return built


def signed_in(served, world, role: str):
    client = served.client()
    client.login(world.users[role].email, PASSWORD)
    return client


def test_a_monitor_moved_to_reviewer_cannot_approve_their_own_update(served, world):
    mover = world.users["monitor_a"]
    users.change_role(
        db.session, mover, role="reviewer", organisation_id=None, actor=world.users["admin"]
    )
    db.session.commit()
    client = signed_in(served, world, "monitor_a")
    page = f"/review/updates/{world.submitted_a.id}?lang=en"
    assert "someone else must review it" in client.get(page).text
    response = client.post_form(
        "/review/?lang=en",
        {"comment": ""},
        action=f"/review/updates/{world.submitted_a.id}/approve",
    )
    assert response.status_code == 403
    assert "You wrote this or a version it revises" in response.text
    db.session.expire_all()
    assert db.session.get(StatusUpdate, world.submitted_a.id).review_state == "submitted"
    # an unrelated reviewer decides
    other = signed_in(served, world, "reviewer")
    response = other.post_form(
        "/review/", {"comment": ""}, action=f"/review/updates/{world.submitted_a.id}/approve"
    )
    assert response.status_code == 302
