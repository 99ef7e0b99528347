"""`benchmarks/run.py` runs: at the smallest scale, without wrk, on this run's database
(a new SQLite file, or a private schema of the PostgreSQL server), and prints its table.
A benchmark, not a timed test: only that it runs and reports is checked here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.slow
RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_the_benchmark_command_builds_serves_and_prints_one_table(tmp_path):
    command = [sys.executable, str(RUN), "--scale", "seed", "--no-wrk"]
    if POSTGRES_URL:
        command += ["--database-url", POSTGRES_URL]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("figure "))
    assert [c.strip() for c in lines[header].split("|")] == [
        "figure",
        "value",
        "reference",
        "ratio",
        "goal",
        "result",
    ]
    table = "\n".join(lines[header:])
    assert "init-db" in table
    assert "req/s and p99: plan JSON" in table and "--no-wrk" in table
    assert "page time, seed scale: /registry/stats" in table
    assert "peak RSS of a server process" in table
    # the reminder and report benchmarks' rows, from their own scripts
    assert "reminder run, planning and delivery (20 organisations x 100 links" in table
    assert "reminder run, second run the same day" in table
    assert "plan report PDF, seed plan" in table
    assert "plan report PDF, 100 measures + 500 approved updates: peak RSS" in table
    assert "Traceback" not in result.stderr
