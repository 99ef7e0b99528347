"""`tracker serve` as a user runs it: a real gunicorn and scheduler on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.served.server import WebClient

pytestmark = pytest.mark.slow


def _wait_for(url: str, deadline: float) -> int:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return response.status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(child) for child in children]
            queue += [int(child) for child in children]
    return found


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _is_exec(pid: int) -> bool:
    """A direct child of serve runs a program of its own (gunicorn or the scheduler)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return b"gunicorn" in command or b"scheduler" in command


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_serve_migrates_seeds_creates_an_admin_and_serves(tmp_path):
    port = free_port()
    database = tmp_path / "served.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "serve-test",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "REPORT_ARCHIVE_FOLDER": str(tmp_path / "reports"),
    }
    env.pop("SMTP_HOST", None)
    tracker = Path(sys.executable).with_name("tracker")
    log = tmp_path / "serve.log"
    log_file = log.open("w")
    # Started from a folder that holds another `tracker` (a second checkout, say): the
    # children must run the installed one, on the database that `serve` prepared.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "tracker").mkdir(parents=True)
    (elsewhere / "tracker" / "__init__.py").write_text(
        'raise ImportError("the tracker of the working directory was imported")\n'
    )
    server = subprocess.Popen(
        [str(tracker), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=elsewhere,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/?lang=en", time.monotonic() + 90) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/plans/az-nap-2020-2022") as r:
            body = r.read().decode()
        assert body.count('"code"') == 64
        visitor = WebClient(f"http://127.0.0.1:{port}")
        # no SMTP_HOST: the page says no link can be emailed, in Azerbaijani by default
        forgot = visitor.get("/password/forgot").text
        assert "Bu server e-poçt göndərmir" in forgot and 'action="/password/forgot"' not in forgot
        email, password = re.search(r"email: +(\S+)\s+password: +(\S+)", log.read_text()).groups()
        visitor.login(email, password)
        account = visitor.get("/account").text
        assert '<html lang="az"' in account and email in account  # the admin's language is az
        # serve gave SQLite's query planner statistics of the seeded tables
        with closing(sqlite3.connect(database)) as connection:
            measure = connection.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'measure'")
            stats = [stat for (stat,) in measure]
        assert stats and all(stat.split()[0] == "64" for stat in stats)
        deadline = time.monotonic() + 60
        while "Scheduler lock acquired" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        children = _descendants(server.pid)
        # gunicorn's master, its two workers and the scheduler: fresh programs, not forks
        # of `serve` (which had an app context pushed and the database open).
        assert len(children) == 4, children
        assert all(_parent(pid) != server.pid or _is_exec(pid) for pid in children)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log_file.close()
    assert server.returncode == 0
    assert [pid for pid in children if _alive(pid)] == []
    output = log.read_text()
    assert "Seeded plan az-nap-2020-2022." in output
    assert re.search(r"password: \S{12,}", output)
    assert "Scheduler lock acquired" in output
    assert "database is locked" not in output
    assert "Traceback" not in output
