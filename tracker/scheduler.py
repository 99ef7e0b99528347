"""The scheduler: APScheduler 3.11 in its own process, one instance at a time.

Run it with `tracker scheduler` (or `python -m tracker scheduler`); `tracker serve` starts
it as a child process beside the web server (tracker.commands.serve). Web workers never
start it: importing or creating the app starts nothing.

Adding a job
------------
Append a `ScheduledJob` to `SCHEDULED_JOBS` with `register_job` (one line, e.g. at the
bottom of this module)::

    register_job(ScheduledJob(
        id="monthly-report-snapshot",
        func="tracker.services.reports.archive:scheduled_snapshot_job",
        cron={"day": 1, "hour": 6, "minute": 0},
    ))

- `func` is a "module:function" reference (imported only in the scheduler process). The
  function is called as `func(session, now)` inside an app context, with `db.session` and
  an aware UTC `now`; the scheduler commits after it returns and rolls back if it raises.
  Make it idempotent: after a crash or a catch-up it may run again for the same period.
- `cron` holds CronTrigger fields in Asia/Baku time, or a function of the app's config
  returning them (see the reminders job). A frequent job gives `interval` instead: its
  period in seconds, or a function of the config returning it, and `log_runs=False` so
  that its runs are logged only when they fail; `frequent_job` makes such a job from a
  config setting (see the mail outbox job).
- Every job gets `coalesce=True`, `max_instances=1` and a misfire grace of
  `misfire_grace_hours` (default 12): a scheduler that was down at the fire time catches
  up once when it comes back within the grace, not once per missed day.

How it stays single and catches up
----------------------------------
- Jobs live in a persistent job store (the `scheduler_job` table, declared in
  tracker.models.reminders), so the next run time survives a restart; that is what lets
  a scheduler that was down run a missed job once. At start-up an existing job keeps its
  stored next run time; only a changed trigger reschedules it.
- A single-instance lock: `pg_try_advisory_lock` held on a dedicated connection on
  PostgreSQL (released by the server when the process dies), a `filelock` next to the
  database file on SQLite. A second scheduler stays idle and retries the lock every
  LOCK_RETRY_SECONDS, so it takes over when the first one stops.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from flask import Flask

from tracker import clock

logger = logging.getLogger("tracker.scheduler")

#: how often an idle scheduler tries the lock again, and a running one checks it holds it
#: (config SCHEDULER_LOCK_RETRY_SECONDS, or the environment variable of that name)
LOCK_RETRY_SECONDS = 15.0
#: the advisory lock's first key on PostgreSQL ("TRKR"); the second is the schema's hash
ADVISORY_LOCK_CLASS = 0x54524B52 & 0x7FFFFFFF
JOB_TABLE = "scheduler_job"


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    #: "module:function", called as function(session, now)
    func: str
    #: CronTrigger fields (Asia/Baku), or a function of the app config returning them
    cron: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    misfire_grace_hours: float = 12
    extra: dict = field(default_factory=dict)
    #: instead of `cron`: every so many seconds, or a function of the config returning it
    interval: float | Callable[[Mapping[str, Any]], float] | None = None
    #: False for a frequent job: its runs are logged only when they fail
    log_runs: bool = True

    def trigger(self, config: Mapping[str, Any]) -> CronTrigger | IntervalTrigger:
        if self.interval is not None:
            seconds = self.interval(config) if callable(self.interval) else self.interval
            return IntervalTrigger(seconds=max(float(seconds), 1.0), timezone=clock.BAKU_TZ_NAME)
        fields = self.cron(config) if callable(self.cron) else self.cron
        return CronTrigger(timezone=clock.BAKU_TZ_NAME, **(fields or {}))


SCHEDULED_JOBS: list[ScheduledJob] = []


def register_job(job: ScheduledJob) -> None:
    """Add a job to every scheduler built after this call (ids are unique)."""
    if any(existing.id == job.id for existing in SCHEDULED_JOBS):
        raise ValueError(f"a scheduled job with id {job.id!r} is already registered")
    SCHEDULED_JOBS.append(job)


def frequent_job(job_id: str, func: str, setting: str, default_seconds: float) -> ScheduledJob:
    """A job that polls a queue: every `setting` seconds of the config (`default_seconds`
    when unset), a quarter-hour misfire grace, its runs logged only when they fail."""
    return ScheduledJob(
        id=job_id,
        func=func,
        interval=lambda config: float(config.get(setting) or default_seconds),
        misfire_grace_hours=0.25,
        log_runs=False,
    )


register_job(
    ScheduledJob(
        id="reminders",
        func="tracker.services.reminders:scheduled_reminders_job",
        cron=lambda config: {
            "hour": int(config.get("REMINDER_HOUR", 9)),
            "minute": int(config.get("REMINDER_MINUTE", 0)),
        },
    )
)
# Deliveries that a 4xx answer or a dropped connection deferred, without planning anew.
register_job(
    ScheduledJob(
        id="reminder-retries",
        func="tracker.services.reminders:scheduled_retry_job",
        cron={"minute": "*/15"},
        misfire_grace_hours=0.25,
    )
)
# Pending uploads (kept across a form's attempts) whose day has passed.
register_job(
    ScheduledJob(
        id="expired-pending-files",
        func="tracker.services.monitoring.storage:scheduled_expired_pending_job",
        cron={"minute": 40},
        misfire_grace_hours=1,
    )
)
# Emails that requests planned in the mail outbox: account emails (invitations, password
# resets) and instant notices of submitted, returned and approved updates.
register_job(
    frequent_job(
        "mail-outbox",
        "tracker.services.mail_jobs:scheduled_mail_job",
        "MAIL_OUTBOX_INTERVAL_SECONDS",
        30,
    )
)
# The plan report's monthly snapshot for the public archive (services.report_archive).
register_job(
    ScheduledJob(
        id="monthly-report-snapshot",
        func="tracker.services.reports.archive:scheduled_snapshot_job",
        cron={"day": 1, "hour": 6, "minute": 0},
        # a snapshot a few days late beats a month missing from the archive
        misfire_grace_hours=24 * 7,
    )
)

# Reports asked for on the web: built here, never inside a request (services.reports.queue).
register_job(
    frequent_job(
        "report-requests",
        "tracker.services.reports:scheduled_report_job",
        "REPORT_QUEUE_INTERVAL_SECONDS",
        3,
    )
)

# SQLite's query planner statistics, as the data grows (tracker.database); nothing to do on
# PostgreSQL, whose autovacuum keeps them.
register_job(
    ScheduledJob(
        id="planner-statistics",
        func="tracker.database:scheduled_statistics_job",
        cron={"hour": 4, "minute": 30},
        misfire_grace_hours=24,
    )
)


# --- running one job -------------------------------------------------------------------------

#: the app of this scheduler process (jobs in the store name only the job id)
_app: Flask | None = None


def run_job(job_id: str) -> None:
    """What the scheduler calls: `job_id`'s function inside an app context."""
    if _app is None:
        raise RuntimeError("the scheduler's app is not set")
    job = next(j for j in SCHEDULED_JOBS if j.id == job_id)
    from tracker.extensions import db

    func = ref_to_obj(job.func)
    log = logger.info if job.log_runs else logger.debug
    with _app.app_context():
        try:
            log("Job %s starting", job_id)
            func(db.session, clock.now_utc())
            db.session.commit()
            log("Job %s finished", job_id)
        except Exception:
            db.session.rollback()
            logger.exception("Job %s failed", job_id)
            raise
        finally:
            db.session.remove()


