"""Uploaded files: checked by their structure, kept under a random name outside static/.

A file is accepted only when its structure says it is a PDF, PNG, JPEG, DOCX, XLSX or ODT
(file_checks); the name and the browser's Content-Type are never trusted.

Writing: each file is written to a temporary name in the upload folder, flushed to disk and
then renamed, so a file under its final name is always whole. The temporary file is removed
on any error; a full disk (ENOSPC, EDQUOT) is a StorageFull error (507) that says so.

Files and transactions: a file is written before its record is flushed, and is kept only
if the transaction that holds its record commits. Every written file is remembered in its
session's `info`; when the session's outermost transaction ends without a commit (a
rollback, or a session closed mid-transaction), the files are removed again, so no orphan
stays on disk whoever called and however the request failed. A file is written outside
any savepoint that may be rolled back on its own (views write pending files first, then
the record in a savepoint). Likewise a file whose record is deleted is removed from disk
only once the deletion commits.

Pending files: a file uploaded with a form that could not be saved yet (another field had
a mistake) is stored as pending, owned by its uploader, for PENDING_HOURS. The form carries
its public id, and saving the record attaches it. An expired pending file is removed by
`tracker check-storage` and by the scheduler (services.monitoring.storage).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock
from tracker.models import StoredFile
from tracker.numbers import round_half_up, show_number
from tracker.services.errors import InvalidInput, ServiceError
from tracker.services.monitoring.events import record_event
from tracker.services.monitoring.file_checks import (
    ALLOWED_KINDS,
    DOCX,
    JPEG,
    ODT,
    PDF,
    PNG,
    XLSX,
    FileKind,
    detect_kind,
    inspect,
)
from tracker.services.monitoring.file_metadata import without_personal_metadata

__all__ = [
    "ALLOWED_KINDS",
    "DOCX",
    "JPEG",
    "ODT",
    "PDF",
    "PNG",
    "XLSX",
    "CheckedUpload",
    "FileKind",
    "StorageFull",
    "Upload",
    "detect_kind",
]

READ_CHUNK_BYTES = 64 * 1024
STORED_NAME_PATTERN = re.compile(r"^[0-9a-f]{40}$")
#: a file being written has this suffix until it is whole and renamed
TEMPORARY_SUFFIX = ".part"
#: a public id as models.new_public_id makes them (token_urlsafe)
PUBLIC_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
#: how long a pending file waits for the record that will cite it
PENDING_HOURS = 24
#: the keys in `Session.info` under which the transaction's written and deleted files are kept
WRITTEN_FILES_KEY = "tracker_written_uploads"
REMOVED_FILES_KEY = "tracker_removed_uploads"
#: a write that fails with one of these found the disk (or the uploads' quota) full
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StorageFull(ServiceError):
    """The upload folder's disk or quota is full; nothing was kept (507)."""

    status = 507


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
    #: what the file can run when opened (file_checks.ACTIVE_CONTENT_LABELS keys)
    active_content: tuple[str, ...] = ()


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


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


def too_large_message():
    """What a file over the upload limit is told (by the server, and by the form's script
    before it is sent)."""
    return _l(
        "The file is larger than %(size)s MB. Upload a smaller file or give a link to it instead.",
        size=_megabytes(max_upload_bytes()),
    )


def _read(upload: Upload) -> bytes:
    limit = max_upload_bytes()
    buffer = bytearray()
    while True:
        chunk = upload.stream.read(READ_CHUNK_BYTES)
        if not chunk:
            break
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise InvalidInput(too_large_message(), status=413)
    if not buffer:
        raise InvalidInput(_l("The file is empty. Choose the file again."))
    return bytes(buffer)


def check_upload(upload: Upload) -> CheckedUpload:
    """Read and check one upload; nothing is written. Raises InvalidInput (status 413 when
    the file is too large) whose message says what to do instead."""
    content = _read(upload)
    visible_name = unicodedata.normalize("NFC", upload.filename or "").replace("\\", "/")
    inspection = inspect(content, visible_name.rsplit("/", 1)[-1])
    return CheckedUpload(
        content=without_personal_metadata(content, inspection.kind),
        kind=inspection.kind,
        filename=safe_filename(upload.filename, inspection.kind),
        active_content=inspection.active_content,
    )


def _megabytes(size: int) -> str:
    return show_number(round_half_up(size / (1024 * 1024)))


# --- writing -------------------------------------------------------------------------------


def storage_full_message():
    return _l(
        "The server has no room left to store files, so your file was not saved. What you "
        "typed is kept: try again later, or give a link instead of the file."
    )


