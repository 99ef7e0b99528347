"""Government claims: who may record them, their sources, corrections, and the
side-by-side view with the disputed flag."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import field_errors
from tests.monitoring.conftest import (
    PDF_BYTES,
    PNG_BYTES,
    as_user,
    csrf,
    file_field,
    make_update,
)
from tracker.extensions import db
from tracker.models import AuditEntry, GovernmentClaim

PLAN = "az-nap-2020-2022"


def claim_form(**overrides) -> dict:
    data = {
        "claimed_completion": "complete",
        "claim_date": "2021-05-20",
        "source_title": "Report of the Ministry of Justice",
        "source_url": "https://justice.gov.az/report-2021",
        "note": "",
    }
    data.update(overrides)
    return data


def post_claim(client, measure, **overrides):
    return client.post(
        f"/claims/measures/{measure.id}/new",
        data={"csrf_token": csrf(client, "/"), **claim_form(**overrides)},
        content_type="multipart/form-data",
    )


def post_plan_claim(client, plan_id: int, **overrides):
    return client.post(
        f"/claims/plans/{plan_id}/new",
        data={"csrf_token": csrf(client, "/"), **claim_form(**overrides)},
        content_type="multipart/form-data",
    )


def claims_count() -> int:
    return db.session.scalar(select(func.count()).select_from(GovernmentClaim))


def audit_count(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def anonymous(client):
    with client.session_transaction() as session:
        session.clear()
        session["lang"] = "en"
    return client


def review_claim(client, claim_id: int, action: str, **data):
    return client.post(
        f"/review/claims/{claim_id}/{action}",
        data={"csrf_token": csrf(client, "/review/claims/"), **data},
    )


def test_a_reviewer_records_a_claim_shown_beside_the_assessments(client, world):
    m = world.measure("1.1")
    make_update(m, world.monitor_a, "approved", completion="limited")
    db.session.commit()
    as_user(client, world.reviewer)
    assert client.get(f"/claims/measures/{m.id}/new").status_code == 200
    response = post_claim(client, m)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{PLAN}/measures/1.1")
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.recorded_by_id == world.reviewer.id and claim.claimed_completion == "complete"
    assert claim.review_state == "approved" and claim.is_public
    assert audit_count("claim.recorded") == 1

    html = anonymous(client).get(f"/plans/{PLAN}/measures/1.1?lang=en").get_data(as_text=True)
    assert "Disputed" in html
    assert "Report of the Ministry of Justice" in html
    summary = client.get(f"/api/v1/plans/{PLAN}").get_json()["summary"]
    assert summary["disputed"] == 1


def test_an_admin_records_a_claim(client, world):
    """Issue 10, finding 4: admins got 403 on the claim form."""
    m = world.measure("2.1")
    as_user(client, world.admin)
    assert client.get(f"/claims/measures/{m.id}/new").status_code == 200
    assert post_claim(client, m).status_code == 302
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.recorded_by_id == world.admin.id and claim.is_public


def test_reviewer_records_a_claim_with_a_file(client, world, app):
    m = world.measure("2.1")
    as_user(client, world.reviewer)
    response = post_claim(client, m, source_url="", file=file_field(PDF_BYTES, "statement.pdf"))
    assert response.status_code == 302
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.source_url is None and claim.file.original_filename == "statement.pdf"
    # a current claim's source is public
    anonymous(client)
    assert client.get(f"/files/{claim.file.public_id}").status_code == 200


def test_a_monitors_claim_is_a_proposal_public_only_once_approved(client, world):
    """Issue 10, finding 4: a monitor's claim was public at once, without review."""
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
    form = client.get(f"/claims/measures/{m.id}/new").get_data(as_text=True)
    assert "not public until a reviewer approves it" in form
    response = post_claim(client, m, source_url="", file=file_field(PDF_BYTES, "decree.pdf"))
    assert response.status_code == 302
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.review_state == "submitted" and not claim.is_public
    assert claim.organisation_id == world.org_a.id
    assert audit_count("claim.proposed") == 1 and audit_count("claim.recorded") == 0
    own_page = client.get(f"/plans/{PLAN}/measures/1.1").get_data(as_text=True)
    assert "s proposals</h3>" in own_page

    page = f"/plans/{PLAN}/measures/1.1?lang=en"
    assert "No government claim recorded yet." in anonymous(client).get(page).get_data(as_text=True)
    assert "Report of the Ministry of Justice" not in client.get(page).get_data(as_text=True)
    api = client.get(f"/api/v1/measures/{PLAN}/1.1").get_json()
    assert api["state"]["government_claim"] is None
    assert client.get(f"/files/{claim.file.public_id}").status_code == 404

    as_user(client, world.reviewer)
    queue = client.get("/review/claims/").get_data(as_text=True)
    assert f"/review/claims/{claim.id}" in queue
    assert review_claim(client, claim.id, "approve", comment="").status_code == 302
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, claim.id).is_public
    assert "decree.pdf" not in anonymous(client).get(page).get_data(as_text=True)
    assert "Report of the Ministry of Justice" in client.get(page).get_data(as_text=True)
    api = client.get(f"/api/v1/measures/{PLAN}/1.1").get_json()
    assert api["state"]["government_claim"]["scope"] == "measure"
    assert client.get(f"/files/{claim.file.public_id}").status_code == 200


