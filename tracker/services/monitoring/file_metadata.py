"""Uploads lose what names the person who made them, before they are stored.

A public update names the organisation, never the monitor; an evidence file must not name
them either. Word processors, cameras and PDF tools write the author's name (and a photo's
GPS position) into the file, so each accepted kind is cleaned of it:

- PDF: the document information dictionary (/Author, /Title, …) and the XMP streams, and
  the author (/T) of comments and other markup annotations;
- JPEG: EXIF (camera, GPS, artist), XMP, IPTC and comments; the picture is turned upright
  first, since its orientation was part of EXIF;
- PNG: text chunks, EXIF and XMP;
- DOCX, XLSX: docProps/core.xml (creator, last modified by, …), app.xml's company and
  manager, and the custom properties, emptied in place (the package's relationships still
  name those parts); ODT: meta.xml's creators and user-defined fields.

A file that carries none of it is stored byte for byte as it came. Comments and tracked
changes inside an office document keep their authors' names (they are the document's
text); the upload form asks monitors to send a PDF of such a document instead.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile

from flask_babel import lazy_gettext as _l

from tracker.services.errors import InvalidInput
from tracker.services.monitoring.file_checks import DOCX, JPEG, ODT, PDF, PNG, XLSX, FileKind

logger = logging.getLogger(__name__)

#: document information entries that name software and dates, not people
PDF_NEUTRAL_INFO = {"/Producer", "/Creator", "/CreationDate", "/ModDate", "/Trapped"}
#: annotation kinds whose /T is a field's name, not an author
PDF_FIELD_ANNOTATIONS = {"/Widget", "/Link"}
#: image information that describes pixels, not who took them
IMAGE_NEUTRAL_INFO = {
    "dpi",
    "gamma",
    "transparency",
    "icc_profile",
    "srgb",
    "aspect",
    "interlace",
    "chromaticity",
    "jfif",
    "jfif_version",
    "jfif_unit",
    "jfif_density",
    "adobe",
    "adobe_transform",
    "progressive",
    "progression",
    "loop",
    "duration",
    "default_image",
}
#: pixel information a cleaned image keeps
IMAGE_KEPT_INFO = ("dpi", "transparency", "icc_profile")

OOXML_CORE = "docProps/core.xml"
OOXML_CUSTOM = "docProps/custom.xml"
OOXML_APP = "docProps/app.xml"
ODF_META = "meta.xml"
#: an empty set of core properties: valid, and naming nobody
EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
#: custom properties (whatever the author or their organisation's templates set), emptied
EMPTY_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
CUSTOM_PROPERTY = re.compile(rb"<property\b")
#: app.xml elements that name people or their employer
APP_PERSONAL = re.compile(rb"<(Company|Manager)>.*?</\1>|<(Company|Manager)/>", re.S)
#: meta.xml elements that name people, or hold whatever the author typed
ODF_PERSONAL = re.compile(
    rb"<(meta:initial-creator|dc:creator|meta:printed-by|meta:user-defined)\b[^>]*?"
    rb"(?:/>|>.*?</\1>)",
    re.S,
)
#: a core.xml value that is present and not empty
CORE_VALUE = re.compile(rb"<[A-Za-z]+:[A-Za-z]+(?:\s[^>]*)?>\s*[^<\s]", re.S)


def without_personal_metadata(content: bytes, kind: FileKind) -> bytes:
    """The file without what can name its author; the same bytes when it has none.
    The file has passed tracker.services.monitoring.file_checks.inspect. Raises
    InvalidInput when it cannot be cleaned: it is then not stored at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf and Pillow warn about what they repair
            return _cleaned(content, kind)
    except Exception as error:  # a parser's failure on a file the checks let through
        logger.info("upload refused: %s metadata not removable: %r", kind.label, error)
        raise InvalidInput(
            _l(
                "The author details in this %(kind)s file could not be removed, so it was not "
                "saved. Save or export it again (as PDF, for example) and upload the new copy.",
                kind=kind.label,
            )
        ) from None


def _cleaned(content: bytes, kind: FileKind) -> bytes:
    if kind == PDF:
        return _clean_pdf(content)
    if kind in (PNG, JPEG):
        return _clean_image(content, kind)
    if kind in (DOCX, XLSX):
        return _clean_zip(content, _ooxml_part)
    if kind == ODT:
        return _clean_zip(content, _odf_part)
    return content


# --- PDF -----------------------------------------------------------------------------------


def _markup_annotations(reader):
    for page in reader.pages:
        for reference in page.get("/Annots") or ():
            annotation = reference.get_object()
            if annotation.get("/Subtype") not in PDF_FIELD_ANNOTATIONS and "/T" in annotation:
                yield annotation


def _clean_pdf(content: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(content))
    info = reader.metadata or {}
    has_xmp = "/Metadata" in reader.trailer["/Root"] or any(
        "/Metadata" in page for page in reader.pages
    )
    authored = any(True for _annotation in _markup_annotations(reader))
    if not (set(info) - PDF_NEUTRAL_INFO or has_xmp or authored):
        return content
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    writer.xmp_metadata = None
    for page in writer.pages:
        if "/Metadata" in page:
            del page["/Metadata"]
    for annotation in _markup_annotations(writer):
        del annotation["/T"]
    # the cloned information and XMP objects themselves, now that nothing points to them
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- images --------------------------------------------------------------------------------


def _clean_image(content: bytes, kind: FileKind) -> bytes:
    from PIL import ExifTags, Image, ImageOps

    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        if not set(image.info) - IMAGE_NEUTRAL_INFO and not exif:
            return content
        kept = {name: image.info[name] for name in IMAGE_KEPT_INFO if name in image.info}
        out = io.BytesIO()
        upright = exif.get(ExifTags.Base.Orientation, 1) == 1
        if kind == JPEG and upright and image.format == "JPEG":
            # the original's quantisation and subsampling: no visible loss
            image.info = {}
            image.save(out, "JPEG", quality="keep", subsampling="keep", comment=b"", **kept)
            return out.getvalue()
        # turned upright, since the orientation that showed it so was part of EXIF
        turned = ImageOps.exif_transpose(image)
        turned.info = {}
        if kind == JPEG:
            turned.save(out, "JPEG", quality=95, comment=b"", **kept)
        else:
            turned.save(out, "PNG", **kept)
        return out.getvalue()


# --- office documents ----------------------------------------------------------------------


def _ooxml_part(name: str, data: bytes) -> bytes:
    """The part as it is stored after cleaning; `data` itself if it is clean."""
    if name == OOXML_CORE:
        return EMPTY_CORE if CORE_VALUE.search(data) else data
    if name == OOXML_CUSTOM:
        return EMPTY_CUSTOM if CUSTOM_PROPERTY.search(data) else data
    if name == OOXML_APP:
        return _without(APP_PERSONAL, data)
    return data


def _odf_part(name: str, data: bytes) -> bytes:
    return _without(ODF_PERSONAL, data) if name == ODF_META else data


def _without(pattern: re.Pattern, data: bytes) -> bytes:
    """data without the pattern's matches; data itself when there are none."""
    cleaned, count = pattern.subn(b"", data)
    return cleaned if count else data


def _clean_zip(content: bytes, clean_part) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    cleaned = [(info, data, clean_part(info.filename, data)) for info, data in parts]
    if all(new is data for _info, data, new in cleaned):
        return content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, _data, new in cleaned:
            # the same name, order and compression (an ODF's mimetype stays first and
            # uncompressed)
            archive.writestr(info, new, compress_type=info.compress_type)
    return out.getvalue()
