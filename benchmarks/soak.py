"""A soak of the served app with wrk: readers on the scorecard, first alone, then while
monitors write status updates.

    .venv/bin/python benchmarks/soak.py [--duration 60] [--connections 32] [--writers 8]
    .venv/bin/python benchmarks/soak.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test

It starts the real served app (`tracker serve`: gunicorn with two workers and the
scheduler) on 127.0.0.1, on a database of its own (a new SQLite file, or a new schema
of the given PostgreSQL database, dropped afterwards). wrk (Debian: apt-get install wrk)
reads the scorecard with --connections connections for --duration seconds; then again
while --writers threads, each with its own cookie jar, post status updates. It prints,
for each phase, the requests, the 5xx answers and the latency percentiles, and how many
updates the writers saved. Figures are printed, not asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller

from tests.accounts.route_world import build_world
from tests.helpers import RecordingHandler, free_port
from tests.reliability.writers import post_updates
from tests.served.server import ServedApp, served_database
from tracker.extensions import db

SCORECARD = "/"
#: a wrk script that counts the answers with a 5xx status over all of wrk's threads
COUNT_5XX = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) errors5xx = 0 end
function response(status, headers, body)
  if status >= 500 then errors5xx = errors5xx + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("errors5xx") end
  io.write(string.format("5xx: %d\\n", total))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("p%d_us: %d\\n", p, latency:percentile(p)))
  end
end
"""
WRITES_PER_BATCH = 5


def run_wrk(url: str, duration: int, connections: int, script: Path) -> dict[str, float]:
    command = [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "30s", "-s", str(script), url]
    result = subprocess.run(  # noqa: S603 (wrk with our own arguments, no shell)
        command, capture_output=True, text=True, check=True, timeout=duration + 120
    )
    text = result.stdout
    figures = {"requests": float(re.search(r"(\d+) requests in", text).group(1))}
    figures["5xx"] = float(re.search(r"5xx: (\d+)", text).group(1))
    for percentile in (50, 90, 99):
        micros = re.search(rf"p{percentile}_us: (\d+)", text).group(1)
        figures[f"p{percentile}_ms"] = int(micros) / 1000
    socket_errors = re.search(r"Socket errors: (.*)", text)
    figures["socket_errors"] = socket_errors.group(1) if socket_errors else "none"
    return figures


def write_until(stop: threading.Event, served, email: str, measure_id: int, tag: str, out: list):
    batch = 0
    while not stop.is_set():
        out.extend(post_updates(served, email, measure_id, f"{tag}-{batch}", WRITES_PER_BATCH))
        batch += 1


def phase(served, args, script: Path, writers: list[tuple[str, int]]) -> tuple[dict, list[int]]:
    stop = threading.Event()
    statuses: list[list[int]] = [[] for _ in writers]
    threads = [
        threading.Thread(
            target=write_until, args=(stop, served, email, measure, f"SOAK-{i}", statuses[i])
        )
        for i, (email, measure) in enumerate(writers)
    ]
    for thread in threads:
        thread.start()
    try:
        figures = run_wrk(served.url + SCORECARD, args.duration, args.connections, script)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    return figures, [s for each in statuses for s in each]


def report(label: str, figures: dict, writes: list[int] | None) -> None:
    line = (
        f"{label:<16} requests {figures['requests']:>8.0f}   5xx {figures['5xx']:>4.0f}   "
        f"p50 {figures['p50_ms']:>7.1f} ms   p90 {figures['p90_ms']:>7.1f} ms   "
        f"p99 {figures['p99_ms']:>7.1f} ms   socket errors: {figures['socket_errors']}"
    )
    if writes is not None:
        saved = sum(1 for s in writes if s == 302)
        line += (
            f"\n{'':<16} updates posted {len(writes)}, saved {saved}, other {len(writes) - saved}"
        )
    print(line, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per phase (60)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--writers", type=int, default=8, help="writer threads (8)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="tracker-soak-"))
    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    database = served_database(args.database_url, workdir)
    served = ServedApp(workdir, database.url, controller.port, free_port())
    script = workdir / "count_5xx.lua"
    script.write_text(COUNT_5XX)
    try:
        served.start()
        with served.app_context():
            world = build_world(str(served.upload_folder))
            monitors = [(world.users["monitor_a"].email, world.measure_a.id),
                        (world.users["monitor_b"].email, world.measure_b.id)]  # fmt: skip
            db.session.commit()
        writers = [monitors[i % len(monitors)] for i in range(args.writers)]
        kind = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{kind}, gunicorn 2 workers, wrk -t2 -c{args.connections} -d{args.duration}s "
            f"on {SCORECARD}; {args.writers} writers in the second phase",
            flush=True,
        )
        figures, _ = phase(served, args, script, [])
        report("readers alone", figures, None)
        figures, writes = phase(served, args, script, writers)
        report(f"+{args.writers} writers", figures, writes)
    finally:
        served.stop()
        controller.stop()
        if database.drop:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
