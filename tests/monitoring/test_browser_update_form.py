"""The update form in Chromium on the served app: a PDF on one evidence item and a mistake
elsewhere come back with the file still attached (issue 13, item 6); the details of a
request for information open when that type is chosen, and a request with no reply needs
no link or file (item 7); the update is then submitted. Without JavaScript every field
shows. One submission names every mistake, the form's and the service's. The file inputs'
button and words are in the page's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_world import build_world
from tests.monitoring.conftest import PDF_BYTES
from tracker.extensions import db
from tracker.models import StatusUpdate
from tracker.vocabulary import ReviewState

pytestmark = [pytest.mark.browser, pytest.mark.served]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_a_file_stays_attached_after_a_mistake_and_the_request_fields_open(served, browser):
    world = build_world(str(served.upload_folder))
    measure_id, agency_id = world.measure_a.id, world.agency.id
    email = world.users["monitor_a"].email
    db.session.commit()  # the server sees the data; this process holds no lock
    today = served.today()
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, email)
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=en")

    # The request fields stay closed until their type is chosen.
    request_fields = page.locator("#evidence-1-evidence_type-request")
    expect(request_fields).to_be_hidden()
    page.locator("#evidence-1-evidence_type").select_option("information_request")
    expect(request_fields).to_be_visible()
    expect(page.locator("#evidence-0-evidence_type-request")).to_be_hidden()

    # A PDF on item 1, a request with no reply on item 2, and no narrative: a mistake.
    page.get_by_label("Completion", exact=True).select_option("limited")
    page.get_by_label("As of").fill(today.isoformat())
    page.get_by_label("Agency inactive").check()
    page.locator("#evidence-0-evidence_type").select_option("official_document")
    page.locator("#evidence-0-title").fill("Draft methodology")
    page.locator("#evidence-0-evidence_date").fill((today - timedelta(days=20)).isoformat())
    page.locator("#evidence-0-file").set_input_files(
        {"name": "methodology.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    page.locator("#evidence-1-title").fill("Request to the ministry")
    sent_on = (today - timedelta(days=60)).isoformat()
    page.locator("#evidence-1-evidence_date").fill(sent_on)
    page.locator("#evidence-1-request_sent_on").fill(sent_on)
    page.locator("#evidence-1-request_agency_id").select_option(str(agency_id))
    page.locator("#evidence-1-request_outcome").select_option("no_reply")
    page.get_by_role("button", name="Submit for review").click()

    # beside its field, and as a link in the summary above the form
    narrative = "Write the narrative in Azerbaijani, in English or in both."
    expect(page.locator("#narrative_az-errors")).to_have_text(narrative)
    expect(page.locator(".error-summary").get_by_role("link", name=narrative)).to_be_visible()
    kept = page.locator(".kept-file")
    expect(kept).to_have_count(1)
    expect(kept).to_contain_text("Attached:")
    expect(kept.get_by_role("link", name="methodology.pdf")).to_be_visible()
    expect(page.get_by_label("Remove this file")).not_to_be_checked()
    # the request's details are kept and still open; the other slots' stay closed
    expect(request_fields).to_be_visible()
    expect(page.locator("#evidence-1-request_outcome")).to_have_value("no_reply")
    expect(page.locator("#evidence-2-evidence_type-request")).to_be_hidden()

    page.get_by_label("Narrative in English").fill("The methodology is still a draft.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Your update was submitted for review.")).to_be_visible()

    db.session.rollback()
    update = db.session.scalars(
        select(StatusUpdate).where(StatusUpdate.narrative_en == "The methodology is still a draft.")
    ).one()
    assert update.review_state == ReviewState.SUBMITTED
    document, request = update.evidence
    assert document.file.original_filename == "methodology.pdf"
    assert document.file.pending_until is None
    assert request.request_outcome == "no_reply" and request.url is None and request.file is None


def test_without_javascript_every_field_shows(served, browser):
    world = build_world(str(served.upload_folder))
    measure_id = world.measure_a.id
    email = world.users["monitor_a"].email
    db.session.commit()
    page = browser.new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, email)
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=en")
    for slot in range(3):
        expect(page.locator(f"#evidence-{slot}-evidence_type-request")).to_be_visible()
        expect(page.locator(f"#evidence-{slot}-request_outcome")).to_be_visible()
        # the browser's own file input stays: nothing stands in front of it
        file_input = page.locator(f"#evidence-{slot}-file")
        expect(file_input).to_be_visible()
        assert file_input.bounding_box()["width"] > 100
    expect(page.locator(".file-picker")).to_have_count(0)


def test_a_file_over_the_limit_is_refused_when_chosen_and_nothing_typed_is_lost(served, browser):
    """The server refuses a request over the upload limit whole (a 413 page, and the form's
    text gone): the page refuses the file as soon as it is chosen, with the server's words."""
    world = build_world(str(served.upload_folder))
    measure_id = world.measure_a.id
    email = world.users["monitor_a"].email
    db.session.commit()
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    posts = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    log_in(page, served.url, email)
    posts.clear()
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=en")
    page.get_by_label("Narrative in English").fill("Typed before the file was chosen.")
    file_input = page.locator("#evidence-0-file")
    limit = int(file_input.get_attribute("data-max-bytes"))
    file_input.set_input_files(
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES.ljust(limit + 1)}
    )
    alert = page.locator("#evidence-0-file-too-large")
    expect(alert).to_be_visible()
    expect(alert).to_have_text(
        "The file is larger than 10 MB. Upload a smaller file or give a link to it instead."
    )
    assert file_input.evaluate("input => input.files.length") == 0
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Narrative in English")).to_have_value(
        "Typed before the file was chosen."
    )
    # a file within the limit clears the message; nothing was sent meanwhile
    file_input.set_input_files(
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    expect(alert).to_be_hidden()
    assert file_input.evaluate("input => input.files.length") == 1
    assert posts == []


def test_the_file_button_and_its_words_are_in_the_pages_language(served, browser):
    """Chromium draws a file input's "Choose File" and "No file chosen" in the browser's
    language, English on an Azerbaijani page: the page's script puts a button label and
    the file's name in the page's language in front of it. The input stays the control:
    Tab reaches it, its focus shows on the button, and its own label names it."""
    world = build_world(str(served.upload_folder))
    measure_id = world.measure_a.id
    monitor, admin = world.users["monitor_a"].email, world.users["admin"].email
    db.session.commit()
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, monitor)
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=az")
    file_input = page.locator("#evidence-0-file")
    choose = page.locator("#evidence-0-file + .file-picker .file-choose")
    name = page.locator("#evidence-0-file + .file-picker .file-name")
    expect(choose).to_have_text("Fayl seçin")
    expect(name).to_have_text("Fayl seçilməyib")
    assert file_input.bounding_box()["width"] <= 1  # the browser's English button is hidden
    expect(file_input).to_have_accessible_name(
        "Və ya fayl yükləyin (PDF, PNG, JPG, DOCX, XLSX və ya ODT, 10 MB-dək)"
    )
    page.locator("#evidence-0-url").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "evidence-0-file"
    expect(choose).to_have_css("outline-style", "solid")

    with page.expect_file_chooser() as chooser:
        choose.click()
    chooser.value.set_files(
        {"name": "hesabat.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    expect(name).to_have_text("hesabat.pdf")
    # a file over the limit is emptied, and the name says so
    limit = int(file_input.get_attribute("data-max-bytes"))
    file_input.set_input_files(
        {"name": "böyük.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES.ljust(limit + 1)}
    )
    expect(page.locator("#evidence-0-file-too-large")).to_be_visible()
    expect(name).to_have_text("Fayl seçilməyib")

    # in English, and on the admin's import page too
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=en")
    expect(choose).to_have_text("Choose a file")
    expect(name).to_have_text("No file chosen")
    page.context.close()
    page = browser.new_context().new_page()
    log_in(page, served.url, admin)
    page.goto(f"{served.url}/admin/organisations/import?lang=az")
    expect(page.locator("input[type=file] + .file-picker .file-choose")).to_have_text("Fayl seçin")
    page.context.close()


def test_one_submission_names_every_mistake(served, browser):
    # A date the form cannot read, no narrative and a javascript: link: all three come
    # back from the one submission, each beside its field, and one more submission with
    # the three fixed goes through
    world = build_world(str(served.upload_folder))
    measure_id = world.measure_a.id
    email = world.users["monitor_a"].email
    db.session.commit()
    today = served.today()
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, served.url, email)
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=en")
    page.get_by_label("Completion", exact=True).select_option("complete")
    page.get_by_label("As of").fill("2021-02-30")  # the pattern lets it through
    page.locator("#evidence-0-evidence_type").select_option("official_website")
    page.locator("#evidence-0-title").fill("Ministry page")
    page.locator("#evidence-0-evidence_date").fill((today - timedelta(days=3)).isoformat())
    page.locator("#evidence-0-url").fill("javascript:alert(1)")
    page.get_by_role("button", name="Submit for review").click()

    expect(page.locator("#as_of_date-errors")).to_have_text(
        "Enter the date as YYYY-MM-DD, for example 2021-06-30."
    )
    expect(page.locator("#narrative_az-errors")).to_have_text(
        "Write the narrative in Azerbaijani, in English or in both."
    )
    expect(page.locator("#evidence-0-url-errors")).to_have_text(
        "Enter a link that starts with http:// or https://, or upload a file instead."
    )
    expect(page.locator(".field-error")).to_have_count(3)

    page.get_by_label("As of").fill(today.isoformat())
    page.get_by_label("Narrative in English").fill("The page is online.")
    page.locator("#evidence-0-url").fill("https://example.gov.az/page")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Your update was submitted for review.")).to_be_visible()
    db.session.rollback()
    assert (
        db.session.scalars(
            select(StatusUpdate).where(StatusUpdate.narrative_en == "The page is online.")
        )
        .one()
        .review_state
        == ReviewState.SUBMITTED
    )
