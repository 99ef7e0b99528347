"""How numbers with fractions or thousands are shown to people: through Babel, with the
current language's signs, in every page, chart and PDF ("33,3%" and "3.805" in Azerbaijani,
"33.3%" and "3,805" in English; "50%", not "50.0%"). Data files and the API keep plain
numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_decimal

#: a share out of 100: one decimal where it has one
PERCENT_PATTERN = "#,##0.#"
#: a figure such as a mean or a sum: up to two decimals, thousands grouped
NUMBER_PATTERN = "#,##0.##"
#: what a figure with no basis shows (no measure assessed, no organisation surveyed)
NO_VALUE = "–"


def round_half_up(value: float, places: int = 1) -> float:
    """Rounded as people round, halves up: 6.25 → 6.3 (Python's round() and Babel give
    6.2, the nearest even). Read from the shortest decimal that is the float, so 6.25 is
    6.25 and not the binary 6.24999…"""
    step = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def percent(part: float, whole: float) -> float:
    """100 × part / whole to one decimal, halves up; 0.0 when whole is 0."""
    return round_half_up(100 * part / whole) if whole else 0.0


def show_percent(value: float | None) -> str:
    """A share out of 100 in the current language; NO_VALUE for none."""
    if value is None:
        return NO_VALUE
    return f"{format_decimal(value, PERCENT_PATTERN)}%"


def show_number(value: float | None) -> str:
    """A count, mean or sum in the current language; NO_VALUE for none."""
    if value is None:
        return NO_VALUE
    return format_decimal(value, NUMBER_PATTERN)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """A count with its English noun, for the command line and the logs (which speak
    English; pages and emails use ngettext): "1 row", "2 rows", "1 process"."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