# --- building the scheduler ------------------------------------------------------------------


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """A scheduler on the app's database job store; `start_jobs` adds the jobs."""
    from tracker.extensions import db

    global _app
    _app = app
    with app.app_context():
        engine = db.engine
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": 2}},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=clock.BAKU_TZ_NAME,
    )


def start_jobs(
    scheduler: BackgroundScheduler, config: Mapping[str, Any], *, paused: bool = False
) -> None:
    """Start the scheduler with every registered job. A job already in the store keeps its
    stored next run time (so a missed run is caught up); a changed trigger reschedules it."""
    scheduler.start(paused=True)
    for job in SCHEDULED_JOBS:
        trigger = job.trigger(config)
        grace = int(timedelta(hours=job.misfire_grace_hours).total_seconds())
        existing = scheduler.get_job(job.id)
        if existing is None:
            scheduler.add_job(
                "tracker.scheduler:run_job",
                trigger=trigger,
                args=[job.id],
                id=job.id,
                name=job.id,
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
            )
            continue
        if str(existing.trigger) != str(trigger):
            scheduler.reschedule_job(job.id, trigger=trigger)
        scheduler.modify_job(
            job.id, misfire_grace_time=grace, coalesce=True, max_instances=1, args=[job.id]
        )
    known = {job.id for job in SCHEDULED_JOBS}
    for stored in scheduler.get_jobs():
        if stored.id not in known:
            scheduler.remove_job(stored.id)
    if not paused:
        scheduler.resume()


