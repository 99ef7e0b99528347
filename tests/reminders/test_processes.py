"""Real processes: two `send-reminders` at once, two schedulers, a restart, and the
scheduler beside `tracker serve`. Each process talks to the test database and to a real
SMTP server on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.reminders.conftest import (
    BASE_URL,
    link,
    make_organisation,
    make_user,
    measures_due,
)
from tracker import create_app
from tracker import scheduler as scheduler_module
from tracker.commands.serve import ChildProcess, scheduler_argv
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import ReminderDigest, ReminderItem, ReminderPlanning

TRACKER = str(Path(sys.executable).with_name("tracker"))
pytestmark = pytest.mark.slow


def process_env(database_url, smtp_port: int | None, **extra) -> dict:
    """The environment of a tracker process on the test database (on PostgreSQL, the test
    schema travels in the URL's `options`)."""
    url, engine_options = database_url
    search_path = engine_options.get("connect_args", {}).get("options")
    if search_path:
        url = f"{url}{'&' if '?' in url else '?'}options={quote(search_path)}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY="test-secret-key-not-for-production",
        PUBLIC_BASE_URL=BASE_URL,
        MAIL_FROM="tracker@example.org",
        SCHEDULER_LOCK_RETRY_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    if smtp_port:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_TLS="none")
    else:
        env.pop("SMTP_HOST", None)
    env.update(extra)
    return env


