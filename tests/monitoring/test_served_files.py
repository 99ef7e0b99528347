"""The file work checked on the served app (gunicorn workers and the scheduler) over HTTP:
access by record, uploads refused by their structure with a 400 (never a 5xx), flagged
PDFs, a request with no reply, a huge percentage, and `tracker check-storage`."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from tests.monitoring import files
from tests.monitoring.conftest import PNG_BYTES, served_decision, update_form
from tests.monitoring.conftest import served_signed_in as signed_in
from tracker.extensions import db
from tracker.models import Evidence, GovernmentClaim, StatusUpdate, StoredFile

pytestmark = pytest.mark.served


@pytest.fixture
def world(served_world):
    return served_world


def post_update(client, world, data: dict, upload: tuple[str, bytes] | None = None):
    page = f"/monitor/measures/{world.measure_a.id}/updates/new?lang=en"
    extra = {"files": {"evidence-0-file": upload}} if upload else {}
    return client.post_form(page, data, **extra)


def with_file(**changes) -> dict:
    data = update_form(**changes)
    data.pop("evidence-0-url")
    data["evidence-0-evidence_type"] = "official_document"
    return data


def test_files_are_served_by_record_and_by_public_id(served, world):
    draft_file = f"/files/{world.draft_file.public_id}"
    public_file = f"/files/{world.public_file.public_id}"
    assert served.client().get(public_file).status_code == 200
    assert served.client().get(draft_file).status_code == 404
    assert served.client().get(f"/files/{world.draft_file.id}").status_code == 404
    assert signed_in(served, world, "reviewer").get(draft_file).status_code == 403
    assert signed_in(served, world, "monitor_b").get(draft_file).status_code == 403
    own = signed_in(served, world, "monitor_a").get(draft_file)
    assert own.status_code == 200 and "no-store" in own.headers["Cache-Control"]
    pending = f"/files/{world.pending_file.public_id}"
    assert signed_in(served, world, "admin").get(pending).status_code == 403
    assert signed_in(served, world, "monitor_a").get(pending).status_code == 200


MALFORMED = [
    ("truncated.pdf", files.simple_pdf()[:40], "The PDF file could not be read"),
    ("chart.pdf", PNG_BYTES, "is named as a PDF file but holds a PNG file"),
    (
        "letter.docx",
        files.corrupt_compressed_part(
            files.docx_with(files.word_document(b"<w:p/>" * 500)), "word/document.xml"
        ),
        "The DOCX file could not be read",
    ),
    (
        "letter.docx",
        files.corrupt_compressed_part(
            files.docx_with(files.word_document()), "[Content_Types].xml"
        ),
        "This file type is not accepted",
    ),
    ("huge.png", files.png_claiming(30000, 30000), "more than 40 million pixels"),
]


def test_malformed_uploads_get_a_400_that_says_why_never_a_5xx(served, world):
    monitor = signed_in(served, world, "monitor_a")
    for name, content, message in MALFORMED:
        response = post_update(monitor, world, with_file(), (name, content))
        assert response.status_code == 400, (name, response.status_code)
        assert message in response.text, name
    db.session.rollback()
    assert db.session.scalar(select(StatusUpdate).where(StatusUpdate.narrative_en == "x")) is None
    assert "Traceback" not in served.log_text()


def test_a_flagged_pdf_warns_the_reviewer(served, world):
    flagged = files.simple_pdf(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>")
    monitor = signed_in(served, world, "monitor_a")
    data = with_file(submit_for_review="Submit for review")
    data.pop("save_draft")
    response = post_update(monitor, world, data, ("launcher.pdf", flagged))
    assert response.status_code == 302
    update_id = int(re.search(r"/monitor/updates/(\d+)", response.headers["Location"]).group(1))
    db.session.rollback()
    stored = db.session.scalar(
        select(StoredFile)
        .join(Evidence, Evidence.file_id == StoredFile.id)
        .where(Evidence.update_id == update_id)
    )
    assert stored.active_content == ["launch"]
    reviewer = signed_in(served, world, "reviewer")
    html = reviewer.get(f"/review/updates/{update_id}?lang=en").text
    assert "this PDF contains an action that starts a program." in html
    download = reviewer.get(f"/files/{stored.public_id}")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def approved_upload(served, world, upload: tuple[str, bytes], **fields) -> StoredFile:
    """The file of an update that monitor A submits with `upload` (form fields changed by
    `fields`) and the reviewer approves: public from then on."""
    monitor = signed_in(served, world, "monitor_a")
    data = with_file(submit_for_review="Submit for review", **fields)
    data.pop("save_draft")
    response = post_update(monitor, world, data, upload)
    assert response.status_code == 302
    update_id = int(re.search(r"/monitor/updates/(\d+)", response.headers["Location"]).group(1))
    reviewer = signed_in(served, world, "reviewer")
    served_decision(reviewer, f"/review/updates/{update_id}", "approve", comment="")
    db.session.rollback()
    return db.session.scalar(
        select(StoredFile)
        .join(Evidence, Evidence.file_id == StoredFile.id)
        .where(Evidence.update_id == update_id)
    )


def test_a_public_evidence_file_does_not_name_the_monitor(served, world):
    """The file a monitor uploads goes public once the update is approved: what it said of
    its author (a PDF's Author and XMP) is gone from the copy anyone downloads."""
    from pypdf import PdfReader

    from tests.monitoring.test_file_metadata import NAME, authored_pdf, named_nowhere

    stored = approved_upload(served, world, ("notes.pdf", authored_pdf()))
    download = served.client().get(f"/files/{stored.public_id}")
    assert download.status_code == 200 and named_nowhere(download.content)
    assert NAME not in str(PdfReader(io.BytesIO(download.content)).metadata or {})
    assert stored.size_bytes == len(download.content)


def test_a_request_with_no_reply_and_a_huge_percentage(served, world):
    monitor = signed_in(served, world, "monitor_a")
    huge = post_update(monitor, world, update_form(progress_percent="9" * 309))
    assert huge.status_code == 400 and "Enter a percentage from 0 to 100." in huge.text
    request = update_form(
        **{
            "evidence-0-evidence_type": "information_request",
            "evidence-0-url": "",
            "evidence-0-request_sent_on": "2021-03-01",
            "evidence-0-request_agency_id": str(world.agency.id),
            "evidence-0-request_outcome": "no_reply",
        }
    )
    assert post_update(monitor, world, request).status_code == 302


def test_a_percentage_that_contradicts_the_level_is_refused_in_both_languages(served, world):
    monitor = signed_in(served, world, "monitor_a")
    done = update_form(completion="complete", progress_percent="40")
    done.pop("delay_reasons", None)
    english = post_update(monitor, world, done)
    assert english.status_code == 400
    assert "The progress of a complete measure is 100." in english.text
    page = f"/monitor/measures/{world.measure_a.id}/updates/new?lang=az"
    azerbaijani = monitor.post_form(
        page, update_form(completion="not_started", progress_percent="100")
    )
    assert azerbaijani.status_code == 400
    assert "Başlanmamış tədbirin irəliləyişi 0-dır." in azerbaijani.text
    db.session.expire_all()
    assert not db.session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.measure_id == world.measure_a.id)
        .where(StatusUpdate.progress_percent.in_((40, 100)))
    ).all()


