"""Dates as people read them: one format per language, through Babel, on pages, in
emails and in PDFs; date inputs take and show the ISO format that their hints name."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

import tracker
from tests.accounts.conftest import login_with_form, make_user
from tracker.dates import baku_day, parse_iso_day, show_date, show_datetime
from tracker.extensions import db

MOMENT = datetime(2026, 12, 1, 12, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "day", "moment", "utc"),
    [
        ("az", "1 dekabr 2026", "1 dekabr 2026, 16:05", "1 dekabr 2026, 12:05"),
        ("en", "December 1, 2026", "December 1, 2026, 16:05", "December 1, 2026, 12:05"),
    ],
)
def test_one_format_per_language(app, lang, day, moment, utc):
    with force_locale(lang):
        assert show_date(date(2026, 12, 1)) == day
        assert show_date(MOMENT) == day
        assert show_datetime(MOMENT) == moment  # Baku time, the app's zone
        assert show_datetime(MOMENT, utc=True) == utc
        assert show_date(None) == show_datetime(None) == ""


@pytest.mark.parametrize("lang", ["az", "en"])
def test_a_moments_day_is_its_day_in_baku(app, lang):
    """22:15 UTC on December 6 is 02:15 on December 7 in Baku: the day every page shows
    beside it (a notice's text, its list's date) must be the same."""
    late_evening = datetime(2026, 12, 6, 22, 15, tzinfo=UTC)
    with force_locale(lang):
        assert show_date(late_evening) == show_date(date(2026, 12, 7))
        assert show_date(late_evening.replace(tzinfo=None)) == show_date(date(2026, 12, 7))
        assert show_date(datetime(2026, 12, 6, 19, 59, tzinfo=UTC)) == show_date(date(2026, 12, 6))
    assert baku_day(late_evening) == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("lang", "due", "as_of"),
    [("az", "31 dekabr 2022", "dekabr"), ("en", "December 31, 2022", "December")],
)
def test_the_measure_page_shows_dates_in_the_languages_format(seeded, client, lang, due, as_of):
    html = client.get(f"/plans/{seeded.key}/measures/1.2?lang={lang}").get_data(as_text=True)
    facts = html.split('class="facts"')[1].split("</dl>")[0]
    assert due in facts
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r'datetime="[^"]*"', "", facts))


@pytest.mark.parametrize("lang", ["az", "en"])
def test_date_inputs_take_and_show_the_iso_format_they_hint(app, lang):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    html = client.get(f"/admin/audit?date_from=2026-11-30&lang={lang}").get_data(as_text=True)
    field = re.search(r"<input[^>]* id=\"date_from\"[^>]*>", html)[0]
    # the placeholder in the page's language, as the hint beside it (İl-Ay-Gün in az)
    placeholder = {"az": "İİİİ-AA-GG", "en": "YYYY-MM-DD"}[lang]
    assert 'type="text"' in field and f'placeholder="{placeholder}"' in field
    assert 'value="2026-11-30"' in field  # shown back as typed
    assert client.get("/admin/audit?date_from=30.11.2026").status_code == 400
    # the times of the log are in the language's format
    entries = html.split("<tbody>")[1]
    assert not re.search(r">\d{4}-\d{2}-\d{2} \d{2}:\d{2}", entries)


@pytest.mark.parametrize(
    "text", ["20220101", "2022-W01-1", "2022-1-1", "2022-01-01T00:00", "２０２２-01-01"]
)
def test_only_a_yyyy_mm_dd_day_is_read_as_one(text):
    with pytest.raises(ValueError):
        parse_iso_day(text)


def test_a_yyyy_mm_dd_day_is_read():
    assert parse_iso_day("2022-12-31") == date(2022, 12, 31)


#: Babel's date and time formatters: only tracker/dates.py calls them, so every date on
#: the site reads alike (the report's "being prepared" page once used format_date apart)
BABEL_DATE_FORMATTERS = {"format_date", "format_datetime", "format_time", "format_skeleton"}


def test_only_tracker_dates_formats_dates_with_babel():
    package = Path(tracker.__file__).parent
    callers = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").split(".")[0] in ("babel", "flask_babel")
                and BABEL_DATE_FORMATTERS & {alias.name for alias in node.names}
            ):
                callers.add(str(path.relative_to(package)))
    assert callers == {"dates.py"}
