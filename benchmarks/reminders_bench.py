"""How long the reminder run takes at 5,000 organisations × 100 monitored measures.

    .venv/bin/python benchmarks/reminders_bench.py
    .venv/bin/python benchmarks/reminders_bench.py --database-url \
        postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/reminders_bench.py --organisations 500 --dry-run

It builds its own database (a temporary SQLite file, or a private schema that is dropped
afterwards on PostgreSQL) and generates:

- one plan of 1,000 measures in 10 sections: 70% due 2022-12-31, 20% due 2021-12-31 and
  10% due 2020-12-31 (the seeded plan has 64 measures, too few for 100 per organisation);
- N organisations (5,000) with one monitor each, alternately az and en, each monitoring
  100 measures (a window sliding over the plan): N × 100 monitoring links;
- an approved update, dated 2022-08-01, for every tenth link (so those are not stale),
  and 10 reviewers with 50 updates that have waited 10 days for review.

Then it runs the job at 2022-10-02 09:00 Baku, as the scheduler would: deadline
reminders for the measures due 2022-12-31, overdue ones for the others, "no recent
update" for the links without one, and "waiting for review" for the reviewers. The
digests go to a local SMTP sink on 127.0.0.1 (or nowhere with --dry-run). A second
run the same day (everything already in the outbox, nothing to send) is timed too.

The sink shares the machine's cores with the run. Postfix's smtp-sink, a C program made
for benchmarking mail senders, is used when it is installed (Debian's postfix package:
`apt-get install -y postfix`; on a workstation `systemctl disable --now postfix` then
stops the mail server it also installs); otherwise aiosmtpd, which takes about a quarter
of a core for the run's 240 MB of mail. `--sink` chooses, and the output names the sink.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker import create_app
from tracker.clock import baku_date
from tracker.extensions import db
from tracker.models import (
    ActionPlan,
    Measure,
    MonitoringLink,
    Organisation,
    ReminderItem,
    Section,
    StatusUpdate,
    User,
)
from tracker.services.reminders import RunReport, plan_outbox, planning_connections, run_reminders

NOW = datetime(2022, 10, 2, 9, 0, tzinfo=ZoneInfo("Asia/Baku")).astimezone(UTC)
PLAN_MEASURES = 1000
SECTIONS = 10
CHUNK = 10_000


SINK_SCRIPT = """
import asyncio, signal, sys, time
from aiosmtpd.controller import Controller

class Sink:
    messages = 0
    size = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.messages += 1
        Sink.size += len(envelope.content)
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), data_size_limit=0)
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
controller.stop()
print(Sink.messages, Sink.size, time.process_time(), flush=True)
"""


SMTP_SINK = Path("/usr/sbin/smtp-sink")
#: smtp-sink's running counters, printed each time a message ends
_SMTP_SINK_COUNTERS = re.compile(r"mesg=(\d+)")


class SinkProcess:
    """aiosmtpd accepting everything, in a process of its own so that its work does not
    count in the run's time."""

    name = "aiosmtpd"

    def __init__(self, port: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", SINK_SCRIPT, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> tuple[int, int, float]:
        """(messages, bytes, the sink's CPU seconds: it shares the machine's cores with
        the run)."""
        out, _err = self.process.communicate("", timeout=60)
        messages, size, cpu = out.split()
        return int(messages), int(size), float(cpu)


class SmtpSinkProcess:
    """Postfix's smtp-sink accepting everything (it counts messages, not bytes)."""

    name = "Postfix smtp-sink"

    def __init__(self, port: int) -> None:
        # -c: counters on stdout; -a: no AUTH offered; -u: root must name a user to run as
        as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
        command = [str(SMTP_SINK), "-c", "-a", *as_user, f"127.0.0.1:{port}", "256"]
        # its counters go to a file: a line per message would fill a pipe and stall it
        self.counters = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (a fixed system program)
            command, stdout=self.counters, stderr=subprocess.PIPE, text=True
        )
        _wait_for_port(port, self.process)

    def stop(self) -> tuple[int, int | None, float]:
        cpu = _process_cpu_seconds(self.process.pid)
        self.process.terminate()
        self.process.communicate(timeout=60)
        self.counters.seek(0)
        counts = _SMTP_SINK_COUNTERS.findall(self.counters.read())
        self.counters.close()
        return int(counts[-1]) if counts else 0, None, cpu


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"smtp-sink exited: {process.stderr.read().strip()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("smtp-sink did not answer within 10 s")


