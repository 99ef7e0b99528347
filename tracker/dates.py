"""How dates and times are shown to people: one named format per language, through Babel,
in every page, email and PDF ("1 dekabr 2026", "December 1, 2026"). Data files, the API
and form inputs keep ISO 8601 (2026-12-01), which is what the forms' hints ask for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from babel.dates import format_datetime as babel_format_datetime
from flask_babel import format_date, get_locale, get_timezone

from tracker import clock

#: the date format of each language (CLDR's "long" date of that language)
DATE_FORMATS = {"az": "d MMMM y", "en": "MMMM d, y"}
#: a moment: the date as above, then the time on the 24-hour clock
DATETIME_FORMATS = {"az": "d MMMM y, HH:mm", "en": "MMMM d, y, HH:mm"}
#: a month of a year (CLDR's "yMMMM" of each language): "noyabr 2022", "November 2022";
#: Azerbaijani month names are lower case in running text, as in the dates above
MONTH_FORMATS = {"az": "MMMM y", "en": "MMMM y"}


def _language() -> str:
    locale = str(get_locale() or "az")
    return locale if locale in DATE_FORMATS else "az"


def show_date(value: date | datetime | None) -> str:
    """A day in the current language's format; "" for none. A moment is shown as its day in
    Baku, the day the app counts in (a notice sent at 22:15 UTC is the next day there)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = baku_day(value)
    return format_date(value, DATE_FORMATS[_language()])


def baku_day(moment: datetime) -> date:
    """The day in Baku at a moment (a naive one is UTC, as the database returns it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return clock.baku_date(moment)


def show_month(value: date | None) -> str:
    """The month of a day, with its year, in the current language's format; "" for none."""
    if value is None:
        return ""
    return format_date(value, MONTH_FORMATS[_language()])


def show_datetime(value: datetime | None, *, utc: bool = False) -> str:
    """A moment in the current language's format, in Baku time (the app's time zone), or
    in UTC where a page says so; "" for none."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = UTC if utc else get_timezone()
    return babel_format_datetime(
        value, DATETIME_FORMATS[_language()], tzinfo=zone, locale=get_locale() or "az"
    )


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_given_day(values: Iterable[str]) -> date:
    """The day a form field or a query string gives: one YYYY-MM-DD, spaces around it no
    part of it, the same day given twice (a link built by hand) taken once; ValueError for
    anything else, two different days included."""
    given = {value.strip() for value in values}
    if len(given) != 1:
        raise ValueError(f"not one day: {sorted(given)!r}")
    return parse_iso_day(given.pop())


def parse_iso_day(text: str) -> date:
    """A day written YYYY-MM-DD, the one form the API and the hints document; ValueError
    for anything else (Python 3.11's fromisoformat also reads 20220101 and 2022-W01-1)."""
    if not _ISO_DAY.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)
