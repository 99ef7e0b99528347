"""On the served app (gunicorn, real HTTP): a file a monitor uploads as
`Firstname_Lastname.pdf` goes public, once approved, under its evidence title only: the
person's name is nowhere in the measure page, the download's headers, the API, the CSV or
the feed that a visitor without an account reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from tests.monitoring import files
from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_files import post_update, with_file
from tracker.extensions import db
from tracker.models import Evidence, StoredFile

pytestmark = pytest.mark.served

PERSON = ("Firstname", "Lastname")
TITLE = "Ədliyyə Nazirliyinin cavabı: şərh"
NAMED = "Ədliyyə Nazirliyinin cavabı şərh.pdf"


@pytest.fixture
def world(served_world):
    return served_world


def _approved_upload(served, world) -> StoredFile:
    monitor = signed_in(served, world, "monitor_a")
    data = with_file(submit_for_review="Submit for review")
    data.pop("save_draft")
    data["evidence-0-title"] = TITLE
    sent = post_update(monitor, world, data, ("_".join(PERSON) + ".pdf", files.simple_pdf()))
    assert sent.status_code == 302
    update_id = int(re.search(r"/monitor/updates/(\d+)", sent.headers["Location"]).group(1))
    # the uploader's own page of the update names it as the public will
    assert NAMED in monitor.get(f"/monitor/updates/{update_id}?lang=en").text
    reviewer = signed_in(served, world, "reviewer")
    approved = reviewer.post_form(
        f"/review/updates/{update_id}",
        {"comment": ""},
        action=f"/review/updates/{update_id}/approve",
    )
    assert approved.status_code == 302
    db.session.rollback()
    stored = db.session.scalar(
        select(StoredFile)
        .join(Evidence, Evidence.file_id == StoredFile.id)
        .where(Evidence.update_id == update_id)
    )
    return stored


def _names_no_one(text: str) -> bool:
    return not any(name in text for name in PERSON)


def test_a_visitor_sees_the_file_under_its_title_never_the_uploaders_name(served, world):
    stored = _approved_upload(served, world)
    assert stored.original_filename == "Firstname_Lastname.pdf"  # kept, never shown
    visitor = served.client()
    page = visitor.get(f"/plans/{world.plan.key}/measures/{world.measure_a.code}?lang=en")
    assert page.status_code == 200
    assert f"/files/{stored.public_id}" in page.text and f"Download {NAMED}" in page.text
    assert _names_no_one(page.text)
    download = visitor.get(f"/files/{stored.public_id}")
    assert download.status_code == 200
    assert _names_no_one(" ".join(f"{k}: {v}" for k, v in download.headers.items()))
    disposition, options = parse_options_header(download.headers["Content-Disposition"])
    assert (disposition, options["filename"]) == ("attachment", NAMED)

    exports = (
        f"/api/v1/measures/{world.measure_a.id}/updates",
        "/api/v1/updates",
        "/data/updates.csv",
        "/feeds/updates.atom",
    )
    for url in exports:
        answer = visitor.get(url)
        assert answer.status_code == 200, url
        assert _names_no_one(answer.text), url
    api = visitor.get(f"/api/v1/measures/{world.measure_a.id}/updates").text
    assert stored.public_id in api  # the file is in the API, by its link only
    assert "Traceback" not in served.log_text()