def _process_cpu_seconds(pid: int) -> float:
    """User and system time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sink(choice: str, port: int) -> SinkProcess | SmtpSinkProcess:
    """The sink `--sink` names; "auto": smtp-sink where it is installed and starts, else
    aiosmtpd."""
    if choice == "smtp-sink":
        return SmtpSinkProcess(port)
    if choice == "auto" and SMTP_SINK.exists():
        try:
            return SmtpSinkProcess(port)
        except RuntimeError as error:
            print(f"{error}; using aiosmtpd", file=sys.stderr)
    return SinkProcess(port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _chunks(rows: list[dict]):
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk(table, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        db.session.execute(insert(table), chunk)


def generate(organisations: int, per_organisation: int) -> None:
    started = time.perf_counter()
    plan = ActionPlan(
        key="bench-plan",
        country="AZ",
        title_az="Sınaq planı",
        title_en="Benchmark plan",
        period="2020–2022",
        start_year=2020,
        end_year=2022,
    )
    db.session.add(plan)
    db.session.flush()
    sections = []
    for number in range(1, SECTIONS + 1):
        section = Section(
            plan_id=plan.id, number=number, title_az=f"Bölmə {number}", title_en=f"Section {number}"
        )
        db.session.add(section)
        sections.append(section)
    db.session.flush()
    measures = []
    for position in range(PLAN_MEASURES):
        share = position % 10
        end_year = 2022 if share < 7 else (2021 if share < 9 else 2020)
        section = sections[position % SECTIONS]
        measures.append(
            {
                "plan_id": plan.id,
                "section_id": section.id,
                "code": f"{section.number}.{position // SECTIONS + 1}",
                "position": position,
                "title_az": f"Tədbir {position}: şəffaflığın artırılması üzrə tədbirlər",
                "title_en": f"Measure {position}: steps to increase transparency",
                "indicator_az": "İndikator",
                "indicator_en": "Indicator",
                "deadline": f"2020–{end_year}" if end_year > 2020 else "2020",
                "start_year": 2020,
                "end_year": end_year,
                "due_date": date(end_year, 12, 31),
            }
        )
    _bulk(Measure.__table__, measures)
    measure_ids = list(db.session.scalars(select(Measure.id).order_by(Measure.position)))
    _bulk(
        Organisation.__table__,
        [
            {
                "kind": "organisation",
                "name_az": f"Birlik {n:05d}",
                "name_en": f"Union {n:05d}",
                "name_key": f"birlik-{n:05d}",
                "aliases": [],
                "search_text": f"birlik {n:05d}",
                "is_archived": False,
                "created_dt": NOW,
                "updated_dt": NOW,
            }
            for n in range(organisations)
        ],
    )
    organisation_ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    _bulk(
        User.__table__,
        [
            {
                "email": f"monitor{n:05d}@example.org",
                "display_name": f"Monitor {n}",
                "role": "monitor",
                "organisation_id": organisation_id,
                "locale": "az" if n % 2 == 0 else "en",
                "is_enabled": True,
                "session_version": 1,
                "created_dt": NOW,
            }
            for n, organisation_id in enumerate(organisation_ids)
        ]
        + [
            {
                "email": f"reviewer{n}@example.org",
                "display_name": f"Reviewer {n}",
                "role": "reviewer",
                "organisation_id": None,
                "locale": "en",
                "is_enabled": True,
                "session_version": 1,
                "created_dt": NOW,
            }
            for n in range(10)
        ],
    )
    links, updates = [], []
    for n, organisation_id in enumerate(organisation_ids):
        first = (n * 7) % PLAN_MEASURES
        for k in range(per_organisation):
            measure_id = measure_ids[(first + k) % PLAN_MEASURES]
            links.append(
                {
                    "organisation_id": organisation_id,
                    "measure_id": measure_id,
                    "start_date": date(2021, 1, 1),
                    "is_lead": False,
                    "created_dt": NOW,
                }
            )
            if k % 10 == 0:
                updates.append(_update(measure_id, organisation_id, "approved", None))
    waited = datetime(2022, 9, 22, 8, 0, tzinfo=UTC)
    for n in range(min(50, organisations)):
        updates.append(_update(measure_ids[n], organisation_ids[n], "submitted", waited))
    _bulk(MonitoringLink.__table__, links)
    _bulk(StatusUpdate.__table__, updates)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # A live database's autovacuum analyses a table within a minute of a bulk load
        # (and leaves alone the tables that nothing was written to). Without statistics
        # the planner takes the 5,000 monitors for one row and checks each link's review
        # queue by a loop: the statement that collects the due reminders took 8.9 s
        # instead of 1.7 s. By name: a bare ANALYZE reads every schema of the database.
        loaded = (ActionPlan, Section, Measure, Organisation, User, MonitoringLink, StatusUpdate)
        for model in loaded:
            db.session.execute(text(f'ANALYZE "{model.__tablename__}"'))
        db.session.commit()
    print(
        f"generated {organisations} organisations, {len(links)} links, {len(updates)} updates, "
        f"{PLAN_MEASURES} measures in {time.perf_counter() - started:.1f} s"
    )


def _update(measure_id: int, organisation_id: int, state: str, submitted) -> dict:
    return {
        "measure_id": measure_id,
        "organisation_id": organisation_id,
        "completion": "limited",
        "as_of_date": date(2022, 8, 1),
        "narrative_az": "",
        "narrative_en": "",
        "delay_reasons": [],
        "review_state": state,
        "return_reason": "",
        "is_archived": False,
        "created_dt": NOW,
        "submitted_dt": submitted,
    }


@dataclass
class TimedRun:
    report: RunReport
    seconds: float
    planning_seconds: float


def machine_cpu_seconds() -> float | None:
    """CPU time the whole machine has spent busy so far (every process: the app's, the
    database's, the sink's), from /proc/stat; None where there is none. On a machine whose
    cores are all busy, wall time follows this sum, not one process's CPU."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _machine_cpu(start: float | None, end: float | None) -> str:
    return "n/a" if start is None or end is None else f"{end - start:.1f} s"


