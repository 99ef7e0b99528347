"""A monitor revises a returned claim proposal (services.monitoring.claims): the revision is
a new proposal that points to the returned one, which is never changed; it keeps the
returned one's file if the monitor wants, corrects what that one corrected, is sent for
review as any proposal, and is made once. Revising reads the return's notices."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers import QueryCounter
from tests.monitoring.conftest import (
    PDF_BYTES,
    as_user,
    csrf,
    file_field,
    make_claim,
    make_user,
    store_file,
)
from tests.monitoring.test_claims import (
    PLAN,
    _form_key,
    anonymous,
    audit_count,
    claim_form,
    claims_count,
    correct,
    post_claim,
    review_claim,
)
from tests.monitoring.test_notices import notices
from tracker.extensions import db
from tracker.models import GovernmentClaim
from tracker.services import reminders
from tracker.services.errors import NotAllowed, StateConflict
from tracker.services.monitoring import claims as claim_service
from tracker.vocabulary import ReminderKind

MEASURE_PAGE = f"/plans/{PLAN}/measures/1.1"
REASON = "The link is not the ministry's."


def newest_claim() -> GovernmentClaim:
    return db.session.scalars(select(GovernmentClaim).order_by(GovernmentClaim.id.desc())).first()


def returned_proposal(client, world, **overrides) -> GovernmentClaim:
    """Monitor A proposes a claim on 1.1 through the form, and the reviewer returns it."""
    as_user(client, world.monitor_a)
    assert post_claim(client, world.measure("1.1"), **overrides).status_code == 302
    proposal = newest_claim()
    as_user(client, world.reviewer)
    assert review_claim(client, proposal.id, "return", reason=REASON).status_code == 302
    as_user(client, world.monitor_a)
    db.session.expire_all()
    return proposal


def revise(client, claim_id: int, **overrides):
    url = f"/claims/{claim_id}/revise"
    data = {"csrf_token": csrf(client, "/"), **claim_form(**overrides)}
    return client.post(url, data=data, content_type="multipart/form-data")


def text(response) -> str:
    return response.get_data(as_text=True)


def revision_input(**overrides) -> claim_service.ClaimInput:
    values = {
        "claimed_completion": "substantial",
        "claim_date": date(2021, 6, 1),
        "source_title": "Decree of the Cabinet",
        "source_url": "https://cabmin.gov.az/decree",
    }
    return claim_service.ClaimInput(**{**values, **overrides})


def test_a_returned_proposal_is_revised_by_a_new_one_sent_for_review(client, world):
    returned = returned_proposal(
        client, world, source_url="", file=file_field(PDF_BYTES, "decree.pdf"), note="First."
    )
    [notice] = notices(world.monitor_a)
    assert notice.kind == ReminderKind.CLAIM_RETURNED and notice.read_dt is None
    page = text(client.get(MEASURE_PAGE))
    assert REASON.replace("'", "&#39;") in page
    assert f'href="/claims/{returned.id}/revise"' in page and "Revise this proposal" in page

    form = text(client.get(f"/claims/{returned.id}/revise"))
    assert "Revise your proposed government claim on measure 1.1" in form
    assert "Reviewer's reason:" in form and REASON.replace("'", "&#39;") in form
    assert 'value="Report of the Ministry of Justice"' in form and 'value="2021-05-20"' in form
    assert re.search(r'<option selected value="complete">|value="complete" selected', form)
    assert "First." in form and "decree.pdf" in form
    assert '<input aria-describedby="keep_revised_file-hint" checked id="keep_revised_file"' in form

    response = revise(
        client, returned.id, source_url="", keep_revised_file="y", claimed_completion="limited"
    )
    assert response.status_code == 302 and response.location.endswith(MEASURE_PAGE)
    db.session.expire_all()
    revision = newest_claim()
    assert (revision.revises_id, revision.review_state) == (returned.id, "submitted")
    assert revision.claimed_completion == "limited" and revision.organisation_id == world.org_a.id
    assert revision.file_id == returned.file_id and revision.replaces_id is None
    kept = db.session.get(GovernmentClaim, returned.id)
    assert (kept.review_state, kept.return_reason, kept.is_archived) == ("returned", REASON, False)
    assert audit_count("claim.revised") == 1 and audit_count("claim.proposed") == 1
    # the return's notice is read; the reviewer is told of the revision as of any proposal
    [notice] = notices(world.monitor_a)
    assert notice.read_dt is not None
    assert [n.claim_id for n in notices(world.reviewer) if n.kind == "claim_proposed"] == [
        returned.id,
        revision.id,
    ]
    page = text(client.get(MEASURE_PAGE))
    assert f'id="claim-{returned.id}"' not in page and "Revise this proposal" not in page
    assert f'id="claim-{revision.id}"' in page and "Revises your proposal sent" in page

    as_user(client, world.reviewer)
    assert f"Revises returned proposal #{returned.id}" in text(client.get("/review/claims/"))
    shown = text(client.get(f"/review/claims/{revision.id}"))
    assert f"Returned proposal #{returned.id}" in shown and REASON.replace("'", "&#39;") in shown
    assert review_claim(client, revision.id, "approve", comment="").status_code == 302
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, revision.id).is_public
    client.get("/logout")
    assert client.get(f"/files/{revision.file.public_id}").status_code == 200


def test_a_revision_without_the_kept_file_needs_a_link_or_a_new_file(client, world):
    returned = returned_proposal(client, world, source_url="", file=file_field(PDF_BYTES, "a.pdf"))
    refused = revise(client, returned.id, source_url="")
    assert refused.status_code == 400
    assert "Give a link to the source or upload it as a file." in text(refused)
    replaced = revise(
        client,
        returned.id,
        source_url="",
        keep_revised_file="y",
        file=file_field(PDF_BYTES, "b.pdf"),
    )
    assert replaced.status_code == 302
    db.session.expire_all()
    revision = newest_claim()
    assert revision.file.original_filename == "b.pdf" and revision.file_id != returned.file_id
    # a returned proposal with a link keeps no file: the box is not on its form
    second = returned_proposal(client, world)
    assert "keep_revised_file" not in text(client.get(f"/claims/{second.id}/revise"))
    assert revise(client, second.id, keep_revised_file="y").status_code == 302
    db.session.expire_all()
    assert newest_claim().file_id is None and newest_claim().source_url


def test_only_a_returned_proposal_of_ones_organisation_is_revised_and_once(client, world):
    as_user(client, world.monitor_a)
    post_claim(client, world.measure("1.1"))
    waiting = newest_claim()
    response = client.get(f"/claims/{waiting.id}/revise")
    assert response.status_code == 409
    assert "Only a returned proposal can be revised." in text(response)
    returned = returned_proposal(client, world)
    for other in (world.monitor_b, world.reviewer):
        as_user(client, other)
        response = client.get(f"/claims/{returned.id}/revise")
        assert response.status_code == 403
        assert revise(client, returned.id).status_code == 403
    as_user(client, world.monitor_b)
    assert "Only a monitor of the organisation that proposed it can revise" in text(
        client.get(f"/claims/{returned.id}/revise")
    )
    assert client.get("/claims/999999/revise").status_code == 404
    before = claims_count()

    as_user(client, world.monitor_a)
    form_key = _form_key(client, f"/claims/{returned.id}/revise")
    assert revise(client, returned.id, form_key=form_key).status_code == 302
    # the same form sent again leads to what it saved; another form is refused
    again = revise(client, returned.id, form_key=form_key)
    assert again.status_code == 302 and again.location.endswith(MEASURE_PAGE)
    second = revise(client, returned.id, form_key="another-form")
    assert second.status_code == 409
    assert "This proposal was already revised." in text(second)
    assert client.get(f"/claims/{returned.id}/revise").status_code == 409
    assert claims_count() == before + 1 and audit_count("claim.revised") == 1


def test_the_service_refuses_what_the_views_refuse(client, world):
    returned = returned_proposal(client, world)
    measure = world.measure("1.1")
    with pytest.raises(NotAllowed):
        claim_service.record_claim(
            db.session, world.monitor_b, measure, revision_input(), revises=returned
        )
    with pytest.raises(NotAllowed):
        claim_service.record_claim(
            db.session, world.monitor_a, world.measure("1.2"), revision_input(), revises=returned
        )
    claim_service.record_claim(
        db.session, world.monitor_a, measure, revision_input(), revises=returned
    )
    revision = newest_claim()
    with pytest.raises(StateConflict, match="already revised"):
        claim_service.record_claim(
            db.session, world.monitor_a, measure, revision_input(), revises=returned
        )
    with pytest.raises(StateConflict, match="Only a returned proposal"):
        claim_service.record_claim(
            db.session, world.monitor_a, measure, revision_input(), revises=revision
        )


def test_the_unique_index_settles_two_revisions_sent_at_once(client, world, monkeypatch):
    """Two revisions that both pass the check (sent at the same time): the index saves one
    and the other is a 409, not a 500."""
    returned = returned_proposal(client, world)
    measure = world.measure("1.1")
    claim_service.record_claim(
        db.session, world.monitor_a, measure, revision_input(), revises=returned
    )
    db.session.commit()
    monkeypatch.setattr(claim_service, "revision_conflict", lambda _session, _claim: None)
    with pytest.raises(StateConflict, match="already revised"):
        claim_service.record_claim(
            db.session, world.monitor_a, measure, revision_input(), revises=returned
        )
    db.session.rollback()
    count = select(func.count()).where(GovernmentClaim.revises_id == returned.id)
    assert db.session.scalar(count) == 1


def test_a_revised_correction_still_corrects_the_claim_and_archives_it(client, world):
    measure = world.measure("1.1")
    as_user(client, world.reviewer)
    assert post_claim(client, measure, source_title="Recorded claim").status_code == 302
    recorded = newest_claim()
    as_user(client, world.monitor_a)
    assert correct(client, recorded.id, claimed_completion="limited").status_code == 302
    proposal = newest_claim()
    as_user(client, world.reviewer)
    assert review_claim(client, proposal.id, "return", reason=REASON).status_code == 302
    as_user(client, world.monitor_a)
    form = text(client.get(f"/claims/{proposal.id}/revise"))
    assert "Your correction replaces the claim of" in form
    assert revise(client, proposal.id, claimed_completion="substantial").status_code == 302
    db.session.expire_all()
    revision = newest_claim()
    assert revision.revises_id == proposal.id and revision.replaces_id == recorded.id
    assert db.session.get(GovernmentClaim, recorded.id).is_public
    as_user(client, world.reviewer)
    assert review_claim(client, revision.id, "approve", comment="").status_code == 302
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, recorded.id).is_archived
    assert db.session.get(GovernmentClaim, revision.id).is_public


def test_a_correction_corrected_meanwhile_is_not_revised(client, world):
    measure = world.measure("1.1")
    as_user(client, world.reviewer)
    post_claim(client, measure, source_title="Recorded claim")
    recorded = newest_claim()
    as_user(client, world.monitor_a)
    correct(client, recorded.id, claimed_completion="limited")
    proposal = newest_claim()
    as_user(client, world.reviewer)
    review_claim(client, proposal.id, "return", reason=REASON)
    assert correct(client, recorded.id, claimed_completion="complete").status_code == 302
    as_user(client, world.monitor_a)
    response = client.get(f"/claims/{proposal.id}/revise")
    assert response.status_code == 409
    assert "corrected in the meantime" in text(response)
    # its page says so instead of offering the button
    page = text(client.get(f"/claims/{proposal.id}"))
    assert "corrected in the meantime" in page and f"/claims/{proposal.id}/revise" not in page


def test_the_revision_form_speaks_azerbaijani(client, world):
    returned = returned_proposal(client, world)
    page = text(client.get(f"/claims/{returned.id}/revise?lang=az"))
    assert "Hökumətin 1.1 tədbiri barədə təklif etdiyiniz iddiasını yenidən işləyin" in page
    assert "Yenidən işlənmiş təklifi göndərin" in page
    page = text(client.get(f"{MEASURE_PAGE}?lang=az"))
    assert "Bu təklifi yenidən işləyin" in page
    revise(client, returned.id)
    page = text(client.get(f"/claims/{returned.id}?lang=az"))
    assert "Rəyçi tərəfindən geri qaytarılıb" in page
    assert f"Düzəliş edilmiş versiyanız: təklif #{newest_claim().id}" in page


def test_the_measure_page_reads_the_proposals_and_what_they_revise_in_constant_queries(
    client, world
):
    def queries() -> int:
        with QueryCounter() as counter:
            assert client.get(MEASURE_PAGE).status_code == 200
        return counter.count

    returned = returned_proposal(client, world)
    revise(client, returned.id)
    first = queries()
    for _ in range(3):
        returned = returned_proposal(client, world)
        revise(client, returned.id)
    assert queries() == first


def test_the_return_notice_leads_to_the_proposals_page_before_and_after_its_revision(client, world):
    """The returned proposal leaves the measure's list once revised, so its notice leads to
    its own page: the reason and the "Revise" button, then the revision, as an update's."""
    returned = returned_proposal(client, world)
    [notice] = notices(world.monitor_a)
    assert reminders.link_target(notice) == ("claims.proposal", {"claim_id": returned.id})
    page = text(client.get(f"/claims/{returned.id}"))
    assert f"Proposed claim #{returned.id}" in page and "Returned by the reviewer" in page
    assert REASON.replace("'", "&#39;") in page
    assert f'href="/claims/{returned.id}/revise"' in page and "Report of the Ministry" in page

    assert revise(client, returned.id).status_code == 302
    revision = newest_claim()
    page = text(client.get(f"/claims/{returned.id}"))
    assert REASON.replace("'", "&#39;") in page
    assert f'<a href="/claims/{revision.id}">Your revision: proposal #{revision.id}</a>' in page
    assert f"/claims/{returned.id}/revise" not in page
    shown = text(client.get(f"/claims/{revision.id}"))
    assert "Waiting for a reviewer." in shown
    assert f'<a href="/claims/{returned.id}">Returned proposal #{returned.id}</a>' in shown
    # the measure's page names the returned proposal under its revision, with its link
    assert f'href="/claims/{returned.id}"' in text(client.get(MEASURE_PAGE))
    again = client.get(f"/claims/{returned.id}/revise")
    assert again.status_code == 409 and f'href="/claims/{revision.id}"' in text(again)

    as_user(client, world.reviewer)
    assert review_claim(client, revision.id, "approve", comment="").status_code == 302
    as_user(client, world.monitor_a)
    shown = text(client.get(f"/claims/{revision.id}"))
    assert f'href="{MEASURE_PAGE}#claim-{revision.id}"' in shown
    assert "it is among the measure's government claims on record" in shown
    assert f"Your revision: proposal #{revision.id}" in text(client.get(f"/claims/{returned.id}"))


