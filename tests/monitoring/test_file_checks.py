"""Uploads are checked by their structure (issue 11, item 4) and PDFs that can run
something are flagged (issue 10, finding 10). Every file here is made in the test."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

import pytest

from tests.monitoring import files
from tests.monitoring.conftest import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    docx_bytes,
    image_bytes,
    odt_bytes,
    pdf_bytes,
    xlsx_bytes,
)
from tracker.services.errors import InvalidInput
from tracker.services.monitoring import file_checks, uploads


def check(content: bytes, filename: str = "file"):
    return uploads.check_upload(uploads.Upload(filename=filename, stream=io.BytesIO(content)))


def refusal(content: bytes, filename: str = "file") -> str:
    with pytest.raises(InvalidInput) as error:
        check(content, filename)
    assert error.value.status == 400
    return str(error.value.message)


@pytest.fixture
def english(app):
    with app.test_request_context("/?lang=en"):
        yield


# --- well-formed files pass -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (PDF_BYTES, "report.pdf", file_checks.PDF),
        (files.simple_pdf(), "hand-made.pdf", file_checks.PDF),
        (PNG_BYTES, "chart.png", file_checks.PNG),
        (JPEG_BYTES, "photo.jpeg", file_checks.JPEG),
        (docx_bytes(), "letter.docx", file_checks.DOCX),
        (xlsx_bytes(), "budget.xlsx", file_checks.XLSX),
        (odt_bytes(), "minutes.odt", file_checks.ODT),
        (PDF_BYTES, "no extension", file_checks.PDF),
        (PNG_BYTES, "chart.exe", file_checks.PNG),
    ],
)
def test_well_formed_files_are_accepted(app, content, name, kind):
    checked = check(content, name)
    assert checked.kind == kind
    assert checked.active_content == ()


# --- PDFs ---------------------------------------------------------------------------------


def test_a_truncated_pdf_is_refused(app, english):
    message = refusal(PDF_BYTES[:40], "report.pdf")
    assert "The PDF file could not be read: it is damaged or incomplete." in message
    # cut anywhere before its end, a PDF is incomplete
    whole = pdf_bytes(pages=3)
    for cut in (len(whole) // 4, len(whole) // 2, len(whole) - 10):
        assert "damaged or incomplete" in refusal(whole[:cut], "report.pdf")


def test_a_png_named_pdf_is_refused(app, english):
    message = refusal(PNG_BYTES, "report.pdf")
    assert "“report.pdf” is named as a PDF file but holds a PNG file." in message
    assert "rename it to .png" in message


def test_png_bytes_behind_a_pdf_header_are_refused(app, english):
    assert "damaged or incomplete" in refusal(b"%PDF-1.4\n" + PNG_BYTES, "report.pdf")


def test_a_pdf_without_pages_is_refused(app, english):
    no_pages = files.pdf_from_objects(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    )
    assert "damaged or incomplete" in refusal(no_pages)


def test_a_password_protected_pdf_is_refused_and_a_restricted_one_accepted(app, english):
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF_BYTES)))
        writer.encrypt(user_password, owner_password="owner", algorithm="RC4-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    assert "protected by a password" in refusal(encrypted("secret"), "locked.pdf")
    assert check(encrypted(""), "restricted.pdf").kind == file_checks.PDF


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            files.simple_pdf(catalog_extra=b"/OpenAction 4 0 R", extra_objects=[JS_ACTION]),
            ("javascript",),
        ),
        (
            files.simple_pdf(
                catalog_extra=b"/Names << /JavaScript 4 0 R >>",
                extra_objects=[b"<< /Names [(hello) 5 0 R] >>", JS_ACTION],
            ),
            ("javascript",),
        ),
        (
            files.simple_pdf(
                catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>",
            ),
            ("launch",),
        ),
        (
            files.simple_pdf(page_extra=b"/AA << /O 4 0 R >>", extra_objects=[JS_ACTION]),
            ("additional_actions", "javascript"),
        ),
        # a name written with #-escapes is the same name
        (
            files.simple_pdf(
                catalog_extra=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"
            ),
            ("javascript",),
        ),
        # a link annotation's launch action, on the page
        (
            files.simple_pdf(
                page_extra=b"/Annots [4 0 R]",
                extra_objects=[
                    b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                    b"/A << /S /Launch /F (evil.exe) >> >>"
                ],
            ),
            ("launch",),
        ),
        # an open action that only shows the first page runs nothing
        (files.simple_pdf(catalog_extra=b"/OpenAction [3 0 R /Fit]"), ()),
    ],
)
def test_what_a_pdf_can_run_is_recorded(app, content, expected):
    checked = check(content, "report.pdf")
    assert checked.kind == file_checks.PDF
    assert checked.active_content == expected


def test_a_script_inside_a_compressed_object_stream_is_found(app):
    hidden = files.pdf_with_object_stream(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>")
    assert b"/JavaScript" not in hidden and b"/JS" not in hidden
    assert check(hidden, "hidden.pdf").active_content == ("javascript",)
    harmless = files.pdf_with_object_stream(b"<< /S /GoTo /D [3 0 R /Fit] >>")
    assert check(harmless, "harmless.pdf").active_content == ()


def test_a_long_pdf_with_nothing_to_run_is_not_walked_object_by_object(app, monkeypatch):
    def no_walk(_reader):
        raise AssertionError("the raw bytes already show there is nothing to run")

    monkeypatch.setattr(file_checks, "_pdf_active_content", no_walk)
    assert check(pdf_bytes(pages=50), "long.pdf").active_content == ()


def test_a_flagged_pdf_keeps_its_flag_when_stored(app):
    from tracker.extensions import db

    content = files.simple_pdf(catalog_extra=b"/OpenAction 4 0 R", extra_objects=[JS_ACTION])
    stored = uploads.store_checked(db.session, check(content, "a.pdf"), None)
    db.session.commit()
    assert stored.active_content == ["javascript"] and stored.has_active_content


def test_a_reference_loop_in_a_pdf_ends(app):
    looped = files.simple_pdf(
        catalog_extra=b"/Loop 4 0 R", extra_objects=[b"<< /Next 5 0 R >>", b"<< /Next 4 0 R >>"]
    )
    assert check(looped, "loop.pdf").active_content == ()


# --- Office files -------------------------------------------------------------------------


def test_a_docx_with_a_corrupt_compressed_part_is_refused_not_a_500(app, english):
    whole = files.docx_with(files.word_document(b"<w:p/>" * 2000))
    damaged = files.corrupt_compressed_part(whole, "word/document.xml")
    with zipfile.ZipFile(io.BytesIO(damaged)) as archive, pytest.raises(zlib.error):
        archive.read("word/document.xml")
    assert uploads.detect_kind(damaged) == file_checks.DOCX  # it still says it is a DOCX
    message = refusal(damaged, "letter.docx")
    assert "The DOCX file could not be read: it is damaged or incomplete." in message
    # the type declaration itself damaged: the archive is no accepted kind
    declaration = files.corrupt_compressed_part(whole, "[Content_Types].xml")
    assert "This file type is not accepted" in refusal(declaration, "letter.docx")


def test_a_corrupt_part_other_than_the_main_one_is_refused_too(app, english):
    damaged = files.corrupt_compressed_part(
        files.docx_with(files.word_document(), ("word/media/image1.png", b"\x00" * 50_000)),
        "word/media/image1.png",
    )
    assert "damaged or incomplete" in refusal(damaged, "letter.docx")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(app, english, monkeypatch):
    monkeypatch.setattr(file_checks, "MAX_UNPACKED_BYTES", 1024 * 1024)
    # 4 MB of zeros deflate to about 4 KB
    bomb = files.docx_with(files.word_document(), ("word/media/zeros.bin", b"\x00" * 4_000_000))
    assert len(bomb) < 10_000
    message = refusal(bomb, "bomb.docx")
    assert "unpacks to more than 1 MB" in message and "Upload a PDF of it instead" in message


def test_an_archive_that_lies_about_its_sizes_is_stopped_while_unpacking(app, english, monkeypatch):
    monkeypatch.setattr(file_checks, "MAX_UNPACKED_BYTES", 1024 * 1024)
    honest = files.docx_with(files.word_document(), ("word/media/zeros.bin", b"\x00" * 4_000_000))
    # rewrite the declared uncompressed size of the big entry to 1 KB in both headers
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        info = archive.getinfo("word/media/zeros.bin")
    declared = (4_000_000).to_bytes(4, "little")
    lying = honest.replace(declared, (1024).to_bytes(4, "little"))
    assert lying != honest and info.file_size == 4_000_000
    message = refusal(lying, "liar.docx")
    assert "unpacks to more than 1 MB" in message or "damaged or incomplete" in message


def test_too_many_entries_are_refused(app, english, monkeypatch):
    monkeypatch.setattr(file_checks, "MAX_ARCHIVE_ENTRIES", 50)
    crowded = files.docx_with(
        files.word_document(), *((f"word/part{i}.xml", b"<x/>") for i in range(60))
    )
    assert "holds more than 50 parts" in refusal(crowded, "crowded.docx")


@pytest.mark.parametrize(
    "document",
    [
        # XXE: an external entity
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<w:document xmlns:w="' + files.WORD_NS + b'"><w:body>&x;</w:body></w:document>',
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<w:document xmlns:w="' + files.WORD_NS + b'"><w:body>&c;</w:body></w:document>',
        # not XML at all
        b"\x89PNG not a document",
        # XML cut short
        files.word_document()[:-20],
        # another root than a Word document's
        b'<?xml version="1.0"?><html><body/></html>',
    ],
)
def test_a_docx_whose_main_part_does_not_parse_is_refused(app, english, document):
    assert "damaged or incomplete" in refusal(files.docx_with(document), "letter.docx")


def test_a_docx_without_its_main_part_is_refused(app, english):
    missing = files.zip_bytes([("[Content_Types].xml", files.DOCX_TYPES)])
    assert "damaged or incomplete" in refusal(missing, "letter.docx")


def test_an_xlsx_and_an_odt_must_parse_too(app, english):
    from tests.monitoring.conftest import _zip

    xlsx = xlsx_bytes()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        entries = [(i.filename, archive.read(i)) for i in archive.infolist()]
    broken = [(n, b"<workbook" if n == "xl/workbook.xml" else c) for n, c in entries]
    assert "XLSX file could not be read" in refusal(files.zip_bytes(broken), "budget.xlsx")
    odt = _zip([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<")])
    assert "ODT file could not be read" in refusal(odt, "minutes.odt")


# --- images -------------------------------------------------------------------------------


def test_truncated_and_corrupt_images_are_refused(app, english):
    big_png = image_bytes("PNG", (300, 200))
    big_jpeg = image_bytes("JPEG", (300, 200))
    assert "The PNG file could not be read" in refusal(big_png[: len(big_png) // 2], "a.png")
    assert "The JPG file could not be read" in refusal(big_jpeg[: len(big_jpeg) // 2], "a.jpg")
    bad_crc = bytearray(PNG_BYTES)
    bad_crc[29] ^= 0xFF  # inside the IHDR chunk: its checksum no longer matches
    assert "could not be read" in refusal(bytes(bad_crc), "a.png")
    assert "could not be read" in refusal(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "a.jpg")


def test_an_image_with_too_many_pixels_is_refused(app, english):
    assert "more than 40 million pixels" in refusal(files.png_claiming(8000, 8000), "huge.png")
    # beyond Pillow's own bomb limit too
    assert "more than 40 million pixels" in refusal(files.png_claiming(30000, 30000), "huge.png")


# --- no parser's exception gets through -----------------------------------------------------


def _mangled(content: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    data = bytearray(content)
    for _ in range(rng.randint(1, 12)):
        position = rng.randrange(8, len(data))  # keep the magic bytes: the parser must run
        data[position] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(8, len(data))]
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (pdf_bytes(pages=2), "a.pdf"),
        (files.simple_pdf(catalog_extra=b"/OpenAction 4 0 R", extra_objects=[JS_ACTION]), "b.pdf"),
        (image_bytes("PNG", (40, 30)), "c.png"),
        (image_bytes("JPEG", (40, 30)), "d.jpg"),
        (docx_bytes(), "e.docx"),
        (xlsx_bytes(), "f.xlsx"),
        (odt_bytes(), "g.odt"),
    ],
)
def test_mangled_files_are_accepted_or_refused_never_an_error(app, content, name):
    for seed in range(60):
        try:
            check(_mangled(content, seed), name)
        except InvalidInput as error:
            assert error.status == 400
