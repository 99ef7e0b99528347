"""The notice of a proposed government claim on the served app (gunicorn workers and the
scheduler): a monitor proposes a claim over HTTP, and a reviewer gets the notice in the
app and its email from the scheduler's mail-outbox job through the real SMTP server
(aiosmtpd), in their language, with a link that opens the proposal; deciding it settles
the notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_review import claim_data
from tests.served.server import email_link, email_text
from tracker.extensions import db
from tracker.models import GovernmentClaim, ReminderItem
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served


def test_a_reviewer_is_told_and_mailed_when_a_monitor_proposes_a_claim(served, served_world):
    world = served_world
    reviewer = world.users["reviewer"]
    reviewer.locale = "az"
    db.session.commit()
    monitor = signed_in(served, world, "monitor_a")
    form = f"/claims/measures/{world.measure_a.id}/new"
    assert monitor.post_form(form, claim_data("Proposed by a monitor")).status_code == 302
    proposal = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.source_title == "Proposed by a monitor")
    )
    assert proposal.review_state == "submitted"

    # recorded by the proposing request itself, for reviewers only
    told = {
        item.recipient.email
        for item in db.session.scalars(
            select(ReminderItem).where(ReminderItem.claim_id == proposal.id)
        )
    }
    assert reviewer.email in told
    assert not told & {world.users[role].email for role in ("monitor_a", "monitor_b", "admin")}

    message = served.email_to(reviewer.email, "hökumətin iddiasını təklif etdi")
    assert message["Subject"] == f"{world.measure_a.code}: Hökumətin iddiası rəyə təklif edildi"
    assert "Təşkilat A" in email_text(message)
    link = email_link(message, "/review/claims/")
    assert link == f"{served.url}/review/claims/{proposal.id}"
    assert served.emails_to(world.users["monitor_a"].email) == []

    reviewing = signed_in(served, world, "reviewer")
    assert "Proposed by a monitor" in reviewing.get(link).text
    response = reviewing.post_form(
        "/review/claims/", {"comment": ""}, action=f"/review/claims/{proposal.id}/approve"
    )
    assert response.status_code == 302
    # the decision settles the notice (the notifications page, not yet seen, did not)
    db.session.expire_all()
    [notice] = db.session.scalars(
        select(ReminderItem).where(
            ReminderItem.claim_id == proposal.id, ReminderItem.recipient_id == reviewer.id
        )
    )
    assert notice.kind == ReminderKind.CLAIM_PROPOSED and notice.read_dt is not None
    assert f'href="/review/claims/{proposal.id}"' in reviewing.get("/notifications").text
