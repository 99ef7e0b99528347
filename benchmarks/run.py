"""One benchmark command: build the data, start the real server, print one table.

    .venv/bin/python benchmarks/run.py [--database-url URL] [--scale seed|ogp] [--no-wrk]

- builds the database: `tracker init-db` (migrations, the seeded plan and registry) and
  ten approved updates per measure of that plan (seed scale), then, at --scale ogp, every
  OGP plan: 300 plans, 5,000 measures, 10,000 organisations and 1,000,000 updates
  (tests/ogp_scale.py; COPY on PostgreSQL), with a progress bar; after each build the
  planner statistics that a live database has (the nightly job's on SQLite, autovacuum's
  ANALYZE on PostgreSQL);
- times every public page in process, at seed scale and (with --scale ogp) again at OGP
  scale, with its query count;
- starts `tracker serve` (gunicorn with 2 workers, and the scheduler) on 127.0.0.1, with
  the page cache on Redis when one answers at --redis-url (a key prefix of its own,
  removed at the end), and runs wrk (2 threads, 16 connections, --seconds per URL) on
  the app's own 404 page (the reference), `/`, the plan JSON and `/registry/stats`;
- compares the plan JSON with Datasette serving the `measure` table as JSON from the same
  SQLite file, when Datasette is installed (`--datasette PATH`, or on PATH);
- runs benchmarks/reminders_bench.py (the reminder run: 5,000 organisations x 100 links at
  --scale ogp, 20 at seed scale) and benchmarks/reports_bench.py (the plan report PDF:
  the seeded plan, and a plan of 2,000 measures x 50 updates at --scale ogp, 100 x 5 at
  seed scale), each in a database of its own; their goals are judged at --scale ogp;
- prints ONE table: figure, value, reference in the same run, ratio, goal, pass or fail.

wrk is Debian's package: `apt-get install -y wrk`. Without wrk (or with --no-wrk) the
load rows say so and the rest still runs: the test suite runs it that way, at seed scale.
The reminder run mails Postfix's smtp-sink where it is installed (`apt-get install -y
postfix`), else aiosmtpd; its row names the sink.
Without --database-url it uses a new SQLite file; with a PostgreSQL URL it works in a
private schema that it drops at the end.

More rows: add a producer to PRODUCERS at the bottom, a function that takes the Context
and returns a list of Row.
"""

# It runs the project's own programs (tracker, wrk, datasette) on loopback URLs it made.
# ruff: noqa: S603, S607, S310

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from tests import ogp_scale  # noqa: E402

TRACKER = str(Path(sys.executable).with_name("tracker"))
PLAN = "az-nap-2020-2022"
REFERENCE_URL = "/no-such-page"
LOAD_URLS = {
    "/": "home page (plan scorecard)",
    f"/api/v1/plans/{PLAN}": "plan JSON",
    "/registry/stats": "registry stats",
}
PUBLIC_PAGES = [
    "/",
    "/plans/",
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/sections/1",
    f"/plans/{PLAN}/measures/1.1",
    "/agencies/",
    "/registry/",
    "/registry/stats",
    "/registry/coverage",
    "/feeds/updates.atom",
    "/api/v1/plans",
    f"/api/v1/plans/{PLAN}",
    f"/api/v1/measures?plan={PLAN}",
    "/api/v1/organisations",
    "/api/v1/updates",
    f"/api/v1/scorecard/{PLAN}",
]


@dataclass
class Row:
    figure: str
    value: float | None
    unit: str = ""
    reference: float | None = None
    goal: str = ""
    #: None: no goal, or nothing to judge
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference:
            return None
        return self.value / self.reference


@dataclass
class Context:
    args: argparse.Namespace
    workdir: Path
    database_url: str
    #: SQLite file of the run, when on SQLite (Datasette reads it)
    sqlite_path: Path | None = None
    base_url: str = ""
    #: per page: (median ms, queries) at seed scale, and at OGP scale
    seed_pages: dict[str, tuple[float, int]] = field(default_factory=dict)
    scaled_pages: dict[str, tuple[float, int]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    server: subprocess.Popen | None = None
    cache_prefix: str = ""
    #: req/s per URL from the load rows
    rates: dict[str, float] = field(default_factory=dict)


# --- the database ----------------------------------------------------------------------


def private_database(url: str | None, workdir: Path) -> tuple[str, Path | None, Callable]:
    """(URL for the app, SQLite file or None, clean-up): a new SQLite file, or a private
    schema of the PostgreSQL server (the served-app tests' own)."""
    from tests.served.server import served_database

    if url and not url.startswith("postgresql"):
        return url, Path(url.removeprefix("sqlite:///")), lambda: None
    database = served_database(url, workdir)
    if not url:
        return database.url, Path(database.url.removeprefix("sqlite:///")), lambda: None
    return database.url, None, database.drop


def environment(ctx: Context) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": ctx.database_url,
        "SECRET_KEY": "benchmark-secret-key",
        "UPLOAD_FOLDER": str(ctx.workdir / "uploads"),
        "REPORT_ARCHIVE_FOLDER": str(ctx.workdir / "reports"),
        "TRACKER_ADMIN_EMAIL": "bench-admin@example.org",
        "SMTP_HOST": "",
    }
    for name in ("TRACKER_TODAY", "PUBLIC_CACHE_TYPE", "REDIS_URL"):
        env.pop(name, None)
    if ctx.cache_prefix:
        env["REDIS_URL"] = ctx.args.redis_url
        env["PUBLIC_CACHE_PREFIX"] = ctx.cache_prefix
    return env


