"""What an uploaded file is, checked by its structure, not by its name or its first bytes.

- The magic bytes say which kind a file claims to be; the name's extension, when it names
  another accepted kind, must agree (a PNG named report.pdf is refused).
- A PDF must open with pypdf, end with its end-of-file marker and have pages. Whatever it
  can run when opened (JavaScript, launch actions, additional actions) is recorded, so
  that reviewers see a warning beside it.
- DOCX, XLSX and ODT are ZIP archives: their entries are counted and their unpacked size
  is bounded before anything is unpacked (a zip bomb is refused), every entry is read to
  its checksum, and the main part (word/document.xml, xl/workbook.xml, content.xml) must
  parse as XML with defusedxml (no DTD, no entities).
- PNG and JPEG images are decoded with Pillow, within a pixel limit.

Any failure is an InvalidInput with a message that says what to do; no parser's exception
reaches the caller.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass

from defusedxml import ElementTree as SafeElementTree
from flask_babel import lazy_gettext as _l

from tracker.services.errors import InvalidInput
from tracker.vocabulary import ActiveContent

logger = logging.getLogger(__name__)

#: an Office file's type declaration is a few kilobytes; a larger one is not trusted
MAX_DECLARATION_BYTES = 256 * 1024
#: entries an Office file may hold (a long report with many images has a few hundred)
MAX_ARCHIVE_ENTRIES = 5000
#: what an Office file may unpack to, in all (a 10 MB spreadsheet unpacks to ~150 MB)
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
#: the largest image decoded (a 24-megapixel camera's photo is 6000 × 4000)
MAX_IMAGE_PIXELS = 40_000_000
#: objects of a PDF walked to find what it can run (~0.1 ms each); beyond, it is refused
MAX_PDF_OBJECTS = 100_000
#: where a PDF's end-of-file marker must be: within this many bytes of the end
PDF_EOF_WINDOW = 2048
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    #: the extension a download gets; the first is used when the name has none of them
    extensions: tuple[str, ...]
    #: the format's name in messages
    label: str


PDF = FileKind("application/pdf", ("pdf",), "PDF")
PNG = FileKind("image/png", ("png",), "PNG")
JPEG = FileKind("image/jpeg", ("jpg", "jpeg"), "JPG")
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",), "DOCX"
)
XLSX = FileKind(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",), "XLSX"
)
ODT = FileKind("application/vnd.oasis.opendocument.text", ("odt",), "ODT")

ALLOWED_KINDS = (PDF, PNG, JPEG, DOCX, XLSX, ODT)

_OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
#: the local name of each Office kind's main part's root element
_MAIN_ROOTS = {DOCX: "document", XLSX: "workbook", ODT: "document-content"}


@dataclass(frozen=True)
class Inspection:
    """What the checks found out about an accepted file."""

    kind: FileKind
    #: vocabulary.ActiveContent keys, sorted; empty for a file that can run nothing
    active_content: tuple[str, ...] = ()


class _Refused(Exception):
    """A check's own refusal, with its message; every other exception means damaged."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def _damaged(kind: FileKind):
    return _l(
        "The %(kind)s file could not be read: it is damaged or incomplete. Save or export it "
        "again and upload the new copy.",
        kind=kind.label,
    )


def not_accepted_message():
    return _l("This file type is not accepted. Upload a PDF, PNG, JPG, DOCX, XLSX or ODT file.")


# --- which kind ----------------------------------------------------------------------------


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    if info.file_size > limit:
        return None
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def _ooxml_main_part(declaration: bytes) -> tuple[FileKind, str] | None:
    """The kind and the main part's name that `[Content_Types].xml` declares."""
    root = SafeElementTree.fromstring(declaration, forbid_dtd=True)
    for element in root:
        if element.tag.rsplit("}", 1)[-1] != "Override":
            continue
        kind = _OOXML_MAIN_TYPES.get((element.get("ContentType") or "").strip())
        part = (element.get("PartName") or "").lstrip("/")
        if kind is not None and part:
            return kind, part
    return None


