"""A backup folder: the database dump, `uploads/`, `reports/` and `manifest.json`, which
lists every file with its size and SHA-256 sum.

The database is copied first and the files after it: uploads are written before the row
that names them and never changed, so every file that a row of the snapshot names is
already there when the files are copied. A file that came later is an orphan, which
`tracker check-storage` removes after a restore."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from tracker.services.backup import database

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
#: folder in the backup -> the config key of the folder it comes from
FOLDERS = {"uploads": "UPLOAD_FOLDER", "reports": "REPORT_ARCHIVE_FOLDER"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass
class BackupSummary:
    database: str
    files: int
    bytes: int


class _NoBar:
    def update(self, _steps: int) -> None:
        pass


def no_progress(_label: str, _total: int):
    """The default progress: none (the CLI passes click.progressbar)."""
    return contextlib.nullcontext(_NoBar())


Progress = Callable[[str, int], contextlib.AbstractContextManager]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _copy_folder(source: Path, target: Path, label: str, progress: Progress) -> list[Path]:
    files = _files_under(source)
    target.mkdir(parents=True, exist_ok=True)
    with progress(label, len(files)) as bar:
        for path in files:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            bar.update(1)
    return [target / p.relative_to(source) for p in files]


def _manifest_entries(out: Path, paths: list[Path], progress: Progress) -> dict[str, dict]:
    entries = {}
    with progress("Checksums", len(paths)) as bar:
        for path in paths:
            name = path.relative_to(out).as_posix()
            entries[name] = {"sha256": sha256_of(path), "bytes": path.stat().st_size}
            bar.update(1)
    return entries


def create_backup(
    engine: Engine, folders: dict[str, str], out: Path, now: datetime, progress=no_progress
) -> BackupSummary:
    """Write a backup into `out` (absent or empty). `folders` is the app's config."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: back up into a new folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot make {out}: {error.strerror}.") from error
    schema = database.app_schema(engine)
    dump_path = out / database.dump_name(engine)
    try:
        database.dump(engine, dump_path, schema, progress)
    except database.DatabaseBackupError as error:
        raise BackupError(str(error)) from error
    copied = [dump_path]
    for name, key in FOLDERS.items():
        copied += _copy_folder(Path(folders[key]), out / name, f"Copying {name}", progress)
    entries = _manifest_entries(out, copied, progress)
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": now.isoformat(),
        "database": {"dialect": engine.dialect.name, "file": dump_path.name, "schema": schema},
        "files": entries,
    }
    temporary = out / f".{MANIFEST_NAME}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, out / MANIFEST_NAME)  # the manifest last: its presence means done
    total = sum(entry["bytes"] for entry in entries.values())
    return BackupSummary(database=dump_path.name, files=len(entries) - 1, bytes=total)


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{folder} has no {MANIFEST_NAME}: not a backup, or an unfinished one."
        ) from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{MANIFEST_NAME} cannot be read: {error}") from error
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def verify_backup(folder: Path, progress=no_progress) -> dict:
    """The manifest, once every file it lists is there with its SHA-256 sum."""
    manifest = _read_manifest(folder)
    problems = []
    with progress("Verifying", len(manifest["files"])) as bar:
        for name, entry in sorted(manifest["files"].items()):
            path = folder / name
            if not path.is_file():
                problems.append(f"missing: {name}")
            elif sha256_of(path) != entry["sha256"]:
                problems.append(f"checksum differs: {name}")
            bar.update(1)
    if problems:
        raise BackupError("The backup is damaged: " + "; ".join(problems))
    return manifest


def _check_target(engine: Engine, manifest: dict, folders: dict[str, str]) -> None:
    if engine.dialect.name != manifest["database"]["dialect"]:
        raise BackupError(
            f"The backup is of a {manifest['database']['dialect']} database; "
            f"DATABASE_URL names a {engine.dialect.name} one."
        )
    tables = database.table_names(engine, manifest["database"]["schema"])
    if tables:
        raise BackupError(
            f"The database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}). "
            "Restore only into an empty database: create a new one and point DATABASE_URL at it."
        )
    for name, key in FOLDERS.items():
        target = Path(folders[key])
        for entry in manifest["files"]:
            if entry.startswith(f"{name}/") and (target / entry[len(name) + 1 :]).exists():
                raise BackupError(
                    f"{target} already holds {entry[len(name) + 1 :]}: use an empty folder."
                )


def restore_backup(
    engine: Engine, folders: dict[str, str], folder: Path, progress=no_progress
) -> BackupSummary:
    """Verify the backup, then bring it back into an empty database and the folders."""
    manifest = verify_backup(folder, progress)
    _check_target(engine, manifest, folders)
    engine.dispose()
    try:
        database.load(engine, folder / manifest["database"]["file"], progress)
    except database.DatabaseBackupError as error:
        raise BackupError(str(error)) from error
    count = 0
    for name, key in FOLDERS.items():
        count += len(_copy_folder(folder / name, Path(folders[key]), f"Restoring {name}", progress))
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    return BackupSummary(database=manifest["database"]["file"], files=count, bytes=total)
