"""The PDF's page furniture and the story it is built from.

`ReportDocument` lays out the pages: a cover with the brand band, then body pages with a
running header, a footer and "Page N of M" (drawn by `NumberedCanvas`), and an outline
entry for every `Heading`. `Story` is the list of flowables the page modules add to, with
the paragraph styles and a few building blocks they share.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
)

from tracker.services.reports.model import Report
from tracker.services.reports.pdf_style import (
    BRAND,
    FONT,
    FONT_BOLD,
    FRAME_WIDTH,
    LINE,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    clean,
    date_text,
    fit,
    paragraph_styles,
    table_style,
    text,
)
from tracker.vocabulary import ReportKind


def kind_title(kind: ReportKind) -> str:
    """The name of the kind of report, as the cover and the running header print it."""
    return {
        ReportKind.PLAN: _("Plan progress report"),
        ReportKind.SECTION: _("Section report"),
        ReportKind.AGENCY: _("Agency report"),
        ReportKind.ORGANISATION: _("Organisation's monitoring report"),
    }[kind]


def header_text(report: Report) -> str:
    """The running header (and the document's title): the kind and the subject."""
    subject = report.plan_title if report.kind == ReportKind.PLAN else report.subject
    return f"{kind_title(report.kind)} · {subject}"


class Heading(Paragraph):
    """A heading that adds a bookmark and an outline entry where it lands."""

    def __init__(self, markup: str, style: ParagraphStyle, outline_title: str, key: str, level=0):
        super().__init__(markup, style)
        self.outline_title = clean(outline_title)
        self.outline_key = key
        self.outline_level = level


class NumberedCanvas(Canvas):
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


def _frame(document: BaseDocTemplate, frame_id: str, height: float) -> Frame:
    return Frame(
        document.leftMargin,
        document.bottomMargin,
        document.width,
        height,
        id=frame_id,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )


class ReportDocument(BaseDocTemplate):
    """A4 pages: the cover template, then the body template with header and footer."""

    def __init__(self, buffer: io.BytesIO, report: Report, **kwargs):
        header = header_text(report)
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
        cover_frame = _frame(self, "cover", self.height - 40 * mm)
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[cover_frame], onPage=self._draw_cover),
                PageTemplate(
                    id="body", frames=[_frame(self, "body", self.height)], onPage=self._draw_body
                ),
            ]
        )

    def _draw_cover(self, canvas: NumberedCanvas, _doc) -> None:
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

    def _draw_body(self, canvas: NumberedCanvas, _doc) -> None:
        """The running header, the footer line and the page number."""
        canvas.saveState()
        top = PAGE_HEIGHT - MARGIN + 1 * mm
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        right = _("As of %(date)s", date=date_text(self.report.as_of))
        right_width = canvas.stringWidth(right, FONT, 7.5)
        left = fit(self.header, FONT, 7.5, FRAME_WIDTH - right_width - 12)
        canvas.drawString(MARGIN, top, left)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, top, right)
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, top - 2.5 * mm, PAGE_WIDTH - MARGIN, top - 2.5 * mm)
        canvas.line(MARGIN, 14 * mm, PAGE_WIDTH - MARGIN, 14 * mm)
        footer = _("Open Government Tracker · independent civil society monitoring")
        canvas.drawString(MARGIN, 10 * mm, fit(footer, FONT, 7.5, FRAME_WIDTH / 2))
        canvas.draw_page_number()
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Heading):
            self.canv.bookmarkPage(flowable.outline_key, fit="XYZ", top=PAGE_HEIGHT)
            self.canv.addOutlineEntry(
                flowable.outline_title,
                flowable.outline_key,
                level=flowable.outline_level,
                closed=flowable.outline_level > 0,
            )


class Story:
    """The report's flowables in order, with the styles and shared building blocks."""

    def __init__(self, report: Report):
        self.report = report
        self.styles = paragraph_styles()
        self.flowables: list[Flowable] = []

    def add(self, *flowables: Flowable) -> None:
        self.flowables.extend(flowables)

    def para(self, markup: str, style: str = "body") -> Paragraph:
        return Paragraph(markup, self.styles[style])

    def heading(self, title: str, key: str, style: str = "h1", level: int = 0) -> Heading:
        return Heading(text(title), self.styles[style], title, key, level)

    def facts(
        self,
        rows: Iterable[tuple[str, str]],
        label_width: float = 38 * mm,
        style: str = "small",
        markup: bool = False,
    ) -> Table:
        """A two-column table of labelled facts; `markup` says the values are markup."""
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
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def build(self) -> bytes:
        """The PDF's bytes (call inside the report's force_locale)."""
        buffer = io.BytesIO()
        document = ReportDocument(buffer, self.report)
        document.build(self.flowables, canvasmaker=NumberedCanvas)
        return buffer.getvalue()
