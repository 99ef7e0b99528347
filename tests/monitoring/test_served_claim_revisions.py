"""A returned claim proposal revised on the served app (gunicorn workers, real HTTP, one
cookie jar per person): the monitor finds the reviewer's reason and a "Revise" button on
the measure's page, sends the revision from a form filled from the returned proposal, and
two revisions sent at the same time from two forms save one; another organisation's
monitor is refused; the reviewer sees what the revision revises and approves it. The
return's notice still explains itself once the proposal is revised, and a colleague who
revises it can open the file the revision keeps."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.accounts.conftest import PASSWORD, password_hash
from tests.monitoring import files
from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_claim_notices import propose
from tests.monitoring.test_served_review import claim_data
from tracker.extensions import db
from tracker.models import GovernmentClaim, ReminderItem, User
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served

FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
REASON = "Give the decree's number."


def revision_form(client, url: str) -> dict:
    """The revision form as the page gives it: its CSRF token, form key and values."""
    page = client.get(url)
    assert page.status_code == 200
    [form_key] = FORM_KEY.findall(page.text)
    data = claim_data("Decree No. 12")
    return {"csrf_token": client.csrf_token(url), "form_key": form_key, **data}


def decide(reviewer, claim_id: int, action: str, data: dict):
    """The reviewer sends a decision's form from the proposal's page."""
    page = f"/review/claims/{claim_id}"
    return reviewer.post_form(page, data, action=f"{page}/{action}")


def test_a_monitor_revises_a_returned_proposal_and_a_reviewer_approves_it(served, served_world):
    world = served_world
    monitor, proposal = propose(served, world, "Decree without its number")
    reviewer = signed_in(served, world, "reviewer")
    assert decide(reviewer, proposal.id, "return", {"reason": REASON}).status_code == 302
    page_url = f"/plans/{world.plan.key}/measures/{world.measure_a.code}?lang=en"
    page = monitor.get(page_url).text
    revise_url = f"/claims/{proposal.id}/revise"
    assert f'href="{revise_url}"' in page and "Give the decree&#39;s number." in page

    form = monitor.get(f"{revise_url}?lang=en").text
    assert 'value="Decree without its number"' in form and "Give the decree&#39;s number." in form
    other = signed_in(served, world, "monitor_b")
    refused = other.get(f"{revise_url}?lang=en")
    assert refused.status_code == 403
    assert "Only a monitor of the organisation that proposed it can revise" in refused.text

    # two forms sent at the same time: the unique index saves one, the other is told
    forms = [revision_form(monitor, revise_url) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda data: monitor.post(revise_url, data=data), forms))
    assert sorted(answer.status_code for answer in answers) == [302, 409]
    # the saved form sent again leads to the page it saved on
    [saved] = [data for data, answer in zip(forms, answers, strict=True) if answer.ok]
    again = monitor.post(revise_url, data=saved)
    assert again.status_code == 302 and again.headers["Location"].endswith(
        f"/measures/{world.measure_a.code}"
    )
    [revision] = db.session.scalars(
        select(GovernmentClaim).where(GovernmentClaim.revises_id == proposal.id)
    ).all()
    assert revision.review_state == "submitted" and revision.source_title == "Decree No. 12"
    [notice] = db.session.scalars(
        select(ReminderItem).where(
            ReminderItem.claim_id == proposal.id,
            ReminderItem.kind == ReminderKind.CLAIM_RETURNED,
        )
    )
    assert notice.read_dt is not None
    page = monitor.get(page_url).text
    assert f'href="{revise_url}"' not in page and f'id="claim-{revision.id}"' in page

    assert (
        f"Revises returned proposal #{proposal.id}" in reviewer.get("/review/claims/?lang=en").text
    )
    assert decide(reviewer, revision.id, "approve", {"comment": ""}).status_code == 302
    assert "Decree No. 12" in served.client().get(page_url).text
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, proposal.id).review_state == "returned"


def test_the_return_notice_leads_to_the_returned_proposal_once_revised(served, served_world):
    """The return's notice, in the app, leads to the returned proposal's page, which names
    its revision, though the measure's page now lists only the revision."""
    world = served_world
    monitor, proposal = propose(served, world, "Decree to revise")
    reviewer = signed_in(served, world, "reviewer")
    assert decide(reviewer, proposal.id, "return", {"reason": REASON}).status_code == 302
    revise_url = f"/claims/{proposal.id}/revise"
    assert monitor.post(revise_url, data=revision_form(monitor, revise_url)).status_code == 302
    revision = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.revises_id == proposal.id)
    )

    notifications = monitor.get("/notifications?lang=en").text
    assert f'href="/claims/{proposal.id}"' in notifications
    shown = monitor.get(f"/claims/{proposal.id}?lang=en")
    assert shown.status_code == 200 and "Give the decree&#39;s number." in shown.text
    assert f'<a href="/claims/{revision.id}">Your revision: proposal #{revision.id}</a>' in (
        shown.text
    )
    assert "Waiting for a reviewer." in monitor.get(f"/claims/{revision.id}?lang=en").text
    measure_page = f"/plans/{world.plan.key}/measures/{world.measure_a.code}?lang=en"
    listed = monitor.get(measure_page).text
    assert f'id="claim-{proposal.id}"' not in listed and f'href="/claims/{proposal.id}"' in listed
    assert signed_in(served, world, "monitor_b").get(f"/claims/{proposal.id}").status_code == 403
    sent_on = reviewer.get(f"/claims/{proposal.id}")
    assert sent_on.status_code == 302
    assert sent_on.headers["Location"].endswith(f"/review/claims/{proposal.id}")


def test_a_colleague_who_revises_a_proposal_opens_the_file_it_keeps(served, served_world):
    """A returned proposal with a file, revised by a colleague of its proposer: the
    colleague's form offers the file and they can download it; another organisation's
    monitor and a visitor cannot."""
    world = served_world
    proposer = signed_in(served, world, "monitor_a")
    page = f"/claims/measures/{world.measure_a.id}/new?lang=en"
    data = {**claim_data("Decree as a file"), "source_url": ""}
    upload = {"file": ("decree.pdf", files.simple_pdf(), "application/pdf")}
    assert proposer.post_form(page, data, files=upload).status_code == 302
    proposal = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.source_title == "Decree as a file")
    )
    reviewer = signed_in(served, world, "reviewer")
    assert decide(reviewer, proposal.id, "return", {"reason": REASON}).status_code == 302
    db.session.add(
        User(
            email="colleague.a@example.org",
            role="monitor",
            organisation_id=world.organisation_a.id,
            password_hash=password_hash(),
        )
    )
    db.session.commit()
    colleague = served.client()
    colleague.login("colleague.a@example.org", PASSWORD)

    download = f"/files/{proposal.file.public_id}"
    revise_url = f"/claims/{proposal.id}/revise?lang=en"
    assert f'href="{download}"' in colleague.get(revise_url).text
    answer = colleague.get(download)
    assert answer.status_code == 200 and answer.content == files.simple_pdf()
    assert signed_in(served, world, "monitor_b").get(download).status_code == 403
    assert served.client().get(download).status_code == 404
    [form_key] = FORM_KEY.findall(colleague.get(revise_url).text)
    sent = {**data, "form_key": form_key, "keep_revised_file": "y", "claim_date": "2022-11-21"}
    assert colleague.post_form(revise_url, sent).status_code == 302
    db.session.expire_all()
    [revision] = db.session.scalars(
        select(GovernmentClaim).where(GovernmentClaim.revises_id == proposal.id)
    ).all()
    assert revision.file_id == proposal.file_id
    assert colleague.get(download).status_code == 200