def _office_kind(archive: zipfile.ZipFile) -> tuple[FileKind, str] | None:
    """An ODT declares itself in its `mimetype` entry; DOCX and XLSX in
    `[Content_Types].xml`. None when the archive is none of them."""
    names = set(archive.namelist())
    if "mimetype" in names:
        declared = _read_capped(archive, archive.getinfo("mimetype"), 200)
        if declared is not None and declared.strip() == ODT.content_type.encode():
            return ODT, "content.xml"
        return None
    if "[Content_Types].xml" in names:
        declaration = _read_capped(
            archive, archive.getinfo("[Content_Types].xml"), MAX_DECLARATION_BYTES
        )
        if declaration is not None:
            return _ooxml_main_part(declaration)
    return None


def _open_archive(content: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(content))
    infos = archive.infolist()
    if len(infos) > MAX_ARCHIVE_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise _Refused(_too_big_to_unpack())
    return archive


def _too_big_to_unpack():
    return _l(
        "This file unpacks to more than %(size)s MB or holds more than %(entries)s parts, so "
        "it is not accepted. Upload a PDF of it instead.",
        size=MAX_UNPACKED_BYTES // (1024 * 1024),
        entries=MAX_ARCHIVE_ENTRIES,
    )


def detect_kind(content: bytes) -> FileKind | None:
    """The kind the content claims to be, or None when it is not an accepted kind."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        try:
            found = _office_kind(zipfile.ZipFile(io.BytesIO(content)))
        except Exception:  # any failure to read the declaration: not ours
            return None
        return found[0] if found else None
    return None


def kind_named(filename: str) -> FileKind | None:
    """The accepted kind the name's extension names, if any."""
    _stem, dot, extension = filename.rpartition(".")
    if not dot:
        return None
    extension = extension.lower()
    return next((kind for kind in ALLOWED_KINDS if extension in kind.extensions), None)


# --- PDF -----------------------------------------------------------------------------------


#: the action types (/S) that run something
_ACTIVE_ACTIONS = {"/JavaScript": ActiveContent.JAVASCRIPT, "/Launch": ActiveContent.LAUNCH}


