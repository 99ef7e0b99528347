"""Reports off the request path, in-process: a download queues the report and answers at
once; the scheduler's job builds it; the file is cached by scope, date, language and data
version; the "as of" date stays within the plan and today."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select, update

from tests.factories import make_update
from tests.reports.conftest import fetch_report
from tracker import clock
from tracker.extensions import db
from tracker.models import ReportRequest
from tracker.services.reports import build_requested
from tracker.vocabulary import Completion, ReportRequestStatus

PLAN = "az-nap-2020-2022"
URL = f"/reports/plan/{PLAN}.pdf?as_of=2021-06-30&lang=en"


def _requests() -> list:
    """The queue's rows, read and let go (on SQLite the test's session would otherwise
    keep the write lock the next request needs)."""
    rows = db.session.execute(
        select(
            ReportRequest.status,
            ReportRequest.size_bytes,
            ReportRequest.error,
            ReportRequest.data_version,
        ).order_by(ReportRequest.id)
    ).all()
    db.session.commit()
    return rows


def _cached_files(app) -> list[Path]:
    folder = Path(app.config["REPORT_CACHE_FOLDER"])
    return sorted(folder.glob("*.pdf")) if folder.is_dir() else []


def test_a_download_is_queued_and_the_scheduler_builds_it(app, monitoring, client):
    db.session.commit()
    first = client.get(URL)
    assert first.status_code == 202
    assert first.headers["Retry-After"] == "2" and "no-store" in first.headers["Cache-Control"]
    page = first.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Your report is being prepared" in page
    # nothing was built inside the request
    assert _cached_files(app) == []
    assert [r.status for r in _requests()] == [ReportRequestStatus.QUEUED]
    # polling before the build changes nothing
    assert client.get(URL).status_code == 202
    assert len(_requests()) == 1

    assert build_requested(db.session) == 1
    [row] = _requests()
    assert row.status == ReportRequestStatus.READY and row.size_bytes > 1000
    assert len(_cached_files(app)) == 1
    served = client.get(URL)
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"] == (
        f'attachment; filename="{PLAN}-2021-06-30-en.pdf"'
    )
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(served.data)).pages)
    assert "Plan progress report" in text and "As of June 30, 2021" in text


def test_the_cache_is_keyed_by_date_language_and_data_version(app, monitoring, client):
    assert fetch_report(client, URL).status_code == 200
    # the same report on the same data: served from the cache, nothing queued
    assert client.get(URL).status_code == 200
    assert build_requested(db.session) == 0
    # another language or date is another report
    assert client.get(URL.replace("lang=en", "lang=az")).status_code == 202
    assert client.get(URL.replace("2021-06-30", "2021-05-31")).status_code == 202
    assert build_requested(db.session) == 2
    # an update approved since: the data version changes, so the report is built again
    make_update(
        monitoring.measures["1.1"], monitoring.second, Completion.COMPLETE, date(2021, 6, 1)
    )
    db.session.commit()
    again = client.get(URL)
    assert again.status_code == 202
    assert build_requested(db.session) == 1
    rebuilt = client.get(URL)
    assert rebuilt.status_code == 200
    assert len({r.data_version for r in _requests()}) == 2
    assert len(_cached_files(app)) == 4


def test_as_of_runs_from_the_plan_start_to_today(app, monitoring, client):
    before = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2019-12-31&lang=en")
    assert before.status_code == 400
    # the day in words, as every page writes it (tracker.dates.show_date)
    message = "The plan starts on January 1, 2020: choose a date from then."
    assert message in before.get_data(as_text=True)
    in_azerbaijani = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2019-12-31&lang=az")
    assert in_azerbaijani.status_code == 400
    assert "Plan 1 yanvar 2020 tarixində başlayır" in in_azerbaijani.get_data(as_text=True)
    future = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2021-07-01&lang=en")
    assert future.status_code == 400
    assert "A report cannot describe a date in the future." in future.get_data(as_text=True)
    first_day = fetch_report(client, f"/reports/plan/{PLAN}.pdf?as_of=2020-01-01&lang=en")
    assert first_day.status_code == 200
    assert _requests() and all(r.status != ReportRequestStatus.QUEUED for r in _requests())


def test_as_of_ends_at_the_plan_end_once_it_has_passed(app, monitoring, client):
    app.config["TRACKER_TODAY"] = "2023-03-01"
    after = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2023-01-15&lang=en")
    assert after.status_code == 400
    message = "The plan ended on December 31, 2022: choose a date up to then."
    assert message in after.get_data(as_text=True)
    in_azerbaijani = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2023-01-15&lang=az")
    assert in_azerbaijani.status_code == 400
    assert "Plan 31 dekabr 2022 tarixində başa çatıb" in in_azerbaijani.get_data(as_text=True)
    default = fetch_report(client, f"/reports/plan/{PLAN}.pdf?lang=en")
    assert default.status_code == 200
    assert default.headers["Content-Disposition"].endswith(f'{PLAN}-2022-12-31-en.pdf"')


def test_a_failed_build_says_so_and_is_retried_later(app, monitoring, client, monkeypatch):
    def broken(*_args):
        raise OSError("disk gone")

    db.session.commit()
    assert client.get(URL).status_code == 202
    monkeypatch.setattr("tracker.services.reports.queue.render_report", broken)
    assert build_requested(db.session) == 1
    [row] = _requests()
    assert row.status == ReportRequestStatus.FAILED and "disk gone" in row.error
    failed = client.get(URL)
    assert failed.status_code == 503
    page = failed.get_data(as_text=True)
    assert "The report could not be made" in page and 'http-equiv="refresh"' not in page
    # a minute later, asking again queues it again, and a working build serves it
    monkeypatch.undo()
    db.session.execute(
        update(ReportRequest).values(finished_dt=clock.now_utc() - timedelta(minutes=2))
    )
    db.session.commit()
    assert fetch_report(client, URL).status_code == 200


def test_a_build_left_unfinished_by_a_dead_scheduler_is_taken_again(app, monitoring, client):
    db.session.commit()
    client.get(URL)
    db.session.execute(
        update(ReportRequest).values(
            status=ReportRequestStatus.BUILDING,
            started_dt=clock.now_utc() - timedelta(minutes=11),
        )
    )
    db.session.commit()
    assert build_requested(db.session) == 1
    assert client.get(URL).status_code == 200
    assert len(_requests()) == 1
