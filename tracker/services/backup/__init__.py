"""Backups (issue 11, item 6): a consistent snapshot of the database, the uploaded files
and the report archive, taken while the server runs, with a manifest of SHA-256 sums;
and a restore of one into an empty database.

Other features and the CLI import from here only."""

from tracker.services.backup.archive import (
    MANIFEST_NAME,
    BackupError,
    BackupSummary,
    create_backup,
    restore_backup,
    verify_backup,
)

__all__ = [
    "MANIFEST_NAME",
    "BackupError",
    "BackupSummary",
    "create_backup",
    "restore_backup",
    "verify_backup",
]