def wait_for(condition, timeout: float = 60, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def crowd(plan, organisations: int = 20):
    """Organisations with two monitors each, monitoring three measures due 2022-12-31."""
    measures = measures_due(2022)[:3]
    recipients = []
    for n in range(organisations):
        organisation = make_organisation(f"Birlik {n:02d}")
        for who in ("a", "b"):
            recipients.append(
                make_user(f"{who}{n:02d}@example.org", organisation=organisation).email
            )
        for measure in measures:
            link(organisation, measure)
    db.session.commit()
    return recipients


@pytest.mark.parametrize("delivery_processes", [1, 3])
def test_two_send_reminders_processes_at_the_same_moment_send_one_digest_each(
    seeded, smtp, database_url, tmp_path, delivery_processes
):
    recipients = crowd(seeded)
    # with 3, each run delivers in three processes (shares of 13 or 14 of the 40 people):
    # six processes claim at once
    env = process_env(
        database_url,
        smtp.port,
        REMINDER_DELIVERY_PROCESSES=str(delivery_processes),
        REMINDER_RECIPIENTS_PER_PROCESS="10",
    )
    command = [TRACKER, "send-reminders", "--now", "2022-10-02T09:00"]
    start = threading.Barrier(2)
    outputs: list[subprocess.CompletedProcess] = []

    def launch():
        start.wait()
        outputs.append(
            subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        )

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for output in outputs:
        assert output.returncode == 0, output.stderr
    assert smtp.recipients() == Counter({address: 1 for address in recipients})
    planned = db.session.scalar(select(func.count()).select_from(ReminderItem))
    sent = db.session.scalar(
        select(func.count()).select_from(ReminderItem).where(ReminderItem.status == "sent")
    )
    assert planned == sent == len(recipients) * 6  # 3 deadline + 3 stale each
    assert db.session.scalar(select(func.count()).select_from(ReminderDigest)) == len(recipients)
    summaries = [o.stdout.strip().splitlines()[-1] for o in outputs]
    if delivery_processes > 1:
        # a run that starts once the other has sent some shares the fewer people left
        assert any("by 3 processes" in summary for summary in summaries), summaries
    print(f"emails {len(smtp.messages)} / planned reminders {planned}: {summaries}")


def test_a_second_run_the_same_day_plans_nothing_again_and_sends_nothing(
    seeded, smtp, database_url
):
    recipients = crowd(seeded, organisations=3)
    env = process_env(database_url, smtp.port)
    summaries = []
    for now in ("2022-10-02T09:00", "2022-10-02T15:00"):
        run = subprocess.run(
            [TRACKER, "send-reminders", "--now", now],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        summaries.append(run.stdout.strip().splitlines()[-1])
    due = len(recipients) * 6  # 3 deadline + 3 stale each
    assert summaries[0].startswith(f"{due} reminders due on 2022-10-02; {due} new in the outbox")
    assert summaries[1].startswith(f"{due} reminders due on 2022-10-02; 0 new in the outbox")
    assert "0 digests sent" in summaries[1]
    assert smtp.recipients() == Counter({address: 1 for address in recipients})
    planned = db.session.get(ReminderPlanning, date(2022, 10, 2))
    assert planned.due_count == due


def test_the_dry_run_lists_the_digests_and_writes_nothing(world, runner, smtp):
    result = runner.invoke(args=["send-reminders", "--dry-run", "--now", "2022-10-02T09:00"])
    assert result.exit_code == 0, result.output
    assert "To: aysel@example.org (az)" in result.output
    assert "To: adam@example.org (en)" in result.output
    assert "Deadline approaching (2), No recent approved update (2)" in result.output
    assert "3 digests would go out (dry run, nothing written)" in result.output
    assert db.session.scalar(select(func.count()).select_from(ReminderItem)) == 0
    assert smtp.messages == []


def test_a_bad_now_is_refused_with_a_message(app, runner):
    result = runner.invoke(args=["send-reminders", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "ISO date-time" in result.output


def _mark_missed(app, minutes_ago: int = 5) -> None:
    """As if the scheduler had been down at the daily run's time: the stored next run
    time of the reminders job is in the past. The store is edited directly, so that no
    scheduler in this process could run the job."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = scheduler_module.build_scheduler(app)
    scheduler_module.start_jobs(scheduler, app.config, paused=True)
    scheduler.shutdown(wait=True)
    store = SQLAlchemyJobStore(engine=db.engine, tablename=scheduler_module.JOB_TABLE)
    store.start(BackgroundScheduler(timezone="Asia/Baku"), "default")
    job = store.lookup_job("reminders")
    job._modify(next_run_time=datetime.now(UTC) - timedelta(minutes=minutes_ago))
    store.update_job(job)
    store.shutdown()


def _start_scheduler(env, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [TRACKER, "scheduler"], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_schedulers_catch_up_once_and_a_restart_sends_nothing_twice(
    world, app, smtp, database_url, tmp_path
):
    _mark_missed(app)
    env = process_env(database_url, smtp.port, TRACKER_TODAY="2022-10-02")
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    processes = [_start_scheduler(env, log) for log in logs]
    try:
        assert wait_for(lambda: len(smtp.messages) >= 3), [log.read_text() for log in logs]
        time.sleep(3)
        assert smtp.recipients() == Counter(
            {"aysel@example.org": 1, "adam@example.org": 1, "bahruz@example.org": 1}
        )
        texts = [log.read_text() for log in logs]
        holders = [i for i, text in enumerate(texts) if "lock acquired" in text]
        assert len(holders) == 1, texts
        idle = 1 - holders[0]
        assert "stays idle" in texts[idle]
        assert "Job reminders finished" in texts[holders[0]]

        # The holder stops: the idle one takes over, and sends nothing again.
        _stop(processes[holders[0]])
        assert wait_for(lambda: "lock acquired" in logs[idle].read_text(), 30)
        time.sleep(3)
        assert "Job reminders starting" not in logs[idle].read_text()

        # A restart of the whole scheduler: still nothing sent twice.
        _stop(processes[idle])
        restarted_log = tmp_path / "scheduler-3.log"
        processes.append(_start_scheduler(env, restarted_log))
        assert wait_for(lambda: "lock acquired" in restarted_log.read_text(), 30)
        time.sleep(3)
        assert "Job reminders starting" not in restarted_log.read_text()
        assert len(smtp.messages) == 3
        assert "Job reminders: next run 2" in restarted_log.read_text()
    finally:
        for process in processes:
            _stop(process)
    print(f"emails {len(smtp.messages)} / planned reminders 12 across 3 scheduler processes")


def _jobs_done(log_text: str, job: str) -> bool:
    """`job` has finished, and so has every job that started beside it."""
    started = Counter(re.findall(r"Job (\S+) starting", log_text))
    finished = Counter(re.findall(r"Job (\S+) finished", log_text))
    return finished[job] > 0 and started == finished


def test_the_scheduler_delivers_a_large_run_in_several_processes(
    world, app, smtp, database_url, tmp_path
):
    _mark_missed(app)
    env = process_env(
        database_url,
        smtp.port,
        TRACKER_TODAY="2022-10-02",
        REMINDER_DELIVERY_PROCESSES="3",
        REMINDER_RECIPIENTS_PER_PROCESS="1",
    )
    log = tmp_path / "scheduler.log"
    scheduler = _start_scheduler(env, log)
    try:
        assert wait_for(lambda: _jobs_done(log.read_text(), "reminders")), log.read_text()
    finally:
        _stop(scheduler)
    text = log.read_text()
    # The quarter-hourly retry job may start in the same second and claim some of the
    # digests (CI once began at 11:45:00); together the runs send each digest once, and a
    # run that finds two or three recipients delivers in as many processes.
    sent = re.findall(r"(\d+) digests sent \((\d+) reminders\)", text)
    assert sum(int(digests) for digests, _ in sent) == 3, text
    assert sum(int(reminders) for _, reminders in sent) == 12, text
    assert "12 reminders due on 2022-10-02; 12 new in the outbox" in text, text
    assert re.search(r"sent \(\d+ reminders\) by [23] processes", text), text
    assert "Traceback" not in text
    assert smtp.recipients() == Counter(
        {"aysel@example.org": 1, "adam@example.org": 1, "bahruz@example.org": 1}
    )
    print(f"digests and reminders sent by each run: {sent}")


def test_only_one_lock_holder_per_database(app):
    first = scheduler_module.lock_for(app)
    second = scheduler_module.lock_for(app)
    assert first.acquire()
    try:
        assert first.is_held()
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def test_the_jobs_run_daily_in_baku_with_catch_up_once(app):
    scheduler = scheduler_module.build_scheduler(app)
    scheduler_module.start_jobs(scheduler, {"REMINDER_HOUR": 7, "REMINDER_MINUTE": 30}, paused=True)
    try:
        job = scheduler.get_job("reminders")
        assert str(job.trigger) == "cron[hour='7', minute='30']"
        assert str(job.trigger.timezone) == "Asia/Baku"
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == 12 * 3600
        assert job.next_run_time.hour == 7 and job.next_run_time.minute == 30
        assert {"reminders", "reminder-retries"} <= {j.id for j in scheduler.get_jobs()}
        stored_next = job.next_run_time
    finally:
        scheduler.shutdown(wait=False)
    # Starting again keeps the stored next run time; a new hour reschedules.
    again = scheduler_module.build_scheduler(app)
    scheduler_module.start_jobs(again, {"REMINDER_HOUR": 7, "REMINDER_MINUTE": 30}, paused=True)
    assert again.get_job("reminders").next_run_time == stored_next
    again.shutdown(wait=False)
    moved = scheduler_module.build_scheduler(app)
    scheduler_module.start_jobs(moved, {"REMINDER_HOUR": 8, "REMINDER_MINUTE": 0}, paused=True)
    assert moved.get_job("reminders").next_run_time.hour == 8
    moved.shutdown(wait=False)


def test_a_job_id_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        scheduler_module.register_job(
            scheduler_module.ScheduledJob(
                id="reminders",
                func="tracker.services.reminders:scheduled_retry_job",
                cron={},
            )
        )


def test_creating_the_app_and_serving_requests_starts_no_scheduler(app, database_url, tmp_path):
    from tests.conftest import make_test_config

    before = {thread.ident for thread in threading.enumerate()}
    web = create_app(make_test_config(database_url, tmp_path))
    web.test_client().get("/calendar/")
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert started == []


def test_serve_starts_the_scheduler_as_a_child_and_stops_it_on_exit(app, database_url):
    env = process_env(database_url, None, TRACKER_SCHEDULER_PARENT_PID=str(os.getpid()))
    child = ChildProcess("the scheduler", scheduler_argv(), env)
    probe = scheduler_module.lock_for(app)
    child.start()
    try:
        assert child.exit_code() is None
        # The child holds the scheduler lock, so this process cannot take it.
        assert wait_for(lambda: not _try(probe), 30)
    finally:
        child.stop()
    assert child.exit_code() is not None
    assert wait_for(lambda: _try(probe), 10)


def _try(lock) -> bool:
    if lock.acquire():
        lock.release()
        return True
    return False


def test_the_child_scheduler_stops_when_the_server_dies_without_cleaning_up(app, database_url):
    env = process_env(database_url, None)
    script = (
        "import os, time\n"
        "from tracker.commands.serve import ChildProcess, child_environment, scheduler_argv\n"
        "child = ChildProcess('the scheduler', scheduler_argv(), child_environment('h', 1))\n"
        "child.start()\n"
        "print(child.process.pid, flush=True)\n"
        "time.sleep(3)\n"
        "os._exit(0)\n"
    )
    server = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    pid = int(server.stdout.strip().splitlines()[-1])
    assert wait_for(lambda: not _alive(pid), 30)


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        text = status.read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in text
