"""Server-made SVG charts: plain data the templates turn into <rect>s (no inline styles,
no JavaScript), so they pass the CSP and print well."""

from __future__ import annotations

from dataclasses import dataclass

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
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class ChartRow:
    label: str
    total: int
    y: float
    segments: tuple[BarSegment, ...]


@dataclass(frozen=True)
class StackedBarChart:
    rows: tuple[ChartRow, ...]
    width: int
    height: int
    label_width: int
    bar_height: int
    legend: tuple[tuple[Completion, str], ...]


def section_completion_chart(rows, width: int = 640, bar_height: int = 22) -> StackedBarChart:
    """Horizontal stacked bars, one per section, each measure one unit of length."""
    labelled = [(str(section.number), counts) for section, counts in rows]
    return stacked_bar_chart(labelled, width=width, bar_height=bar_height)


def monthly_completion_chart(months) -> StackedBarChart:
    """Horizontal stacked bars, one per month (MonthFigures), each measure one unit."""
    rows = [(f"{m.month_end:%Y-%m}", m.counts) for m in months]
    return stacked_bar_chart(rows, label_width=70, bar_height=14, gap=4)


def stacked_bar_chart(
    rows, width: int = 640, bar_height: int = 22, label_width: int = 40, gap: int = 10
) -> StackedBarChart:
    """Horizontal stacked bars, one per (label, counts by completion) row."""
    longest = max((sum(counts.values()) for _, counts in rows), default=1) or 1
    scale = (width - label_width - 40) / longest
    chart_rows = []
    for index, (label, counts) in enumerate(rows):
        x = float(label_width)
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
            )
        )
    height = max(len(chart_rows) * (bar_height + gap), bar_height)
    return StackedBarChart(
        rows=tuple(chart_rows),
        width=width,
        height=height,
        label_width=label_width,
        bar_height=bar_height,
        legend=tuple(COMPLETION_COLOURS.items()),
    )
