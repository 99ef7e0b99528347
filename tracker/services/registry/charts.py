"""The registry statistics' pictures: server-made SVG paired bars (live beside the 2022
baseline) and the data of a tile map of the economic regions, which the template lays out
in HTML. Presentation attributes only (fill=, font-size=), no style attributes and no
script, so they pass the CSP. Every SVG piece is a Markup template filled with
Markup.format, which escapes each value; the tables beside the pictures carry the same
figures for screen readers."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from tracker.numbers import show_percent
from tracker.services.registry.stats import ComparisonRow

LIVE_COLOUR = "#0b4f8a"
BASELINE_COLOUR = "#8a94a3"
INK = "#1b1f24"
MUTED = "#4a5360"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
#: the map's shades, from "no organisation" (0) to "the most": CSS classes region-shade-0…5
SHADE_COUNT = 6

#: the economic regions on a grid, roughly where they lie (column, row); Nakhchivan is
#: the exclave to the south-west
REGION_TILES = {
    "gazakh_tovuz": (0, 0),
    "shaki_zagatala": (2, 0),
    "guba_khachmaz": (4, 0),
    "ganja_dashkasan": (1, 1),
    "central_aran": (2, 1),
    "mountainous_shirvan": (3, 1),
    "absheron_khizi": (4, 1),
    "baku": (5, 1),
    "east_zangezur": (0, 2),
    "karabakh": (1, 2),
    "mil_mughan": (2, 2),
    "shirvan_salyan": (3, 2),
    "nakhchivan": (0, 3),
    "lankaran_astara": (3, 3),
}


#: where the bars start, and the width of a 100 % bar, in percent of the chart's width; the
#: rest holds the bar's value ("100%" needs about 40 px of a phone's 330)
BAR_START, BAR_SPAN = 0.5, 85.0
#: characters in a label's line: about 300 px at 13 px, the width of a 360-pixel phone's column
LABEL_LINE = 40


def _rect(x: float, y: float, width: float, height: int, fill: str) -> Markup:
    """A bar: x and width in percent of the chart's width, y and height in pixels."""
    return Markup('<rect x="{:.2f}%" y="{:.1f}" width="{:.2f}%" height="{}" fill="{}"/>').format(
        x, y, width, height, fill
    )


def _text(x: str, y: float, content: str, *, size: int, fill: str = INK) -> Markup:
    return Markup(
        '<text x="{}" y="{:.1f}" font-size="{}" fill="{}" font-family="{}">{}</text>'
    ).format(x, y, size, fill, FONT, content)


def _group(title: str, pieces: list[Markup]) -> Markup:
    return Markup("<g><title>{}</title>{}</g>").format(title, Markup("").join(pieces))


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _wrap(label: str, limit: int, most: int = 3) -> list[str]:
    """At most `most` lines of at most `limit` characters, cut at spaces; a label longer
    than that ends in "…" (the table beside the chart has it whole)."""
    lines: list[str] = []
    current = ""
    for word in label.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= limit or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == most:
            break
    if len(lines) < most and current:
        lines.append(current)
    if " ".join(lines) != " ".join(label.split()):
        lines[-1] = _short(lines[-1] + " …", limit)
    return [_short(line, limit) for line in lines]


def comparison_chart(chart_id: str, title: str, rows: list[ComparisonRow]) -> Markup:
    """Horizontal paired bars of shares (0–100%): the registry now, the report in 2022
    (the page writes the legend). Bars are placed in percent of the chart's width and rows
    in pixels, with no viewBox: the chart takes its column's width and its text keeps its
    size (a 440-unit drawing scaled to a phone wrote 10-pixel labels)."""
    line_height, bar_height, gap = 16, 12, 12
    pieces = []
    y = 0.0
    for row in rows:
        lines = _wrap(row.label, LABEL_LINE)
        bars = [
            _text("0", y + 13 + index * line_height, line, size=13)
            for index, line in enumerate(lines)
        ]
        bars_top = y + len(lines) * line_height + 2
        for offset, value, colour in (
            (0, row.share, LIVE_COLOUR),
            (bar_height + 3, row.baseline_share, BASELINE_COLOUR),
        ):
            length = BAR_SPAN * min(max(value or 0, 0), 100) / 100
            bars.append(_rect(BAR_START, bars_top + offset, length, bar_height, colour))
            value_x = f"{BAR_START + length + 1:.2f}%"
            bars.append(
                _text(value_x, bars_top + offset + 10.5, show_percent(value), size=12, fill=MUTED)
            )
        pieces.append(_group(row.label, bars))
        y = bars_top + 2 * bar_height + 3 + gap
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart pair-chart" width="100%" '
        'height="{height}" role="img" aria-labelledby="{id}-title">'
        '<title id="{id}-title">{title}</title>{pieces}</svg>'
    ).format(height=round(y), id=chart_id, title=title, pieces=Markup("").join(pieces))


def _shade_index(count: int, lowest: int, highest: int) -> int:
    """0 for no organisation; 1–5 spread over the range of the regions' counts, so that
    differences show whether every region has a few organisations or hundreds."""
    if count <= 0:
        return 0
    if highest <= lowest:
        return 5
    return 1 + min(4, (count - lowest) * 5 // (highest - lowest + 1))


@dataclass(frozen=True)
class RegionTile:
    key: str
    label: str
    count: int
    #: 0 (no organisation) to 5 (the most): the CSS class region-shade-N
    shade: int
    #: its place on the map's grid, from 0
    column: int
    row: int


@dataclass(frozen=True)
class RegionMap:
    """The economic regions as tiles on a grid, roughly where they lie, shaded by how many
    organisations work in each. HTML, not a drawing: on a phone the tiles become a list
    and their names keep their size (a scaled 660-unit SVG wrote 6-pixel names)."""

    tiles: tuple[RegionTile, ...]
    lowest: int
    highest: int
    shades: int = SHADE_COUNT


def region_map(counts: dict[str, int], labels: dict[str, str]) -> RegionMap:
    """The tiles in reading order (row by row), as a phone lists them."""
    count_of = {key: counts.get(key, 0) for key in REGION_TILES}
    present = [count for count in count_of.values() if count > 0]
    lowest, highest = (min(present), max(present)) if present else (0, 0)
    tiles = [
        RegionTile(
            key=key,
            label=labels.get(key, key),
            count=count_of[key],
            shade=_shade_index(count_of[key], lowest, highest),
            column=column,
            row=row,
        )
        for key, (column, row) in REGION_TILES.items()
    ]
    tiles.sort(key=lambda tile: (tile.row, tile.column))
    return RegionMap(tuple(tiles), lowest, highest)
