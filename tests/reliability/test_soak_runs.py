"""benchmarks/soak.py is not part of the suite (it runs for minutes); the suite only
checks that it starts and describes its options."""

from __future__ import annotations

import subprocess
import sys

from tracker.config import PROJECT_ROOT


def test_the_soak_benchmark_describes_its_options():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "soak.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--database-url", "--duration", "--connections", "--writers"):
        assert option in result.stdout
