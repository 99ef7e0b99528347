"""The `tracker` command line as a person runs it: the installed entry point in a process of
its own, with the app's defaults (Azerbaijani interface) and no test configuration.

- Every message is English, the language of the commands' own words and help, also where
  a service writes it and whatever language the report is in.
- A database without tables, or one the command cannot open, gives a one-line reason
  and the way out, not a traceback; so does an environment variable it cannot use."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.conftest import POSTGRES_URL
from tests.helpers import new_postgres_database
from tests.served.server import TRACKER

PLAN = "az-nap-2020-2022"


@contextmanager
def empty_database(tmp_path: Path):
    """The URL of a new database without tables, of the kind the suite runs on."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with new_postgres_database(POSTGRES_URL, "cli") as url:
        yield url


def run_tracker(
    database_url: str, workdir: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "BABEL_"))},
        "DATABASE_URL": database_url,
        "SECRET_KEY": "command-line-test-secret",
        "TWO_STEP_KEYS": "c2VydmVkLXRlc3QtdHdvLXN0ZXAta2V5LTMyYnl0ZXM=",
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "REPORT_ARCHIVE_FOLDER": str(workdir / "reports"),
        "REPORT_CACHE_FOLDER": str(workdir / "report-cache"),
        **settings,
    }
    return subprocess.run(
        [TRACKER, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("command-line")
    with empty_database(workdir) as url:
        yield url, workdir


def test_an_empty_database_gets_a_reason_and_the_way_out(fresh_database):
    url, workdir = fresh_database
    out = workdir / "plan.pdf"
    result = run_tracker(url, workdir, "report", "--plan", PLAN, "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert "The database is not set up for this version" in result.stderr
    assert "Run `tracker init-db`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()


def test_a_database_that_cannot_be_opened_gets_a_reason(tmp_path):
    unreachable = (
        make_url(POSTGRES_URL).set(port=1).render_as_string(False)
        if POSTGRES_URL
        else f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}"
    )
    result = run_tracker(unreachable, tmp_path, "link-measures", "1", "2.3")
    assert result.returncode == 1
    assert "Cannot open the database:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_every_message_is_english_whatever_the_report_language(fresh_database):
    url, workdir = fresh_database
    ready = run_tracker(url, workdir, "init-db")
    assert ready.returncode == 0, ready.stderr
    # the services' messages, which followed the default language (Azerbaijani) before
    unknown_measure = run_tracker(url, workdir, "link-measures", "1", "99.9")
    assert unknown_measure.returncode == 1
    plan = "National Action Plan on the Promotion of Open Government for 2020–2022"
    assert f"The plan “{plan}” has no measure 99.9." in unknown_measure.stderr
    out = workdir / "section.pdf"
    refusals = (
        (("--section", "99"), 1, "The plan has no section 99."),
        (("--as-of", "2099-01-01"), 2, "A report cannot describe a date in the future."),
    )
    for lang in ("az", "en"):
        for options, exit_code, message in refusals:
            refused = run_tracker(
                url, workdir, "report", "--plan", PLAN, *options, "--lang", lang,
                "--out", str(out),
            )  # fmt: skip
            assert refused.returncode == exit_code, refused.stderr
            assert message in refused.stderr
            assert "Traceback" not in refused.stderr + refused.stdout
    bad_file = workdir / "survey.csv"
    bad_file.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = run_tracker(url, workdir, "import-organisations", str(bad_file))
    assert refused.returncode == 1
    assert "The file has no column for the organisation's name" in refused.stderr
    assert "Nothing was imported: the file cannot be read as the survey's export." in (
        refused.stderr
    )
    # the report itself is still in the language asked for
    written = run_tracker(
        url, workdir, "report", "--plan", PLAN, "--section", "2", "--lang", "az",
        "--out", str(out),
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    from pypdf import PdfReader

    first_page = PdfReader(out).pages[0].extract_text()
    assert "Bölmə hesabatı" in first_page
    for result in (unknown_measure, refused, written):
        assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("TWO_STEP_KEYS", "not-a-key", "TWO_STEP_KEYS: key 1 is not a Fernet key"),
        ("SMTP_PORT", "x25", "SMTP_PORT: 'x25' is not a whole number."),
        ("TWO_STEP_REQUIRED_ROLES", "auditor", "TWO_STEP_REQUIRED_ROLES: unknown role 'auditor'"),
    ],
)
def test_a_setting_that_cannot_be_used_is_named(tmp_path, setting, value, reason):
    database = f"sqlite:///{tmp_path / 'unused.db'}"
    for command in (["serve", "--port", "1"], ["seed"]):
        result = run_tracker(database, tmp_path, *command, **{setting: value})
        assert result.returncode == 1
        assert f"Error: Cannot start: {reason}" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "unused.db").exists()