def test_a_returned_proposal_stays_private_with_the_reason_for_its_monitor(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
    post_claim(client, m)
    claim = db.session.scalar(select(GovernmentClaim))
    as_user(client, world.reviewer)
    refused = review_claim(client, claim.id, "return", reason="")
    assert refused.status_code == 400
    assert "Say why you return the proposal, so the monitor can fix it." in refused.get_data(
        as_text=True
    )
    response = review_claim(client, claim.id, "return", reason="The link is not official.")
    assert response.status_code == 302
    again = review_claim(client, claim.id, "approve", comment="")
    assert again.status_code == 409
    assert (
        f'<a class="button" href="/review/claims/{claim.id}">Open this proposal</a>'
        in again.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, claim.id).review_state == "returned"
    page = f"/plans/{PLAN}/measures/1.1"
    assert "Report of the Ministry" not in anonymous(client).get(page).get_data(as_text=True)
    as_user(client, world.monitor_a)
    assert "The link is not official." in client.get(page).get_data(as_text=True)


def test_who_may_record_propose_or_review_claims(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_b)  # B does not monitor 1.1
    response = client.get(f"/claims/measures/{m.id}/new")
    assert response.status_code == 403
    assert "Your organisation does not monitor measure 1.1" in response.get_data(as_text=True)
    assert post_claim(client, m).status_code == 403
    assert client.get(f"/claims/plans/{m.plan_id}/new").status_code == 403
    as_user(client, world.monitor_a)
    assert client.get(f"/claims/plans/{m.plan_id}/new").status_code == 403
    assert client.get("/review/claims/").status_code == 403
    assert claims_count() == 0
    anonymous(client)
    response = client.get(f"/claims/measures/{m.id}/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    as_user(client, world.monitor_a)
    assert client.get("/claims/measures/999999/new").status_code == 404
    assert client.get("/claims/999999/correct").status_code == 404
    post_claim(client, m)
    proposal = db.session.scalar(select(GovernmentClaim))
    # the proposer, moved to reviewer, may not approve their own proposal
    from tracker.services.accounts import users

    users.change_role(
        db.session, world.monitor_a, role="reviewer", organisation_id=None, actor=world.admin
    )
    db.session.commit()
    as_user(client, world.monitor_a)
    response = review_claim(client, proposal.id, "approve", comment="")
    assert response.status_code == 403
    assert "You wrote this" in response.get_data(as_text=True)
    as_user(client, world.admin)
    admin_page = client.get(f"/review/claims/{proposal.id}").get_data(as_text=True)
    assert 'action="/review/claims/' not in admin_page
    # the page says why there are no buttons
    assert "Only reviewers of the Open Government Platform can review." in admin_page
    assert review_claim(client, proposal.id, "approve", comment="").status_code == 403
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, proposal.id).review_state == "submitted"


def test_bad_claims_get_400_and_are_not_written(client, world):
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    cases = [
        ({"source_url": "javascript:alert(1)"}, "starts with http:// or https://"),
        ({"source_url": "data:text/html;base64,PHNjcmlwdD4="}, "starts with http:// or https://"),
        ({"source_url": ""}, "Give a link to the source or upload it as a file."),
        ({"file": file_field(PDF_BYTES, "a.pdf")}, "either a link or a file"),
        ({"source_title": ""}, "Name the source"),
        ({"claim_date": "2099-01-01"}, "cannot be in the future"),
        ({"claim_date": "yesterday"}, "YYYY-MM-DD"),
        ({"claimed_completion": "done"}, "Choose one of the options"),
        ({"source_url": "", "file": file_field(b"<svg onload=alert(1)>", "x.svg")}, "not accepted"),
        ({"recorded_by_id": str(world.reviewer.id)}, "fields this page does not have"),
    ]
    for fields, message in cases:
        response = post_claim(client, m, **fields)
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), (fields, message)
    assert claims_count() == 0


