"""Government claims: who may record them, their sources, corrections, and the
side-by-side view with the disputed flag."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.monitoring.conftest import PDF_BYTES, as_user, csrf, file_field, make_update
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


def claims_count() -> int:
    return db.session.scalar(select(func.count()).select_from(GovernmentClaim))


def test_monitor_records_a_claim_shown_beside_the_assessments(client, world):
    m = world.measure("1.1")
    make_update(m, world.monitor_a, "approved", completion="limited")
    db.session.commit()
    as_user(client, world.monitor_a)
    assert client.get(f"/claims/measures/{m.id}/new").status_code == 200
    response = post_claim(client, m)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{PLAN}/measures/1.1")
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.recorded_by_id == world.monitor_a.id and claim.claimed_completion == "complete"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "claim.recorded")
        )
        == 1
    )

    html = client.get(f"/plans/{PLAN}/measures/1.1?lang=en").get_data(as_text=True)
    assert "Disputed" in html
    assert "Report of the Ministry of Justice" in html
    summary = client.get(f"/api/v1/plans/{PLAN}").get_json()["summary"]
    assert summary["disputed"] == 1


def test_reviewer_records_a_claim_with_a_file(client, world, app):
    m = world.measure("2.1")
    as_user(client, world.reviewer)
    response = post_claim(client, m, source_url="", file=file_field(PDF_BYTES, "statement.pdf"))
    assert response.status_code == 302
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim.source_url is None and claim.file.original_filename == "statement.pdf"
    # a current claim's source is public
    with client.session_transaction() as session:
        session.clear()
    assert client.get(f"/files/{claim.file.public_id}").status_code == 200


def test_who_may_record_claims(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_b)  # B does not monitor 1.1
    assert client.get(f"/claims/measures/{m.id}/new").status_code == 403
    assert post_claim(client, m).status_code == 403
    as_user(client, world.admin)
    assert post_claim(client, m).status_code == 403
    assert claims_count() == 0
    with client.session_transaction() as session:
        session.clear()
    response = client.get(f"/claims/measures/{m.id}/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    as_user(client, world.monitor_a)
    assert client.get("/claims/measures/999999/new").status_code == 404
    assert client.get("/claims/999999/correct").status_code == 404


def test_bad_claims_get_400_and_are_not_written(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
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


def test_a_claim_is_corrected_by_a_new_one_and_archived(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
    post_claim(client, m)
    first = db.session.scalar(select(GovernmentClaim))
    page = client.get(f"/claims/{first.id}/correct")
    assert page.status_code == 200 and "Report of the Ministry of Justice" in page.get_data(
        as_text=True
    )
    response = client.post(
        f"/claims/{first.id}/correct",
        data={"csrf_token": csrf(client, "/"), **claim_form(claimed_completion="substantial")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    first = db.session.get(GovernmentClaim, first.id)
    second = db.session.scalar(select(GovernmentClaim).where(GovernmentClaim.id != first.id))
    assert first.is_archived and second.replaces_id == first.id
    assert client.get(f"/claims/{first.id}/correct").status_code == 409
    as_user(client, world.monitor_b)
    assert client.get(f"/claims/{second.id}/correct").status_code == 403


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

    as_user(client, world.monitor_a)
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
            db.session, world.monitor_a, world.measure("1.1"), data, replaces=first
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
    empty = Upload(filename="empty.pdf", stream=io.BytesIO(b""))
    data = claim_service.ClaimInput(Completion.COMPLETE, date(2021, 1, 1), "Report", upload=empty)
    try:
        claim_service.record_claim(db.session, world.monitor_a, world.measure("1.1"), data)
    except InvalidInput as error:
        assert list(error.problems) == ["upload"] and error.status == 400
    else:
        raise AssertionError("an empty file was accepted")
