"""Monitors post, edit, submit, revise and correct status updates; bad input changes nothing."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tests.helpers import field_errors
from tests.monitoring.conftest import (
    PDF_BYTES,
    as_user,
    csrf,
    file_field,
    update_form,
)
from tracker.extensions import db
from tracker.models import Agency, AuditEntry, Evidence, StatusUpdate, StoredFile
from tracker.vocabulary import ReviewState


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def new_url(measure) -> str:
    return f"/monitor/measures/{measure.id}/updates/new"


def post_update(client, measure, **fields):
    data = update_form(csrf_token=csrf(client), **fields)
    return client.post(new_url(measure), data=data, content_type="multipart/form-data")


def refused_update(client, measure, **fields) -> dict[str, list[str]]:
    """Post the update form expecting a refusal: a 400 that writes no update. Returns the
    page's error messages by field."""
    response = post_update(client, measure, **fields)
    assert response.status_code == 400
    assert count(StatusUpdate) == 0
    return field_errors(response.get_data(as_text=True))


def with_pdf(index: int = 1, filename: str = "report.pdf", content: bytes = PDF_BYTES) -> dict:
    return {
        f"evidence-{index}-evidence_type": "official_document",
        f"evidence-{index}-title": "Annual report",
        f"evidence-{index}-evidence_date": "2021-05-01",
        f"evidence-{index}-file": file_field(content, filename),
    }


def only_update() -> StatusUpdate:
    return db.session.scalars(select(StatusUpdate).order_by(StatusUpdate.id.desc())).first()


def uploaded_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


# --- posting -------------------------------------------------------------------------------


def test_monitor_posts_a_draft_with_a_link_and_a_pdf(client, world, app):
    as_user(client, world.monitor_a)
    page = client.get(new_url(world.measure("1.1")))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'for="evidence-0-file"' in html and 'for="completion"' in html

    response = post_update(client, world.measure("1.1"), **with_pdf())
    assert response.status_code == 302
    update = only_update()
    assert response.headers["Location"].endswith(f"/monitor/updates/{update.id}")
    assert update.review_state == ReviewState.DRAFT
    assert update.organisation_id == world.org_a.id
    assert update.author_id == world.monitor_a.id
    assert update.delay_reasons == ["agency_inactive"]
    link, document = update.evidence
    assert link.url == "https://example.gov.az/report" and link.file_id is None
    assert document.url is None and document.file.content_type == "application/pdf"
    assert document.file.original_filename == "report.pdf"
    assert [p.name for p in uploaded_files(app)] == [document.file.stored_name]
    assert audit_actions() == ["file.uploaded", "update.created"]


def test_submit_for_review_in_one_step(client, world):
    as_user(client, world.monitor_a)
    response = post_update(
        client, world.measure("1.2"), save_draft="", submit_for_review="Submit for review"
    )
    assert response.status_code == 302
    update = only_update()
    assert update.review_state == ReviewState.SUBMITTED
    assert update.submitted_dt is not None
    assert audit_actions()[-2:] == ["update.created", "update.submitted"]


FORM_KEY = re.compile(r'name="form_key"[^>]*value="([^"]+)"')


def test_the_same_form_sent_twice_saves_one_update(client, world):
    """A double click, a retry or a resubmit sends the same form again: the second answer
    leads to the update the first saved, and reviewers get one update to review."""
    as_user(client, world.monitor_a)
    measure = world.measure("1.2")
    page = client.get(new_url(measure)).get_data(as_text=True)
    [form_key] = FORM_KEY.findall(page)
    data = update_form(csrf_token=csrf(client), form_key=form_key, submit_for_review="Submit")
    first = client.post(new_url(measure), data=data)
    again = client.post(new_url(measure), data=data, follow_redirects=True)
    assert first.status_code == 302
    saved = only_update()
    assert again.request.path == f"/monitor/updates/{saved.id}"
    assert "This form was sent already: here is the update it saved." in again.get_data(
        as_text=True
    )
    assert count(StatusUpdate) == 1 and saved.form_key == form_key
    assert audit_actions().count("update.submitted") == 1
    # a new form is a new key; another monitor's key is theirs alone (it leads nowhere)
    assert FORM_KEY.findall(client.get(new_url(measure)).get_data(as_text=True)) != [form_key]
    as_user(client, world.monitor_b)
    other = world.measure("2.1")
    data = update_form(csrf_token=csrf(client), form_key=form_key)
    response = client.post(new_url(other), data=data)
    assert response.status_code == 302 and response.location != f"/monitor/updates/{saved.id}"
    assert count(StatusUpdate) == 2


