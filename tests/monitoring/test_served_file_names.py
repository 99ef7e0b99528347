"""On the served app (gunicorn, real HTTP): a file a monitor uploads as
`Firstname_Lastname.pdf` goes public, once approved, under its evidence title only: the
person's name is nowhere in the measure page, the download's headers, the API, the CSV or
the feed that a visitor without an account reads."""

from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header

from tests.monitoring import files
from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.test_served_files import approved_upload

pytestmark = pytest.mark.served

PERSON = ("Firstname", "Lastname")
TITLE = "Ədliyyə Nazirliyinin cavabı: şərh"
NAMED = "Ədliyyə Nazirliyinin cavabı şərh.pdf"


@pytest.fixture
def world(served_world):
    return served_world


def _names_no_one(text: str) -> bool:
    return not any(name in text for name in PERSON)


def _download_name(response) -> str:
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    return options["filename"]


def test_a_visitor_sees_the_file_under_its_title_never_the_uploaders_name(served, world):
    upload = ("_".join(PERSON) + ".pdf", files.simple_pdf())
    stored = approved_upload(served, world, upload, **{"evidence-0-title": TITLE})
    assert stored.original_filename == "Firstname_Lastname.pdf"  # kept, never shown
    visitor = served.client()
    page = visitor.get(f"/plans/{world.plan.key}/measures/{world.measure_a.code}?lang=en")
    assert page.status_code == 200
    assert f"/files/{stored.public_id}" in page.text and f"Download {NAMED}" in page.text
    assert _names_no_one(page.text)
    download = visitor.get(f"/files/{stored.public_id}")
    assert download.status_code == 200
    assert _names_no_one(" ".join(f"{k}: {v}" for k, v in download.headers.items()))
    assert _download_name(download) == NAMED
    # the same name for the uploader and the reviewer (one rule for everyone)
    for role in ("monitor_a", "reviewer"):
        signed = signed_in(served, world, role).get(f"/files/{stored.public_id}")
        assert _download_name(signed) == NAMED, role

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
