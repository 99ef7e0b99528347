"""Uploads lose what names their author before they are stored (a public update names the
organisation, never the monitor): PDF information and XMP, annotation authors, EXIF
(with GPS) and image text, Office and ODF document properties. A file without any is kept
byte for byte. Every file here is made in the test."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from pypdf.generic import NameObject, TextStringObject

from tests.monitoring import files
from tests.monitoring.conftest import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    docx_bytes,
    odt_bytes,
    xlsx_bytes,
)
from tracker.services.errors import InvalidInput
from tracker.services.monitoring import file_checks, uploads

NAME = "Mona Secretperson"
XMP = (
    '<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
    '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc='
    f'"http://purl.org/dc/elements/1.1/"><dc:creator>{NAME}</dc:creator></rdf:Description>'
    '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
).encode()


def stored_bytes(content: bytes, filename: str) -> bytes:
    """What an upload of this file stores."""
    upload = uploads.Upload(filename=filename, stream=io.BytesIO(content))
    return uploads.check_upload(upload).content


def named_nowhere(content: bytes) -> bool:
    """No part of the file, packed or unpacked, holds the name."""
    parts = [content]
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts += [archive.read(name) for name in archive.namelist()]
    return not any(NAME.encode() in part or NAME.encode("utf-16-be") in part for part in parts)


def authored_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": NAME, "/Title": f"Notes of {NAME}"})
    writer.xmp_metadata = XMP
    writer.add_annotation(0, Text(rect=(10, 10, 30, 30), text="See page 2"))
    comment = writer.pages[0]["/Annots"][0].get_object()
    comment[NameObject("/T")] = TextStringObject(NAME)  # the comment's author
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def photo(image_format: str, *, orientation: int = 1, size=(40, 20)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 250, 0), (0, 0, 10, 10))  # a corner that shows which way is up
    out = io.BytesIO()
    if image_format == "PNG":
        from PIL.PngImagePlugin import PngInfo

        text = PngInfo()
        text.add_text("Author", NAME)
        image.save(out, "PNG", pnginfo=text)
        return out.getvalue()
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = NAME
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    image.save(out, "JPEG", exif=exif, comment=NAME.encode(), quality=90)
    return out.getvalue()


def office_with_properties(base: bytes) -> bytes:
    core = (
        '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
        'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator>{NAME}</dc:creator><cp:lastModifiedBy>{NAME}</cp:lastModifiedBy>"
        "</cp:coreProperties>"
    ).encode()
    app = f"<Properties><Company>{NAME} LLC</Company><Pages>1</Pages></Properties>".encode()
    custom = (
        '<Properties><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
        f'name="Reviewer"><vt:lpwstr>{NAME}</vt:lpwstr></property></Properties>'
    ).encode()
    replaced = {"docProps/core.xml": core, "docProps/app.xml": app, "docProps/custom.xml": custom}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in replaced:
                target.writestr(name, source.read(name))
        for name, content in replaced.items():
            target.writestr(name, content)
    return out.getvalue()


def odt_with_meta() -> bytes:
    meta = (
        '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc='
        '"http://purl.org/dc/elements/1.1/"><office:meta>'
        f"<meta:initial-creator>{NAME}</meta:initial-creator><dc:creator>{NAME}</dc:creator>"
        f'<meta:user-defined meta:name="Owner">{NAME}</meta:user-defined>'
        "<meta:generator>LibreOffice</meta:generator></office:meta></office:document-meta>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(odt_bytes())) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_STORED)
        target.writestr("meta.xml", meta)
    return out.getvalue()


@pytest.fixture
def english(app):
    with app.test_request_context("/?lang=en"):
        yield


def test_a_pdf_loses_its_author_title_xmp_and_comment_authors(app, english):
    original = authored_pdf()
    assert not named_nowhere(original)
    stored = stored_bytes(original, "notes.pdf")
    assert named_nowhere(stored)
    reader = PdfReader(io.BytesIO(stored))
    assert len(reader.pages) == 1 and "/Metadata" not in reader.trailer["/Root"]
    assert not {"/Author", "/Title"} & set(reader.metadata or {})
    (annotation,) = [a.get_object() for a in reader.pages[0]["/Annots"]]
    assert annotation["/Contents"] == "See page 2" and "/T" not in annotation
    assert file_checks.inspect(stored, "notes.pdf").kind == file_checks.PDF


def test_a_pdfs_form_field_names_and_actions_are_kept(app, english):
    # a /Widget's /T is the field's name, not an author; what the checks flagged stays
    field = b"<< /Type /Annot /Subtype /Widget /T (Full name) /Rect [0 0 10 10] /FT /Tx >>"
    flagged = files.simple_pdf(
        catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        page_extra=b"/Annots [4 0 R]",
        extra_objects=[field],
    )
    assert stored_bytes(flagged, "form.pdf") == flagged
    checked = uploads.check_upload(uploads.Upload("form.pdf", io.BytesIO(flagged)))
    assert checked.active_content == ("launch",)


def test_a_turned_photo_loses_exif_gps_and_comment_and_stands_upright(app, english):
    original = photo("JPEG", orientation=6)  # the camera was held on its side
    stored = stored_bytes(original, "photo.jpg")
    assert named_nowhere(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and "comment" not in image.info
        assert image.size == (20, 40)  # turned as the orientation said
        assert image.getpixel((17, 2))[0] > 200  # the yellow corner is now top right
    assert file_checks.inspect(stored, "photo.jpg").kind == file_checks.JPEG


def test_an_upright_photo_keeps_its_size_and_quality(app, english):
    original = photo("JPEG")
    stored = stored_bytes(original, "photo.jpg")
    assert named_nowhere(stored)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(stored)) as after:
        assert after.size == before.size and not after.getexif()
        assert after.quantization == before.quantization  # not compressed again any harder


def test_a_png_loses_its_text_and_keeps_its_pixels(app, english):
    original = photo("PNG")
    stored = stored_bytes(original, "chart.png")
    assert named_nowhere(stored)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(stored)) as after:
        assert not set(after.info) - {"dpi"}
        assert after.tobytes() == before.tobytes()


@pytest.mark.parametrize(
    ("base", "name", "main_part"),
    [(docx_bytes(), "letter.docx", "word/document.xml"), (xlsx_bytes(), "budget.xlsx", None)],
)
def test_office_documents_lose_their_properties(app, english, base, name, main_part):
    original = office_with_properties(base)
    stored = stored_bytes(original, name)
    assert named_nowhere(stored)
    with (
        zipfile.ZipFile(io.BytesIO(original)) as before,
        zipfile.ZipFile(io.BytesIO(stored)) as after,
    ):
        assert after.namelist() == before.namelist()  # the package's relationships still hold
        if main_part:
            assert after.read(main_part) == before.read(main_part)
        assert b"<Pages>1</Pages>" in after.read("docProps/app.xml")
    assert file_checks.inspect(stored, name).kind == file_checks.kind_named(name)


def test_an_odt_loses_its_creators_and_keeps_its_mimetype_first_and_stored(app, english):
    stored = stored_bytes(odt_with_meta(), "minutes.odt")
    assert named_nowhere(stored)
    with zipfile.ZipFile(io.BytesIO(stored)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert b"<meta:generator>LibreOffice</meta:generator>" in archive.read("meta.xml")
    assert file_checks.inspect(stored, "minutes.odt").kind == file_checks.ODT


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (PDF_BYTES, "report.pdf"),
        (files.simple_pdf(), "hand-made.pdf"),
        (PNG_BYTES, "chart.png"),
        (JPEG_BYTES, "photo.jpg"),
        (docx_bytes(), "letter.docx"),
        (odt_bytes(), "minutes.odt"),
    ],
)
def test_a_file_that_names_nobody_is_stored_as_it_came(app, english, content, name):
    assert stored_bytes(content, name) == content


def test_a_file_that_cannot_be_cleaned_is_refused_not_stored_with_the_name(
    app, english, monkeypatch
):
    from tracker.services.monitoring import file_metadata

    def broken(_content):
        raise ValueError("a writer's failure")

    monkeypatch.setattr(file_metadata, "_clean_pdf", broken)
    with pytest.raises(InvalidInput) as refused:
        stored_bytes(authored_pdf(), "notes.pdf")
    assert "The author details in this PDF file could not be removed" in refused.value.message