def timed_run(label: str, dry_run: bool) -> TimedRun:
    """The job as the scheduler runs it (plan the outbox with set-based SQL, then
    deliver), timed as a whole and by phase."""
    db.session.remove()
    wall, cpu, machine = time.perf_counter(), time.process_time(), machine_cpu_seconds()
    today = baku_date(NOW)
    due, new = plan_outbox(db.session, today, NOW, connections=planning_connections(dry_run))
    if not dry_run:  # a dry run previews the uncommitted outbox, then rolls back
        db.session.commit()
    plan_s, planned_machine = time.perf_counter() - wall, machine_cpu_seconds()
    report = run_reminders(db.session, NOW, today, dry_run=dry_run, plan=False)
    total, finished_machine = time.perf_counter() - wall, machine_cpu_seconds()
    print(
        f"{label}: {total:.1f} s wall, {time.process_time() - cpu:.1f} s CPU "
        f"(planning into the outbox {plan_s:.1f} s, delivery {total - plan_s:.1f} s) — "
        f"{due} reminders due, {new} new in the outbox; {report.summary()}\n"
        f"  the machine's CPU (all processes, {os.cpu_count()} cores): planning "
        f"{_machine_cpu(machine, planned_machine)}, delivery "
        f"{_machine_cpu(planned_machine, finished_machine)}",
        flush=True,
    )
    return TimedRun(report, total, plan_s)


def _figures(args, first: TimedRun, second: TimedRun, messages: int, sink: str) -> dict:
    return {
        "organisations": args.organisations,
        "links_per_organisation": args.measures_per_organisation,
        "first_run_seconds": round(first.seconds, 2),
        "first_run_planning_seconds": round(first.planning_seconds, 2),
        "second_run_seconds": round(second.seconds, 2),
        "digests_sent": first.report.digests_sent,
        "emails_received": messages,
        "sink": sink,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--organisations", type=int, default=5000)
    parser.add_argument("--measures-per-organisation", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true", help="plan and compose, send nothing")
    parser.add_argument(
        "--json", action="store_true", help="end with the figures as one JSON line (run.py)"
    )
    parser.add_argument(
        "--sink",
        choices=("auto", "smtp-sink", "aiosmtpd"),
        default="auto",
        help="the local SMTP server (default: smtp-sink where installed, else aiosmtpd)",
    )
    args = parser.parse_args()
    if args.json and args.dry_run:
        parser.error("--json reports a real run: leave out --dry-run")

    schema = None
    with tempfile.TemporaryDirectory() as folder:
        engine_options: dict = {"pool_pre_ping": True}
        if args.database_url:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = args.database_url
            engine_options["connect_args"] = {"options": f"-csearch_path={schema}"}
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
        sink = None
        config = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SECRET_KEY": "benchmark",
            "PUBLIC_BASE_URL": "https://tracker.example.org",
            "SMTP_HOST": None,
        }
        if not args.dry_run:
            port = _free_port()
            sink = start_sink(args.sink, port)
            sink_name = sink.name
            config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
        app = create_app(config)
        try:
            with app.app_context():
                db.create_all()
                generate(args.organisations, args.measures_per_organisation)
                print(f"database: {db.engine.dialect.name}")
                first = timed_run("first run", args.dry_run)
                if not args.dry_run:
                    second = timed_run("second run, same day", False)
                    items = db.session.scalar(select(func.count()).select_from(ReminderItem))
                    messages, size, sink_cpu = sink.stop()
                    sink = None
                    received = f"{messages}, {size / 1e6:.1f} MB" if size is not None else messages
                    print(
                        f"outbox: {items} reminders planned; emails received by the sink "
                        f"({sink_name}): {received}, {sink_cpu:.1f} s of the sink's CPU; "
                        f"digests sent: first run {first.report.digests_sent}, "
                        f"second run {second.report.digests_sent}"
                    )
                    if args.json:
                        print(json.dumps(_figures(args, first, second, messages, sink_name)))
                else:
                    print(f"digests that would go out: {len(first.report.previews)}")
                db.session.remove()
                db.engine.dispose()
        finally:
            if sink is not None:
                sink.stop()
            if schema:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
