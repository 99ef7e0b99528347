"""Can the time of a password reset request tell who has an account?

    .venv/bin/python benchmarks/reset_timing_bench.py
    .venv/bin/python benchmarks/reset_timing_bench.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test

It starts the real served app (`tracker serve`: gunicorn with two workers and the
scheduler, mail on, to an SMTP server in this process) on a database of its own, makes
accounts for half of 20 addresses, and posts the "forgot your password" form twice for
each address, in a shuffled order. It prints the request times of both kinds of address
and how many of the 20 addresses a threshold between the two medians sorts correctly
(10 of 20 is a coin toss; the issue measured 20 of 20 before the mail outbox).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller

from tests.helpers import RecordingHandler, SMTPServer, free_port
from tests.served.server import ServedApp, served_database
from tracker.extensions import db
from tracker.models import User
from tracker.services.accounts import hash_password

ADDRESSES = 20
REQUESTS_PER_ADDRESS = 2
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _plan(addresses: list[str], known: set[str]) -> list[str]:
    """Each round asks for every address once, a real and an unknown one side by side (in
    a random order within the pair), so that the machine's load drifts alike for both."""
    rng = random.Random(7)
    real = [a for a in addresses if a in known]
    unknown = [a for a in addresses if a not in known]
    plan = []
    for _ in range(REQUESTS_PER_ADDRESS):
        rng.shuffle(real)
        rng.shuffle(unknown)
        for pair in zip(real, unknown, strict=True):
            plan += rng.sample(pair, 2)
    return plan


def _time_requests(served: ServedApp, plan: list[str]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {address: [] for address in plan}
    # Warm both workers up, so that the first requests do not pay for imports.
    for _ in range(6):
        served.client().get("/password/forgot")
    for address in plan:
        client = served.client()
        token = CSRF_INPUT.search(client.get("/password/forgot").text).group(1)
        started = time.perf_counter()
        response = client.post("/password/forgot", data={"csrf_token": token, "email": address})
        timings[address].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.status_code
    return timings


def _report(timings: dict[str, list[float]], known: set[str]) -> None:
    known_times = [t for a, ts in timings.items() if a in known for t in ts]
    unknown_times = [t for a, ts in timings.items() if a not in known for t in ts]
    for label, values in (("real accounts", known_times), ("unknown addresses", unknown_times)):
        print(
            f"{label:18} n={len(values):2}  min {min(values):6.2f} ms  "
            f"median {statistics.median(values):6.2f} ms  max {max(values):6.2f} ms"
        )
    threshold = (statistics.median(known_times) + statistics.median(unknown_times)) / 2
    slower_is_known = statistics.median(known_times) >= statistics.median(unknown_times)
    correct = 0
    for address, values in timings.items():
        guess_known = (statistics.mean(values) >= threshold) == slower_is_known
        correct += guess_known == (address in known)
    print(f"a threshold at {threshold:.2f} ms sorts {correct} of {len(timings)} addresses")
    differences = [
        statistics.mean(timings[a]) - statistics.mean(timings[b])
        for a, b in zip(sorted(known), sorted(set(timings) - known), strict=True)
    ]
    slower = sum(d > 0 for d in differences)
    print(
        f"real minus unknown, per pair of addresses: median {statistics.median(differences):+.2f}"
        f" ms; the real one was slower in {slower} of {len(differences)} pairs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    handler = RecordingHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    workdir = Path(tempfile.mkdtemp(prefix="reset-bench-"))
    database = served_database(args.database_url, workdir)
    served = ServedApp(
        workdir=workdir,
        database_url=database.url,
        smtp_port=smtp_port,
        port=free_port(),
        smtp=SMTPServer("127.0.0.1", smtp_port, handler),
    )
    try:
        served.start()
        addresses = [f"person{n:02d}@example.org" for n in range(ADDRESSES)]
        known = set(addresses[::2])
        with served.app_context():
            password_hash = hash_password("a benchmark passphrase")
            for address in sorted(known):
                db.session.add(
                    User(email=address, role="reviewer", password_hash=password_hash, locale="en")
                )
            db.session.commit()
            db.session.remove()
        timings = _time_requests(served, _plan(addresses, known))
        _report(timings, known)
        deadline = time.monotonic() + 30
        while len(handler.messages) < len(known) * REQUESTS_PER_ADDRESS:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        print(
            f"emails sent by the scheduler afterwards: {len(handler.messages)} "
            f"(expected {len(known) * REQUESTS_PER_ADDRESS}: one per request for a real account)"
        )
    finally:
        served.stop()
        controller.stop()
        if database.drop:
            database.drop()


if __name__ == "__main__":
    main()
