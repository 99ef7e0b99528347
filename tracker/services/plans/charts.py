"""Server-made SVG charts: plain data the templates turn into <rect>s (no inline styles,
no JavaScript), so they pass the CSP and print well."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.dates import show_month
from tracker.vocabulary import Completion

#: fill colours per completion level, the same as the CSS badges
COMPLETION_COLOURS = {
    Completion.NO_EVIDENCE: "#6b7280",
    Completion.NOT_STARTED: "#b42318",
    Completion.LIMITED: "#b54708",
    Completion.SUBSTANTIAL: "#1d6fb8",
    Completion.COMPLETE: "#127a3b",
}


@dataclass(frozen=True)
class BarSegment:
    level: Completion
    count: int
    #: where the segment starts and how long it is, in percent of the chart's width
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class ChartRow:
    label: str
    total: int
    #: the row's top, in pixels
    y: float
    segments: tuple[BarSegment, ...]
    #: where the bar ends (where it starts when empty), in percent; its total goes there
    end: float


@dataclass(frozen=True)
class StackedBarChart:
    """Bars placed in percent of the chart's width and rows in pixels: the SVG has no
    viewBox, so it takes the width it is given while its text keeps its size (a scaled
    640-unit drawing wrote 7-pixel labels on a phone)."""

    rows: tuple[ChartRow, ...]
    #: the labels end here (right-aligned), in percent; the bars start just after
    label_end: float
    height: int
    bar_height: int
    legend: tuple[tuple[Completion, str], ...]


def section_completion_chart(rows) -> StackedBarChart:
    """Horizontal stacked bars, one per section, each measure one unit of length."""
    labelled = [(str(section.number), counts) for section, counts in rows]
    # room for a one-digit label on the left and the total on the right, on a phone too
    return stacked_bar_chart(labelled, label_share=6, total_share=10, bar_height=22, gap=10)


def monthly_completion_chart(months) -> StackedBarChart:
    """Horizontal stacked bars, one per month (MonthFigures), each measure one unit."""
    rows = [(show_month(m.month_end), m.counts) for m in months]
    # "September 2022" or "sentyabr 2022" needs about 90 px at 12 px: 30 % of a phone's
    # column; every bar is the same length
    return stacked_bar_chart(rows, label_share=30, total_share=1, bar_height=14, gap=4)


def stacked_bar_chart(
    rows, *, label_share: float, total_share: float, bar_height: int, gap: int
) -> StackedBarChart:
    """Horizontal stacked bars, one per (label, counts by completion) row. The labels take
    `label_share` percent of the width on the left, the totals `total_share` on the right."""
    longest = max((sum(counts.values()) for _, counts in rows), default=1) or 1
    scale = (100 - label_share - total_share) / longest
    chart_rows = []
    for index, (label, counts) in enumerate(rows):
        x = float(label_share)
        segments = []
        for level in Completion:
            count = counts.get(level, 0)
            if count:
                segments.append(
                    BarSegment(level, count, x, count * scale, COMPLETION_COLOURS[level])
                )
                x += count * scale
        chart_rows.append(
            ChartRow(
                label,
                sum(counts.values()),
                index * (bar_height + gap),
                tuple(segments),
                x,
            )
        )
    height = max(len(chart_rows) * (bar_height + gap), bar_height)
    return StackedBarChart(
        rows=tuple(chart_rows),
        label_end=label_share - 1,
        height=height,
        bar_height=bar_height,
        legend=tuple(COMPLETION_COLOURS.items()),
    )
