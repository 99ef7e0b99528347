"""The update form loses nothing: files chosen with a mistake elsewhere are kept as the
monitor's pending files (issue 13, item 6), a request with no reply is evidence without a
link or file (item 7), a huge number is a 400 (issue 11, item 5), and a full disk keeps
what was typed (issue 11, item 3)."""

from __future__ import annotations

import errno
import os
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.monitoring.conftest import (
    PDF_BYTES,
    PNG_BYTES,
    as_user,
    csrf,
    file_field,
    update_form,
)
from tests.monitoring.files import simple_pdf
from tracker import clock
from tracker.extensions import db
from tracker.models import Agency, Evidence, StatusUpdate, StoredFile
from tracker.services.monitoring import storage, uploads
from tracker.services.monitoring import updates as update_service
from tracker.services.monitoring.inputs import EvidenceInput, UpdateInput
from tracker.vocabulary import Completion, EvidenceType

KEPT_ID = re.compile(r'name="evidence-(\d)-pending_file" type="hidden" value="([^"]+)"')


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_url(measure) -> str:
    return f"/monitor/measures/{measure.id}/updates/new"


def post(client, measure, **fields):
    data = update_form(csrf_token=csrf(client), **fields)
    return client.post(new_url(measure), data=data, content_type="multipart/form-data")


def pdf_on(index: int, filename: str = "report.pdf", content: bytes = PDF_BYTES) -> dict:
    return {
        f"evidence-{index}-evidence_type": "official_document",
        f"evidence-{index}-title": "Annual report",
        f"evidence-{index}-evidence_date": "2021-05-01",
        f"evidence-{index}-file": file_field(content, filename),
    }


def kept_ids(html: str) -> dict[int, str]:
    return {int(slot): public_id for slot, public_id in KEPT_ID.findall(html)}