def test_one_attempt_names_every_problem_of_a_claim(client, world):
    """A date the form cannot read does not hide the service's problems with the rest."""
    as_user(client, world.reviewer)
    response = post_claim(
        client,
        world.measure("1.1"),
        claimed_completion="",
        claim_date="20/05/2021",
        source_title="",
        source_url="javascript:alert(1)",
    )
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)) == {
        "claimed_completion": ["Choose the level of completion the government claims."],
        "claim_date": ["Enter the date as YYYY-MM-DD, for example 2021-06-30."],
        "source_title": ["Name the source: the report, statement or page."],
        "source_url": [
            "Enter a link that starts with http:// or https://, or upload a file instead."
        ],
    }
    assert claims_count() == 0


def correct(client, claim_id: int, **overrides):
    return client.post(
        f"/claims/{claim_id}/correct",
        data={"csrf_token": csrf(client, "/"), **claim_form(**overrides)},
        content_type="multipart/form-data",
    )


def test_a_claim_is_corrected_by_a_new_one_and_archived(client, world):
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    post_claim(client, m)
    first = db.session.scalar(select(GovernmentClaim))
    page = client.get(f"/claims/{first.id}/correct")
    assert page.status_code == 200 and "Report of the Ministry of Justice" in page.get_data(
        as_text=True
    )
    assert correct(client, first.id, claimed_completion="substantial").status_code == 302
    db.session.expire_all()
    first = db.session.get(GovernmentClaim, first.id)
    second = db.session.scalar(select(GovernmentClaim).where(GovernmentClaim.id != first.id))
    assert first.is_archived and second.replaces_id == first.id and second.is_public
    assert client.get(f"/claims/{first.id}/correct").status_code == 409
    as_user(client, world.monitor_b)
    response = client.get(f"/claims/{second.id}/correct")
    assert response.status_code == 403
    assert "does not monitor measure 1.1" in response.get_data(as_text=True)
    assert correct(client, second.id).status_code == 403


def test_a_monitors_correction_replaces_the_claim_only_once_approved(client, world):
    """Issue 10, finding 4: a monitor replaced a recorded claim at once."""
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    post_claim(client, m)
    first = db.session.scalar(select(GovernmentClaim))
    as_user(client, world.monitor_a)
    assert "Propose a correction" in client.get(f"/plans/{PLAN}/measures/1.1").get_data(
        as_text=True
    )
    assert correct(client, first.id, claimed_completion="limited").status_code == 302
    db.session.expire_all()
    proposal = db.session.scalar(select(GovernmentClaim).where(GovernmentClaim.id != first.id))
    assert proposal.replaces_id == first.id and proposal.review_state == "submitted"
    assert db.session.get(GovernmentClaim, first.id).is_public
    api = client.get(f"/api/v1/measures/{PLAN}/1.1").get_json()
    assert api["state"]["government_claim"]["completion"] == "complete"
    assert client.get(f"/claims/{proposal.id}/correct").status_code == 409
    as_user(client, world.reviewer)
    assert review_claim(client, proposal.id, "approve", comment="").status_code == 302
    db.session.expire_all()
    assert db.session.get(GovernmentClaim, first.id).is_archived
    api = client.get(f"/api/v1/measures/{PLAN}/1.1").get_json()
    assert api["state"]["government_claim"]["completion"] == "limited"


