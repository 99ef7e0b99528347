"""The notices of a proposed government claim on the served app (gunicorn workers and the
scheduler): a monitor proposes a claim over HTTP, and a reviewer gets the notice in the
app and its email from the scheduler's mail-outbox job through the real SMTP server
(aiosmtpd), in their language, with a link that opens the proposal; deciding it settles
the notice and tells the proposing organisation's monitor, in the app and by email, with
the reviewer's reason when it is returned."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_decision
from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_review import claim_data
from tests.served.server import email_link, email_text
from tracker.extensions import db
from tracker.models import GovernmentClaim, ReminderItem
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served


def propose(served, world, title: str):
    """Monitor A proposes a claim on measure A over HTTP: their client, and the proposal."""
    monitor = signed_in(served, world, "monitor_a")
    form = f"/claims/measures/{world.measure_a.id}/new"
    assert monitor.post_form(form, claim_data(title)).status_code == 302
    proposal = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.source_title == title)
    )
    return monitor, proposal


def test_a_reviewer_is_told_and_mailed_when_a_monitor_proposes_a_claim(served, served_world):
    world = served_world
    reviewer = world.users["reviewer"]
    reviewer.locale = "az"
    world.users["monitor_a"].locale = "en"
    db.session.commit()
    monitor, proposal = propose(served, world, "Proposed by a monitor")
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

    # the proposing organisation's monitor is told of the approval
    proposer = world.users["monitor_a"]
    message = served.email_to(proposer.email, "approved the government claim that")
    assert message["Subject"] == (
        f"{world.measure_a.code}: Proposed government claim approved by a reviewer"
    )
    link = email_link(message, "/measures/")
    measure_page = f"/plans/{world.plan.key}/measures/{world.measure_a.code}"
    assert link == f"{served.url}{measure_page}#claim-{proposal.id}"
    assert f'<li id="claim-{proposal.id}">' in monitor.get(link).text
    assert f'href="{measure_page}#claim-{proposal.id}"' in monitor.get("/notifications").text
    assert served.emails_to(world.users["monitor_b"].email) == []


def test_the_proposing_monitor_is_told_and_mailed_why_a_reviewer_returned_it(served, served_world):
    world = served_world
    proposer = world.users["monitor_a"]
    proposer.locale = "az"
    db.session.commit()
    monitor, proposal = propose(served, world, "Returned proposal")
    reviewing = signed_in(served, world, "reviewer")
    served_decision(
        reviewing, f"/review/claims/{proposal.id}", "return", reason="Give the decree's number."
    )

    message = served.email_to(proposer.email, "Rəyçinin səbəbi:")
    assert message["Subject"] == (
        f"{world.measure_a.code}: Təklif olunmuş hökumət iddiası rəyçi tərəfindən geri qaytarıldı"
    )
    text = email_text(message)
    assert "Təşkilat A təşkilatının təklif etdiyi hökumət iddiasını geri qaytardı" in text
    assert "Rəyçinin səbəbi:\nGive the decree's number." in text
    # the link opens the returned proposal's own page: the reason and the "Revise" button
    link = email_link(message, "/claims/")
    assert link == f"{served.url}/claims/{proposal.id}"
    page = monitor.get(link)
    assert page.status_code == 200 and "Give the decree&#39;s number." in page.text
    assert f'href="/claims/{proposal.id}/revise"' in page.text
    notifications = monitor.get("/notifications?lang=en").text
    assert f'href="/claims/{proposal.id}"' in notifications
    assert "a reviewer returned the government claim that Organisation A proposed" in notifications
    # the reason is on the list as well as in the email
    assert (
        '<blockquote class="notification-reason">Give the decree&#39;s number.</blockquote>'
        in notifications
    )
    assert served.emails_to(world.users["monitor_b"].email) == []
    db.session.expire_all()
    [notice] = db.session.scalars(
        select(ReminderItem).where(
            ReminderItem.claim_id == proposal.id, ReminderItem.recipient_id == proposer.id
        )
    )
    assert notice.kind == ReminderKind.CLAIM_RETURNED
