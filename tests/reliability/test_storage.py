"""A full disk (issue 11, item 3): uploads are written whole or not at all, the user gets
507 with a clear message and the form as typed, no file is left behind, and
`tracker check-storage` then finds the folder and the table in step.

The disk is real: a 1 MB tmpfs mounted over the upload folder (the tests run as root).
Where mounting is not possible the in-process test falls back to a write that fails with
ENOSPC, and says so; the served test needs the real mount and is skipped without it."""

from __future__ import annotations

import errno
import io
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_world import build_world
from tests.monitoring.conftest import update_form
from tests.monitoring.files import padded_pdf
from tracker import clock
from tracker.extensions import db
from tracker.models import StatusUpdate, StoredFile
from tracker.services.monitoring import storage, uploads

#: three of these fit on the 1 MB disk, the fourth does not
FILE_BYTES = 300 * 1024
DISK_SIZE = "1m"


def mount_small_disk(path: Path) -> str | None:
    """Mount a 1 MB tmpfs at `path`; None when it worked, else why not."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    return None if result.returncode == 0 else (result.stderr.strip() or "mount failed")


@contextmanager
def small_disk(path: Path):
    """A 1 MB disk at `path` for the block; yields why it could not be mounted, or None."""
    problem = mount_small_disk(path)
    try:
        yield problem
    finally:
        if problem is None:
            subprocess.run(["umount", str(path)], check=True, timeout=30)


def folder_names(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


def stored_names() -> set[str]:
    return set(db.session.scalars(select(StoredFile.stored_name)))


def test_a_full_disk_in_process_leaves_no_file_and_says_so(app, monkeypatch):
    folder = Path(app.config["UPLOAD_FOLDER"])
    with small_disk(folder) as problem:
        if problem is not None:
            print(f"full disk: a write that raises ENOSPC (mounting a tmpfs failed: {problem})")

            def disk_full(_descriptor):
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr(uploads.os, "fsync", disk_full)
        else:
            print("full disk: a real 1 MB tmpfs")
        kept = []
        with app.test_request_context("/?lang=en"), pytest.raises(uploads.StorageFull) as full:
            for seed in range(10):
                upload = uploads.Upload("big.pdf", io.BytesIO(padded_pdf(FILE_BYTES, seed)))
                kept.append(uploads.store_checked(db.session, uploads.check_upload(upload), None))
                db.session.commit()
        assert full.value.status == 507
        with app.test_request_context("/?lang=en"):
            assert "The server has no room left to store files" in str(full.value.message)
        db.session.rollback()
        assert len(kept) == (0 if problem else 3)
        # no partial file, no orphan: the folder holds exactly the rows' files
        assert folder_names(folder) == stored_names() == {s.stored_name for s in kept}
        report = storage.check_storage(db.session, clock.now_utc(), dry_run=True)
        assert report.is_clean and not report.recent_orphans and not report.foreign


@pytest.mark.served
def test_a_full_disk_on_the_served_app_gives_507_keeps_the_form_and_loses_nothing(served):
    with small_disk(served.upload_folder) as problem:
        if problem is not None:
            pytest.skip(f"a tmpfs cannot be mounted here ({problem}); the in-process test ran")
        world = build_world(str(served.upload_folder))  # its few small files go on the disk
        measure_id = world.measure_a.id
        db.session.commit()
        monitor = served.client()
        monitor.login(world.users["monitor_a"].email, PASSWORD)
        page = f"/monitor/measures/{measure_id}/updates/new?lang=en"
        answers = []
        for seed in range(5):
            data = update_form(narrative_en=f"TYPED-NARRATIVE-{seed}")
            data.pop("evidence-0-url")
            response = monitor.post_form(
                page,
                data,
                files={"evidence-0-file": (f"report-{seed}.pdf", padded_pdf(FILE_BYTES, seed))},
            )
            answers.append(response.status_code)
            if response.status_code == 507:
                assert "The server has no room left to store files" in response.text
                assert f"TYPED-NARRATIVE-{seed}" in response.text  # the form as typed
                assert "Ministry page" in response.text
        assert answers == [302, 302, 302, 507, 507]
        assert monitor.get("/monitor/").status_code == 200  # the app goes on serving
        db.session.rollback()
        typed = StatusUpdate.narrative_en.like("TYPED-NARRATIVE-%")
        assert db.session.scalar(select(func.count()).select_from(StatusUpdate).where(typed)) == 3
        # no partial file, no orphan: the folder holds exactly the rows' files
        on_disk = folder_names(served.upload_folder)
        assert not any(name.endswith(uploads.TEMPORARY_SUFFIX) for name in on_disk)
        assert on_disk == stored_names()
        db.session.commit()
        result = served.run_cli("check-storage")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 orphan files removed" in result.stdout