def progress_bar(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    end = "\n" if done >= total else ""
    print(
        f"\r  {label:<16} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,}",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def in_process_app(ctx: Context):
    from tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": ctx.database_url,
            "SECRET_KEY": "benchmark-secret-key",
            "UPLOAD_FOLDER": str(ctx.workdir / "uploads"),
            "PUBLIC_CACHE_TYPE": "NullCache",  # page times are the pages' own rendering
        }
    )


def page_figures(app) -> dict[str, tuple[float, int]]:
    """Median time (ms) of five renderings and the query count, per public page."""
    from tracker.extensions import db

    figures = {}
    client = app.test_client()
    for url in PUBLIC_PAGES:
        with app.app_context():
            client.get(url)  # warm-up
            statements: list[str] = []

            def count(*_args, found=statements):
                found.append("q")

            event.listen(db.engine, "before_cursor_execute", count)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            event.remove(db.engine, "before_cursor_execute", count)
            figures[url] = (statistics.median(times), len(statements) // 5)
    return figures


def build_data(ctx: Context) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [TRACKER, "init-db"],
        env=environment(ctx),
        capture_output=True,
        text=True,
        cwd=ctx.workdir,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"tracker init-db failed:\n{result.stdout}{result.stderr}")
    ctx.rows.append(
        Row("init-db (migrations, seed plan and registry)", time.perf_counter() - started, "s")
    )
    app = in_process_app(ctx)
    from tracker.extensions import db

    _make_clients_independent(app)
    with app.app_context():
        ogp_scale.build(db.session, ogp_scale.SEED)
        planner_statistics(db.session)
        db.session.remove()
    ctx.seed_pages = page_figures(app)
    if ctx.args.scale != "ogp":
        return
    started = time.perf_counter()
    with app.app_context():
        ogp_scale.build(db.session, ogp_scale.OGP, progress_bar)
        planner_statistics(db.session)
        totals = ogp_scale.counts(db.session)
        db.session.remove()
    built = time.perf_counter() - started
    ctx.rows.append(
        Row(
            f"build OGP-scale data ({totals['status_update']:,} updates, "
            f"{totals['measure']:,} measures, {totals['organisation']:,} orgs)",
            built,
            "s",
        )
    )
    ctx.scaled_pages = page_figures(app)
    with app.app_context():
        db.engine.dispose()


def planner_statistics(session) -> None:
    """What the scheduler's nightly job (and `tracker serve` at start) gives a database
    that has grown: SQLite's planner statistics. On PostgreSQL ogp_scale.build has run
    ANALYZE, as autovacuum would."""
    from tracker.database import refresh_planner_statistics

    if refresh_planner_statistics(session):
        session.commit()


def _make_clients_independent(app) -> None:
    """Each in-process request in an app context of its own, as in the served app."""
    from flask.testing import FlaskClient

    class Client(FlaskClient):
        def open(self, *args, **kwargs):
            with self.application.app_context():
                return super().open(*args, **kwargs)

    app.test_client_class = Client


# --- the served app ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.ping()
        connection.close()
        return True
    except Exception:
        return False


