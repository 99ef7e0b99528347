"""Uploaded files: checked by their content, kept under a random name outside static/.

A file is accepted only when its magic bytes say it is a PDF, PNG, JPEG, DOCX, XLSX or ODT;
the name and the browser's Content-Type are never trusted. Office files are ZIPs, so the
check looks inside: ODT declares itself in its `mimetype` entry, DOCX and XLSX in
`[Content_Types].xml`.

Files and transactions: a file is written before its record is flushed, and is kept only
if the transaction that holds its record commits. Every written file is remembered in its
session's `info`; when the session's outermost transaction ends without a commit (a
rollback, or a session closed mid-transaction), the files are removed again, so no orphan
stays on disk whoever called and however the request failed.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tracker.models import StoredFile
from tracker.services import audit
from tracker.services.errors import InvalidInput

READ_CHUNK_BYTES = 64 * 1024
#: an Office file's type declaration is a few kilobytes; a larger one is not trusted
MAX_DECLARATION_BYTES = 256 * 1024
STORED_NAME_PATTERN = re.compile(r"^[0-9a-f]{40}$")
#: the key in `Session.info` under which the paths written in the transaction are kept
WRITTEN_FILES_KEY = "tracker_written_uploads"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    #: the extension a download gets; the first is used when the name has none of them
    extensions: tuple[str, ...]


PDF = FileKind("application/pdf", ("pdf",))
PNG = FileKind("image/png", ("png",))
JPEG = FileKind("image/jpeg", ("jpg", "jpeg"))
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
)
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
ODT = FileKind("application/vnd.oasis.opendocument.text", ("odt",))

ALLOWED_KINDS = (PDF, PNG, JPEG, DOCX, XLSX, ODT)

_OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}


@dataclass(frozen=True)
class Upload:
    """A file as the uploader sent it: the name they gave it and its bytes, to be read once.
    The browser's Content-Type is not carried: only the content says what a file is."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, held in memory until it is stored."""

    content: bytes
    kind: FileKind
    filename: str


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _zip_kind(content: bytes) -> FileKind | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = set(archive.namelist())
        if "mimetype" in names:
            info = archive.getinfo("mimetype")
            if info.file_size <= 200 and archive.read(info).strip() == ODT.content_type.encode():
                return ODT
            return None
        if "[Content_Types].xml" in names:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_DECLARATION_BYTES:
                return None
            declaration = archive.read(info)
            for main_type, kind in _OOXML_MAIN_PARTS.items():
                if main_type in declaration:
                    return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError):
        return None
    except NotImplementedError:
        # an unsupported compression method: not a file we can vouch for
        return None
    return None


def detect_kind(content: bytes) -> FileKind | None:
    """The file's kind from its magic bytes, or None when it is not an allowed kind."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    return None


def safe_filename(name: str | None, kind: FileKind) -> str:
    """The uploader's filename made harmless for a Content-Disposition header: no folders,
    no control characters (NUL included), no leading dots, and an extension that matches
    the detected kind."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*;')
    name = " ".join(name.split()).lstrip(". ")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() not in kind.extensions:
        stem = name
        extension = kind.extensions[0]
    stem = stem.rstrip(". ")[:200] or "file"
    return f"{stem}.{extension.lower()}"


def allowed_types_message():
    return _l("Upload a PDF, PNG, JPG, DOCX, XLSX or ODT file.")


def check_upload(upload: Upload) -> CheckedUpload:
    """Read and check one upload; nothing is written. Raises InvalidInput (status 413 when
    the file is too large) whose message says what to do instead."""
    limit = max_upload_bytes()
    buffer = bytearray()
    while True:
        chunk = upload.stream.read(READ_CHUNK_BYTES)
        if not chunk:
            break
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise InvalidInput(
                _l(
                    "The file is larger than %(size)s MB. Upload a smaller file or give a "
                    "link to it instead.",
                    size=_megabytes(limit),
                ),
                status=413,
            )
    if not buffer:
        raise InvalidInput(_l("The file is empty. Choose the file again."))
    content = bytes(buffer)
    kind = detect_kind(content)
    if kind is None:
        raise InvalidInput(
            _l("This file type is not accepted. Upload a PDF, PNG, JPG, DOCX, XLSX or ODT file.")
        )
    return CheckedUpload(content=content, kind=kind, filename=safe_filename(upload.filename, kind))


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def store_checked(session: Session, checked: CheckedUpload, uploader) -> StoredFile:
    """Write a checked upload under a random name and add its record to the session.
    The file is removed again unless the session's transaction commits."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(20)
    path = folder / stored_name
    with open(path, "xb") as handle:
        session.info.setdefault(WRITTEN_FILES_KEY, []).append(path)
        handle.write(checked.content)
    stored = StoredFile(
        stored_name=stored_name,
        original_filename=checked.filename,
        content_type=checked.kind.content_type,
        size_bytes=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        uploaded_by_id=getattr(uploader, "id", None),
    )
    session.add(stored)
    session.flush()
    audit.record(
        session,
        "file.uploaded",
        "stored_file",
        stored.id,
        actor=uploader,
        summary=stored.original_filename,
        details={"content_type": stored.content_type, "size_bytes": stored.size_bytes},
    )
    return stored


@event.listens_for(Session, "after_commit")
def _keep_written_files(session: Session) -> None:
    """The records are saved: so are their files (a savepoint's release saves nothing yet)."""
    if not session.in_nested_transaction():
        session.info.pop(WRITTEN_FILES_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_unsaved_files(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit: its files are orphans."""
    if transaction.parent is None:
        for path in session.info.pop(WRITTEN_FILES_KEY, ()):
            path.unlink(missing_ok=True)


def stored_path(stored: StoredFile) -> Path | None:
    """The file's path on disk, or None when it is missing or its name is not one of ours."""
    if not STORED_NAME_PATTERN.match(stored.stored_name):
        return None
    path = upload_folder() / stored.stored_name
    return path if path.is_file() else None
