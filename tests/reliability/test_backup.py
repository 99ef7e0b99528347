"""Backups (issue 11, item 6): `tracker backup` taken while monitors write through the
served app, restored with `tracker restore` into a fresh database (a new SQLite file, or
a PostgreSQL database the test creates and drops), gives the rows of one moment and the
same file hashes; a damaged backup and a non-empty database are refused."""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.accounts.route_world import build_world
from tests.conftest import POSTGRES_URL
from tests.helpers import new_postgres_database
from tests.reliability.writers import writers_running
from tests.served.server import KEPT_TABLES, TRACKER
from tracker.extensions import db
from tracker.models import StatusUpdate
from tracker.services.backup import MANIFEST_NAME
from tracker.services.backup.archive import sha256_of


@contextmanager
def fresh_database(served, tmp_path: Path):
    """The URL of a new, empty database of the served app's kind; dropped afterwards."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with new_postgres_database(served.database_url, "restore") as url:
        yield url


def restore_into(served, target_url: str, folders: Path, out: Path):
    """`tracker restore out` into the database at target_url and the folders
    f"{folders}-uploads" and f"{folders}-reports"."""
    db.session.commit()
    env = {
        **served.env,
        "DATABASE_URL": target_url,
        "UPLOAD_FOLDER": f"{folders}-uploads",
        "REPORT_ARCHIVE_FOLDER": f"{folders}-reports",
    }
    return subprocess.run(
        [TRACKER, "restore", str(out)], env=env, capture_output=True, text=True, timeout=300
    )


@contextmanager
def engine_on(url: str):
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def table_rows(engine) -> dict[str, list[dict]]:
    tables = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    with engine.connect() as connection:
        return {t.name: [dict(r._mapping) for r in connection.execute(select(t))] for t in tables}


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_of(p) for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.served
def test_a_backup_during_writes_restores_into_a_fresh_database(served, tmp_path):
    world = build_world(str(served.upload_folder))
    measure_id, email = world.measure_a.id, world.users["monitor_a"].email
    db.session.commit()
    assert served.run_cli("archive-report").returncode == 0  # a report in the archive
    out = tmp_path / "backup"
    jobs = [(email, measure_id, f"DURING-BACKUP-{n}", 4) for n in range(2)]
    with writers_running(served, jobs, with_files=True) as statuses:
        time.sleep(1.0)  # the writers are under way
        db.session.rollback()
        written_before = db.session.query(StatusUpdate).count()
        db.session.commit()
        backup = served.run_cli("backup", "--out", str(out))
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert statuses == [[302] * 4, [302] * 4]
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert any(name.startswith("reports/") for name in manifest["files"])

    with fresh_database(served, tmp_path) as target_url:
        restore = restore_into(served, target_url, tmp_path / "restored", out)
        assert restore.returncode == 0, restore.stdout + restore.stderr
        with engine_on(target_url) as target:
            restored = table_rows(target)
        again = restore_into(served, target_url, tmp_path / "restored", out)  # not empty now
    assert again.returncode == 1
    assert "The database is not empty" in again.stderr

    # the rows of one moment: everything written before the backup began, and every
    # restored row exactly as the server has it
    source = table_rows(db.engine)
    db.session.commit()
    assert len(restored["status_update"]) >= written_before
    for table, rows in restored.items():
        if table not in ("scheduler_job", "mail_request", "login_attempt", "user"):
            assert all(row in source[table] for row in rows), table
    # the same files, byte for byte, and every restored row's file is there
    restored_files = file_hashes(tmp_path / "restored-uploads")
    source_files = file_hashes(served.upload_folder)
    assert {row["stored_name"] for row in restored["stored_file"]} <= set(restored_files)
    assert all(source_files[name] == digest for name, digest in restored_files.items())
    assert file_hashes(tmp_path / "restored-reports") == file_hashes(served.workdir / "reports")


@pytest.mark.served
def test_a_damaged_backup_is_refused_before_anything_is_restored(served, tmp_path):
    out = tmp_path / "backup"
    assert served.run_cli("backup", "--out", str(out)).returncode == 0
    refused = served.run_cli("backup", "--out", str(out))
    assert refused.returncode == 1 and "is not empty" in refused.stderr
    dump = next(p for p in out.iterdir() if p.name.startswith("database."))
    with dump.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff\x00damaged")
    with fresh_database(served, tmp_path) as target_url:
        result = restore_into(served, target_url, tmp_path / "restored", out)
        with engine_on(target_url) as target, target.connect() as connection:
            tables = target.dialect.get_table_names(connection)
    assert result.returncode == 1
    assert f"checksum differs: {dump.name}" in result.stderr
    assert tables == []
    assert not os.path.exists(tmp_path / "restored-uploads")
