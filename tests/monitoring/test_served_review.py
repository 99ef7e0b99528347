"""Review and government claims on the served app (gunicorn workers and the scheduler),
over HTTP: a monitor moved to reviewer cannot approve their own update (issue 10,
finding 3); a monitor's claim is a proposal that a reviewer approves (finding 4); a 403
says why (issue 13, item 12)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import field_errors
from tests.monitoring.conftest import served_signed_in as signed_in
from tracker.extensions import db
from tracker.models import GovernmentClaim, StatusUpdate
from tracker.services.accounts import users

pytestmark = pytest.mark.served


def test_a_monitor_moved_to_reviewer_cannot_approve_their_own_update(served, served_world):
    world = served_world
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


def test_the_review_forms_error_page_switches_language_on_the_item(served, served_world):
    """The language switch of a refused review (sent with no Referer, as some browsers
    and proxies do) leads back to the update, in the language chosen, over HTTP."""
    world = served_world
    client = signed_in(served, world, "reviewer")
    item = f"/review/updates/{world.submitted_a.id}"
    token = client.csrf_token(item)
    refused = client.post(
        f"{item}/review", data={"csrf_token": token, "comment": " ", "return_update": "1"}
    )
    assert refused.status_code == 400 and '<html lang="en">' in refused.text  # the account's
    switch = f"{item}/review?lang=az"
    assert f'href="{switch}" lang="az"' in refused.text
    switched = client.get(switch)
    assert switched.status_code == 302 and switched.headers["Location"] == f"{item}?lang=az"
    assert '<html lang="az">' in client.get(switched.headers["Location"]).text
    # the language chosen stays for the next page without ?lang=
    assert '<html lang="az">' in client.get(item).text


def claim_data(title: str) -> dict:
    return {
        "claimed_completion": "substantial",
        "claim_date": "2022-11-20",
        "source_title": title,
        "source_url": "https://example.gov.az/decree",
        "note": "",
    }


def test_claims_are_proposed_reviewed_and_refused_with_a_reason(served, served_world):
    """Issue 10, finding 4 and issue 13, item 12 on the served app."""
    world = served_world
    measure = world.measure_a
    form = f"/claims/measures/{measure.id}/new?lang=en"
    public_page = f"/plans/{world.plan.key}/measures/{measure.code}?lang=en"
    monitor = signed_in(served, world, "monitor_a")
    # a title of 501 characters is refused with a message that says "at most" the 500 it
    # allows, in each language (it said "under 500")
    for lang, message in (
        ("en", "This is too long: use at most 500 characters."),
        ("az", "Mətn çox uzundur: ən çoxu 500 simvol yazın."),
    ):
        page = f"/claims/measures/{measure.id}/new?lang={lang}"
        too_long = monitor.post_form(page, claim_data("x" * 501), action=page)
        assert too_long.status_code == 400
        assert field_errors(too_long.text)["source_title"] == [message]
    response = monitor.post_form(form, claim_data("Proposed decree"))
    assert response.status_code == 302
    proposal = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.source_title == "Proposed decree")
    )
    assert proposal.review_state == "submitted"
    assert "Proposed decree" not in served.client().get(public_page).text

    admin = signed_in(served, world, "admin")
    assert admin.get(form).status_code == 200
    other = signed_in(served, world, "monitor_b")
    refused = other.get(form)
    message = (
        f"Your organisation does not monitor measure {measure.code}. "
        "Ask an administrator to link it."
    )
    assert refused.status_code == 403 and message in refused.text
    as_json = other.get(form, headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json()["error"]["message"] == message
    queue = other.get("/review/claims/?lang=en", headers={"Accept": "application/json"})
    assert queue.status_code == 403 and queue.json()["error"]["message"] == (
        "This page is for: Reviewer (Open Government Platform), Administrator. "
        "You are signed in as: Monitor."
    )

    reviewer = signed_in(served, world, "reviewer")
    assert f"/review/claims/{proposal.id}" in reviewer.get("/review/claims/").text
    proposal_page = reviewer.get(f"/review/claims/{proposal.id}?lang=az").text
    assert "<dt>Mənbə</dt>" in proposal_page and "Mənbə:" not in proposal_page
    decided = reviewer.post_form(
        f"/review/claims/{proposal.id}",
        {"comment": ""},
        action=f"/review/claims/{proposal.id}/approve",
    )
    assert decided.status_code == 302
    assert "Proposed decree" in served.client().get(public_page).text