def files_on_disk(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- files are kept across a mistake ----------------------------------------------------------


def test_a_file_survives_a_mistake_elsewhere_and_is_attached_on_the_next_attempt(
    client, world, app
):
    as_user(client, world.monitor_a)
    measure = world.measure("1.1")
    response = post(client, measure, narrative_az="", narrative_en="", **pdf_on(1))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Write the narrative in Azerbaijani, in English or in both." in html
    assert "Attached:" in html and "report.pdf" in html
    assert "Remove this file" in html
    kept = kept_ids(html)
    assert list(kept) == [1]
    stored = db.session.scalar(select(StoredFile))
    assert stored.public_id == kept[1] and stored.pending_until is not None
    assert stored.uploaded_by_id == world.monitor_a.id
    assert files_on_disk(app) == [stored.stored_name]
    assert count(StatusUpdate) == 0 and count(Evidence) == 0
    # what was typed is back in the form
    assert "Annual report" in html and "https://example.gov.az/report" in html

    fixed = {
        **{k: v for k, v in pdf_on(1).items() if not k.endswith("-file")},
        "evidence-1-pending_file": kept[1],
    }
    response = post(client, measure, **fixed)
    assert response.status_code == 302
    update = db.session.scalar(select(StatusUpdate))
    document = update.evidence[1]
    assert document.file_id == stored.id and document.url is None
    db.session.refresh(stored)
    assert stored.pending_until is None  # attached: no longer pending
    assert count(StoredFile) == 1 and files_on_disk(app) == [stored.stored_name]


def test_a_same_form_that_attached_the_kept_file_first_leads_to_its_update(client, world):
    """Four sends of one corrected form at once (a double click): one saves the update
    and attaches the kept file; one that checked the form before that commit but looks
    for the file after it is led to the update it saved, not told the file is gone."""
    as_user(client, world.monitor_a)
    measure = world.measure("1.1")
    form_key = "k" * 32
    response = post(client, measure, as_of_date="30.06.2021", form_key=form_key, **pdf_on(1))
    kept = kept_ids(response.get_data(as_text=True))
    fixed = {k: v for k, v in pdf_on(1).items() if not k.endswith("-file")}
    saved = post(
        client, measure, form_key=form_key, **fixed, **{"evidence-1-pending_file": kept[1]}
    )
    assert saved.status_code == 302
    update = db.session.scalar(select(StatusUpdate))
    # the late request's file check: the form check before it found nothing yet
    late = UpdateInput(
        completion=Completion.LIMITED,
        as_of_date=date(2021, 6, 15),
        evidence=(
            EvidenceInput(
                EvidenceType.OFFICIAL_DOCUMENT,
                "Annual report",
                date(2021, 5, 1),
                pending_file=kept[1],
            ),
        ),
        form_key=form_key,
    )
    with pytest.raises(update_service.AlreadySaved) as sent:
        update_service._check_files(db.session, world.monitor_a, late)
    assert sent.value.record.id == update.id


def test_a_form_level_mistake_keeps_the_file_too(client, world):
    as_user(client, world.monitor_a)
    response = post(client, world.measure("1.1"), as_of_date="30.06.2021", **pdf_on(0))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the date as YYYY-MM-DD" in html
    assert list(kept_ids(html)) == [0]


def test_a_refused_file_is_reported_on_its_slot_and_the_good_one_kept(client, world, app):
    as_user(client, world.monitor_a)
    response = post(client, world.measure("1.1"), **pdf_on(1), **pdf_on(2, "chart.pdf", PNG_BYTES))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "“chart.pdf” is named as a PDF file but holds a PNG file." in html
    assert list(kept_ids(html)) == [1]
    assert count(StatusUpdate) == 0 and count(StoredFile) == 1
    assert len(files_on_disk(app)) == 1


def test_a_kept_file_can_be_removed_and_goes_from_disk(client, world, app):
    as_user(client, world.monitor_a)
    first = post(client, world.measure("1.1"), narrative_az="", narrative_en="", **pdf_on(1))
    public_id = kept_ids(first.get_data(as_text=True))[1]
    fields = {k: v for k, v in pdf_on(1).items() if not k.endswith("-file")}
    response = post(
        client,
        world.measure("1.1"),
        narrative_az="",
        narrative_en="",
        **fields,
        **{"evidence-1-pending_file": public_id, "evidence-1-remove_file": "y"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert kept_ids(html) == {} and "Attached:" not in html
    assert "Give a link to the evidence or upload a file." in html
    assert count(StoredFile) == 0 and files_on_disk(app) == []


def test_a_new_file_replaces_the_kept_one(client, world, app):
    as_user(client, world.monitor_a)
    first = post(client, world.measure("1.1"), narrative_az="", narrative_en="", **pdf_on(1))
    old_id = kept_ids(first.get_data(as_text=True))[1]
    second = post(
        client,
        world.measure("1.1"),
        narrative_az="",
        narrative_en="",
        **pdf_on(1, "newer.pdf"),
        **{"evidence-1-pending_file": old_id},
    )
    html = second.get_data(as_text=True)
    new_id = kept_ids(html)[1]
    assert new_id != old_id and "newer.pdf" in html
    assert [f.public_id for f in db.session.scalars(select(StoredFile))] == [new_id]
    assert len(files_on_disk(app)) == 1


def test_someone_elses_pending_file_cannot_be_attached(client, world):
    other = uploads.keep_pending(
        db.session,
        world.monitor_b,
        {0: uploads.Upload("theirs.pdf", file_field(PDF_BYTES, "theirs.pdf")[0])},
    )[0][0]
    db.session.commit()
    as_user(client, world.monitor_a)
    fields = {k: v for k, v in pdf_on(1).items() if not k.endswith("-file")}
    response = post(
        client, world.measure("1.1"), **fields, **{"evidence-1-pending_file": other.public_id}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The file you chose earlier is no longer kept" in html
    assert "theirs.pdf" not in html
    assert count(StatusUpdate) == 0
    db.session.refresh(other)
    assert other.pending_until is not None  # still B's, still pending


def test_an_expired_pending_file_is_not_attached_and_is_removed(client, world, app):
    as_user(client, world.monitor_a)
    first = post(client, world.measure("1.1"), narrative_az="", narrative_en="", **pdf_on(1))
    public_id = kept_ids(first.get_data(as_text=True))[1]
    stored = db.session.scalar(select(StoredFile))
    stored.pending_until = clock.now_utc() - timedelta(minutes=1)
    db.session.commit()
    fields = {k: v for k, v in pdf_on(1).items() if not k.endswith("-file")}
    response = post(
        client, world.measure("1.1"), **fields, **{"evidence-1-pending_file": public_id}
    )
    assert response.status_code == 400
    assert "no longer kept" in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0
    # the scheduler's job removes it, row and file
    storage.scheduled_expired_pending_job(db.session, clock.now_utc())
    db.session.commit()
    assert count(StoredFile) == 0 and files_on_disk(app) == []


def test_pending_files_are_kept_when_editing_a_draft(client, world):
    as_user(client, world.monitor_a)
    assert post(client, world.measure("1.1")).status_code == 302
    draft = db.session.scalar(select(StatusUpdate))
    edit = f"/monitor/updates/{draft.id}/edit"
    data = update_form(csrf_token=csrf(client, edit), narrative_az="", narrative_en="")
    data = {k: v for k, v in data.items() if not k.startswith("evidence-0")}
    data.update(pdf_on(0))
    response = client.post(edit, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert list(kept_ids(response.get_data(as_text=True))) == [0]


# --- a request with no reply is evidence in itself ----------------------------------------------


def _request(outcome: str, agency: Agency, **extra) -> dict:
    return {
        "evidence-0-evidence_type": "information_request",
        "evidence-0-title": "Request to the ministry",
        "evidence-0-evidence_date": "2021-03-01",
        "evidence-0-url": "",
        "evidence-0-request_sent_on": "2021-03-01",
        "evidence-0-request_agency_id": str(agency.id),
        "evidence-0-request_outcome": outcome,
        **extra,
    }


def test_a_request_with_no_reply_is_saved_without_a_link_or_file(client, world):
    agency = db.session.scalars(select(Agency).order_by(Agency.id)).first()
    as_user(client, world.monitor_a)
    response = post(client, world.measure("1.1"), **_request("no_reply", agency))
    assert response.status_code == 302
    item = db.session.scalar(select(Evidence))
    assert item.url is None and item.file_id is None
    assert item.request_outcome == "no_reply" and item.request_agency_id == agency.id


def test_the_agencies_a_request_goes_to_are_in_the_azerbaijani_alphabet(client, world):
    """Ə after E, İ after I, and a name in quotation marks by its first letter (a
    casefolded sort put “Azərenerji” and Ədliyyə Nazirliyi after every other name)."""
    as_user(client, world.monitor_a)
    html = client.get(new_url(world.measure("1.1")) + "?lang=az").get_data(as_text=True)
    select_html = html.split('name="evidence-0-request_agency_id"', 1)[1].split("</select>")[0]
    names = [unescape(name) for name in re.findall(r"<option[^>]*>([^<]+)</option>", select_html)]
    assert len(names) > 40
    for earlier, later in [
        ("“Azərenerji” Açıq Səhmdar Cəmiyyəti", "Baş Prokurorluq"),
        ("Dini Qurumlarla İş üzrə Dövlət Komitəsi", "Ədliyyə Nazirliyi"),
        ("Ədliyyə Nazirliyi", "Hesablama Palatası"),
        ("Hesablama Palatası", "İqtisadiyyat Nazirliyi"),
        ("İqtisadiyyat Nazirliyi", "Korrupsiyaya qarşı mübarizə üzrə Komissiya"),
        ("Vəkillər Kollegiyası", "yerli icra hakimiyyəti orqanları"),
    ]:
        assert names.index(earlier) < names.index(later), (earlier, later)


def test_an_answered_request_still_needs_its_source(client, world):
    agency = db.session.scalars(select(Agency).order_by(Agency.id)).first()
    as_user(client, world.monitor_a)
    response = post(
        client,
        world.measure("1.1"),
        **_request("answered", agency, **{"evidence-0-request_answered_on": "2021-03-20"}),
    )
    assert response.status_code == 400
    assert "Give a link to the evidence or upload a file." in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"evidence-0-evidence_date": "2030-01-01"}, "The evidence date cannot be in the future."),
        ({"evidence-0-url": "http://"}, None),
    ],
)
def test_an_evidence_problem_the_service_finds_opens_the_error_summary(
    client, world, fields, message
):
    """The service checks an evidence item after the fields' own checks passed: its
    problem still heads the page, linked to its field, as the fields' own do."""
    as_user(client, world.monitor_a)
    response = post(client, world.measure("1.1"), **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html.split('class="errors error-summary"')[1].split("</div>")[0]
    assert f'href="#{next(iter(fields))}"' in summary  # the field's id is its name
    if message:
        assert message in summary
    assert count(StatusUpdate) == 0


def test_the_summary_says_which_evidence_item_a_problem_is_about(client, world):
    """Two incomplete items: the summary's lines name item 1 and item 2, instead of
    repeating the same message twice with nothing to tell them apart."""
    as_user(client, world.monitor_a)
    response = post(
        client,
        world.measure("1.1"),
        **{"evidence-0-title": "", "evidence-1-title": "", "evidence-1-url": "https://a.az/x"},
    )
    assert response.status_code == 400
    summary = response.get_data(as_text=True).split('class="errors error-summary"')[1]
    summary = summary.split("</div>")[0]
    assert '<a href="#evidence-0-title">Evidence item 1: Give the evidence a title.</a>' in summary
    assert '<a href="#evidence-1-title">Evidence item 2: Give the evidence a title.</a>' in summary


def test_the_request_fields_show_without_javascript_and_the_script_is_served(client, world):
    as_user(client, world.monitor_a)
    html = client.get(new_url(world.measure("1.1"))).get_data(as_text=True)
    # no <details> in the form (the site's menu is one): without JavaScript every field shows
    assert "<details" not in html.split("<main")[1]
    assert html.count("data-request-fields") == 3
    assert 'data-evidence-type=""' in html
    script = re.search(r'<script src="([^"]+evidence\.js)" defer></script>', html).group(1)
    served = client.get(script)
    assert served.status_code == 200 and b"information_request" in served.data


# --- numbers --------------------------------------------------------------------------------


def test_a_huge_percentage_is_a_400_not_an_overflow(client, world):
    as_user(client, world.monitor_a)
    for value, message in (
        ("9" * 309, "Enter a percentage from 0 to 100."),
        ("-" + "9" * 40, "Enter a percentage from 0 to 100."),
        ("101", "Enter a percentage from 0 to 100."),
        ("1e3", "Enter the percentage as a whole number from 0 to 100."),
        ("٣٠", "Enter the percentage as a whole number from 0 to 100."),
    ):
        response = post(client, world.measure("1.1"), progress_percent=value)
        assert response.status_code == 400, value
        assert message in response.get_data(as_text=True), value
    assert count(StatusUpdate) == 0
    assert post(client, world.measure("1.1"), progress_percent=" 007 ").status_code == 302
    assert db.session.scalar(select(StatusUpdate)).progress_percent == 7


# --- a full disk ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_gives_507_keeps_what_was_typed_and_leaves_no_file(
    client, world, app, monkeypatch, code
):
    """In process, with the write failing as a full disk does (the real full disk, on a
    1 MB tmpfs, is in tests/reliability/test_storage.py)."""

    def disk_full(_descriptor):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(uploads.os, "fsync", disk_full)
    as_user(client, world.monitor_a)
    response = post(client, world.measure("1.1"), narrative_en="TYPED-NARRATIVE", **pdf_on(1))
    assert response.status_code == 507
    html = response.get_data(as_text=True)
    assert "The server has no room left to store files" in html
    assert "TYPED-NARRATIVE" in html and "Annual report" in html
    assert count(StatusUpdate) == 0 and count(StoredFile) == 0
    assert files_on_disk(app) == []


def test_a_pdf_that_can_run_something_is_flagged_for_the_reviewer(client, world):
    flagged = simple_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>")
    as_user(client, world.monitor_a)
    response = post(
        client, world.measure("1.1"), submit_for_review="Submit", **pdf_on(1, content=flagged)
    )
    assert response.status_code == 302
    update = db.session.scalar(select(StatusUpdate))
    assert update.evidence[1].file.active_content == ["javascript"]
    as_user(client, world.reviewer)
    html = client.get(f"/review/updates/{update.id}?lang=en").get_data(as_text=True)
    assert "Warning:" in html and "this PDF contains JavaScript." in html
    # served only as an attachment, under the sandbox policy
    download = client.get(f"/files/{update.evidence[1].file.public_id}")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["Content-Security-Policy"]
