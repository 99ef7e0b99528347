"""The PDF's charts, drawn with ReportLab graphics: the completion strip (cover and
summary), completion by section, and the agencies with the most overdue measures."""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from tracker.services.reports.model import Report
from tracker.services.reports.pdf_style import (
    COMPLETION_COLOURS,
    DANGER,
    FONT,
    FONT_BOLD,
    FRAME_WIDTH,
    INK,
    LINE,
    MUTED,
    clean,
    fit,
)


def completion_strip(report: Report) -> Drawing:
    """One bar, split by completion: the shape of the whole report at a glance."""
    height = 14
    drawing = Drawing(FRAME_WIDTH, height + 16, initialFontName=FONT)
    total = report.summary.total or 1
    x = 0.0
    for level in report.scale:
        count = report.summary.counts.get(level.level, 0)
        if not count:
            continue
        width = FRAME_WIDTH * count / total
        drawing.add(
            Rect(x, 16, width, height, fillColor=COMPLETION_COLOURS[level.level], strokeColor=None)
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
    _legend(drawing, report, 0, 3)
    return drawing


def _legend(drawing: Drawing, report: Report, x: float, y: float) -> None:
    """A row of colour keys for the completion levels."""
    for level in report.scale:
        drawing.add(Rect(x, y, 7, 7, fillColor=COMPLETION_COLOURS[level.level], strokeColor=None))
        label = clean(level.label)
        drawing.add(String(x + 10, y + 0.5, label, fontName=FONT, fontSize=7, fillColor=INK))
        x += 10 + pdfmetrics.stringWidth(label, FONT, 7) + 12


def _bar_chart(
    names: list[str], most: int, label_width: float, y: float, height: float, right_gap: float
) -> HorizontalBarChart:
    """A horizontal bar chart with category names on the left and a value grid."""
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, y
    chart.width, chart.height = FRAME_WIDTH - label_width - right_gap, height
    chart.categoryAxis.categoryNames = [fit(name, FONT, 7, label_width - 8) for name in names]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = most
    chart.valueAxis.valueStep = max(1, round(most / 6))
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = LINE
    return chart


def _caption(drawing: Drawing, x: float, y: float, caption: str) -> None:
    drawing.add(String(x, y, clean(caption), fontName=FONT, fontSize=7, fillColor=MUTED))


def section_chart(report: Report) -> Drawing:
    """Stacked bars: each section's measures by completion."""
    blocks = list(reversed(report.sections))  # the first section on top
    label_width, chart_height = 190, 20 * len(blocks)
    drawing = Drawing(FRAME_WIDTH, chart_height + 54, initialFontName=FONT)
    most = max((b.summary.total for b in blocks), default=1)
    names = [f"{b.number}. {b.title}" for b in blocks]
    chart = _bar_chart(names, most, label_width, 44, chart_height, right_gap=10)
    levels = [s.level for s in report.scale]
    chart.data = [[b.summary.counts.get(level, 0) for b in blocks] for level in levels]
    chart.categoryAxis.style = "stacked"
    chart.barSpacing = 0
    chart.groupSpacing = 6
    for index, level in enumerate(levels):
        chart.bars[index].fillColor = COMPLETION_COLOURS[level]
        chart.bars[index].strokeColor = colors.white
        chart.bars[index].strokeWidth = 0.4
    drawing.add(chart)
    _caption(drawing, label_width, 20, _("Number of measures"))
    _legend(drawing, report, 0, 4)
    return drawing


def overdue_chart(report: Report) -> Drawing:
    """Bars: the agencies with the most overdue measures (not complete when the plan ended,
    once it has)."""
    rows = list(reversed(report.overdue_agencies))
    label_width, chart_height = 220, 18 * len(rows)
    drawing = Drawing(FRAME_WIDTH, chart_height + 30, initialFontName=FONT)
    most = max(r.overdue for r in rows)
    chart = _bar_chart([r.name for r in rows], most, label_width, 20, chart_height, right_gap=30)
    chart.data = [[r.overdue for r in rows]]
    chart.bars[0].fillColor = DANGER
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT_BOLD
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    late = (
        _("Not complete when the plan ended") if report.summary.is_closed else _("Overdue measures")
    )
    _caption(drawing, label_width, 2, late)
    return drawing
