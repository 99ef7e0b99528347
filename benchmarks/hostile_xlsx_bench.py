"""Memory and time of reading the hostile spreadsheets of the organisation import.

    .venv/bin/python benchmarks/hostile_xlsx_bench.py            # every file, tracemalloc
    /usr/bin/time -v .venv/bin/python benchmarks/hostile_xlsx_bench.py huge_dimension --rss

The files are the ones tests/reliability/test_hostile_spreadsheets.py builds by hand (a
1.5 KB sheet declaring A1:XFD1048576, an XXE, a billion laughs, a broken formula cell,
malformed XML, a zip bomb, a sheet too wide). For each: what read_rows answers, its peak
of Python allocations (tracemalloc) and the time it took. With --rss, tracemalloc is off
(it slows the reading down) and /usr/bin/time's "Maximum resident set size" is the figure.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability.test_hostile_spreadsheets import HOSTILE
from tracker import create_app
from tracker.services.errors import InvalidInput
from tracker.services.registry.import_files import read_rows


def measure(name: str, traced: bool) -> str:
    data = HOSTILE[name][0]()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        answer = f"{len(read_rows(data, name + '.xlsx'))} rows"
    except InvalidInput as error:
        answer = "refused: " + " ".join(str(t) for t in error.problems["data"])[:70]
    elapsed = time.perf_counter() - started
    peak = ""
    if traced:
        peak = f"peak {tracemalloc.get_traced_memory()[1] / 1e6:8.1f} MB  "
        tracemalloc.stop()
    return f"{name:16} {len(data):>9} B  {peak}{elapsed:6.2f} s  {answer}"


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    traced = "--rss" not in sys.argv
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "BABEL_DEFAULT_LOCALE": "en"})
    with app.app_context(), app.test_request_context("/?lang=en"):
        for name in arguments or sorted(HOSTILE):
            print(measure(name, traced))


if __name__ == "__main__":
    main()
