"""The review queue's reminder of a proposed government claim on the served app: a monitor
proposes a claim over HTTP; nine days later the reminders job (`tracker send-reminders`,
the scheduler's daily job once) mails the reviewers who may decide it through the real
SMTP server (aiosmtpd), in their language, with a link to the proposal's page; deciding
the proposal over HTTP settles the reminder in the app."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_claim_notices import propose
from tests.served.server import email_link, email_text
from tracker import clock
from tracker.extensions import db
from tracker.models import ReminderItem
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served


def _waiting_items(claim_id: int) -> list[ReminderItem]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ReminderItem).where(
                ReminderItem.claim_id == claim_id,
                ReminderItem.kind == ReminderKind.REVIEW_WAITING,
            )
        )
    )


def test_a_proposal_waiting_nine_days_reminds_the_reviewer_until_it_is_decided(
    served, served_world
):
    world = served_world
    reviewer = world.users["reviewer"]
    reviewer.locale = "az"
    db.session.commit()
    _monitor, proposal = propose(served, world, "Waiting for a reviewer")
    later = datetime.now(clock.BAKU) + timedelta(days=9)
    result = served.run_cli("send-reminders", "--now", later.isoformat(timespec="minutes"))
    assert result.returncode == 0, result.stdout + result.stderr

    # the reviewers who may decide it (the invited one too, as with an update), not the
    # proposer, the other monitor or an admin
    items = _waiting_items(proposal.id)
    assert {item.recipient.email for item in items} == {reviewer.email, "invited@example.org"}
    for item in items:
        assert (item.occurrence, item.measure_id) == (f"claim-{proposal.id}/1", proposal.measure_id)
        assert item.read_dt is None
    message = served.email_to(reviewer.email, "9 gündür baxış gözləyir")
    text = email_text(message)
    assert "Təşkilat A təşkilatının" in text and "təklif etdiyi hökumət iddiası" in text
    proposal_page = f"{served.url}/review/claims/{proposal.id}"
    assert email_link(message, f"/review/claims/{proposal.id}") == proposal_page
    for role in ("monitor_a", "monitor_b", "admin"):
        assert "baxış gözləyir" not in "".join(
            email_text(m) for m in served.emails_to(world.users[role].email)
        )

    reviewing = signed_in(served, world, "reviewer")
    # the link opens the proposal where the reviewer decides it
    assert f'action="/review/claims/{proposal.id}/return"' in reviewing.get(proposal_page).text
    response = reviewing.post_form(
        f"/review/claims/{proposal.id}",
        {"reason": "Give the decree's number."},
        action=f"/review/claims/{proposal.id}/return",
    )
    assert response.status_code == 302
    # the decision settles the reminders before the reviewers open the list
    items = _waiting_items(proposal.id)
    assert all(item.read_dt is not None for item in items)
    [item] = [item for item in items if item.recipient_id == reviewer.id]
    page = reviewing.get("/notifications?lang=en").text
    shown = page.split(f'id="item-{item.id}"')[1].split("</li>")[0]
    assert shown.startswith(' class="notification">')  # not "is-unread"
    assert "has waited 9 days for review." in shown
    assert f'href="/review/claims/{proposal.id}"' in shown
