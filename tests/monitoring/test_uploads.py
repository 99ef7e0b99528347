"""The upload checks: content type by magic bytes, the size limit, safe names and storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.monitoring.conftest import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    _zip,
    docx_bytes,
    odt_bytes,
    xlsx_bytes,
)
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import AuditEntry, StoredFile
from tracker.services.errors import InvalidInput
from tracker.services.monitoring import uploads


def upload(content: bytes, filename: str = "file.bin") -> uploads.Upload:
    return uploads.Upload(filename=filename, stream=io.BytesIO(content))


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (PDF_BYTES, "application/pdf"),
        (PNG_BYTES, "image/png"),
        (JPEG_BYTES, "image/jpeg"),
        (docx_bytes(), uploads.DOCX.content_type),
        (xlsx_bytes(), uploads.XLSX.content_type),
        (odt_bytes(), uploads.ODT.content_type),
    ],
)
def test_allowed_kinds_are_recognised_by_content(content, content_type):
    assert uploads.detect_kind(content).content_type == content_type


@pytest.mark.parametrize(
    "content",
    [
        b"<!doctype html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        b'<?xml version="1.0"?><svg onload="alert(1)"/>',
        b"GIF89a\x01\x00\x01\x00",
        b"MZ\x90\x00 an executable",
        b"",
        _zip([("hello.txt", b"not an office file")]),
        # a macro-enabled Word file declares another main type
        _zip(
            [
                (
                    "[Content_Types].xml",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml",
                )
            ]
        ),
        _zip([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")]),
        b"PK\x03\x04 truncated zip",
    ],
)
def test_other_content_is_refused(content):
    assert uploads.detect_kind(content) is None


def test_renamed_html_and_svg_are_rejected_with_400(app):
    with app.test_request_context("/?lang=en"):
        _check_rejected()


def _check_rejected():
    for content, name in (
        (b"<html><body>hi</body></html>", "report.pdf"),
        (b"<svg onload=alert(1)></svg>", "chart.png"),
    ):
        with pytest.raises(InvalidInput) as error:
            uploads.check_upload(upload(content, name))
        assert error.value.status == 400
        assert "PDF, PNG, JPG, DOCX, XLSX or ODT" in str(error.value.message)


def test_size_limit_is_exact(app):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    exactly = PDF_BYTES + b"0" * (1000 - len(PDF_BYTES))
    assert uploads.check_upload(upload(exactly, "a.pdf")).kind == uploads.PDF
    with pytest.raises(InvalidInput) as error:
        uploads.check_upload(upload(exactly + b"0", "a.pdf"))
    assert error.value.status == 413
    with app.test_request_context("/?lang=en"):
        assert "smaller file" in str(error.value.message)


def test_default_limit_is_ten_megabytes(app):
    assert app.config["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_UPLOAD_BYTES"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../x", "x.pdf"),
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("/etc/passwd", "passwd.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("..", "file.pdf"),
        ("", "file.pdf"),
        (None, "file.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("report.exe", "report.exe.pdf"),
        ("page.html", "page.html.pdf"),
        ('bad"name;\r\n.pdf', "badname.pdf"),
        ("Hesabat — İyun 2021.PDF", "Hesabat — İyun 2021.pdf"),
    ],
)
def test_filenames_are_made_safe(given, expected):
    assert uploads.safe_filename(given, uploads.PDF) == expected


def test_jpeg_keeps_either_extension():
    assert uploads.safe_filename("photo.jpeg", uploads.JPEG) == "photo.jpeg"
    assert uploads.safe_filename("photo", uploads.JPEG) == "photo.jpg"


def test_stored_under_a_random_name_outside_static(app):
    checked = uploads.check_upload(upload(PDF_BYTES, "../../x"))
    stored = uploads.store_checked(db.session, checked, None)
    db.session.commit()
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert [p.name for p in folder.iterdir()] == [stored.stored_name]
    assert uploads.STORED_NAME_PATTERN.match(stored.stored_name)
    assert (folder / stored.stored_name).read_bytes() == PDF_BYTES
    assert stored.original_filename == "x.pdf"
    assert stored.content_type == "application/pdf"
    assert stored.size_bytes == len(PDF_BYTES)
    static = PROJECT_ROOT / "tracker" / "static"
    assert static not in folder.parents
    assert not any(p.name == stored.stored_name for p in static.rglob("*"))
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "file.uploaded"))
    assert entry.target_id == str(stored.id)


def test_stored_path_refuses_names_that_are_not_ours(app):
    assert uploads.stored_path(StoredFile(stored_name="../../etc/passwd")) is None
    assert uploads.stored_path(StoredFile(stored_name="0" * 40)) is None  # missing file


# --- a written file lives exactly as long as its record -------------------------------------


def _written(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_rollback_removes_the_files_written_in_the_transaction(app):
    stored = uploads.store_checked(db.session, uploads.check_upload(upload(PDF_BYTES)), None)
    assert _written(app) == [stored.stored_name]
    db.session.rollback()
    assert _written(app) == []


def test_a_session_closed_without_commit_removes_its_files(app):
    uploads.store_checked(db.session, uploads.check_upload(upload(PDF_BYTES)), None)
    db.session.close()
    assert _written(app) == []


def test_a_commit_keeps_the_files_and_a_later_rollback_leaves_them(app):
    kept = uploads.store_checked(db.session, uploads.check_upload(upload(PDF_BYTES)), None)
    db.session.commit()
    uploads.store_checked(db.session, uploads.check_upload(upload(PNG_BYTES)), None)
    db.session.rollback()
    assert _written(app) == [kept.stored_name]
    assert db.session.get(StoredFile, kept.id) is not None


def test_the_upload_service_reads_no_flask_request_globals():
    source = Path(uploads.__file__).read_text(encoding="utf-8")
    assert "from flask import current_app\n" in source
    assert "werkzeug" not in source


def test_a_failed_write_leaves_no_file_whatever_the_error(app, monkeypatch):
    """Any error while writing removes the half-written file; only a full disk becomes
    StorageFull (507), the rest stay what they are (a 500 for an I/O error)."""
    import errno
    import os

    def failing(_descriptor):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(uploads.os, "fsync", failing)
    with pytest.raises(OSError) as error:
        uploads.store_checked(db.session, uploads.check_upload(upload(PDF_BYTES, "a.pdf")), None)
    assert error.value.errno == errno.EIO and not isinstance(error.value, uploads.StorageFull)
    assert _written(app) == []

    def interrupted(_descriptor):
        raise KeyboardInterrupt

    monkeypatch.setattr(uploads.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        uploads.store_checked(db.session, uploads.check_upload(upload(PDF_BYTES, "a.pdf")), None)
    assert _written(app) == []