FORM_KEY = re.compile(r'name="form_key"[^>]*value="([^"]+)"')
KEPT_FILE = re.compile(r'name="pending_file" type="hidden" value="([^"]+)"')


def test_a_claims_file_survives_a_mistake_and_is_attached_when_sent_again(served, world):
    """Defect 7 over HTTP: the claim form sent with a file and a bad date comes back with
    the file kept; sent again put right, with the kept file's hidden field, it records the
    claim with that file, once however often it is sent. Another user's session cannot
    attach it."""
    reviewer = signed_in(served, world, "reviewer")
    page = f"/claims/measures/{world.measure_a.id}/new?lang=en"
    [form_key] = FORM_KEY.findall(reviewer.get(page).text)
    data = {
        "form_key": form_key,
        "claimed_completion": "complete",
        "claim_date": "20.05.2021",
        "source_title": "Served statement",
        "source_url": "",
        "note": "",
    }
    upload = {"file": ("statement.pdf", files.simple_pdf(), "application/pdf")}
    refused = reviewer.post_form(page, data, files=upload)
    assert refused.status_code == 400
    assert "Enter the date as YYYY-MM-DD" in refused.text
    assert "Attached:" in refused.text and "statement.pdf" in refused.text
    [kept_id] = KEPT_FILE.findall(refused.text)

    admin = signed_in(served, world, "admin")
    admin_key = FORM_KEY.findall(admin.get(page).text)[0]
    stolen = admin.post_form(
        page, {**data, "form_key": admin_key, "claim_date": "2021-05-20", "pending_file": kept_id}
    )
    assert stolen.status_code == 400 and "no longer kept" in stolen.text
    assert "statement.pdf" not in stolen.text

    # the form put right, sent four times at once (a double click): one claim, and every
    # answer leads to it, though only one of them could attach the kept file
    fixed = {
        **data,
        "csrf_token": reviewer.csrf_token(page),
        "claim_date": "2021-05-20",
        "pending_file": kept_id,
    }
    assert reviewer.post_at_once(page, fixed).endswith("/measures/1.1")
    db.session.rollback()
    [claim] = db.session.scalars(
        select(GovernmentClaim).where(GovernmentClaim.source_title == "Served statement")
    ).all()
    assert claim.form_key == form_key and claim.recorded_by_id == world.users["reviewer"].id
    assert claim.file.public_id == kept_id and claim.file.pending_until is None
    assert claim.file.original_filename == "statement.pdf" and claim.source_url is None
    # the recorded claim's source is public
    assert served.client().get(f"/files/{kept_id}").status_code == 200
    assert "Traceback" not in served.log_text()


