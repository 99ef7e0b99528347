"""PDF rendering, the second of two stages, and the only module that imports ReportLab.

It turns a `tracker.services.reports.content.Report` into PDF bytes. Text is set in DejaVu Sans,
embedded from tracker/fonts, because ReportLab's built-in fonts have no ə. ReportLab
parses markup in a Paragraph, so every piece of text, including translations, passes
through `text()` (or `multiline()`) before it reaches one: a stray `<` or `&` would
crash the build, and an `<img src=...>` would make it read local files.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from xml.sax.saxutils import escape

from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from tracker.config import PACKAGE_ROOT
from tracker.services.reports.content import (
    Assessment,
    EvidenceItem,
    MeasureEntry,
    Report,
    SectionBlock,
    short_title,
)
from tracker.vocabulary import Completion, ReportKind

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
_BLANK_LINES = re.compile(r"\n\s*\n")


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


def _date(value: date | None, form: str = "medium") -> str:
    return format_date(value, form) if value else "—"


# --- styles -----------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5),
        "muted": ParagraphStyle("muted", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "original": ParagraphStyle(
            "original",
            parent=base,
            fontName=FONT_ITALIC,
            fontSize=8.5,
            leading=11,
            textColor=MUTED,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "cell_head": ParagraphStyle(
            "cell_head", parent=base, fontName=FONT_BOLD, fontSize=7.5, leading=9.5
        ),
        "cell_badge": ParagraphStyle(
            "cell_badge",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=7.5,
            leading=9.5,
            textColor=colors.white,
        ),
        "cover_kicker": ParagraphStyle(
            "cover_kicker",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=15,
            textColor=BRAND,
        ),
        "cover_title": ParagraphStyle(
            "cover_title",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=24,
            leading=30,
            spaceAfter=10,
        ),
        "cover_subtitle": ParagraphStyle(
            "cover_subtitle", parent=base, fontSize=14, leading=19, spaceAfter=6
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=17,
            leading=22,
            spaceAfter=8,
            textColor=BRAND,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10.5,
            leading=14,
            spaceBefore=10,
            spaceAfter=3,
        ),
        "figure_value": ParagraphStyle(
            "figure_value",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=20,
            leading=24,
            textColor=BRAND,
        ),
        "figure_label": ParagraphStyle(
            "figure_label", parent=base, fontSize=8, leading=10, textColor=MUTED
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        # an assessment, indented under its measure
        "a_head": ParagraphStyle(
            "a_head",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=8.5,
            leading=11,
            leftIndent=8,
            spaceBefore=5,
            spaceAfter=2,
            textColor=BRAND,
        ),
        "a_body": ParagraphStyle(
            "a_body", parent=base, fontSize=9, leading=12.5, leftIndent=8, spaceAfter=3
        ),
        "a_small": ParagraphStyle(
            "a_small", parent=base, fontSize=8, leading=10.5, leftIndent=8, spaceAfter=1.5
        ),
        "a_item": ParagraphStyle(
            "a_item",
            parent=base,
            fontSize=8,
            leading=10.5,
            leftIndent=18,
            bulletIndent=9,
            bulletFontName=FONT,
            spaceAfter=1,
        ),
    }


# --- the document -----------------------------------------------------------------------------


class _Heading(Paragraph):
    """A heading that adds a bookmark and an outline entry where it lands."""

    def __init__(self, markup: str, style: ParagraphStyle, outline_title: str, key: str, level=0):
        super().__init__(markup, style)
        self.outline_title = clean(outline_title)
        self.outline_key = key
        self.outline_level = level


class _Canvas(Canvas):
    """Writes "Page N of M" on every page but the cover. The total is only known at the
    end, so each page draws a form XObject that save() defines once the count is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._numbered_pages: list[int] = []

    def draw_page_number(self) -> None:
        number = self.getPageNumber()
        self._numbered_pages.append(number)
        self.doForm(f"pageNumber{number}")

    def save(self) -> None:
        total = self.getPageNumber() - 1 if not self._code else self.getPageNumber()
        for number in self._numbered_pages:
            self.beginForm(f"pageNumber{number}")
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            # save() runs inside render_pdf's force_locale, so this is in the report's language
            label = _("Page %(number)s of %(total)s", number=number, total=total)
            self.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, label)
            self.endForm()
        super().save()