def _write_whole(folder: Path, stored_name: str, content: bytes) -> Path:
    """Write to a temporary name in the same folder, flush it to disk, then rename it: a
    file under its final name is always complete. On any error nothing is left behind."""
    temporary = folder / f"{stored_name}{TEMPORARY_SUFFIX}"
    path = folder / stored_name
    try:
        with open(temporary, "xb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in _DISK_FULL:
            current_app.logger.error("Upload folder %s is full: %s", folder, error)
            raise StorageFull(storage_full_message()) from error
        raise
    return path


def store_checked(
    session: Session, checked: CheckedUpload, uploader, *, pending: bool = False
) -> StoredFile:
    """Write a checked upload under a random name and add its record to the session.
    The file is removed again unless the session's transaction commits. A pending file
    belongs to its uploader until a record cites it (see attach_pending)."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(20)
    path = _write_whole(folder, stored_name, checked.content)
    session.info.setdefault(WRITTEN_FILES_KEY, []).append(path)
    stored = StoredFile(
        stored_name=stored_name,
        original_filename=checked.filename,
        content_type=checked.kind.content_type,
        size_bytes=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        uploaded_by_id=getattr(uploader, "id", None),
        active_content=list(checked.active_content),
        pending_until=clock.now_utc() + timedelta(hours=PENDING_HOURS) if pending else None,
    )
    session.add(stored)
    session.flush()
    record_event(
        session,
        "file.uploaded",
        stored,
        uploader,
        "content_type",
        "size_bytes",
        "active_content",
        summary=stored.original_filename,
        pending=pending,
    )
    return stored


def remove_after_commit(session: Session, stored_names: Iterable[str]) -> None:
    """Remove these files from disk once the transaction that deleted their rows commits."""
    folder = upload_folder()
    session.info.setdefault(REMOVED_FILES_KEY, []).extend(folder / n for n in stored_names)


# --- pending files -------------------------------------------------------------------------


def keep_pending(
    session: Session, owner, uploads: Mapping[int, Upload]
) -> tuple[dict[int, StoredFile], dict[int, InvalidInput]]:
    """Check each upload and store those that pass as the owner's pending files, so that a
    form with a mistake elsewhere keeps them. Returns the stored files and the refusals,
    by the caller's keys. A full disk raises StorageFull (nothing of this call is kept)."""
    stored: dict[int, StoredFile] = {}
    refused: dict[int, InvalidInput] = {}
    for key, upload in uploads.items():
        try:
            checked = check_upload(upload)
        except InvalidInput as error:
            refused[key] = error
            continue
        stored[key] = store_checked(session, checked, owner, pending=True)
    return stored, refused


def _pending_condition(owner, now):
    return (
        StoredFile.uploaded_by_id == owner.id,
        StoredFile.pending_until.is_not(None),
        StoredFile.pending_until > now,
    )


def pending_files(session: Session, owner, public_ids: Iterable[str]) -> dict[str, StoredFile]:
    """The owner's unexpired pending files among these public ids (one query)."""
    wanted = {p for p in public_ids if p and PUBLIC_ID_PATTERN.match(p)}
    if not wanted or owner is None or not getattr(owner, "id", None):
        return {}
    rows = session.scalars(
        select(StoredFile).where(
            StoredFile.public_id.in_(wanted), *_pending_condition(owner, clock.now_utc())
        )
    )
    return {row.public_id: row for row in rows}


def expired_pending_message():
    return _l(
        "The file you chose earlier is no longer kept (a file is kept for %(hours)s hours "
        "until its form is saved). Choose the file again.",
        hours=PENDING_HOURS,
    )


def attach_pending(session: Session, owner, stored: StoredFile) -> bool:
    """A record now cites the owner's pending file: it is no longer pending. One
    conditional UPDATE, so a file that expired or was removed in the meantime is never
    attached. Whether it was attached."""
    result = session.execute(
        update(StoredFile)
        .where(StoredFile.id == stored.id, *_pending_condition(owner, clock.now_utc()))
        .values(pending_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(stored, "pending_until", None)  # as the row now is; nothing to flush
    return True


def take_pending(session: Session, owner, public_id: str) -> StoredFile | None:
    """The owner's pending file with this public id, attached now (see attach_pending), or
    None when it is no longer kept (expired, removed) or is not the owner's."""
    stored = pending_files(session, owner, [public_id]).get(public_id)
    if stored is None or not attach_pending(session, owner, stored):
        return None
    return stored


def discard_pending(session: Session, owner, public_ids: Iterable[str]) -> int:
    """Delete the owner's pending files among these ids (the uploader removed them from
    the form); their files go once the deletion commits. How many were discarded."""
    wanted = {p for p in public_ids if p and PUBLIC_ID_PATTERN.match(p)}
    if not wanted or owner is None:
        return 0
    rows = session.execute(
        delete(StoredFile)
        .where(
            StoredFile.public_id.in_(wanted),
            StoredFile.uploaded_by_id == owner.id,
            StoredFile.pending_until.is_not(None),
        )
        .returning(StoredFile.stored_name)
        .execution_options(synchronize_session=False)
    ).all()
    remove_after_commit(session, [row.stored_name for row in rows])
    return len(rows)


# --- the files' life follows their transaction ---------------------------------------------


@event.listens_for(Session, "after_commit")
def _keep_written_files(session: Session) -> None:
    """The records are saved: so are their files (a savepoint's release saves nothing yet),
    and the files of deleted records go."""
    if session.in_nested_transaction():
        return
    session.info.pop(WRITTEN_FILES_KEY, None)
    for path in session.info.pop(REMOVED_FILES_KEY, ()):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _remove_unsaved_files(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit: its files are orphans, and the
    files of records it would have deleted stay."""
    if transaction.parent is None:
        session.info.pop(REMOVED_FILES_KEY, None)
        for path in session.info.pop(WRITTEN_FILES_KEY, ()):
            path.unlink(missing_ok=True)


def stored_path(stored: StoredFile) -> Path | None:
    """The file's path on disk, or None when it is missing or its name is not one of ours."""
    if not STORED_NAME_PATTERN.match(stored.stored_name):
        return None
    path = upload_folder() / stored.stored_name
    return path if path.is_file() else None
