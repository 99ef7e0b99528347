"""Processes that die or vanish under the served app (issue 11, item 7): a gunicorn worker
killed with SIGKILL in the middle of writes leaves nothing half-written, and mail sent
while the SMTP server is down arrives once it is back, each message once.

These tests run a served app of their own (on the test run's database kind), with an SMTP
server that they stop and start again on the same port, so that the shared served app
and its mail server are never disturbed."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from tests.accounts.route_world import build_world
from tests.conftest import POSTGRES_URL
from tests.helpers import RecordingHandler, SMTPServer, free_port
from tests.reliability.writers import writers_running
from tests.served.server import ServedApp, served_database
from tracker import clock
from tracker.extensions import db
from tracker.models import Evidence, MailRequest, StatusUpdate, StoredFile
from tracker.vocabulary import MailStatus

pytestmark = pytest.mark.served

WAIT_SECONDS = 20


class StoppableSMTP:
    """A real SMTP server on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.server = SMTPServer("127.0.0.1", free_port(), RecordingHandler())
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.server.handler, hostname="127.0.0.1", port=self.server.port
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="module")
def own_served(tmp_path_factory):
    smtp = StoppableSMTP()
    smtp.start()
    workdir = tmp_path_factory.mktemp("served-processes")
    database = served_database(POSTGRES_URL, workdir)
    served = ServedApp(workdir, database.url, smtp.server.port, free_port(), smtp=smtp.server)
    try:
        served.start()
        yield served, smtp
    finally:
        served.stop()
        smtp.stop()
        if database.drop:
            database.drop()


@pytest.fixture
def fresh(own_served):
    served, smtp = own_served
    served.reset()
    with smtp.server.handler.lock:
        smtp.server.handler.messages.clear()
    with served.app_context():
        yield served, smtp
        db.session.remove()


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gunicorn_workers(served: ServedApp) -> list[int]:
    masters = [
        pid
        for pid in children_of(served.process.pid)
        if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(masters) == 1, masters
    return children_of(masters[0])


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return result


def test_a_worker_killed_mid_write_leaves_nothing_half_written(fresh):
    served, _smtp = fresh
    world = build_world(str(served.upload_folder))
    email, measure_id = world.users["monitor_a"].email, world.measure_a.id
    db.session.commit()
    before = set(db.session.scalars(select(StatusUpdate.id)))
    db.session.commit()
    workers = gunicorn_workers(served)
    jobs = [(email, measure_id, f"KILLED-{n}", 8) for n in range(4)]
    with writers_running(served, jobs, with_files=True, tolerate_errors=True) as statuses:
        # the writers are logged in and writing: both workers are busy
        wait_for(lambda: new_update_count(before) >= 2, "the first updates")
        os.kill(workers[0], signal.SIGKILL)
    answered = sum(s == 302 for job in statuses for s in job)
    lost = sum(s != 302 for job in statuses for s in job)
    print(f"killed worker {workers[0]}: {answered} saved, {lost} cut off")
    assert all(s in (302, -1) for job in statuses for s in job), statuses
    wait_for(lambda: len(gunicorn_workers(served)) == 2, "gunicorn to replace the worker")
    assert served.client().get("/").status_code == 200

    db.session.rollback()
    new = db.session.scalars(select(StatusUpdate).where(StatusUpdate.id.not_in(before))).all()
    assert answered <= len(new) <= answered + lost
    for status_update in new:  # each update whole: its evidence and its complete file
        evidence = db.session.scalars(
            select(Evidence).where(Evidence.update_id == status_update.id)
        ).all()
        assert len(evidence) == 1 and evidence[0].file_id is not None
        stored = db.session.get(StoredFile, evidence[0].file_id)
        content = (served.upload_folder / stored.stored_name).read_bytes()
        assert len(content) == stored.size_bytes
        assert hashlib.sha256(content).hexdigest() == stored.sha256
    db.session.commit()
    check = served.run_cli("check-storage", "--dry-run", "--grace-minutes", "0")
    assert "0 rows whose file is missing" in check.stdout, check.stdout
    assert check.returncode == 0, check.stdout + check.stderr


def test_mail_sent_while_smtp_is_down_arrives_once_it_is_back(fresh):
    served, smtp = fresh
    world = build_world(str(served.upload_folder))
    addresses = [
        world.users[name].email for name in ("admin", "reviewer", "monitor_a", "monitor_b")
    ]
    db.session.commit()
    smtp.stop()
    try:
        visitor = served.client()
        for address in addresses:
            response = visitor.post_form("/password/forgot", {"email": address})
            assert response.status_code == 302
        # the outbox job runs every second: it tries, finds no server and keeps the mail
        wait_for(lambda: retrying_rows(), "the outbox to try the unreachable server")
        assert smtp.server.handler.messages == []
    finally:
        smtp.start()
    # the backoff (a minute at first) has passed
    with served.app_context():
        db.session.execute(
            update(MailRequest)
            .where(MailRequest.status == MailStatus.RETRY)
            .values(next_attempt_dt=clock.now_utc())
        )
        db.session.commit()
    for address in addresses:
        served.email_to(address, "/password/reset")
    time.sleep(3)  # a few more runs of the outbox job: nothing is sent again
    for address in addresses:
        assert len(served.emails_to(address)) == 1, address
    db.session.rollback()
    statuses = db.session.scalars(select(MailRequest.status)).all()
    assert sorted(statuses) == [MailStatus.SENT] * len(addresses)


def new_update_count(before: set[int]) -> int:
    db.session.rollback()
    count = len(set(db.session.scalars(select(StatusUpdate.id))) - before)
    db.session.commit()
    return count


def retrying_rows() -> int:
    db.session.rollback()
    rows = db.session.scalars(
        select(MailRequest).where(MailRequest.status == MailStatus.RETRY)
    ).all()
    db.session.commit()
    return len(rows)
