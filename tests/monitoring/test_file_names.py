"""An uploaded file is named after its record wherever others see it (the pages, the
download's Content-Disposition, the exports), never by the name its uploader gave it,
which may name a person (services.monitoring.file_names)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.http import parse_options_header

from tests.monitoring.conftest import (
    PNG_BYTES,
    as_user,
    make_claim,
    make_update,
    store_file,
)
from tracker.extensions import db
from tracker.services.monitoring.file_names import MAX_STEM_LENGTH, public_file_name

PLAN = "az-nap-2020-2022"
PERSON = "Murad_Monitorov"
UPLOADED_AS = f"{PERSON}_letter.pdf"
TITLE = "Nazirliyin cavabı: şərh, çap (2021-05-01)"
NAMED = "Nazirliyin cavabı şərh çap 2021-05-01.pdf"


def download_name(response) -> str:
    """The file name a browser saves the download as (filename* preferred)."""
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    return options["filename"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (TITLE, NAMED),
        ("Büdcə hesabatı", "Büdcə hesabatı.pdf"),
        ("../../etc/passwd", "etc passwd.pdf"),
        ('Report "final" <v1.2>?', "Report final v1.2.pdf"),
        ("  Line\none\ttwo\x00  ", "Line one two.pdf"),
        ("Decomposed s\u0327 and e\u0301", "Decomposed ş and é.pdf"),
    ],
)
def test_a_title_is_made_safe_for_a_file_name(world, title, expected):
    stored = store_file(filename=UPLOADED_AS, uploader=world.monitor_a)
    assert public_file_name(stored, title) == expected


@pytest.mark.parametrize("title", ["", "   ", "???", "___", "—/\\:*", None])
def test_a_title_that_leaves_nothing_falls_back_to_the_public_id(world, title):
    stored = store_file(filename=UPLOADED_AS, uploader=world.monitor_a)
    expected = f"evidence-{stored.public_id[:8]}.pdf"
    assert public_file_name(stored, title) == expected
    assert public_file_name(stored, title, kind="source") == f"source-{stored.public_id[:8]}.pdf"


def test_the_extension_is_the_detected_kinds_and_a_long_title_is_cut_at_a_word(world):
    image = store_file(PNG_BYTES, filename="Murad.jpeg.exe.png", uploader=world.monitor_a)
    assert public_file_name(image, "Photo of the notice board") == "Photo of the notice board.png"
    long_title = "Hesabat " * 30
    name = public_file_name(image, long_title)
    stem = name.removesuffix(".png")
    assert len(stem) <= MAX_STEM_LENGTH and stem.endswith("Hesabat") and "  " not in stem
    one_word = public_file_name(image, "ə" * 200)
    assert one_word == "ə" * MAX_STEM_LENGTH + ".png"


def _approved_with_file(world, title: str = TITLE):
    stored = store_file(filename=UPLOADED_AS, uploader=world.monitor_a)
    evidence = {"title": title, "evidence_date": date(2021, 5, 1), "file_id": stored.id}
    update = make_update(world.measure("1.1"), world.monitor_a, "approved", evidence=[evidence])
    db.session.commit()
    return update, stored


def test_the_public_page_and_download_name_the_evidence_never_the_uploader(client, world):
    update, stored = _approved_with_file(world)
    for lang in ("en", "az"):
        html = client.get(f"/plans/{PLAN}/measures/1.1?lang={lang}").get_data(as_text=True)
        assert PERSON not in html and "Murad" not in html
        assert NAMED in html
    assert f"Download {NAMED}" in client.get(f"/plans/{PLAN}/measures/1.1?lang=en").text
    response = client.get(f"/files/{stored.public_id}")
    assert response.status_code == 200 and "public" in response.headers["Cache-Control"]
    assert "Murad" not in response.headers["Content-Disposition"]
    assert download_name(response) == NAMED
    # the same for its uploader, another organisation's monitor and a reviewer, whose
    # review page names the file as the public page does
    for user in (world.monitor_a, world.monitor_b, world.reviewer):
        as_user(client, user)
        assert download_name(client.get(f"/files/{stored.public_id}")) == NAMED
    review = client.get(f"/review/updates/{update.id}?lang=en")
    assert review.status_code == 200 and f"Download {NAMED}" in review.text
    assert "Murad" not in review.text


def test_the_exports_and_feeds_name_no_uploader(client, world):
    update, _stored = _approved_with_file(world)
    for url in (
        f"/api/v1/measures/{update.measure_id}/updates",
        "/api/v1/updates",
        "/data/updates.csv",
        "/feeds/updates.atom",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Murad" not in response.get_data(as_text=True), url


def test_an_odd_title_downloads_under_a_neutral_name(client, world):
    _update, stored = _approved_with_file(world, title="?!")
    response = client.get(f"/files/{stored.public_id}")
    assert download_name(response) == f"evidence-{stored.public_id[:8]}.pdf"
    html = client.get(f"/plans/{PLAN}/measures/1.1?lang=en").text
    assert f"Download evidence-{stored.public_id[:8]}.pdf" in html and "Murad" not in html


def test_a_claims_source_file_is_named_after_its_source(client, world):
    stored = store_file(filename=UPLOADED_AS, uploader=world.reviewer)
    make_claim(world.measure("1.1"), world.reviewer, stored, "Hökumətin hesabatı")
    db.session.commit()
    assert download_name(client.get(f"/files/{stored.public_id}")) == "Hökumətin hesabatı.pdf"
    assert "Murad" not in client.get(f"/plans/{PLAN}/measures/1.1?lang=en").text


def test_a_public_file_is_named_after_its_public_record(client, world):
    """A file cited by a public update and by a draft that retitled it downloads under the
    public title for everyone (a shared cache keeps one answer)."""
    _update, stored = _approved_with_file(world)
    retitled = {"title": "Draft title", "evidence_date": date(2021, 5, 1), "file_id": stored.id}
    make_update(world.measure("1.1"), world.monitor_a, "draft", evidence=[retitled])
    db.session.commit()
    as_user(client, world.monitor_a)
    assert download_name(client.get(f"/files/{stored.public_id}")) == NAMED


def test_a_pending_file_downloads_under_a_neutral_name_for_its_uploader(client, world):
    from tracker.services.monitoring import uploads

    checked = uploads.check_upload(
        uploads.Upload(filename=f"{PERSON}_photo.png", stream=io.BytesIO(PNG_BYTES))
    )
    stored = uploads.store_checked(db.session, checked, world.monitor_a, pending=True)
    db.session.commit()
    as_user(client, world.monitor_a)
    response = client.get(f"/files/{stored.public_id}")
    assert response.status_code == 200
    assert download_name(response) == f"file-{stored.public_id[:8]}.png"


def test_the_upload_hint_says_the_file_name_is_not_published(client, world):
    as_user(client, world.monitor_a)
    page = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    english = client.get(f"{page}?lang=en").text
    assert "name is not published: it is shown and downloaded under the title you" in english
    azerbaijani = client.get(f"{page}?lang=az").text
    assert "Faylınızın adı dərc edilmir" in azerbaijani
