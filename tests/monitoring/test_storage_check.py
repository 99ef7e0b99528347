"""`tracker check-storage` keeps the upload folder and the stored_file table in step
(issue 11, item 3), and removes expired pending files (issue 13, item 6)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.monitoring.conftest import store_file
from tracker import clock
from tracker.extensions import db
from tracker.models import AuditEntry, StoredFile
from tracker.services.monitoring import storage

HOUR = 3600


def folder(app) -> Path:
    path = Path(app.config["UPLOAD_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def aged(path: Path, seconds: int) -> Path:
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def names(app) -> set[str]:
    return {p.name for p in folder(app).iterdir()}


def arrange(app):
    """A kept file, an old orphan, a recent orphan, an old half-written file, a file that
    is not an upload, a row whose file is missing, and an expired pending file."""
    kept = store_file()
    missing = store_file(filename="lost.pdf")
    expired = store_file(filename="abandoned.pdf")
    expired.pending_until = clock.now_utc() - timedelta(minutes=5)
    db.session.commit()
    (folder(app) / missing.stored_name).unlink()
    old_orphan = folder(app) / ("a" * 40)
    old_orphan.write_bytes(b"left by a crash")
    aged(old_orphan, 2 * HOUR)
    recent = folder(app) / ("b" * 40)
    recent.write_bytes(b"an upload in progress")
    partial = folder(app) / ("c" * 40 + ".part")
    partial.write_bytes(b"half")
    aged(partial, 2 * HOUR)
    foreign = folder(app) / "README.txt"
    foreign.write_text("not ours")
    aged(foreign, 2 * HOUR)
    return kept, missing, expired


def test_dry_run_lists_everything_and_removes_nothing(app, runner):
    _kept, missing, expired = arrange(app)
    before = names(app)
    result = runner.invoke(args=["check-storage", "--dry-run"])
    assert result.exit_code == 1  # a row points to a missing file
    out = result.output
    assert f"orphan (would remove): {'a' * 40}" in out
    assert f"orphan (would remove): {'c' * 40}.part" in out
    assert f"expired pending file (would remove): {expired.stored_name}" in out
    assert f"recent orphan (kept: perhaps an upload in progress): {'b' * 40}" in out
    assert "not an upload (left alone): README.txt" in out
    assert f"MISSING FILE: row {missing.id} (lost.pdf" in out
    assert "2 orphan files would be removed, 1 expired pending files would be removed" in out
    assert names(app) == before
    assert db.session.get(StoredFile, expired.id) is not None


def test_check_storage_removes_orphans_and_expired_files_and_lists_missing_ones(app, runner):
    kept, missing, expired = arrange(app)
    expired_id, expired_name = expired.id, expired.stored_name
    db.session.commit()  # the command's session must not wait for this one's lock
    result = runner.invoke(args=["check-storage"])
    assert result.exit_code == 1, result.output
    assert f"MISSING FILE: row {missing.id}" in result.output
    assert names(app) == {kept.stored_name, "b" * 40, "README.txt"}
    db.session.expire_all()
    assert db.session.get(StoredFile, expired_id) is None
    assert expired_name not in names(app)
    assert db.session.get(StoredFile, missing.id) is not None  # listed, never deleted
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "storage.cleaned"))
    assert set(entry.details["orphans"]) == {"a" * 40, "c" * 40 + ".part"}
    assert entry.details["expired_pending"] == [expired_name]

    # the missing row's file comes back from a backup: all is in step
    (folder(app) / missing.stored_name).write_bytes(b"%PDF-restored")
    db.session.commit()
    again = runner.invoke(args=["check-storage", "--grace-minutes", "0"])
    assert again.exit_code == 0, again.output
    assert names(app) == {kept.stored_name, missing.stored_name, "README.txt"}
    assert "0 rows whose file is missing" in again.output


def test_a_clean_folder_is_reported_clean(app, runner):
    store_file()
    db.session.commit()
    result = runner.invoke(args=["check-storage"])
    assert result.exit_code == 0
    assert "0 orphan files removed, 0 expired pending files removed, 0 rows" in result.output


def test_progress_is_reported_for_each_file_and_row(app):
    for _ in range(3):
        store_file()
    db.session.commit()
    (folder(app) / ("d" * 40)).write_bytes(b"orphan")
    steps = []
    report = storage.check_storage(db.session, clock.now_utc(), dry_run=True, progress=steps.append)
    assert sum(steps) == 4 + 3
    assert [item.name for item in report.recent_orphans] == ["d" * 40]


def test_a_pending_file_attached_in_the_meantime_is_not_removed(app):
    stored = store_file()
    stored.pending_until = clock.now_utc() - timedelta(minutes=1)
    db.session.commit()
    stored.pending_until = None  # attached by its record before the job ran
    db.session.commit()
    assert storage.remove_expired_pending(db.session, clock.now_utc()) == []
    db.session.commit()
    assert stored.stored_name in names(app)


def test_the_scheduler_runs_the_expired_pending_job(app, monkeypatch):
    from tracker import scheduler

    monkeypatch.setattr(scheduler, "_app", app)
    job = next(j for j in scheduler.SCHEDULED_JOBS if j.id == "expired-pending-files")
    assert job.func == "tracker.services.monitoring.storage:scheduled_expired_pending_job"
    stored = store_file()
    stored.pending_until = clock.now_utc() - timedelta(minutes=1)
    db.session.commit()
    name = stored.stored_name
    db.session.commit()
    scheduler.run_job("expired-pending-files")
    db.session.expire_all()
    assert db.session.scalar(select(StoredFile)) is None
    assert name not in names(app)