def test_draft_is_edited_then_submitted_and_then_final(client, world):
    as_user(client, world.monitor_a)
    post_update(client, world.measure("1.1"))
    draft = only_update()
    edit_url = f"/monitor/updates/{draft.id}/edit"
    page = client.get(edit_url)
    assert page.status_code == 200 and "Partly implemented." in page.get_data(as_text=True)

    data = update_form(
        csrf_token=csrf(client),
        completion="substantial",
        narrative_en="Mostly done.",
        **{"evidence-0-title": "Second page", "evidence-0-url": "https://example.org/2"},
    )
    assert client.post(edit_url, data=data, content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    draft = db.session.get(StatusUpdate, draft.id)
    assert draft.completion == "substantial" and draft.narrative_en == "Mostly done."
    assert [e.title for e in draft.evidence] == ["Ministry page", "Second page"]

    submit = client.post(f"/monitor/updates/{draft.id}/submit", data={"csrf_token": csrf(client)})
    assert submit.status_code == 302
    db.session.expire_all()
    assert db.session.get(StatusUpdate, draft.id).review_state == ReviewState.SUBMITTED

    # Once submitted the content is final: editing and submitting again are refused.
    refused = client.post(edit_url, data={**data, "narrative_en": "Changed"})
    assert refused.status_code == 409
    assert "no longer a draft" in refused.get_data(as_text=True)
    again = client.post(f"/monitor/updates/{draft.id}/submit", data={"csrf_token": csrf(client)})
    assert again.status_code == 409
    assert (
        f'<a class="button" href="/monitor/updates/{draft.id}">Open this update</a>'
        in again.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(StatusUpdate, draft.id).narrative_en == "Mostly done."


def test_draft_is_archived_not_deleted(client, world):
    as_user(client, world.monitor_a)
    post_update(client, world.measure("1.1"))
    draft = only_update()
    response = client.post(
        f"/monitor/updates/{draft.id}/archive", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(StatusUpdate, draft.id)
    assert kept.is_archived and kept.review_state == ReviewState.DRAFT
    assert "Draft #" not in client.get("/monitor/").get_data(as_text=True)


def test_information_request_records_its_details(client, world):
    agency = db.session.scalars(select(Agency).order_by(Agency.id)).first()
    as_user(client, world.monitor_a)
    fields = {
        "evidence-0-evidence_type": "information_request",
        "evidence-0-title": "Request to the ministry",
        "evidence-0-evidence_date": "2021-03-01",
        "evidence-0-request_sent_on": "2021-03-01",
        "evidence-0-request_agency_id": str(agency.id),
        "evidence-0-request_answered_on": "2021-04-15",
        "evidence-0-request_outcome": "partial",
    }
    assert post_update(client, world.measure("1.1"), **fields).status_code == 302
    item = only_update().evidence[0]
    assert item.request_sent_on == date(2021, 3, 1)
    assert item.request_agency_id == agency.id
    assert item.request_answered_on == date(2021, 4, 15)
    assert item.request_outcome == "partial"
    page = client.get(f"/monitor/updates/{only_update().id}").get_data(as_text=True)
    assert "Partly answered" in page and agency.name_en in page


def test_information_request_needs_its_details(client, world):
    as_user(client, world.monitor_a)
    response = post_update(
        client,
        world.measure("1.1"),
        **{"evidence-0-evidence_type": "information_request", "evidence-0-title": "Request"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the date the request was sent." in html
    assert "Choose the agency the request went to." in html
    assert "Choose the outcome of the request." in html
    assert count(StatusUpdate) == 0


# --- permissions ---------------------------------------------------------------------------


def test_measure_not_monitored_by_the_organisation_is_refused(client, world):
    as_user(client, world.monitor_a)
    before = count(StatusUpdate)
    assert client.get(new_url(world.measure("2.1"))).status_code == 403
    response = post_update(client, world.measure("2.1"))
    assert response.status_code == 403
    assert count(StatusUpdate) == before
    assert "permission.refused" in audit_actions()


def test_other_organisations_updates_are_out_of_reach(client, world):
    as_user(client, world.monitor_a)
    post_update(client, world.measure("1.1"))
    draft = only_update()
    as_user(client, world.monitor_b)
    for url in (
        f"/monitor/updates/{draft.id}",
        f"/monitor/updates/{draft.id}/edit",
        f"/monitor/updates/{draft.id}/revise",
    ):
        assert client.get(url).status_code == 403, url
    for url in (f"/monitor/updates/{draft.id}/submit", f"/monitor/updates/{draft.id}/archive"):
        assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(StatusUpdate, draft.id).review_state == ReviewState.DRAFT


def test_reviewers_and_admins_cannot_write_updates(client, world):
    for user in (world.reviewer, world.admin):
        as_user(client, user)
        assert client.get("/monitor/").status_code == 403
        assert client.get(new_url(world.measure("1.1"))).status_code == 403
        assert post_update(client, world.measure("1.1")).status_code == 403
    assert count(StatusUpdate) == 0


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = client.get("/monitor/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(new_url(world.measure("1.1")), data=update_form())
    assert response.status_code == 400  # no CSRF token: refused before anything else
    assert count(StatusUpdate) == 0


# --- bad input -----------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, world):
    as_user(client, world.monitor_a)
    response = client.post(
        new_url(world.measure("1.1")), data=update_form(), content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert count(StatusUpdate) == 0


def test_tampered_hidden_fields_are_refused_and_never_written(client, world):
    as_user(client, world.monitor_a)
    for tampered in (
        {"organisation_id": str(world.org_b.id)},
        {"review_state": "approved"},
        {"reviewer_id": str(world.reviewer.id)},
        {"decided_by_id": str(world.reviewer.id)},
        {"author_id": str(world.monitor_b.id)},
    ):
        response = post_update(client, world.measure("1.1"), **tampered)
        assert response.status_code == 400, tampered
        assert "fields this page does not have" in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0
    assert audit_actions().count("form.rejected") == 5

    # the same on the POST-only buttons
    post_update(client, world.measure("1.1"))
    draft = only_update()
    response = client.post(
        f"/monitor/updates/{draft.id}/submit",
        data={"csrf_token": csrf(client), "review_state": "approved"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(StatusUpdate, draft.id).review_state == ReviewState.DRAFT


def test_oversized_upload_gets_413_and_nothing_is_written(client, world, app):
    app.config["MAX_UPLOAD_BYTES"] = 2048
    as_user(client, world.monitor_a)
    big = PDF_BYTES + b"0" * 2048
    response = post_update(client, world.measure("1.1"), **with_pdf(content=big))
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0 and count(StoredFile) == 0 and count(Evidence) == 0
    assert uploaded_files(app) == []


def test_the_upload_limit_takes_the_languages_decimal_sign(client, world, app):
    # the form's script and the server say the limit in the page's language: 2,5 MB / 2.5 MB
    app.config["MAX_UPLOAD_BYTES"] = 5 * 1024 * 1024 // 2
    as_user(client, world.monitor_a)
    url = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    for lang, size, other in (("az", "2,5", "2.5"), ("en", "2.5", "2,5")):
        html = client.get(f"{url}?lang={lang}").get_data(as_text=True)
        limit = re.search(r'data-too-large="([^"]+)"', html).group(1)
        assert f"{size} MB" in limit and other not in limit, limit


def test_request_beyond_the_content_length_limit_gets_413(client, world, app):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    as_user(client, world.monitor_a)
    token = csrf(client)
    response = client.post(
        new_url(world.measure("1.1")),
        data=update_form(csrf_token=token, **with_pdf(content=PDF_BYTES + b"0" * 8192)),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert count(StatusUpdate) == 0


def test_wrong_file_types_get_400(client, world, app):
    as_user(client, world.monitor_a)
    for content, name in (
        (b"<html><script>alert(1)</script></html>", "report.html"),
        (b"<html><script>alert(1)</script></html>", "renamed.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png"),
    ):
        response = post_update(client, world.measure("1.1"), **with_pdf(1, name, content))
        assert response.status_code == 400, name
        assert "This file type is not accepted" in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0 and count(StoredFile) == 0
    assert uploaded_files(app) == []


def test_javascript_and_data_links_get_400(client, world):
    as_user(client, world.monitor_a)
    for link in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/x",
        "//example.org/x",
        "https://",
    ):
        response = post_update(client, world.measure("1.1"), **{"evidence-0-url": link})
        assert response.status_code == 400, link
        assert "starts with http:// or https://" in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0


def test_dangerous_filenames_are_stored_safely(client, world, app):
    as_user(client, world.monitor_a)
    # (a NUL or another control character never gets here: tracker.web.input_edge refuses
    # it with a 400; a right-to-left override, a format character, is dropped here)
    for name, expected in (("../../x", "x.pdf"), ("a\u202eb.pdf", "ab.pdf")):
        assert post_update(client, world.measure("1.1"), **with_pdf(1, name)).status_code == 302
        stored = only_update().evidence[-1].file
        assert stored.original_filename == expected
        assert (Path(app.config["UPLOAD_FOLDER"]) / stored.stored_name).is_file()
    assert not (Path(app.config["UPLOAD_FOLDER"]).parent.parent / "x").exists()
    assert all(p.parent == Path(app.config["UPLOAD_FOLDER"]) for p in uploaded_files(app))


def test_business_rules_give_clear_400s(client, world):
    as_user(client, world.monitor_a)
    cases = [
        ({"as_of_date": "2099-01-01"}, "cannot be in the future"),
        ({"as_of_date": "30/06/2021"}, "Enter the date as YYYY-MM-DD"),
        ({"completion": "finished"}, "Choose one of the options"),
        ({"completion": ""}, "Choose the level of completion."),
        ({"progress_percent": "140"}, "from 0 to 100"),
        ({"progress_percent": "ten"}, "whole number"),
        ({"narrative_az": "", "narrative_en": ""}, "in Azerbaijani, in English or in both"),
        ({"completion": "complete"}, "A complete measure has no reasons for delay"),
        ({"delay_reasons": []}, "Choose at least one reason for the delay."),
        ({"evidence-0-evidence_type": ""}, "Choose the type of this evidence item."),
        ({"evidence-0-url": ""}, "Give a link to the evidence or upload a file."),
        ({"evidence-0-title": ""}, "Give the evidence a title."),
        ({"evidence-0-evidence_date": "2030-01-01"}, "cannot be in the future"),
        ({**with_pdf(0), "evidence-0-url": "https://example.org"}, "either a link or a file"),
    ]
    for fields, message in cases:
        response = post_update(client, world.measure("1.1"), **fields)
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), (fields, message)
    assert count(StatusUpdate) == 0


def test_the_progress_must_not_contradict_the_level_of_completion(client, world):
    """Readers see the level and the percentage side by side: "Complete, 40%" or
    "Not started, 100%" would say two things at once."""
    as_user(client, world.monitor_a)
    measure = world.measure("1.1")
    done = {"completion": "complete", "delay_reasons": []}
    refused = [
        ({**done, "progress_percent": "40"}, "The progress of a complete measure is 100."),
        ({"completion": "not_started", "progress_percent": "100"}, "not started is 0."),
        ({"completion": "limited", "progress_percent": "100"}, "under way is from 1 to 99."),
        ({"completion": "substantial", "progress_percent": "0"}, "under way is from 1 to 99."),
    ]
    for fields, message in refused:
        response = post_update(client, measure, **fields)
        assert response.status_code == 400, fields
        [error] = field_errors(response.get_data(as_text=True))["progress_percent"]
        assert message in error, fields
    assert count(StatusUpdate) == 0
    accepted = [
        {**done, "progress_percent": "100"},
        {**done, "progress_percent": ""},
        {"completion": "not_started", "progress_percent": "0"},
        {"completion": "limited", "progress_percent": "1"},
        {"completion": "substantial", "progress_percent": "99"},
        {"completion": "no_evidence", "progress_percent": "0"},
    ]
    for fields in accepted:
        assert post_update(client, measure, **fields).status_code == 302, fields
    assert count(StatusUpdate) == len(accepted)


def test_the_update_forms_dates_are_yyyy_mm_dd(client, world):
    """strptime read 2021-6-15 as a date; the hints, the messages and the API name one
    form, YYYY-MM-DD. Spaces around the date are no part of it."""
    as_user(client, world.monitor_a)
    measure = world.measure("1.1")
    refused = post_update(client, measure, as_of_date="2021-6-15")
    assert refused.status_code == 400
    assert "Enter the date as YYYY-MM-DD" in refused.get_data(as_text=True)
    assert count(StatusUpdate) == 0
    assert post_update(client, measure, as_of_date=" 2021-06-15 ").status_code == 302
    assert only_update().as_of_date == date(2021, 6, 15)


def test_an_assessment_from_before_the_plan_is_refused(client, world):
    """An "as of" date before the plan began would put the assessment in the plan's figures
    from its first day (the scorecard's monthly chart counted it complete from 2020-01)."""
    as_user(client, world.monitor_a)
    before = post_update(client, world.measure("1.1"), as_of_date="2019-12-31")
    assert before.status_code == 400
    assert "cannot be before the plan began (January 1, 2020)" in before.get_data(as_text=True)
    assert count(StatusUpdate) == 0
    first_day = post_update(client, world.measure("1.1"), as_of_date="2020-01-01")
    assert first_day.status_code == 302
    assert only_update().as_of_date == date(2020, 1, 1)


def test_one_attempt_names_every_problem(client, world):
    """A field the form cannot read does not hide the service's problems with the rest:
    a monitor fixes everything in one go, not in rounds."""
    as_user(client, world.monitor_a)
    errors = refused_update(
        client,
        world.measure("1.1"),
        as_of_date="30/06/2021",
        narrative_az="",
        narrative_en="",
        **{
            "evidence-0-url": "javascript:alert(1)",
            "evidence-1-evidence_type": "media_report",
            "evidence-1-title": "",
            "evidence-1-evidence_date": "2021-13-45",
            "evidence-1-url": "https://example.org/news",
        },
    )
    assert errors == {
        # the form's own checks
        "as_of_date": ["Enter the date as YYYY-MM-DD, for example 2021-06-30."],
        "evidence-1-evidence_date": ["Enter the date as YYYY-MM-DD, for example 2021-06-30."],
        # and the service's, in the same answer
        "narrative_az": ["Write the narrative in Azerbaijani, in English or in both."],
        "evidence-0-url": [
            "Enter a link that starts with http:// or https://, or upload a file instead."
        ],
        "evidence-1-title": ["Give the evidence a title."],
    }
    assert count(StatusUpdate) == 0


def test_a_blank_agency_is_no_agency(client, world):
    """A space for the agency passes the select's Optional() unchecked: it is read as no
    agency (the request's problem), never int(" ") and a 500."""
    as_user(client, world.monitor_a)
    errors = refused_update(
        client,
        world.measure("1.1"),
        **{
            "evidence-0-evidence_type": "information_request",
            "evidence-0-request_sent_on": "2021-05-01",
            "evidence-0-request_agency_id": " ",
            "evidence-0-request_outcome": "answered",
        },
    )
    assert errors == {"evidence-0-request_agency_id": ["Choose the agency the request went to."]}


def test_a_field_that_says_what_is_wrong_says_it_once(client, world, app):
    """No second message for a field the form already refused, and no "give a link or a
    file" beside a file that was refused: that would follow from the refusal."""
    as_user(client, world.monitor_a)
    errors = refused_update(
        client,
        world.measure("1.1"),
        completion="",
        as_of_date="2099-01-01",
        **{
            "evidence-0-evidence_type": "",
            "evidence-0-title": "",
            "evidence-0-evidence_date": "",
            "evidence-0-url": "",
            **with_pdf(1, "report.html", b"<html><script>alert(1)</script></html>"),
        },
    )
    assert errors["completion"] == ["Choose the level of completion."]
    assert errors["as_of_date"] == ["The “as of” date cannot be in the future."]
    assert errors["evidence-1-file"] == [
        "This file type is not accepted. Upload a PDF, PNG, JPG, DOCX, XLSX or ODT file."
    ]
    assert "evidence-1-url" not in errors
    assert count(StoredFile) == 0
    assert uploaded_files(app) == []


def test_errors_of_a_later_slot_show_on_that_slot(client, world):
    as_user(client, world.monitor_a)
    response = post_update(
        client,
        world.measure("1.1"),
        **{
            "evidence-2-evidence_type": "media_report",
            "evidence-2-title": "News",
            "evidence-2-evidence_date": "2021-01-01",
            "evidence-2-url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="evidence-2-url-errors"' in html
    assert 'id="evidence-0-url-errors"' not in html


def test_missing_type_is_reported_on_its_own_slot(client, world):
    as_user(client, world.monitor_a)
    response = post_update(
        client,
        world.measure("1.1"),
        **{
            "evidence-0-evidence_type": "",
            "evidence-0-title": "",
            "evidence-0-evidence_date": "",
            "evidence-0-url": "",
            "evidence-1-title": "Untyped item",
            "evidence-2-evidence_type": "media_report",
            "evidence-2-title": "News",
            "evidence-2-evidence_date": "2021-01-01",
            "evidence-2-url": "https://example.org/news",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="evidence-1-evidence_type-errors"' in html
    assert 'id="evidence-2-evidence_type-errors"' not in html


# --- revising and correcting ---------------------------------------------------------------


def _submitted(client, world, code="1.1", **fields) -> StatusUpdate:
    as_user(client, world.monitor_a)
    post_update(client, world.measure(code), submit_for_review="Submit for review", **fields)
    return only_update()


JSON = {"Accept": "application/json"}


def _decide(client, world, update, decision, **data):
    as_user(client, world.reviewer)
    response = client.post(
        f"/review/updates/{update.id}/{decision}",
        data={"csrf_token": csrf(client, "/review/"), **data},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_returned_update_is_revised_by_a_new_update(client, world):
    original = _submitted(client, world, **with_pdf())
    _decide(client, world, original, "return", reason="Add the ministry's letter.")

    as_user(client, world.monitor_a)
    home = client.get("/monitor/").get_data(as_text=True)
    assert "Add the ministry&#39;s letter." in home
    page = client.get(f"/monitor/updates/{original.id}/revise")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Add the ministry&#39;s letter." in html and "Annual report" in html

    _first, second = original.evidence
    [form_key] = FORM_KEY.findall(html)
    data = update_form(
        csrf_token=csrf(client),
        form_key=form_key,
        narrative_en="Now with the letter.",
        keep_evidence=[str(second.id)],
        submit_for_review="Submit for review",
        **{"evidence-0-title": "Ministry letter", "evidence-0-url": "https://example.org/letter"},
    )
    response = client.post(
        f"/monitor/updates/{original.id}/revise", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    db.session.expire_all()
    revision = only_update()
    assert revision.id != original.id and revision.replaces_id == original.id
    assert revision.review_state == ReviewState.SUBMITTED
    assert [e.title for e in revision.evidence] == ["Annual report", "Ministry letter"]
    assert revision.evidence[0].file_id == second.file_id
    old = db.session.get(StatusUpdate, original.id)
    assert old.review_state == ReviewState.RETURNED and old.is_archived
    assert old.narrative_en == "Partly implemented." and len(old.evidence) == 2

    # the same form sent again (a double click, the back button) leads to the revision
    resent = client.post(
        f"/monitor/updates/{original.id}/revise?lang=en",
        data={**data, "csrf_token": csrf(client)},
        content_type="multipart/form-data",
    )
    assert resent.status_code == 302 and resent.location == f"/monitor/updates/{revision.id}"
    assert db.session.scalar(select(func.count()).select_from(StatusUpdate)) == 2

    # a second revision of the same returned update is refused, and leads to the revision
    again = client.get(f"/monitor/updates/{original.id}/revise?lang=en")
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "A newer version replaced this update" in html
    assert f'href="/monitor/updates/{revision.id}">Open the newer version</a>' in html

    # the reviewer sees both versions
    as_user(client, world.reviewer)
    review_page = client.get(f"/review/updates/{revision.id}").get_data(as_text=True)
    assert f"#{original.id}" in review_page and "Add the ministry&#39;s letter." in review_page


def test_kept_evidence_must_belong_to_the_replaced_update(client, world):
    original = _submitted(client, world)
    _decide(client, world, original, "return", reason="More please.")
    other = _submitted(client, world, code="1.2", **with_pdf())
    as_user(client, world.monitor_a)
    data = update_form(csrf_token=csrf(client), keep_evidence=[str(other.evidence[1].id)])
    response = client.post(
        f"/monitor/updates/{original.id}/revise", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.replaces_id == original.id)
        )
        == 0
    )


def test_approved_update_is_corrected_and_replaced_on_approval(client, world):
    original = _submitted(client, world)
    _decide(client, world, original, "approve")
    as_user(client, world.monitor_a)
    page = client.get(f"/monitor/updates/{original.id}/revise")
    assert page.status_code == 200 and "Correct the approved update" in page.get_data(as_text=True)
    [form_key] = FORM_KEY.findall(page.get_data(as_text=True))
    data = update_form(
        csrf_token=csrf(client),
        form_key=form_key,
        completion="substantial",
        submit_for_review="Submit for review",
        keep_evidence=[str(e.id) for e in original.evidence],
        **{
            "evidence-0-title": "",
            "evidence-0-url": "",
            "evidence-0-evidence_type": "",
            "evidence-0-evidence_date": "",
        },
    )
    response = client.post(
        f"/monitor/updates/{original.id}/revise", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    correction = only_update()
    assert correction.replaces_id == original.id
    db.session.expire_all()
    # until the correction is approved, the approved original stays public
    assert not db.session.get(StatusUpdate, original.id).is_archived
    # the same form sent again leads to the correction it saved; a new form is refused
    resent = client.post(
        f"/monitor/updates/{original.id}/revise",
        data={**data, "csrf_token": csrf(client)},
        content_type="multipart/form-data",
    )
    assert resent.status_code == 302 and resent.location == f"/monitor/updates/{correction.id}"
    # a second correction is refused while this one waits, and leads to it
    again = client.get(f"/monitor/updates/{original.id}/revise?lang=en")
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "A revision of this update was already submitted for review." in html
    assert f'href="/monitor/updates/{correction.id}">Open the revision</a>' in html
    api = client.get(f"/api/v1/measures/{world.measure('1.1').id}/updates").get_json()
    assert [u["id"] for u in api["updates"]] == [original.id]

    _decide(client, world, correction, "approve")
    db.session.expire_all()
    assert db.session.get(StatusUpdate, original.id).is_archived
    api = client.get(f"/api/v1/measures/{world.measure('1.1').id}/updates").get_json()
    assert [u["id"] for u in api["updates"]] == [correction.id]
    assert api["updates"][0]["completion"] == "substantial"
    assert "update.superseded" in audit_actions()
    # an old link to correct the original leads to the correction that replaced it
    as_user(client, world.monitor_a)
    stale = client.get(f"/monitor/updates/{original.id}/revise", headers=JSON)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["next"] == f"/monitor/updates/{correction.id}"
    assert client.get(stale.get_json()["error"]["next"]).status_code == 200


def test_only_returned_or_approved_updates_can_be_revised(client, world):
    as_user(client, world.monitor_a)
    post_update(client, world.measure("1.1"))
    draft = only_update()
    assert client.get(f"/monitor/updates/{draft.id}/revise").status_code == 409
    submitted = _submitted(client, world, code="1.2")
    as_user(client, world.monitor_a)
    assert client.get(f"/monitor/updates/{submitted.id}/revise").status_code == 409
    # nothing replaced it, so no newer version; editing a final update leads to its page
    refused = client.get(f"/monitor/updates/{submitted.id}/revise?lang=en")
    assert "Open the newer version" not in refused.get_data(as_text=True)
    final = client.get(f"/monitor/updates/{submitted.id}/edit?lang=en")
    assert final.status_code == 409
    assert f'href="/monitor/updates/{submitted.id}">Open this update</a>' in final.get_data(
        as_text=True
    )


def test_my_updates_lists_every_version(client, world):
    original = _submitted(client, world)
    _decide(client, world, original, "return", reason="Fix it.")
    as_user(client, world.monitor_a)
    post_update(client, world.measure("1.2"))
    html = client.get("/monitor/updates").get_data(as_text=True)
    assert f"#{original.id}" in html and "Returned" in html and "Draft" in html
    # a page number that is not one is refused, as on every list (tracker.web.pagination)
    assert client.get("/monitor/updates?page=abc").status_code == 400


def test_service_problems_name_the_input_fields_not_the_form_fields(world, app):
    """The service speaks of its input ("evidence[1].url"); the form maps the names."""
    import io

    from tracker.services.errors import InvalidInput
    from tracker.services.monitoring.inputs import EvidenceInput, UpdateInput
    from tracker.services.monitoring.updates import create_update
    from tracker.services.monitoring.uploads import Upload
    from tracker.vocabulary import Completion, EvidenceType

    app.config["MAX_UPLOAD_BYTES"] = 2048

    def evidence(**fields):
        values = {
            "evidence_type": EvidenceType.MEDIA_REPORT,
            "title": "News",
            "evidence_date": date(2021, 1, 1),
            "url": "https://example.org/news",
        }
        return EvidenceInput(**{**values, **fields})

    def problems(data: UpdateInput) -> InvalidInput:
        try:
            create_update(db.session, world.monitor_a, world.measure("1.1"), data)
        except InvalidInput as error:
            return error
        raise AssertionError("bad input was accepted")

    error = problems(
        UpdateInput(
            completion=Completion.COMPLETE,
            as_of_date=date(2021, 6, 1),
            evidence=(evidence(), evidence(url="javascript:alert(1)", title="")),
        )
    )
    assert sorted(error.problems) == ["evidence[1].title", "evidence[1].url", "narrative_az"]
    assert error.status == 400
    big = Upload(filename="big.pdf", stream=io.BytesIO(PDF_BYTES + b"0" * 4096))
    error = problems(
        UpdateInput(
            completion=Completion.COMPLETE,
            as_of_date=date(2021, 6, 1),
            narrative_en="Done in part.",
            evidence=(evidence(url=None, upload=big),),
        )
    )
    assert list(error.problems) == ["evidence[0].upload"] and error.status == 413
    # a level, a date or a type left out is a problem, not a crash (a command, an import)
    error = problems(
        UpdateInput(
            completion=None,
            as_of_date=None,
            narrative_en="Done in part.",
            evidence=(evidence(evidence_type=None),),
        )
    )
    assert sorted(error.problems) == ["as_of_date", "completion", "evidence[0].evidence_type"]
    assert count(StatusUpdate) == 0 and uploaded_files(app) == []
