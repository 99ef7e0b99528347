"""The values of single cells: text as the spreadsheet shows it, dates, founding months
and years, numbers of people, and the survey's one "website and social media" answer
split in two. Each parser raises ValueError for a cell it cannot read; the row reader
(import_mapping) turns that into a row problem.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from tracker.vocabulary import fold

SOCIAL_HOSTS = (
    "facebook",
    "fb.com",
    "fb.me",
    "instagram",
    "twitter",
    "x.com",
    "linkedin",
    "youtube",
    "youtu.be",
    "t.me",
    "telegram",
    "tiktok",
    "vk.com",
    "ok.ru",
)
#: "none" written in a cell (folded)
NONE_MARKERS = {"", "-", "--", "—", "yox", "yoxdur", "none", "no", "n/a", "na", "yoxdu", "0"}
MONTHS = {
    "yanvar": 1,
    "fevral": 2,
    "mart": 3,
    "aprel": 4,
    "may": 5,
    "iyun": 6,
    "iyul": 7,
    "avqust": 8,
    "sentyabr": 9,
    "oktyabr": 10,
    "noyabr": 11,
    "dekabr": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_COUNT = re.compile(r"^(\d+)(?:[.,]0+)?(?:\s*(?:nəfər|nefer|people|persons|işçi|isci))?$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%m/%d/%Y", "%d-%m-%Y")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def is_none(text: str) -> bool:
    # Every marker is short: longer text needs no folding to know it is not one.
    return len(text.strip()) <= 8 and fold(text) in NONE_MARKERS


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    # A time stamp such as "2022/03/14 10:22:33 GMT+4" or "2022-03-14T10:22:33".
    text = re.split(r"[\sT]", text, maxsplit=1)[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_founded(value: Any) -> tuple[int | None, int | None]:
    """(year, month) from "03.2005", "2005-03", "Mart 2005", "2005", a date ..."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime | date):
        return value.year, value.month
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value), None
    text = fold(cell_text(value))
    if is_none(text):
        return None, None
    numeric = re.fullmatch(r"(\d{1,2})[./-](\d{4})|(\d{4})[./-](\d{1,2})", text)
    if numeric:
        month, year = (
            (numeric.group(1), numeric.group(2))
            if numeric.group(1)
            else (numeric.group(4), numeric.group(3))
        )
        return int(year), int(month)
    full = re.fullmatch(
        r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})|(\d{4})[./-](\d{1,2})[./-](\d{1,2})", text
    )
    if full:
        if full.group(1):
            return int(full.group(3)), int(full.group(2))
        return int(full.group(4)), int(full.group(5))
    years = _YEAR.findall(text)
    if len(years) == 1:
        rest = _YEAR.sub(" ", text)
        months = [MONTHS[w] for w in re.findall(r"[a-z]+", rest) if w in MONTHS]
        other_digits = re.findall(r"\d+", rest)
        if len(months) <= 1 and not other_digits:
            return int(years[0]), (months[0] if months else None)
    raise ValueError(text)


def parse_count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(value)
        return value
    if isinstance(value, float):
        if value.is_integer() and value >= 0:
            return int(value)
        raise ValueError(value)
    text = cell_text(value).strip().lower()
    if text in {"", "-", "--", "—", "yoxdur", "yox", "none", "n/a"}:
        return None
    found = _COUNT.match(text)
    if not found:
        raise ValueError(text)
    return int(found.group(1))


def _looks_like_address(token: str) -> bool:
    lowered = token.lower()
    return lowered.startswith(("http://", "https://", "www.")) or bool(
        re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", lowered)
    )


def split_web_presence(text: str) -> tuple[str, str]:
    """(website, social media) from the survey's single "website and social media" answer."""
    if is_none(text):
        return "", ""
    websites: list[str] = []
    social: list[str] = []
    for segment in re.split(r"[,;\n]+", text):
        segment = segment.strip()
        if not segment or is_none(segment):
            continue
        tokens = segment.split()
        parts = (
            tokens if len(tokens) > 1 and all(_looks_like_address(t) for t in tokens) else [segment]
        )
        for part in parts:
            target = social if any(h in part.lower() for h in SOCIAL_HOSTS) else websites
            target.append(part)
    return ", ".join(websites), ", ".join(social)


# --- one row ---------------------------------------------------------------------------------
