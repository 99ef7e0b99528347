"""The upload folder and the stored_file table kept in step: `tracker check-storage` and
the scheduler's hourly removal of expired pending files.

- A file that no row points to is an orphan (a crash between writing and committing, a
  restore of an older database). Orphans older than a grace period are removed: a younger
  one may belong to an upload whose transaction is still open. Only names the upload
  service makes (40 hex digits, or those plus ".part") are ever removed; anything else in
  the folder is listed and left alone.
- A row whose file is missing cannot be repaired here: it is listed, for an administrator
  to restore the file from a backup.
- A pending file whose day has passed is removed with its row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.models import StoredFile
from tracker.services import audit
from tracker.services.monitoring.uploads import (
    TEMPORARY_SUFFIX,
    remove_after_commit,
    upload_folder,
)

#: how old a file that no row points to must be before it is removed
ORPHAN_GRACE = timedelta(hours=1)
_OUR_NAMES = re.compile(rf"^[0-9a-f]{{40}}(?:{re.escape(TEMPORARY_SUFFIX)})?$")


@dataclass(frozen=True)
class FolderFile:
    name: str
    size_bytes: int
    modified: datetime


@dataclass(frozen=True)
class StoredRow:
    """A stored_file row as the report names it (plain data: it outlives the rows)."""

    id: int
    stored_name: str
    public_id: str
    original_filename: str
    pending_until: datetime | None

    @classmethod
    def of(cls, row: StoredFile) -> StoredRow:
        return cls(row.id, row.stored_name, row.public_id, row.original_filename, row.pending_until)


@dataclass
class StorageReport:
    #: files that no row points to, old enough to remove (removed unless a dry run)
    orphans: list[FolderFile] = field(default_factory=list)
    #: orphans younger than the grace period: perhaps an upload in progress; kept
    recent_orphans: list[FolderFile] = field(default_factory=list)
    #: files whose names the upload service never makes: listed, never removed
    foreign: list[FolderFile] = field(default_factory=list)
    #: rows whose file is missing from the folder
    missing: list[StoredRow] = field(default_factory=list)
    #: pending files past their time (removed with their rows unless a dry run)
    expired: list[StoredRow] = field(default_factory=list)
    dry_run: bool = False

    @property
    def is_clean(self) -> bool:
        return not (self.orphans or self.missing or self.expired)

    def summary(self) -> str:
        verb = "would be removed" if self.dry_run else "removed"
        return (
            f"{len(self.orphans)} orphan files {verb}, {len(self.expired)} expired pending "
            f"files {verb}, {len(self.missing)} rows whose file is missing, "
            f"{len(self.recent_orphans)} recent orphans kept, {len(self.foreign)} other files "
            "left alone."
        )


def folder_entries() -> list[os.DirEntry]:
    """The upload folder's files (not folders), unsorted; empty when there is no folder."""
    folder = upload_folder()
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return [entry for entry in entries if entry.is_file(follow_symlinks=False)]


def stored_file_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StoredFile)) or 0


def _folder_file(entry: os.DirEntry) -> FolderFile:
    stat = entry.stat(follow_symlinks=False)
    return FolderFile(entry.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))


def expired_pending(session: Session, now: datetime) -> list[StoredRow]:
    return [
        StoredRow.of(row)
        for row in session.scalars(
            select(StoredFile)
            .where(StoredFile.pending_until.is_not(None), StoredFile.pending_until <= now)
            .order_by(StoredFile.id)
        )
    ]


def remove_expired_pending(session: Session, now: datetime) -> list[str]:
    """Delete the pending files whose time has passed, in one conditional DELETE (a file
    attached in the meantime is no longer pending and stays); their files go from disk
    once the deletion commits. The stored names removed."""
    names = list(
        session.scalars(
            delete(StoredFile)
            .where(StoredFile.pending_until.is_not(None), StoredFile.pending_until <= now)
            .returning(StoredFile.stored_name)
            .execution_options(synchronize_session=False)
        )
    )
    remove_after_commit(session, names)
    return names


def _sort_folder(report: StorageReport, files: list[FolderFile], known: set[str], now, grace):
    for item in files:
        if item.name in known:
            continue
        if not _OUR_NAMES.match(item.name):
            report.foreign.append(item)
        elif now - item.modified >= grace:
            report.orphans.append(item)
        else:
            report.recent_orphans.append(item)


def check_storage(
    session: Session,
    now: datetime,
    *,
    dry_run: bool = False,
    grace: timedelta = ORPHAN_GRACE,
    progress: Callable[[int], None] | None = None,
) -> StorageReport:
    """Compare the folder with the table; unless a dry run, remove the orphans that are
    older than `grace` and the expired pending files (their files go on commit).
    `progress` is told of each folder entry and each row checked."""
    report = StorageReport(dry_run=dry_run)
    step = progress or (lambda _count: None)
    report.expired = expired_pending(session, now)
    expired_names = {row.stored_name for row in report.expired}
    files = []
    for entry in folder_entries():
        files.append(_folder_file(entry))
        step(1)
    on_disk = {item.name for item in files}
    rows = session.scalars(select(StoredFile).order_by(StoredFile.id)).all()
    for row in rows:
        if row.stored_name not in expired_names and row.stored_name not in on_disk:
            report.missing.append(StoredRow.of(row))
        step(1)
    _sort_folder(report, files, {row.stored_name for row in rows}, now, grace)
    if not dry_run:
        _remove(session, report, now)
    return report


def _remove(session: Session, report: StorageReport, now: datetime) -> None:
    folder = upload_folder()
    for item in report.orphans:
        (folder / item.name).unlink(missing_ok=True)
    removed = remove_expired_pending(session, now)
    _record_cleanup(
        session,
        orphans=[item.name for item in report.orphans],
        expired_pending=removed,
        missing_files=[row.id for row in report.missing],
    )


def _record_cleanup(session: Session, **removed_and_missing: list) -> None:
    """One audit entry for a cleanup that removed anything (the first 100 of each list)."""
    orphans, expired = removed_and_missing["orphans"], removed_and_missing["expired_pending"]
    if not (orphans or expired):
        return
    audit.record(
        session,
        "storage.cleaned",
        "upload_folder",
        None,
        actor=None,
        summary=f"{len(orphans)} orphans, {len(expired)} expired pending",
        details={name: items[:100] for name, items in removed_and_missing.items()},
    )


def scheduled_expired_pending_job(session: Session, now: datetime) -> None:
    """The scheduler's hourly job: remove the pending files whose day has passed (the
    scheduler commits, and the files go then)."""
    _record_cleanup(session, orphans=[], expired_pending=remove_expired_pending(session, now))
