"""The reminder benchmark's SMTP sinks: each receives every digest the run sends, and
Postfix's smtp-sink keeps counting past the point where a pipe for its counters would
fill (it once stalled after 2,768 messages). A benchmark, not a timed test."""

from __future__ import annotations

import importlib.util
import json
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "reminders_bench.py"
SMTP_SINK = Path("/usr/sbin/smtp-sink")
needs_smtp_sink = pytest.mark.skipif(
    not SMTP_SINK.exists(), reason="Postfix's smtp-sink is not installed (apt-get install postfix)"
)


def _bench_module():
    spec = importlib.util.spec_from_file_location("reminders_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("sink", "name"),
    [
        ("aiosmtpd", "aiosmtpd"),
        pytest.param("smtp-sink", "Postfix smtp-sink", marks=needs_smtp_sink),
    ],
)
def test_every_digest_the_run_sends_reaches_the_sink(tmp_path, sink, name):
    command = [sys.executable, str(BENCH), "--organisations", "6"]
    command += ["--measures-per-organisation", "4", "--sink", sink, "--json"]
    if POSTGRES_URL:
        command += ["--database-url", POSTGRES_URL]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["sink"] == name
    # one monitor per organisation, alternately az and en, plus the reviewers' digests
    assert figures["digests_sent"] >= 6
    assert figures["emails_received"] == figures["digests_sent"]
    assert f"emails received by the sink ({name})" in result.stdout


@needs_smtp_sink
def test_smtp_sink_counts_thousands_of_messages_on_one_connection():
    bench = _bench_module()
    port = bench._free_port()
    sink = bench.SmtpSinkProcess(port)
    sent = 3000
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as connection:
            for number in range(sent):
                message = f"Subject: {number}\r\n\r\nx\r\n"
                connection.sendmail("tracker@example.org", ["monitor@example.org"], message)
    finally:
        messages, size, cpu = sink.stop()
    assert messages == sent
    assert size is None  # smtp-sink counts messages, not bytes
    assert cpu >= 0