# --- the single-instance lock ----------------------------------------------------------------


class SchedulerLock(Protocol):
    """Held by at most one scheduler process for one database."""

    def acquire(self) -> bool: ...

    def is_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """pg_try_advisory_lock on a connection of its own. The key includes the schema, so
    two deployments (or test runs) on one server do not block each other. If the
    connection dies, so does the lock: `is_held` notices and the scheduler stops."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self._connection = None

    def acquire(self) -> bool:
        from sqlalchemy import text

        connection = self._engine.connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                {"k": ADVISORY_LOCK_CLASS},
            ).scalar()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def is_held(self) -> bool:
        from sqlalchemy import text

        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND classid = :k "
                    "AND objid = hashtext(current_schema())::oid AND granted"
                ),
                {"k": ADVISORY_LOCK_CLASS},
            ).scalar()
            self._connection.commit()
        except Exception:
            logger.exception("The scheduler lock's connection failed")
            return False
        return bool(held)

    def release(self) -> None:
        from sqlalchemy import text

        if self._connection is None:
            return
        try:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                {"k": ADVISORY_LOCK_CLASS},
            )
            self._connection.commit()
        except Exception:
            # Really close the session (not back to the pool): that ends the lock.
            logger.exception("Could not release the scheduler lock; closing its connection")
            self._connection.invalidate()
        finally:
            self._connection.close()
            self._connection = None


class FileSchedulerLock:
    """An OS file lock (flock) next to the SQLite file; the OS drops it with the process."""

    def __init__(self, path: Path) -> None:
        from filelock import FileLock

        self.path = path
        self._lock = FileLock(str(path), is_singleton=False)

    def acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def is_held(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


def lock_for(app: Flask) -> SchedulerLock:
    from tracker.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    database = engine.url.database
    if database and database != ":memory:":
        path = Path(database).resolve().with_name(Path(database).name + ".scheduler.lock")
    else:
        path = Path(app.instance_path) / "scheduler.lock"
    return FileSchedulerLock(path)


# --- the foreground loop ---------------------------------------------------------------------


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Hold the lock and run the jobs until told to stop (SIGTERM/SIGINT, or the parent
    `tracker serve` going away); without the lock, stay idle and try again."""
    stop = stop or threading.Event()
    retry_seconds = float(
        app.config.get("SCHEDULER_LOCK_RETRY_SECONDS")
        or os.environ.get("SCHEDULER_LOCK_RETRY_SECONDS")
        or LOCK_RETRY_SECONDS
    )
    parent_pid = _watched_parent()
    lock = lock_for(app)
    waiting_logged = False
    while not stop.is_set():
        if parent_pid and os.getppid() != parent_pid:
            logger.info("The server that started the scheduler has gone; stopping.")
            break
        if not lock.acquire():
            if not waiting_logged:
                logger.info("Another scheduler holds the lock; this one stays idle.")
                waiting_logged = True
            stop.wait(retry_seconds)
            continue
        waiting_logged = False
        logger.info("Scheduler lock acquired; running jobs (pid %s).", os.getpid())
        scheduler = build_scheduler(app)
        try:
            start_jobs(scheduler, app.config)
            for job in scheduler.get_jobs():
                logger.info("Job %s: next run %s", job.id, job.next_run_time)
            while not stop.wait(retry_seconds):
                if parent_pid and os.getppid() != parent_pid:
                    logger.info("The server that started the scheduler has gone; stopping.")
                    stop.set()
                elif not lock.is_held():
                    logger.warning("The scheduler lock was lost; pausing until it is back.")
                    break
        finally:
            scheduler.shutdown(wait=True)
            lock.release()
    logger.info("Scheduler stopped.")


def _watched_parent() -> int | None:
    value = os.environ.get("TRACKER_SCHEDULER_PARENT_PID", "")
    return int(value) if value.isdigit() else None


def install_signal_handlers(stop: threading.Event) -> None:
    def _stop(signum, _frame):
        logger.info("Signal %s received; stopping the scheduler.", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
            stream=sys.stderr,
        )
    # APScheduler logs every run ("Running job ..."): the mail outbox runs every few
    # seconds. run_job logs the runs worth logging, and every failure.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