def start_server(ctx: Context) -> None:
    port = free_port()
    ctx.base_url = f"http://127.0.0.1:{port}"
    log = (ctx.workdir / "serve.log").open("w")
    env = environment(ctx)
    ctx.server = subprocess.Popen(
        [TRACKER, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ctx.workdir,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(ctx.base_url + "/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
        if ctx.server.poll() is not None:
            break
    sys.exit(f"tracker serve did not start:\n{(ctx.workdir / 'serve.log').read_text()[-3000:]}")


def stop_server(ctx: Context) -> None:
    if ctx.server is None:
        return
    ctx.server.send_signal(signal.SIGTERM)
    try:
        ctx.server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        ctx.server.kill()
        ctx.server.wait()
    ctx.server = None


def worker_rss_mb(ctx: Context) -> float | None:
    """The largest resident set of the server's processes (gunicorn workers), in MB."""
    if ctx.server is None:
        return None
    largest, queue = 0, [ctx.server.pid]
    while queue:
        pid = queue.pop()
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            largest = max(largest, int(match.group(1)))
    return largest / 1024 if largest else None


# --- wrk -----------------------------------------------------------------------------------

WRK_REQUESTS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def wrk(ctx: Context, path: str) -> tuple[float, float]:
    """(requests per second, p99 in ms) with 2 threads and 16 connections."""
    result = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{ctx.args.seconds}s", "--latency", ctx.base_url + path],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(WRK_REQUESTS.search(result.stdout).group(1))
    value, unit = WRK_P99.search(result.stdout).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rate, p99


def wrk_available(ctx: Context) -> bool:
    return not ctx.args.no_wrk and shutil.which("wrk") is not None


def load_rows(ctx: Context) -> list[Row]:
    if not wrk_available(ctx):
        reason = "--no-wrk" if ctx.args.no_wrk else "wrk not installed: apt-get install -y wrk"
        return [Row(f"req/s and p99: {name}", None, note=reason) for name in LOAD_URLS.values()]
    for path in LOAD_URLS:  # warm the workers and the cache
        urllib.request.urlopen(ctx.base_url + path, timeout=60).close()
    ref_rate, ref_p99 = wrk(ctx, REFERENCE_URL)
    rows = [
        Row("req/s: the app's own 404 page (reference)", ref_rate, "req/s"),
        Row("p99: the app's own 404 page (reference)", ref_p99, "ms"),
    ]
    for path, name in LOAD_URLS.items():
        rate, p99 = wrk(ctx, path)
        rows.append(
            Row(f"req/s: {name} {path}", rate, "req/s", ref_rate, ">= 0.5x", rate >= 0.5 * ref_rate)
        )
        rows.append(Row(f"p99: {name} {path}", p99, "ms", ref_p99, "<= 2x", p99 <= 2 * ref_p99))
        ctx.rates[path] = rate
    return rows


def datasette_rows(ctx: Context) -> list[Row]:
    figure = "req/s: plan JSON vs Datasette's measure table JSON"
    program = ctx.args.datasette or shutil.which("datasette")
    if ctx.sqlite_path is None:
        return [Row(figure, None, note="Datasette serves SQLite files: run on SQLite")]
    if not program:
        return [
            Row(
                figure,
                None,
                note="Datasette is not installed (pip install "
                "datasette==0.65.5 in a venv of its own, --datasette PATH)",
            )
        ]
    if not wrk_available(ctx):
        return [Row(figure, None, note="needs wrk")]
    port = free_port()
    process = subprocess.Popen(
        [program, "serve", str(ctx.sqlite_path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/{ctx.sqlite_path.stem}/measure.json"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        saved, ctx.base_url = ctx.base_url, f"http://127.0.0.1:{port}"
        try:
            reference, _p99 = wrk(ctx, f"/{ctx.sqlite_path.stem}/measure.json")
        finally:
            ctx.base_url = saved
    finally:
        process.terminate()
        process.wait()
    ours = ctx.rates.get(f"/api/v1/plans/{PLAN}")
    return [Row(figure, ours, "req/s", reference, ">= 1x", ours is not None and ours >= reference)]


def page_rows(ctx: Context) -> list[Row]:
    rows = []
    for url, (seed_ms, seed_queries) in ctx.seed_pages.items():
        if url not in ctx.scaled_pages:
            rows.append(
                Row(f"page time, seed scale: {url}", seed_ms, "ms", note=f"{seed_queries} queries")
            )
            continue
        ms, queries = ctx.scaled_pages[url]
        rows.append(
            Row(
                f"page time, OGP vs seed scale: {url}",
                ms,
                "ms",
                seed_ms,
                "<= 2x",
                ms <= 2 * seed_ms,
            )
        )
        rows.append(
            Row(
                f"queries, OGP vs seed scale: {url}",
                queries,
                "",
                seed_queries,
                "= 1x",
                queries == seed_queries,
            )
        )
    return rows


def memory_rows(ctx: Context) -> list[Row]:
    return [Row("peak RSS of a server process after the load", worker_rss_mb(ctx), "MB")]


#: Each producer takes the Context (the server is up) and returns rows for the table.
#: the scripts beside this one, run as they are run alone, each in its own database
BENCHMARKS = Path(__file__).resolve().parent
#: (organisations, links each) of the reminder run, per scale: the goal is set at OGP scale
REMINDER_SIZES = {"seed": (20, 100), "ogp": (5000, 100)}
#: (measures, approved updates per measure) of the large report, per scale
REPORT_SIZES = {"seed": (100, 5), "ogp": (2000, 50)}


def _last_json_line(script: str, arguments: list[str], ctx: Context) -> dict:
    """Run a benchmark script with --json; its figures are its output's last line."""
    command = [sys.executable, str(BENCHMARKS / script), *arguments, "--json"]
    if ctx.args.database_url:
        command += ["--database-url", ctx.args.database_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{script} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _below(figure: str, value: float, unit: str, limit: float, judged: bool = True) -> Row:
    """A figure whose goal is to stay below `limit`, judged only at the goal's size."""
    if not judged:
        return Row(figure, value, unit, note="goal set at --scale ogp")
    return Row(figure, value, unit, goal=f"< {limit:g} {unit}", passed=value < limit)


def reminder_rows(ctx: Context) -> list[Row]:
    """The reminder run (benchmarks/reminders_bench.py): planning and delivery to a local
    SMTP sink, then a second run the same day. Judged at the goal's size only."""
    organisations, links = REMINDER_SIZES[ctx.args.scale]
    figures = _last_json_line(
        "reminders_bench.py",
        ["--organisations", str(organisations), "--measures-per-organisation", str(links)],
        ctx,
    )
    judged = ctx.args.scale == "ogp"
    size = f"{organisations:,} organisations x {links} links"
    emails = f"{figures['emails_received']:,} emails received by {figures['sink']}"
    return [
        _below(
            f"reminder run, planning and delivery ({size}, {emails})",
            figures["first_run_seconds"],
            "s",
            30,
            judged,
        ),
        _below(
            f"reminder run, second run the same day ({size})",
            figures["second_run_seconds"],
            "s",
            5,
            judged,
        ),
    ]


def report_rows(ctx: Context) -> list[Row]:
    """The plan report PDF (benchmarks/reports_bench.py), each built in a child process of
    its own, which gives its peak memory."""
    measures, updates = REPORT_SIZES[ctx.args.scale]
    figures = _last_json_line(
        "reports_bench.py",
        ["--measures", str(measures), "--updates-per-measure", str(updates)],
        ctx,
    )
    seed, large = figures["seed_with_updates"], figures["large"]
    judged = ctx.args.scale == "ogp"
    large_report = f"plan report PDF, {large['scenario']}"
    return [
        _below(f"plan report PDF, seed plan ({seed['scenario']})", seed["total_seconds"], "s", 1.5),
        _below(large_report, large["total_seconds"], "s", 30, judged),
        _below(f"{large_report}: peak RSS", large["peak_rss_mb"], "MB", 300, judged),
    ]


PRODUCERS: list[Callable[[Context], list[Row]]] = [
    load_rows,
    datasette_rows,
    page_rows,
    memory_rows,
    reminder_rows,
    report_rows,
]


# --- the table -----------------------------------------------------------------------------


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def print_table(ctx: Context) -> None:
    header = ("figure", "value", "reference", "ratio", "goal", "result")
    lines = [
        (
            row.figure,
            _number(row.value, row.unit),
            _number(row.reference, row.unit),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            row.goal or "-",
            {True: "pass", False: "FAIL", None: row.note or "-"}[row.passed],
        )
        for row in ctx.rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    print(f"\nbenchmarks/run.py --scale {ctx.args.scale} on {ctx.args.database_url or 'SQLite'}")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--scale", choices=("seed", "ogp"), default="seed")
    parser.add_argument("--no-wrk", action="store_true", help="no load test (the test suite)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk's time per URL")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--datasette", help="the datasette program, if not on PATH")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url, sqlite_path, drop = private_database(args.database_url, workdir)
        ctx = Context(args, workdir, url, sqlite_path)
        if redis_answers(args.redis_url):
            ctx.cache_prefix = f"tracker-bench-{uuid.uuid4().hex[:10]}:"
        try:
            build_data(ctx)
            start_server(ctx)
            cache = "Redis" if ctx.cache_prefix else "a cache per worker"
            ctx.rows.append(Row(f"page cache of the served app: {cache}", None))
            for producer in PRODUCERS:
                ctx.rows.extend(producer(ctx))
        finally:
            stop_server(ctx)
            _drop_cache_keys(ctx)
            drop()
        print_table(ctx)
    return 0


def _drop_cache_keys(ctx: Context) -> None:
    if not ctx.cache_prefix:
        return
    import redis

    connection = redis.Redis.from_url(ctx.args.redis_url)
    keys = list(connection.scan_iter(match=f"{ctx.cache_prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


if __name__ == "__main__":
    sys.exit(main())
