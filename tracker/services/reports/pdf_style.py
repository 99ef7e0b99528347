"""The PDF's look and its text: fonts, colours, page geometry, paragraph styles, and the
functions that make any text safe to print.

Text is set in DejaVu Sans, embedded from tracker/fonts, because ReportLab's built-in
fonts have no ə. ReportLab parses markup in a Paragraph, so every piece of text,
including translations, passes through `text()` (or `multiline()`) before it reaches one:
a stray `<` or `&` would crash the build, and an `<img src=...>` would make it read local
files.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from xml.sax.saxutils import escape

from flask_babel import format_decimal
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import TableStyle

from tracker.config import PACKAGE_ROOT
from tracker.dates import show_date
from tracker.numbers import PERCENT_PATTERN
from tracker.vocabulary import Completion

FONT_DIR = PACKAGE_ROOT / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"
FONT_BOLD_ITALIC = "DejaVuSans-BoldOblique"

#: the same colours as the scorecard's badges (tracker.css)
COMPLETION_HEX = {
    Completion.NO_EVIDENCE: "#6b7280",
    Completion.NOT_STARTED: "#b42318",
    Completion.LIMITED: "#b54708",
    Completion.SUBSTANTIAL: "#1d6fb8",
    Completion.COMPLETE: "#127a3b",
}
COMPLETION_COLOURS = {level: colors.HexColor(hex_) for level, hex_ in COMPLETION_HEX.items()}
BRAND = colors.HexColor("#0b4f8a")
INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#4a5360")
LINE = colors.HexColor("#d5dae1")
WASH = colors.HexColor("#f4f6f8")
DANGER = colors.HexColor("#b42318")
DISPUTED = colors.HexColor("#6941c6")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

# C0/C1 control characters other than tab and newline: invalid in PDF text and XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# --- fonts and text ---------------------------------------------------------------------------


def register_fonts() -> None:
    """Register the DejaVu Sans family once per process, from the package's own files."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, file_name in (
        (FONT, "DejaVuSans.ttf"),
        (FONT_BOLD, "DejaVuSans-Bold.ttf"),
        (FONT_ITALIC, "DejaVuSans-Oblique.ttf"),
        (FONT_BOLD_ITALIC, "DejaVuSans-BoldOblique.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file_name)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )


def clean(value: object) -> str:
    """Plain text fit for a PDF: NFC, without control characters."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", str(value)))


def text(value: object) -> str:
    """Any text, escaped for a Paragraph: it prints as written, never as markup."""
    return escape(clean(value).replace("\t", " ")).replace("\n", " ")


def multiline(value: object) -> str:
    """Like text(), keeping line breaks."""
    return escape(clean(value).replace("\t", " ")).replace("\n", "<br/>")


def link(url: str, label: str) -> str:
    """A clickable link. `url` must already be a checked http(s) address."""
    href = escape(clean(url), {'"': "&quot;"})
    return f'<a href="{href}" color="#0b4f8a"><u>{text(label)}</u></a>'


def date_text(value: date | None) -> str:
    """A date in the report's language, in its one format (tracker.dates); a dash when
    there is none."""
    return show_date(value) if value else "—"


def score_text(score: float | None) -> str:
    """A score out of 100 with the digits the pages give it (tracker.numbers)."""
    return format_decimal(score, PERCENT_PATTERN) if score is not None else "—"


def weight_text(weight: float) -> str:
    """A completion level's weight as a fraction where it is one (1/3, 2/3)."""
    known = {0.0: "0", 1 / 3: "1/3", 2 / 3: "2/3", 1.0: "1"}
    for value, label in known.items():
        if abs(weight - value) < 1e-9:
            return label
    return format_decimal(weight, "#,##0.###")


def fit(value: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis to fit a width."""
    value = clean(value)
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    while value and pdfmetrics.stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


# --- styles -----------------------------------------------------------------------------------


_BODY = {"fontName": FONT, "fontSize": 9.5, "leading": 13, "textColor": INK}

#: every other paragraph style: the body text with these changes
_STYLE_CHANGES: dict[str, dict] = {
    "small": {"fontSize": 8, "leading": 10.5},
    "muted": {"fontSize": 8.5, "leading": 11, "textColor": MUTED},
    "original": {"fontName": FONT_ITALIC, "fontSize": 8.5, "leading": 11, "textColor": MUTED},
    "cell": {"fontSize": 7.5, "leading": 9.5},
    "cell_head": {"fontName": FONT_BOLD, "fontSize": 7.5, "leading": 9.5},
    "cell_badge": {
        "fontName": FONT_BOLD,
        "fontSize": 7.5,
        "leading": 9.5,
        "textColor": colors.white,
    },
    "cover_kicker": {"fontName": FONT_BOLD, "fontSize": 11, "leading": 15, "textColor": BRAND},
    "cover_title": {"fontName": FONT_BOLD, "fontSize": 24, "leading": 30, "spaceAfter": 10},
    "cover_subtitle": {"fontSize": 14, "leading": 19, "spaceAfter": 6},
    "h1": {
        "fontName": FONT_BOLD,
        "fontSize": 17,
        "leading": 22,
        "spaceAfter": 8,
        "textColor": BRAND,
    },
    "h2": {
        "fontName": FONT_BOLD,
        "fontSize": 12.5,
        "leading": 16,
        "spaceBefore": 10,
        "spaceAfter": 4,
    },
    "h3": {
        "fontName": FONT_BOLD,
        "fontSize": 10.5,
        "leading": 14,
        "spaceBefore": 10,
        "spaceAfter": 3,
    },
    "figure_value": {"fontName": FONT_BOLD, "fontSize": 20, "leading": 24, "textColor": BRAND},
    "figure_label": {"fontSize": 8, "leading": 10, "textColor": MUTED},
    # an assessment, indented under its measure
    "a_head": {
        "fontName": FONT_BOLD,
        "fontSize": 8.5,
        "leading": 11,
        "leftIndent": 8,
        "spaceBefore": 5,
        "spaceAfter": 2,
        "textColor": BRAND,
    },
    "a_body": {"fontSize": 9, "leading": 12.5, "leftIndent": 8, "spaceAfter": 3},
    "a_small": {"fontSize": 8, "leading": 10.5, "leftIndent": 8, "spaceAfter": 1.5},
    "a_item": {
        "fontSize": 8,
        "leading": 10.5,
        "leftIndent": 18,
        "bulletIndent": 9,
        "bulletFontName": FONT,
        "spaceAfter": 1,
    },
}


def paragraph_styles() -> dict[str, ParagraphStyle]:
    """The report's paragraph styles by name ("body", "h1", "cell", ...)."""
    body = ParagraphStyle("body", **_BODY)
    return {
        "body": body,
        **{
            name: ParagraphStyle(name, parent=body, **changes)
            for name, changes in _STYLE_CHANGES.items()
        },
    }


def table_style(commands: list) -> TableStyle:
    """A table style in DejaVu Sans: a table's own default font is Helvetica."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands])
