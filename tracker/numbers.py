"""How numbers with fractions or thousands are shown to people: through Babel, with the
current language's signs, in every page, chart and PDF ("33,3%" and "3.805" in Azerbaijani,
"33.3%" and "3,805" in English; "50%", not "50.0%"). Data files and the API keep plain
numbers."""

from __future__ import annotations

from flask_babel import format_decimal

#: a share out of 100: one decimal where it has one
PERCENT_PATTERN = "#,##0.#"
#: a figure such as a mean or a sum: up to two decimals, thousands grouped
NUMBER_PATTERN = "#,##0.##"
#: what a figure with no basis shows (no measure assessed, no organisation surveyed)
NO_VALUE = "–"


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