class _Document(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, report: Report, header: str, **kwargs):
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 6 * mm,
            bottomMargin=MARGIN,
            title=clean(header),
            author=_("Open Government Tracker"),
            subject=clean(report.subject),
            creator=_("Open Government Tracker"),
            lang=report.locale,
            # otherwise every page starts in Helvetica, which has no ə
            initialFontName=FONT,
            initialFontSize=9.5,
            **kwargs,
        )
        self.report = report
        self.header = clean(header)
        frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        cover_frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height - 40 * mm,
            id="cover",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[cover_frame], onPage=self._draw_cover),
                PageTemplate(id="body", frames=[frame], onPage=self._draw_running_header),
            ]
        )

    def _draw_cover(self, canvas: _Canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFillColor(BRAND)
        canvas.rect(0, PAGE_HEIGHT - 28 * mm, PAGE_WIDTH, 28 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(FONT_BOLD, 13)
        canvas.drawString(MARGIN, PAGE_HEIGHT - 17 * mm, _("Open Government Tracker"))
        canvas.setFont(FONT, 9)
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 17 * mm, clean(self.report.plan_period)
        )
        canvas.restoreState()

    def _draw_running_header(self, canvas: _Canvas, _doc) -> None:
        canvas.saveState()
        top = PAGE_HEIGHT - MARGIN + 1 * mm
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        right = _("As of %(date)s", date=_date(self.report.as_of, "long"))
        right_width = canvas.stringWidth(right, FONT, 7.5)
        left = _fit(self.header, FONT, 7.5, FRAME_WIDTH - right_width - 12)
        canvas.drawString(MARGIN, top, left)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, top, right)
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, top - 2.5 * mm, PAGE_WIDTH - MARGIN, top - 2.5 * mm)
        canvas.line(MARGIN, 14 * mm, PAGE_WIDTH - MARGIN, 14 * mm)
        canvas.drawString(
            MARGIN,
            10 * mm,
            _fit(
                _("Open Government Tracker · independent civil society monitoring"),
                FONT,
                7.5,
                FRAME_WIDTH / 2,
            ),
        )
        canvas.draw_page_number()
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.outline_key, fit="XYZ", top=PAGE_HEIGHT)
            self.canv.addOutlineEntry(
                flowable.outline_title,
                flowable.outline_key,
                level=flowable.outline_level,
                closed=flowable.outline_level > 0,
            )


def _table_style(commands: list) -> TableStyle:
    """A table style in DejaVu Sans: a table's own default font is Helvetica."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands])


def _fit(value: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis to fit a width."""
    value = clean(value)
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    while value and pdfmetrics.stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


# --- building blocks --------------------------------------------------------------------------