FORM_KEY = re.compile(r'name="form_key"[^>]*value="([^"]+)"')


def _form_key(client, url: str) -> str:
    [form_key] = FORM_KEY.findall(client.get(url).get_data(as_text=True))
    return form_key


def test_the_same_claim_form_sent_twice_records_one_claim(client, world):
    """A double click, a retry or a resubmit sends the claim form again: the second answer
    leads to the measure's page, saying the claim was recorded, and nothing is recorded
    twice (a reviewer's claim, a monitor's proposal, and a correction alike)."""
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    url = f"/claims/measures/{m.id}/new"
    form_key = _form_key(client, url)
    first = post_claim(client, m, form_key=form_key)
    again = client.post(
        url,
        data={"csrf_token": csrf(client, "/"), **claim_form(form_key=form_key)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert first.status_code == 302
    assert again.request.path == f"/plans/{PLAN}/measures/1.1"
    assert "This form was sent already: the claim it recorded is shown here." in again.get_data(
        as_text=True
    )
    [claim] = db.session.scalars(select(GovernmentClaim)).all()
    assert claim.form_key == form_key and audit_count("claim.recorded") == 1
    # a new form is a new key
    assert _form_key(client, url) != form_key

    # a correction sent twice: the second leads to the page, not to "already corrected"
    correct_key = _form_key(client, f"/claims/{claim.id}/correct")
    assert (
        correct(client, claim.id, form_key=correct_key, claimed_completion="limited").status_code
        == 302
    )
    again = correct(client, claim.id, form_key=correct_key, claimed_completion="limited")
    assert again.status_code == 302 and again.location.endswith(f"/plans/{PLAN}/measures/1.1")
    assert claims_count() == 2 and audit_count("claim.recorded") == 2

    # a monitor's proposal sent twice is one proposal; the reviewer's key is theirs alone
    as_user(client, world.monitor_a)
    proposal_key = _form_key(client, url)
    assert post_claim(client, m, form_key=proposal_key).status_code == 302
    assert post_claim(client, m, form_key=proposal_key).status_code == 302
    assert claims_count() == 3 and audit_count("claim.proposed") == 1
    assert post_claim(client, m, form_key=form_key).status_code == 302
    assert claims_count() == 4 and audit_count("claim.proposed") == 2


def test_a_claim_form_sent_again_after_a_refused_attempt_records_once(client, world):
    """The key stays with the form across a refused attempt, so the corrected form, sent
    twice, still records one claim."""
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    form_key = _form_key(client, f"/claims/measures/{m.id}/new")
    refused = post_claim(client, m, form_key=form_key, source_title="")
    assert refused.status_code == 400
    assert f'value="{form_key}"' in refused.get_data(as_text=True)
    assert claims_count() == 0
    assert post_claim(client, m, form_key=form_key).status_code == 302
    assert post_claim(client, m, form_key=form_key).status_code == 302
    assert claims_count() == 1


def test_a_plan_wide_claim_stands_for_each_measure_without_its_own(client, world):
    plan_id = world.measure("1.1").plan_id
    as_user(client, world.reviewer)
    assert client.get(f"/claims/plans/{plan_id}/new").status_code == 200
    response = post_plan_claim(client, plan_id, source_title="Final report on the plan")
    assert response.status_code == 302
    assert post_claim(client, world.measure("1.2"), claimed_completion="limited").status_code == 302
    plan_claim = db.session.scalar(
        select(GovernmentClaim).where(GovernmentClaim.measure_id.is_(None))
    )
    assert plan_claim.plan_id == plan_id and plan_claim.is_public
    anonymous(client)
    page = client.get(f"/plans/{PLAN}/measures/1.1?lang=en").get_data(as_text=True)
    assert "Claimed for the whole plan" in page and "Final report on the plan" in page
    own = client.get(f"/plans/{PLAN}/measures/1.2?lang=en").get_data(as_text=True)
    assert "Claimed for the whole plan" not in own.split("claims-history-heading")[0]
    states = {
        m["code"]: m["state"]["government_claim"]
        for m in client.get(f"/api/v1/measures?plan={PLAN}&per_page=100").get_json()["measures"]
    }
    assert states["1.1"]["scope"] == "plan" and states["1.1"]["completion"] == "complete"
    assert states["1.1"]["source_url"] == "https://justice.gov.az/report-2021"
    assert states["1.2"]["scope"] == "measure" and states["1.2"]["completion"] == "limited"
    assert all(state is not None for state in states.values())


def test_a_plan_wide_claim_is_among_the_changes_and_in_each_measures_feed(client, world):
    """The "what changed" page promised every approved claim but joined each record to its
    measure, so a claim about the whole plan (no measure) never showed."""
    plan_id = world.measure("1.1").plan_id
    as_user(client, world.reviewer)
    response = post_plan_claim(
        client, plan_id, source_title="Final report on the plan", claim_date="2021-06-01"
    )
    assert response.status_code == 302
    assert post_claim(client, world.measure("1.2"), claim_date="2021-05-01").status_code == 302
    anonymous(client)
    changes = client.get(f"/plans/{PLAN}/changes?since=2021-06-01&lang=en").get_data(as_text=True)
    assert "1 change." in changes
    assert f'<a href="/plans/{PLAN}/">The whole plan</a>' in changes
    everything = client.get(f"/plans/{PLAN}/changes?lang=en").get_data(as_text=True)
    assert "2 changes." in everything
    feed = client.get(f"/plans/{PLAN}/measures/1.1/feed.atom?lang=en").get_data(as_text=True)
    assert "The whole plan · Government claim: Complete" in feed
    assert "Final report on the plan" in feed
    own = client.get(f"/plans/{PLAN}/measures/1.2/feed.atom?lang=en").get_data(as_text=True)
    assert "1.2 · Government claim: Complete" in own
    organisation = client.get(f"/registry/{world.org_a.id}/feed.atom?lang=en")
    assert "Government claim" not in organisation.get_data(as_text=True)


def test_the_claim_forms_azerbaijani_headings_begin_as_sentences(client, world):
    """The plan's target was put first: "bütün 2020–2022 planı barədə…" began in lower case."""
    plan_id = world.measure("1.1").plan_id
    as_user(client, world.reviewer)
    plan_form = client.get(f"/claims/plans/{plan_id}/new?lang=az").get_data(as_text=True)
    assert "<h1>Hökumətin bütün 2020–2022 planı barədə iddiasını qeydə alın</h1>" in plan_form
    as_user(client, world.monitor_a)
    measure_id = world.measure("1.1").id
    proposal = client.get(f"/claims/measures/{measure_id}/new?lang=az").get_data(as_text=True)
    assert "<h1>Hökumətin 1.1 tədbiri barədə iddiasını təklif edin</h1>" in proposal


def test_a_correction_that_loses_the_race_leaves_no_file_behind(client, world, app):
    """The file is written before the replaced claim is archived; when another correction
    archived it first, the 409 rolls back and takes the file with it."""
    import io
    from datetime import date
    from pathlib import Path

    from sqlalchemy import update

    from tracker.services.errors import StateConflict
    from tracker.services.monitoring import claims as claim_service
    from tracker.services.monitoring.uploads import Upload
    from tracker.vocabulary import Completion

    as_user(client, world.reviewer)
    assert post_claim(client, world.measure("1.1")).status_code == 302
    first = db.session.scalar(select(GovernmentClaim))
    db.session.execute(  # someone else's correction, unseen by `first`
        update(GovernmentClaim)
        .where(GovernmentClaim.id == first.id)
        .values(is_archived=True)
        .execution_options(synchronize_session=False)
    )
    data = claim_service.ClaimInput(
        claimed_completion=Completion.COMPLETE,
        claim_date=date(2021, 6, 1),
        source_title="Corrected report",
        upload=Upload(filename="report.pdf", stream=io.BytesIO(PDF_BYTES)),
    )
    folder = Path(app.config["UPLOAD_FOLDER"])
    try:
        claim_service.record_claim(
            db.session, world.reviewer, world.measure("1.1"), data, replaces=first
        )
    except StateConflict as error:
        assert error.status == 409 and "corrected in the meantime" in error.message
        assert len(list(folder.iterdir())) == 1  # written, not yet committed
    else:
        raise AssertionError("the lost race was not refused")
    db.session.rollback()
    assert list(folder.iterdir()) == []


def test_claim_problems_name_the_input_fields(world):
    import io
    from datetime import date

    from tracker.services.errors import InvalidInput
    from tracker.services.monitoring import claims as claim_service
    from tracker.services.monitoring.uploads import Upload
    from tracker.vocabulary import Completion

    data = claim_service.ClaimInput(
        claimed_completion=Completion.COMPLETE,
        claim_date=date(2099, 1, 1),
        source_title=" ",
        source_url="javascript:alert(1)",
    )
    try:
        claim_service.record_claim(db.session, world.monitor_a, world.measure("1.1"), data)
    except InvalidInput as error:
        assert sorted(error.problems) == ["claim_date", "source_title", "source_url"]
    else:
        raise AssertionError("bad input was accepted")
    # a level or a date left out is a problem, not a crash
    data = claim_service.ClaimInput(None, None, "Report", source_url="https://example.org/r")
    measure = world.measure("1.1")
    assert sorted(claim_service.claim_problems(data, measure)) == [
        "claim_date",
        "claimed_completion",
    ]
    # a date before the plan began (1 January 2020), on a measure or on the whole plan
    early = claim_service.ClaimInput(
        Completion.COMPLETE, date(1900, 12, 1), "Report", source_url="https://example.org/r"
    )
    for target in (measure, measure.plan):
        [message] = claim_service.claim_problems(early, target)["claim_date"]
        assert str(message) == "The claim's date cannot be before the plan began (January 1, 2020)."
    on_the_first_day = claim_service.ClaimInput(
        Completion.COMPLETE, measure.plan.starts_on, "Report", source_url="https://example.org/r"
    )
    assert not claim_service.claim_problems(on_the_first_day, measure)
    empty = Upload(filename="empty.pdf", stream=io.BytesIO(b""))
    data = claim_service.ClaimInput(Completion.COMPLETE, date(2021, 1, 1), "Report", upload=empty)
    try:
        claim_service.record_claim(db.session, world.monitor_a, world.measure("1.1"), data)
    except InvalidInput as error:
        assert list(error.problems) == ["upload"] and error.status == 400
    else:
        raise AssertionError("an empty file was accepted")


# --- a chosen source file survives a mistake elsewhere (the update form's pending files) ---

KEPT_FILE = re.compile(r'name="pending_file" type="hidden" value="([^"]+)"')


def send_claim(client, url: str, **overrides):
    data = {"csrf_token": csrf(client, "/"), **claim_form(source_url="", **overrides)}
    return client.post(url, data=data, content_type="multipart/form-data")


def stored_files() -> list:
    from tracker.models import StoredFile

    return db.session.scalars(select(StoredFile)).all()


def files_on_disk(app) -> list[str]:
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("role", "mistake", "message"),
    [
        ("reviewer", {"claim_date": "20.05.2021"}, "Enter the date as YYYY-MM-DD"),
        ("monitor_a", {"source_title": ""}, "Name the source: the report, statement or page."),
    ],
)
def test_a_claims_file_survives_a_mistake_elsewhere_and_is_attached_next_time(
    client, world, app, role, mistake, message
):
    """Defect 7: a claim form sent with a file and a mistake came back without the file.
    The file is now kept as its sender's pending file and attached when the form, put
    right, is sent again; sent once more, it still records one claim."""
    user = getattr(world, role)
    as_user(client, user)
    url = f"/claims/measures/{world.measure('1.1').id}/new"
    form_key = _form_key(client, url)
    pdf = file_field(PDF_BYTES, "statement.pdf")
    refused = send_claim(client, url, form_key=form_key, file=pdf, **mistake)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert message in html
    assert "Attached:" in html and "statement.pdf" in html and "Remove this file" in html
    assert "Give a link to the source or upload it as a file." not in html
    [kept_id] = KEPT_FILE.findall(html)
    [stored] = stored_files()
    assert stored.public_id == kept_id and stored.pending_until is not None
    assert stored.uploaded_by_id == user.id and claims_count() == 0
    assert files_on_disk(app) == [stored.stored_name]

    fixed = send_claim(client, url, form_key=form_key, pending_file=kept_id)
    assert fixed.status_code == 302
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.file_id == stored.id and claim.source_url is None
    assert claim.is_public == (role == "reviewer")
    db.session.refresh(stored)
    assert stored.pending_until is None  # attached: no longer pending
    again = send_claim(client, url, form_key=form_key, pending_file=kept_id)
    assert again.status_code == 302 and claims_count() == 1
    assert len(stored_files()) == 1 and files_on_disk(app) == [stored.stored_name]


def test_a_kept_claim_file_shows_in_azerbaijani_too(client, world):
    as_user(client, world.reviewer)
    url = f"/claims/measures/{world.measure('1.1').id}/new?lang=az"
    pdf = file_field(PDF_BYTES, "hesabat.pdf")
    html = send_claim(client, url, claim_date="2021/05/20", file=pdf).get_data(as_text=True)
    assert "Tarixi İİİİ-AA-GG formatında daxil edin" in html
    assert "Əlavə edilib:" in html and "hesabat.pdf" in html and "Bu faylı çıxarın" in html
    assert len(KEPT_FILE.findall(html)) == 1


def test_someone_elses_pending_file_is_not_a_claims_source(client, world):
    from tracker.services.monitoring import uploads

    theirs = uploads.keep_pending(
        db.session, world.monitor_a, {0: uploads.Upload("theirs.pdf", io.BytesIO(PDF_BYTES))}
    )[0][0]
    db.session.commit()
    as_user(client, world.reviewer)
    url = f"/claims/measures/{world.measure('1.1').id}/new"
    for lang, message in [
        ("en", "The file you chose earlier is no longer kept (a file is kept for 24 hours "),
        ("az", "Əvvəl seçdiyiniz fayl artıq saxlanılmır (fayl forma saxlanılana qədər 24 "),
    ]:
        response = send_claim(client, f"{url}?lang={lang}", pending_file=theirs.public_id)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert message in html and "theirs.pdf" not in html
        assert KEPT_FILE.findall(html) == []
    assert claims_count() == 0
    db.session.refresh(theirs)
    assert theirs.pending_until is not None  # still the monitor's, still pending
    # nor with a mistake elsewhere: the form does not show it, and says it is gone
    response = send_claim(client, f"{url}?lang=en", source_title="", pending_file=theirs.public_id)
    html = response.get_data(as_text=True)
    assert "no longer kept" in html and "theirs.pdf" not in html


def test_an_expired_kept_claim_file_is_not_attached(client, world):
    from datetime import timedelta

    from tracker import clock

    as_user(client, world.reviewer)
    url = f"/claims/measures/{world.measure('1.1').id}/new"
    first = send_claim(client, url, source_title="", file=file_field(PDF_BYTES, "old.pdf"))
    [kept_id] = KEPT_FILE.findall(first.get_data(as_text=True))
    [stored] = stored_files()
    stored.pending_until = clock.now_utc() - timedelta(minutes=1)
    db.session.commit()
    response = send_claim(client, url, pending_file=kept_id)
    assert response.status_code == 400
    assert "no longer kept" in response.get_data(as_text=True)
    assert claims_count() == 0


def test_a_kept_claim_file_can_be_removed_or_replaced(client, world, app):
    as_user(client, world.reviewer)
    url = f"/claims/measures/{world.measure('1.1').id}/new"
    first = send_claim(client, url, source_title="", file=file_field(PDF_BYTES, "first.pdf"))
    [first_id] = KEPT_FILE.findall(first.get_data(as_text=True))
    replaced = send_claim(
        client,
        url,
        source_title="",
        pending_file=first_id,
        file=file_field(PDF_BYTES, "second.pdf"),
    )
    html = replaced.get_data(as_text=True)
    [second_id] = KEPT_FILE.findall(html)
    assert second_id != first_id and "second.pdf" in html and "first.pdf" not in html
    assert [f.public_id for f in stored_files()] == [second_id]
    removed = send_claim(client, url, source_title="", pending_file=second_id, remove_file="y")
    html = removed.get_data(as_text=True)
    assert KEPT_FILE.findall(html) == [] and "Attached:" not in html
    assert "Give a link to the source or upload it as a file." in html
    assert stored_files() == [] and files_on_disk(app) == []


def test_a_refused_claim_file_says_why_and_nothing_is_kept(client, world, app):
    as_user(client, world.reviewer)
    url = f"/claims/measures/{world.measure('1.1').id}/new"
    response = send_claim(client, url, source_title="", file=file_field(PNG_BYTES, "chart.pdf"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "“chart.pdf” is named as a PDF file but holds a PNG file." in html
    assert "Name the source: the report, statement or page." in html
    # the missing source follows from the refused file: it is not named too
    assert "Give a link to the source or upload it as a file." not in html
    assert KEPT_FILE.findall(html) == [] and stored_files() == [] and files_on_disk(app) == []


@pytest.mark.parametrize(
    ("lang", "too_long"),
    [
        ("en", "This is too long: use at most 500 characters."),
        ("az", "Mətn çox uzundur: ən çoxu 500 simvol yazın."),
    ],
)
def test_a_length_message_says_at_most_the_length_it_allows(client, world, lang, too_long):
    """A title of exactly 500 characters is taken, so the message for 501 says "at most 500"
    (it said "under 500", which 500 is not)."""
    m = world.measure("1.1")
    as_user(client, world.reviewer)
    client.get(f"/?lang={lang}")  # the language stays in the session for the posts
    refused = post_claim(client, m, source_title="x" * 501)
    assert refused.status_code == 400
    assert field_errors(refused.get_data(as_text=True))["source_title"] == [too_long]
    assert post_claim(client, m, source_title="x" * 500).status_code == 302


@pytest.mark.parametrize(
    ("lang", "labels"),
    [("en", ("Source", "Note", "Reviewer's reason")), ("az", ("Mənbə", "Qeyd", "Rəyçinin səbəbi"))],
)
def test_the_proposal_page_labels_its_facts_as_facts(client, world, lang, labels):
    """A proposal's own page names its facts without the form's "(optional)" and without a
    colon, as its other labels ("State", "Date of the claim")."""
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
    post_claim(client, m, note="Nazirliyin hesabatı")
    claim = db.session.scalar(select(GovernmentClaim))
    as_user(client, world.reviewer)
    review_claim(client, claim.id, "return", reason="Link rəsmi deyil.")
    page = client.get(f"/review/claims/{claim.id}?lang={lang}").get_data(as_text=True)
    facts = re.findall(r"<dt>([^<]*)</dt>", page)
    for label in labels:
        assert label in facts, facts
    assert not [fact for fact in facts if fact.endswith(":") or "(" in fact], facts
