"""The monthly snapshot archive: one file per plan, month and language, however often the
job runs, published with its date and SHA-256."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import func, select

from tracker import clock, scheduler
from tracker.extensions import db
from tracker.models import AuditEntry, ReportSnapshot
from tracker.services.reports.archive import (
    archive_monthly_snapshot,
    scheduled_snapshot_job,
)


def _snapshots() -> list[ReportSnapshot]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReportSnapshot).order_by(ReportSnapshot.id)))


def _files(app) -> list[Path]:
    folder = Path(app.config["REPORT_ARCHIVE_FOLDER"])
    return sorted(folder.glob("*")) if folder.exists() else []


def test_two_job_runs_in_one_month_archive_one_snapshot(monitoring, app):
    first_of_july = datetime(2021, 7, 1, 2, 0, tzinfo=UTC)  # 06:00 in Baku
    scheduled_snapshot_job(db.session, first_of_july)
    db.session.commit()
    made = _snapshots()
    assert [(s.period, s.locale) for s in made] == [("2021-07", "az"), ("2021-07", "en")]
    files = _files(app)
    assert [f.name for f in files] == [
        "az-nap-2020-2022-2021-07-az.pdf",
        "az-nap-2020-2022-2021-07-en.pdf",
    ]
    contents = {f.name: f.read_bytes() for f in files}

    scheduled_snapshot_job(db.session, datetime(2021, 7, 1, 2, 30, tzinfo=UTC))
    db.session.commit()
    assert archive_monthly_snapshot(db.session, datetime(2021, 7, 20, tzinfo=UTC)) == []
    db.session.commit()
    assert [s.id for s in _snapshots()] == [s.id for s in made]
    assert [f.name for f in _files(app)] == list(contents)
    assert {f.name: f.read_bytes() for f in _files(app)} == contents

    for snapshot in made:
        data = contents[snapshot.file_name]
        assert snapshot.sha256 == hashlib.sha256(data).hexdigest()
        assert snapshot.size_bytes == len(data)
        assert snapshot.as_of_date.isoformat() == "2021-07-01"
        assert len(PdfReader(snapshot_path(app, snapshot)).pages) > 10

    archive_monthly_snapshot(db.session, datetime(2021, 8, 1, 2, 0, tzinfo=UTC))
    db.session.commit()
    assert [s.period for s in _snapshots()] == ["2021-07", "2021-07", "2021-08", "2021-08"]
    assert len(_files(app)) == 4
    audit = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "report.archived")
    )
    assert audit == 4


def snapshot_path(app, snapshot: ReportSnapshot) -> Path:
    return Path(app.config["REPORT_ARCHIVE_FOLDER"]) / snapshot.file_name


def test_two_scheduler_runs_archive_one_snapshot(monitoring, app, monkeypatch):
    """The job as the scheduler process runs it: by id, in its own app context, committed."""
    job = next(j for j in scheduler.SCHEDULED_JOBS if j.id == "monthly-report-snapshot")
    assert job.func == "tracker.services.reports.archive:scheduled_snapshot_job"
    assert str(job.trigger(app.config).fields[2]) == "1"  # day of month
    monkeypatch.setattr(scheduler, "_app", app)
    app.config["TRACKER_TODAY"] = "2021-07-01"
    scheduler.run_job("monthly-report-snapshot")
    app.config["TRACKER_TODAY"] = "2021-07-02"
    scheduler.run_job("monthly-report-snapshot")
    snapshots = _snapshots()
    assert [(s.period, s.locale) for s in snapshots] == [("2021-07", "az"), ("2021-07", "en")]
    assert len(_files(app)) == 2


def test_the_month_is_the_month_in_baku():
    # 22:00 UTC on 30 June is 02:00 on 1 July in Baku
    assert clock.baku_date(datetime(2021, 6, 30, 22, 0, tzinfo=UTC)).isoformat() == "2021-07-01"


def test_cli_archives_once(monitoring, runner, app):
    app.config["TRACKER_TODAY"] = "2021-07-04"
    first = runner.invoke(args=["archive-report", "--now", "2021-07-01T06:00+04:00"])
    assert first.exit_code == 0, first.output
    assert "az-nap-2020-2022-2021-07-az.pdf" in first.output
    second = runner.invoke(args=["archive-report", "--now", "2021-07-03T10:00"])
    assert second.exit_code == 0
    assert "nothing to do" in second.output
    assert len(_snapshots()) == 2 and len(_files(app)) == 2
    bad = runner.invoke(args=["archive-report", "--now", "July"])
    assert bad.exit_code == 2 and "ISO" in bad.output


def test_archive_page_lists_each_file_with_date_and_sha256(monitoring, client, app):
    empty = client.get("/reports/archive?lang=en")
    assert empty.status_code == 200
    assert "No report has been archived yet" in empty.get_data(as_text=True)

    archive_monthly_snapshot(db.session, datetime(2021, 7, 1, 2, 0, tzinfo=UTC))
    db.session.commit()
    page = client.get("/reports/archive?lang=en").get_data(as_text=True)
    for snapshot in _snapshots():
        assert snapshot.sha256 in page
        assert f"/reports/archive/{snapshot.file_name}" in page
        download = client.get(f"/reports/archive/{snapshot.file_name}")
        assert download.status_code == 200
        assert download.mimetype == "application/pdf"
        assert hashlib.sha256(download.data).hexdigest() == snapshot.sha256
        assert download.headers["X-Content-SHA256"] == snapshot.sha256
    assert "2021-07" in page and "situation as of July 1, 2021" in page
    assert client.get("/reports/archive/no-such-file.pdf").status_code == 404
    assert client.get("/reports/archive/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_an_ended_plans_snapshot_describes_its_last_day_and_no_month_to_come(
    monitoring, runner, app
):
    """The archive dated an ended plan's snapshots on the day they were made (a report
    "as of 2027-01-01", which the web refuses), and `--now` took months that had not come."""
    app.config["TRACKER_TODAY"] = "2027-01-05"
    archive_monthly_snapshot(db.session, datetime(2027, 1, 1, 2, 0, tzinfo=UTC))
    db.session.commit()
    made = _snapshots()
    assert [(s.period, s.as_of_date.isoformat()) for s in made] == [
        ("2027-01", "2022-12-31"),
        ("2027-01", "2022-12-31"),
    ]
    text = PdfReader(snapshot_path(app, made[1])).pages[0].extract_text()
    assert "December 31, 2022" in text
    future = runner.invoke(args=["archive-report", "--now", "2027-02-01T06:00"])
    assert future.exit_code == 2 and "a month that has come" in future.output
    assert len(_snapshots()) == 2