def _pdf_active_content(reader) -> set[ActiveContent]:
    """Walk every object reachable from the trailer (iteratively: no recursion limit) and
    note what it can run: /JS and /JavaScript (an action's script, the document's named
    scripts), /S /JavaScript and /S /Launch (actions, an /OpenAction included) and /AA
    (additional actions of the document, a page, a field or an annotation)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_PDF_OBJECTS:
                raise _Refused(
                    _l("The PDF is too complex to check. Save it again with fewer objects.")
                )
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for key, value in dict.items(item):
                if key in ("/JS", "/JavaScript"):
                    found.add(ActiveContent.JAVASCRIPT)
                elif key == "/AA":
                    found.add(ActiveContent.ADDITIONAL_ACTIONS)
                elif key == "/S" and isinstance(value, str) and value in _ACTIVE_ACTIONS:
                    found.add(_ACTIVE_ACTIONS[value])
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return found


#: the names of what can run, written out (a delimiter or the end follows a name)
_ACTIVE_NAMES = re.compile(rb"/(?:JS|JavaScript|AA|Launch)(?=[\s/\[\]<>(){}%]|$)")
#: a name with a #xx escape, which could spell one of them
_ESCAPED_NAME = re.compile(rb"/[^\s/\[\]<>(){}%]*#[0-9A-Fa-f]{2}")


def _may_hold_active_content(content: bytes) -> bool:
    """False only when no dictionary can hold active content: without object streams
    (/ObjStm, whose dictionaries are compressed) and without escaped names, every key and
    action type is written out in the file's bytes, and none of them is there. Saves the
    walk of every object for most PDFs (a 20,000-page PDF: seconds)."""
    return (
        b"/ObjStm" in content
        or _ESCAPED_NAME.search(content) is not None
        or _ACTIVE_NAMES.search(content) is not None
    )


def _first_page(node) -> bool:
    """Whether the page tree leads to a page (a bounded descent through its first kids)."""
    for _ in range(64):
        if node.get("/Type") == "/Page":
            return True
        kids = node.get("/Kids")
        if not kids:
            return False
        node = kids[0].get_object()
    return False


def _inspect_pdf(content: bytes) -> tuple[str, ...]:
    from pypdf import PdfReader

    if b"%%EOF" not in content[-PDF_EOF_WINDOW:]:
        raise _Refused(_damaged(PDF))
    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted:
        # An owner password alone (printing or copying restricted) opens with "".
        try:
            opened = reader.decrypt("")
        except Exception:  # an encryption pypdf cannot open
            opened = 0
        if not opened:
            raise _Refused(
                _l("The PDF is protected by a password. Upload a copy without a password.")
            )
    # The page tree declares its pages, and the first one opens (flattening the whole tree
    # through reader.pages would cost seconds for a long PDF).
    pages = reader.trailer["/Root"]["/Pages"]
    if int(pages["/Count"]) < 1 or not _first_page(pages):
        raise _Refused(_damaged(PDF))
    if not _may_hold_active_content(content):
        return ()
    return tuple(sorted(str(found) for found in _pdf_active_content(reader)))


# --- Office files --------------------------------------------------------------------------


class _CappedStream(io.RawIOBase):
    """An archive entry read as a stream, counting what it unpacks against a budget."""

    def __init__(self, handle, budget: list[int]) -> None:
        self._handle = handle
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(min(len(buffer), READ_CHUNK_BYTES))
        self._budget[0] -= len(data)
        if self._budget[0] < 0:
            raise _Refused(_too_big_to_unpack())
        buffer[: len(data)] = data
        return len(data)


def _parse_main_part(archive: zipfile.ZipFile, name: str, kind: FileKind, budget) -> None:
    """Parse the main part as a stream of XML events (memory stays flat), refusing any DTD
    or entity, and check its root element."""
    with archive.open(name) as handle:
        stream = io.BufferedReader(_CappedStream(handle, budget))
        events = SafeElementTree.iterparse(stream, events=("start",), forbid_dtd=True)
        _event, root = next(events)
        if root.tag.rsplit("}", 1)[-1] != _MAIN_ROOTS[kind]:
            raise _Refused(_damaged(kind))
        for _event, element in events:
            element.clear()


def _inspect_office(content: bytes, kind: FileKind) -> None:
    archive = _open_archive(content)
    found = _office_kind(archive)
    if found is None or found[0] != kind:
        raise _Refused(_damaged(kind))
    main_part = found[1]
    budget = [MAX_UNPACKED_BYTES]
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise _Refused(
                _l(
                    "The %(kind)s file is protected by a password. Upload a copy without one.",
                    kind=kind.label,
                )
            )
        with archive.open(info) as handle:  # read to the end: the checksum is checked there
            stream = _CappedStream(handle, budget)
            while stream.read(READ_CHUNK_BYTES):
                pass
    if main_part not in archive.namelist():
        raise _Refused(_damaged(kind))
    _parse_main_part(archive, main_part, kind, [MAX_UNPACKED_BYTES])


# --- images --------------------------------------------------------------------------------


def _inspect_image(content: bytes, kind: FileKind) -> None:
    from PIL import Image

    expected = "PNG" if kind == PNG else "JPEG"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content), formats=[expected])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _Refused(_too_many_pixels()) from None
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _Refused(_too_many_pixels())
            if kind == JPEG:
                # Decode at an eighth of the size: every block is still read and checked.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()


def _too_many_pixels():
    return _l(
        "The image has more than %(count)s million pixels. Upload a smaller copy of it.",
        count=MAX_IMAGE_PIXELS // 1_000_000,
    )


# --- all together --------------------------------------------------------------------------


def _wrong_name(filename: str, named: FileKind, actual: FileKind):
    return _l(
        "“%(name)s” is named as a %(named)s file but holds a %(actual)s file. Check that you "
        "chose the right file, or rename it to .%(extension)s.",
        name=filename,
        named=named.label,
        actual=actual.label,
        extension=actual.extensions[0],
    )


def inspect(content: bytes, filename: str) -> Inspection:
    """Check a file by its structure; raise InvalidInput saying what to do if it fails."""
    kind = detect_kind(content)
    if kind is None:
        raise InvalidInput(not_accepted_message())
    named = kind_named(filename)
    if named is not None and named != kind:
        raise InvalidInput(_wrong_name(filename, named, kind))
    try:
        with warnings.catch_warnings():
            # pypdf and zipfile warn about what they repair; a repair is not an error here.
            warnings.simplefilter("ignore")
            if kind == PDF:
                return Inspection(kind, _inspect_pdf(content))
            if kind in (PNG, JPEG):
                _inspect_image(content, kind)
            else:
                _inspect_office(content, kind)
    except _Refused as refusal:
        raise InvalidInput(refusal.message) from None
    except Exception as error:  # a parser's failure on hostile input
        logger.info("upload refused as damaged %s: %r", kind.label, error)
        raise InvalidInput(_damaged(kind)) from None
    return Inspection(kind)
