"""A report is built in a transaction that only reads. Outside a request every SQLite
transaction takes the write lock up front, and a plan of 2,000 measures takes 16 s to
report: a monitor's save, which waits at most the busy timeout (15 s), would fail. The
scheduler's build, the monthly archive and `tracker report` hold no lock while they read.

Each test writes from another connection while the report is still being made, and gives
that writer a short wait (WRITER_WAIT_MS): with the lock held, it fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tracker.database import SQLITE_BUSY_TIMEOUT_MS, reads_only
from tracker.extensions import db
from tracker.models import ActionPlan, ReportRequest, ReportSnapshot
from tracker.services.reports import build_requested
from tracker.services.reports.pdf import render_report
from tracker.vocabulary import ReportRequestStatus

PLAN_KEY = "az-nap-2020-2022"
WRITER_WAIT_MS = 300
#: a write that changes nothing but needs the write lock
A_WRITE = text("UPDATE action_plan SET key = key")


def write_from_another_connection() -> None:
    """The write, made by another thread (as a worker of the server would) on a
    connection of its own, and waited for; its error, if any, is raised here."""
    engine, errors = db.engine, []

    def write() -> None:
        try:
            with engine.connect() as other:
                _write(other)
        except OperationalError as error:
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    if errors:
        raise errors[0]


def _write(other) -> None:
    sqlite = other.dialect.name == "sqlite"
    if sqlite:
        other.exec_driver_sql(f"PRAGMA busy_timeout={WRITER_WAIT_MS}")
    try:
        other.execute(A_WRITE)
        other.commit()
    finally:
        if sqlite:
            other.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@pytest.fixture
def writes_meanwhile(monkeypatch):
    """Patch a module's render_report so that, once the report's data is read and its
    PDF made, another connection writes before the build goes on. Gives the list of
    writes that got through."""
    written: list[str] = []

    def patch(module: str) -> list[str]:
        def rendering(session, spec):
            data = render_report(session, spec)
            write_from_another_connection()
            written.append(spec.locale)
            return data

        monkeypatch.setattr(f"{module}.render_report", rendering)
        return written

    return patch


def test_the_scheduler_builds_a_report_while_a_monitor_saves(
    app, monitoring, client, writes_meanwhile
):
    written = writes_meanwhile("tracker.services.reports.queue")
    db.session.commit()
    assert client.get(f"/reports/plan/{PLAN_KEY}.pdf?as_of=2021-06-30&lang=en").status_code == 202
    assert build_requested(db.session) == 1
    row = db.session.scalar(select(ReportRequest))
    assert (row.status, row.error) == (ReportRequestStatus.READY, "")
    assert written == ["en"]


def test_the_monthly_archive_keeps_no_writer_waiting(app, monitoring, writes_meanwhile):
    app.config["TRACKER_TODAY"] = "2021-07-04"
    written = writes_meanwhile("tracker.services.reports.archive")
    made = archive(datetime(2021, 7, 1, 2, 0, tzinfo=UTC))
    assert sorted(snapshot.locale for snapshot in made) == ["az", "en"]
    assert sorted(written) == ["az", "en"]
    assert db.session.scalar(select(ReportSnapshot).limit(1)) is not None


def archive(now: datetime) -> list[ReportSnapshot]:
    from tracker.services.reports.archive import archive_monthly_snapshot

    return archive_monthly_snapshot(db.session, now)


def test_the_report_command_keeps_no_writer_waiting(
    app, monitoring, runner, tmp_path, writes_meanwhile
):
    app.config["TRACKER_TODAY"] = "2021-07-04"
    written = writes_meanwhile("tracker.commands.reports")
    out = tmp_path / "plan.pdf"
    args = ["report", "--plan", PLAN_KEY, "--as-of", "2021-06-30", "--lang", "en", "--out"]
    result = runner.invoke(args=[*args, str(out)])
    assert result.exit_code == 0, result.output
    assert written == ["en"] and out.read_bytes().startswith(b"%PDF")


def test_a_read_only_block_refuses_writes_and_the_next_transaction_writes(app, monitoring):
    db.session.commit()
    with reads_only(db.session):
        assert db.session.scalar(select(ActionPlan.key)) == PLAN_KEY
        if db.engine.dialect.name == "sqlite":
            with pytest.raises(OperationalError, match="readonly"):
                db.session.execute(A_WRITE)
    # the pooled connection writes again outside the block
    db.session.execute(A_WRITE)
    db.session.commit()
    write_from_another_connection()


def test_a_read_only_block_needs_the_session_to_have_committed(app, monitoring):
    db.session.scalar(select(ActionPlan.key))
    with pytest.raises(RuntimeError, match="commit first"), reads_only(db.session):
        pass