def test_an_updates_kept_file_sent_four_times_at_once_saves_one_update(served, world):
    """The update form's kept file, as the claim form's above: the corrected form sent four
    times at once saves one update with the file, and every answer leads to it, though
    only one of them could attach the kept file."""
    monitor = signed_in(served, world, "monitor_a")
    page = f"/monitor/measures/{world.measure_a.id}/updates/new?lang=en"
    [form_key] = FORM_KEY.findall(monitor.get(page).text)
    data = with_file(as_of_date="30.06.2021", form_key=form_key)
    data["evidence-0-title"] = "Kept report"
    upload = {"evidence-0-file": ("report.pdf", files.simple_pdf(), "application/pdf")}
    refused = monitor.post_form(page, data, files=upload)
    assert refused.status_code == 400 and "Enter the date as YYYY-MM-DD" in refused.text
    [kept_id] = re.findall(
        r'name="evidence-0-pending_file" type="hidden" value="([^"]+)"', refused.text
    )
    fixed = {
        **data,
        "csrf_token": monitor.csrf_token(page),
        "as_of_date": "2021-06-30",
        "evidence-0-pending_file": kept_id,
    }
    location = monitor.post_at_once(page, fixed)
    db.session.rollback()
    [update] = db.session.scalars(
        select(StatusUpdate).where(StatusUpdate.form_key == form_key)
    ).all()
    assert location == f"/monitor/updates/{update.id}"
    [evidence] = update.evidence
    assert evidence.file.public_id == kept_id and evidence.file.pending_until is None
    assert "Traceback" not in served.log_text()


def test_check_storage_runs_beside_the_server(served, world):
    orphan = served.upload_folder / ("e" * 40)
    orphan.write_bytes(b"left behind")
    result = served.run_cli("check-storage", "--grace-minutes", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"orphan (removed): {'e' * 40}" in result.stdout
    assert not orphan.exists()
    assert served.client().get(f"/files/{world.public_file.public_id}").status_code == 200