class _Builder:
    def __init__(self, report: Report):
        self.report = report
        self.s = _styles()
        self.story: list[Flowable] = []

    def add(self, *flowables: Flowable) -> None:
        self.story.extend(flowables)

    def para(self, markup: str, style: str = "body") -> Paragraph:
        return Paragraph(markup, self.s[style])

    def heading(self, title: str, key: str, style: str = "h1", level: int = 0) -> _Heading:
        return _Heading(text(title), self.s[style], title, key, level)

    # the report's parts, in order

    def cover(self) -> None:
        r = self.report
        kicker = {
            ReportKind.PLAN: _("Plan progress report"),
            ReportKind.SECTION: _("Section report"),
            ReportKind.AGENCY: _("Agency report"),
            ReportKind.ORGANISATION: _("Organisation's monitoring report"),
        }[r.kind]
        self.add(self.para(text(kicker), "cover_kicker"), Spacer(1, 4 * mm))
        self.add(self.para(text(r.subject), "cover_title"))
        if r.subject_original:
            self.add(self.para(text(r.subject_original), "original"), Spacer(1, 3 * mm))
        if r.kind != ReportKind.PLAN:
            self.add(self.para(text(r.plan_title), "cover_subtitle"))
        if r.plan_title_original and r.kind == ReportKind.PLAN:
            self.add(self.para(text(r.plan_title_original), "original"))
        self.add(Spacer(1, 10 * mm))
        rows = [
            (_("Situation as of"), _date(r.as_of, "long")),
            (_("Plan period"), r.plan_period),
            (_("Measures covered"), str(r.summary.total)),
            (_("Language"), _("Azerbaijani") if r.locale == "az" else _("English")),
            (_("Generated on"), _date(r.generated_on, "long")),
        ]
        self.add(self._facts(rows, label_width=45 * mm, style="body"))
        self.add(Spacer(1, 8 * mm), self._completion_strip(r), Spacer(1, 10 * mm))
        self.add(
            self.para(
                text(
                    _(
                        "Independent civil society monitoring of the Open Government "
                        "Partnership national action plan. This report sets what the "
                        "government claims beside what civil society organisations assess. "
                        "It contains approved, public material only: assessments reviewed "
                        "by the Open Government Platform, public evidence, and the names of "
                        "organisations, never of individual people."
                    )
                ),
                "muted",
            )
        )
        if r.url:
            self.add(Spacer(1, 3 * mm), self.para(link(r.url, r.url), "muted"))
        self.add(NextPageTemplate("body"), PageBreak())

    def summary(self) -> None:
        r, summary = self.report, self.report.summary
        self.add(self.heading(_("Summary"), "summary"))
        score = format_decimal(summary.score, "#,##0.0") if summary.score is not None else "—"
        figures = [
            (score, _("score out of 100 (scored measures only)")),
            (str(summary.total), _("measures")),
            (str(summary.overdue), _("overdue")),
            (str(summary.disputed), _("disputed: the government's claim differs")),
            (
                f"{format_decimal(r.coverage.share, '#,##0.#')}%",
                _(
                    "of measures covered by monitors (%(count)s of %(total)s)",
                    count=r.coverage.monitored,
                    total=r.coverage.total,
                ),
            ),
            (
                f"{format_decimal(summary.evidence_share, '#,##0.#')}%",
                _("of measures with an approved assessment"),
            ),
        ]
        cells = [
            [self.para(text(value), "figure_value"), self.para(text(label), "figure_label")]
            for value, label in figures
        ]
        grid = [[cells[i], cells[i + 1], cells[i + 2]] for i in range(0, len(cells), 3)]
        table = Table(grid, colWidths=[FRAME_WIDTH / 3] * 3)
        table.setStyle(
            _table_style(
                [
                    ("BOX", (0, 0), (-1, -1), 0.6, LINE),
                    ("INNERGRID", (0, 0), (-1, -1), 0.6, LINE),
                    ("BACKGROUND", (0, 0), (-1, -1), WASH),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        self.add(table, Spacer(1, 5 * mm))
        self.add(self.para(text(_("Measures by completion (CSO assessment)")), "h2"))
        self.add(self._completion_table(summary), Spacer(1, 3 * mm))
        self.add(self._completion_strip(r))
        if r.role_summaries:
            self.add(self.para(text(_("By the agency's role")), "h2"))
            self.add(self._role_table())
        self.add(Spacer(1, 4 * mm))
        self.add(
            self.para(
                text(
                    _(
                        "%(count)s organisations monitor these measures on this date. "
                        "The score weighs each measure's completion (not started 0, limited "
                        "1/3, substantial 2/3, complete 1) over the measures with an "
                        "approved assessment; see the note on method at the end.",
                        count=r.coverage.organisations,
                    )
                ),
                "muted",
            )
        )
        self.add(PageBreak())

    def charts(self) -> None:
        r = self.report
        if len(r.sections) < 2 and not r.overdue_agencies:
            return
        self.add(self.heading(_("Charts"), "charts"))
        if len(r.sections) > 1:
            self.add(self.para(text(_("Completion by section")), "h2"))
            self.add(self._section_chart())
        if r.overdue_agencies:
            self.add(CondPageBreak(80 * mm))
            self.add(self.para(text(_("Agencies with the most overdue measures")), "h2"))
            self.add(
                self.para(
                    text(
                        _(
                            "Overdue measures that name the agency as executing agency or "
                            "as recommended agency; each measure counts once per agency."
                        )
                    ),
                    "muted",
                )
            )
            self.add(self._overdue_chart())
        self.add(PageBreak())

    def measures_table(self) -> None:
        r = self.report
        self.add(self.heading(_("All measures"), "measures"))
        self.add(
            self.para(
                text(
                    _(
                        "Government: the completion the government claims, from its latest "
                        "report or statement by the date. CSOs: the latest approved "
                        "assessment of a monitoring organisation."
                    )
                ),
                "muted",
            ),
            Spacer(1, 2 * mm),
        )
        is_agency = r.kind == ReportKind.AGENCY
        head = [
            _("Code"),
            _("Measure"),
            _("Agency's role") if is_agency else _("Agencies"),
            _("Due date"),
            _("Government"),
            _("CSOs"),
        ]
        widths = [30, 170, 116, 54, 62, 62]
        for block in r.sections:
            rows: list[list] = [[self.para(text(h), "cell_head") for h in head]]
            rows.append(
                [self.para(text(f"{block.number}. {block.title}"), "cell_head"), "", "", "", "", ""]
            )
            style = [
                ("SPAN", (0, 1), (-1, 1)),
                ("BACKGROUND", (0, 0), (-1, 0), WASH),
                ("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#e8eef5")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
            for index, m in enumerate(block.measures, start=2):
                rows.append(self._measure_row(m, is_agency))
                style.append(
                    ("BACKGROUND", (5, index), (5, index), COMPLETION_COLOURS[m.completion])
                )
                if m.claim:
                    style.append(
                        (
                            "BACKGROUND",
                            (4, index),
                            (4, index),
                            COMPLETION_COLOURS[m.claim.completion],
                        )
                    )
            table = Table(rows, colWidths=widths, repeatRows=2)
            table.setStyle(_table_style(style))
            self.add(table, Spacer(1, 4 * mm))
        self.add(PageBreak())

    def _measure_row(self, m: MeasureEntry, is_agency: bool) -> list:
        if is_agency:
            who = "<br/>".join(text(role) for role in m.roles)
        else:
            lines = []
            if m.executors:
                lines.append("; ".join(text(a) for a in m.executors))
            if m.recommended:
                recommended = "; ".join(text(a) for a in m.recommended)
                lines.append(f"<i>{text(_('Recommended to'))}: {recommended}</i>")
            who = "<br/>".join(lines)
        due = text(_date(m.due_date))
        if m.is_overdue:
            due += f'<br/><font color="#b42318"><b>{text(_("overdue"))}</b></font>'
        government = self.para(text(m.claim.completion_label), "cell_badge") if m.claim else "—"
        cso = text(m.completion_label)
        if m.progress_percent is not None:
            cso += f" ({m.progress_percent}%)"
        if m.is_disputed:
            cso += f"<br/>{text(_('disputed'))}"
        return [
            self.para(f"<b>{text(m.code)}</b>", "cell"),
            self.para(text(m.short_title), "cell"),
            self.para(who, "cell"),
            self.para(due, "cell"),
            government if isinstance(government, Paragraph) else self.para(government, "cell"),
            self.para(cso, "cell_badge"),
        ]

    def section_details(self, block: SectionBlock) -> None:
        r = self.report
        title = _("Section %(number)s. %(title)s", number=block.number, title=block.title)
        self.add(self.heading(title, f"section-{block.number}"))
        if block.title_original:
            self.add(self.para(text(block.title_original), "original"), Spacer(1, 2 * mm))
        s = block.summary
        score = format_decimal(s.score, "#,##0.0") if s.score is not None else "—"
        self.add(
            self.para(
                text(
                    _(
                        "%(total)s measures · score %(score)s · %(overdue)s overdue · "
                        "%(disputed)s disputed",
                        total=s.total,
                        score=score,
                        overdue=s.overdue,
                        disputed=s.disputed,
                    )
                ),
                "muted",
            )
        )
        for m in block.measures:
            self._measure_detail(m, block.number, r.kind == ReportKind.ORGANISATION)
        self.add(PageBreak())

    def _measure_detail(self, m: MeasureEntry, section: int, is_organisation: bool) -> None:
        heading = _Heading(
            f"{text(m.code)} · {text(m.title)}",
            self.s["h3"],
            f"{m.code} {short_title_for_outline(m.title)}",
            f"measure-{section}-{m.code}",
            level=1,
        )
        head: list[Flowable] = [heading]
        if m.title_original:
            head.append(self.para(text(m.title_original), "original"))
        facts = [(_("Evaluation indicator"), text(m.indicator))]
        if m.executors:
            facts.append((_("Executing agencies"), "; ".join(text(a) for a in m.executors)))
        if m.recommended:
            facts.append((_("Recommended to"), "; ".join(text(a) for a in m.recommended)))
        if m.roles:
            facts.append((_("Agency's role"), "; ".join(text(role) for role in m.roles)))
        due = _("%(period)s; due %(date)s", period=m.period, date=_date(m.due_date, "long"))
        due_markup = text(due)
        if m.is_overdue:
            due_markup += (
                f' <font color="#b42318"><b>'
                f"{text(_('overdue by %(days)s days', days=m.days_overdue))}</b></font>"
            )
        facts.append((_("Implementation period"), due_markup))
        facts.append((_("Government claim"), self._claim_markup(m)))
        cso = (
            f'<font color="{COMPLETION_HEX[m.completion]}"><b>{text(m.completion_label)}</b></font>'
        )
        if m.progress_percent is not None:
            cso += text(f" · {m.progress_percent}%")
        if m.latest:
            cso += text(
                " · "
                + _(
                    "%(organisation)s, as of %(date)s",
                    organisation=m.latest.organisation_name,
                    date=_date(m.latest.as_of_date),
                )
            )
        if m.is_disputed:
            cso += f' <font color="#6941c6"><b>{text(_("disputed"))}</b></font>'
        facts.append((_("CSO assessment"), cso))
        if m.url:
            facts.append((_("Online"), link(m.url, m.url)))
        head.append(self._facts(facts, markup=True))
        self.add(CondPageBreak(45 * mm), KeepTogether(head))
        if m.claim and m.claim.note.strip():
            self.add(
                self.para(
                    f"<b>{text(_('The government says'))}:</b> {multiline(m.claim.note.strip())}",
                    "a_small",
                )
            )

        if is_organisation:
            if not m.organisation_updates:
                self.add(
                    self.para(text(_("No approved update by this organisation yet.")), "muted")
                )
            for update in m.organisation_updates:
                self._assessment(update, show_organisation=False)
        elif m.latest:
            self._assessment(m.latest, show_organisation=True)
        else:
            self.add(self.para(text(_("No approved assessment yet.")), "muted"))
        if m.other_assessments and not is_organisation:
            lines = "<br/>".join(
                text(
                    _(
                        "%(organisation)s: %(completion)s (as of %(date)s)",
                        organisation=a.organisation_name,
                        completion=a.completion_label,
                        date=_date(a.as_of_date),
                    )
                )
                for a in m.other_assessments
            )
            self.add(self.para(f"<b>{text(_('Other organisations'))}</b><br/>{lines}", "small"))
        self.add(Spacer(1, 3 * mm))

    def _claim_markup(self, m: MeasureEntry) -> str:
        if not m.claim:
            return text(_("No claim recorded"))
        c = m.claim
        markup = f"<b>{text(c.completion_label)}</b> · {text(_date(c.claim_date))}"
        # a table row cannot break across pages: long titles are cut here, and the
        # claim's note is printed below the table (see _measure_detail)
        title = short_title(c.source_title, 160)
        if c.source_url:
            markup += f" · {link(c.source_url, title or short_title(c.source_url, 80))}"
        elif title:
            markup += f" · {text(title)}"
        if c.file_url:
            markup += f" · {link(c.file_url, _('source document'))}"
        return markup

    def _assessment(self, a: Assessment, show_organisation: bool) -> None:
        if show_organisation:
            title = _(
                "Latest approved assessment, by %(organisation)s, as of %(date)s",
                organisation=a.organisation_name,
                date=_date(a.as_of_date),
            )
        else:
            title = _(
                "Update as of %(date)s: %(completion)s",
                date=_date(a.as_of_date),
                completion=a.completion_label,
            )
        self.add(self.para(text(title), "a_head"))
        for paragraph in _BLANK_LINES.split(clean(a.narrative).strip()):
            if paragraph.strip():
                self.add(self.para(multiline(paragraph.strip()), "a_body"))
        if a.delay_reasons:
            self.add(
                self.para(
                    f"<b>{text(_('Reasons for delay'))}:</b> "
                    + "; ".join(text(reason) for reason in a.delay_reasons),
                    "a_small",
                )
            )
        if a.evidence or a.private_evidence_count:
            self.add(self.para(f"<b>{text(_('Evidence'))}</b>", "a_small"))
            for item in a.evidence:
                self.add(Paragraph(self._evidence_markup(item), self.s["a_item"], bulletText="•"))
            if a.private_evidence_count:
                note = _(
                    "%(count)s further item(s) of evidence are private: reviewers have seen them.",
                    count=a.private_evidence_count,
                )
                self.add(Paragraph(text(note), self.s["a_item"], bulletText="•"))

    def _evidence_markup(self, item: EvidenceItem) -> str:
        title = link(item.url, item.title) if item.url else text(item.title)
        markup = f"{text(item.type_label)}: {title}"
        if item.evidence_date:
            markup += f" ({text(_date(item.evidence_date))})"
        if item.request_agency or item.request_outcome:
            details = _(
                "sent to %(agency)s on %(sent)s; answered %(answered)s; outcome: %(outcome)s",
                agency=item.request_agency or "—",
                sent=_date(item.request_sent_on),
                answered=_date(item.request_answered_on),
                outcome=item.request_outcome or "—",
            )
            markup += f" — {text(details)}"
        if item.file_url:
            markup += f" — {link(item.file_url, _('download the attached file'))}"
        return markup

    def method(self) -> None:
        r = self.report
        self.add(self.heading(_("Note on method"), "method"))
        self.add(self.para(text(_("The scale")), "h2"))
        self.add(
            self.para(
                text(
                    _(
                        "Completion follows the scale of the OGP Independent Reporting "
                        "Mechanism. Each level has a weight in the score:"
                    )
                )
            )
        )
        rows = [
            [self.para(text(_("Level")), "cell_head"), self.para(text(_("Weight")), "cell_head")]
        ]
        for level in r.scale:
            weight = _("not scored") if level.weight is None else _weight(level.weight)
            rows.append([self.para(text(level.label), "cell"), self.para(text(weight), "cell")])
        table = Table(rows, colWidths=[70 * mm, 50 * mm], hAlign="LEFT")
        table.setStyle(
            _table_style(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), WASH),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        self.add(Spacer(1, 2 * mm), table, Spacer(1, 3 * mm))
        for paragraph in (
            _(
                "The score is the mean weight of the measures that have an approved "
                'assessment, times 100. Measures without one ("no evidence available") '
                "are counted but not scored."
            ),
            _(
                "A measure is overdue once its due date has passed and it is not complete. "
                "The due date is 31 December of the last year of the measure's implementation "
                "period, unless a milestone sets another date."
            ),
            _(
                "A measure is disputed when the completion the government claims differs "
                "from the assessment of any monitoring organisation."
            ),
            _(
                "Every figure is computed for the date on the cover from the records as they "
                "stood then: later assessments and claims are left out."
            ),
        ):
            self.add(self.para(text(paragraph)), Spacer(1, 2 * mm))
        self.add(self.para(text(_("Sources")), "h2"))
        sources = [
            _("The plan: %(source)s.", source=r.plan_source or r.plan_title),
            _(
                "Civil society assessments: status updates by monitoring organisations, "
                "with their evidence, approved by reviewers of the Open Government Platform. "
                "Drafts, updates awaiting review, returned and withdrawn updates are left out."
            ),
            _(
                "Government claims: the government's reports and statements, as recorded "
                "with their source."
            ),
            _(
                "Private evidence (such as correspondence that names people) is counted but "
                "not shown. Organisations are named; the people who wrote the assessments "
                "are not."
            ),
        ]
        if r.locale != "az":
            sources.append(
                _(
                    "The plan's text is quoted in the project's English translation; where it "
                    "matters, the Azerbaijani original is printed beside it in italics."
                )
            )
        for source in sources:
            self.add(self.para(f"• {text(source)}"), Spacer(1, 1.5 * mm))

    # small pieces

    def _facts(
        self,
        rows: Iterable[tuple[str, str]],
        label_width: float = 38 * mm,
        style: str = "small",
        markup: bool = False,
    ) -> Table:
        data = [
            [
                self.para(f"<b>{text(label)}</b>", style),
                self.para(value if markup else text(value), style),
            ]
            for label, value in rows
        ]
        table = Table(
            data, colWidths=[label_width, FRAME_WIDTH - label_width], hAlign="LEFT", splitInRow=1
        )
        table.setStyle(
            _table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def _completion_table(self, summary) -> Table:
        total = summary.total or 1
        rows = [
            [
                "",
                self.para(text(_("Completion")), "cell_head"),
                self.para(text(_("Measures")), "cell_head"),
                self.para(text(_("Share")), "cell_head"),
            ]
        ]
        for level in self.report.scale:
            count = summary.counts.get(level.level, 0)
            rows.append(
                [
                    "",
                    self.para(text(level.label), "cell"),
                    self.para(str(count), "cell"),
                    self.para(f"{format_decimal(100 * count / total, '#,##0.#')}%", "cell"),
                ]
            )
        table = Table(rows, colWidths=[6 * mm, 60 * mm, 25 * mm, 25 * mm], hAlign="LEFT")
        style = [
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        for index, level in enumerate(self.report.scale, start=1):
            style.append(("BACKGROUND", (0, index), (0, index), COMPLETION_COLOURS[level.level]))
        table.setStyle(_table_style(style))
        return table

    def _role_table(self) -> Table:
        rows = [
            [
                self.para(text(h), "cell_head")
                for h in (_("Role"), _("Measures"), _("Overdue"), _("Score"))
            ]
        ]
        for role in self.report.role_summaries:
            s = role.summary
            rows.append(
                [
                    self.para(text(role.label), "cell"),
                    self.para(str(s.total), "cell"),
                    self.para(str(s.overdue), "cell"),
                    self.para(
                        format_decimal(s.score, "#,##0.0") if s.score is not None else "—", "cell"
                    ),
                ]
            )
        table = Table(rows, colWidths=[60 * mm, 25 * mm, 25 * mm, 25 * mm], hAlign="LEFT")
        table.setStyle(
            _table_style(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), WASH),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                ]
            )
        )
        return table

    def _completion_strip(self, r: Report) -> Drawing:
        """One bar, split by completion: the shape of the whole report at a glance."""
        height = 14
        drawing = Drawing(FRAME_WIDTH, height + 16, initialFontName=FONT)
        total = r.summary.total or 1
        x = 0.0
        for level in r.scale:
            count = r.summary.counts.get(level.level, 0)
            if not count:
                continue
            width = FRAME_WIDTH * count / total
            drawing.add(
                Rect(
                    x,
                    16,
                    width,
                    height,
                    fillColor=COMPLETION_COLOURS[level.level],
                    strokeColor=None,
                )
            )
            if width > 14:
                drawing.add(
                    String(
                        x + width / 2,
                        19.5,
                        str(count),
                        fontName=FONT_BOLD,
                        fontSize=7.5,
                        fillColor=colors.white,
                        textAnchor="middle",
                    )
                )
            x += width
        self._legend(drawing, 0, 3)
        return drawing

    def _legend(self, drawing: Drawing, x: float, y: float) -> None:
        """A row of colour keys for the completion levels."""
        for level in self.report.scale:
            drawing.add(
                Rect(x, y, 7, 7, fillColor=COMPLETION_COLOURS[level.level], strokeColor=None)
            )
            label = clean(level.label)
            drawing.add(String(x + 10, y + 0.5, label, fontName=FONT, fontSize=7, fillColor=INK))
            x += 10 + pdfmetrics.stringWidth(label, FONT, 7) + 12

    def _section_chart(self) -> Drawing:
        blocks = list(reversed(self.report.sections))  # the first section on top
        label_width = 190
        row_height = 20
        chart_height = row_height * len(blocks)
        drawing = Drawing(FRAME_WIDTH, chart_height + 54, initialFontName=FONT)
        chart = HorizontalBarChart()
        chart.x, chart.y = label_width, 44
        chart.width, chart.height = FRAME_WIDTH - label_width - 10, chart_height
        levels = [s.level for s in self.report.scale]
        chart.data = [[b.summary.counts.get(level, 0) for b in blocks] for level in levels]
        chart.categoryAxis.style = "stacked"
        chart.categoryAxis.categoryNames = [
            _fit(f"{b.number}. {b.title}", FONT, 7, label_width - 8) for b in blocks
        ]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        most = max((b.summary.total for b in blocks), default=1)
        chart.valueAxis.valueMax = most
        chart.valueAxis.valueStep = max(1, round(most / 6))
        chart.valueAxis.visibleGrid = True
        chart.valueAxis.gridStrokeColor = LINE
        chart.barSpacing = 0
        chart.groupSpacing = 6
        for index, level in enumerate(levels):
            chart.bars[index].fillColor = COMPLETION_COLOURS[level]
            chart.bars[index].strokeColor = colors.white
            chart.bars[index].strokeWidth = 0.4
        drawing.add(chart)
        drawing.add(
            String(
                label_width,
                20,
                clean(_("Number of measures")),
                fontName=FONT,
                fontSize=7,
                fillColor=MUTED,
            )
        )
        self._legend(drawing, 0, 4)
        return drawing

    def _overdue_chart(self) -> Drawing:
        rows = list(reversed(self.report.overdue_agencies))
        label_width = 220
        row_height = 18
        chart_height = row_height * len(rows)
        drawing = Drawing(FRAME_WIDTH, chart_height + 30, initialFontName=FONT)
        chart = HorizontalBarChart()
        chart.x, chart.y = label_width, 20
        chart.width, chart.height = FRAME_WIDTH - label_width - 30, chart_height
        chart.data = [[r.overdue for r in rows]]
        chart.categoryAxis.categoryNames = [_fit(r.name, FONT, 7, label_width - 8) for r in rows]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        most = max(r.overdue for r in rows)
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = most
        chart.valueAxis.valueStep = max(1, round(most / 6))
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.visibleGrid = True
        chart.valueAxis.gridStrokeColor = LINE
        chart.bars[0].fillColor = DANGER
        chart.bars[0].strokeColor = None
        chart.barLabelFormat = "%d"
        chart.barLabels.fontName = FONT_BOLD
        chart.barLabels.fontSize = 7
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
        drawing.add(chart)
        drawing.add(
            String(
                label_width,
                2,
                clean(_("Overdue measures")),
                fontName=FONT,
                fontSize=7,
                fillColor=MUTED,
            )
        )
        return drawing


def _weight(weight: float) -> str:
    known = {0.0: "0", 1 / 3: "1/3", 2 / 3: "2/3", 1.0: "1"}
    for value, label in known.items():
        if abs(weight - value) < 1e-9:
            return label
    return format_decimal(weight, "#,##0.###")


def short_title_for_outline(title: str, limit: int = 60) -> str:
    title = " ".join(clean(title).split())
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + "…"


def _header_text(report: Report) -> str:
    kind = {
        ReportKind.PLAN: _("Plan progress report"),
        ReportKind.SECTION: _("Section report"),
        ReportKind.AGENCY: _("Agency report"),
        ReportKind.ORGANISATION: _("Organisation's monitoring report"),
    }[report.kind]
    if report.kind == ReportKind.PLAN:
        return f"{kind} · {report.plan_title}"
    return f"{kind} · {report.subject}"


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes, in the report's language."""
    register_fonts()
    with force_locale(report.locale):
        builder = _Builder(report)
        builder.cover()
        builder.summary()
        builder.charts()
        builder.measures_table()
        for block in report.sections:
            builder.section_details(block)
        builder.method()
        buffer = io.BytesIO()
        document = _Document(buffer, report, _header_text(report))
        document.build(builder.story, canvasmaker=_Canvas)
        return buffer.getvalue()