def test_a_proposals_page_is_its_organisations_and_the_reviewers_have_theirs(client, world):
    returned = returned_proposal(client, world)
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    recorded = make_claim(world.measure("1.1"), world.reviewer, store_file(), "Recorded claim")
    db.session.commit()
    as_user(client, colleague)
    assert "Returned by the reviewer" in text(client.get(f"/claims/{returned.id}"))
    as_user(client, world.monitor_b)
    refused = client.get(f"/claims/{returned.id}")
    assert refused.status_code == 403
    assert "This proposal belongs to another organisation" in text(refused)
    for decider in (world.reviewer, world.admin):
        as_user(client, decider)
        response = client.get(f"/claims/{returned.id}")
        assert response.status_code == 302
        assert response.location.endswith(f"/review/claims/{returned.id}")
    as_user(client, world.monitor_a)
    # a claim a reviewer recorded was never a proposal
    assert client.get(f"/claims/{recorded.id}").status_code == 404
    assert client.get("/claims/999999").status_code == 404
    assert "/login" in anonymous(client).get(f"/claims/{returned.id}").location


def test_a_colleague_who_revises_a_proposal_can_open_the_file_it_keeps(client, world):
    """The revision form offers the returned proposal's file: every monitor of the
    organisation that proposed it may download it, as an update's files; others may not."""
    returned = returned_proposal(client, world, source_url="", file=file_field(PDF_BYTES, "a.pdf"))
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    db.session.commit()
    download = f"/files/{returned.file.public_id}"
    as_user(client, colleague)
    form = text(client.get(f"/claims/{returned.id}/revise"))
    assert f'href="{download}"' in form and "Download a.pdf" in form
    assert client.get(download).status_code == 200
    as_user(client, world.monitor_b)
    assert client.get(download).status_code == 403
    assert anonymous(client).get(download).status_code == 404
    as_user(client, colleague)
    response = revise(client, returned.id, source_url="", keep_revised_file="y")
    assert response.status_code == 302
    assert newest_claim().file_id == returned.file_id
    assert client.get(download).status_code == 200
