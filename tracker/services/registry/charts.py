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


def _svg_open(chart_id: str, title: str, width: int, height: int) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-labelledby="{id}-title">'
        '<title id="{id}-title">{title}</title>'
    ).format(w=width, h=height, id=chart_id, title=title)


def _rect(x: float, y: float, width: float, height: float, fill: str) -> Markup:
    return Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>').format(
        x, y, width, height, fill
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 13,
    fill: str = INK,
    anchor: str = "start",
    weight: str = "normal",
) -> Markup:
    return Markup(
        '<text x="{:.1f}" y="{:.1f}" font-size="{}" fill="{}" text-anchor="{}" '
        'font-weight="{}" font-family="{}">{}</text>'
    ).format(x, y, size, fill, anchor, weight, FONT, content)


def _group(title: str, pieces: list[Markup]) -> Markup:
    return Markup("<g><title>{}</title>{}</g>").format(title, Markup("").join(pieces))


def _short(label: str, limit: int = 70) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _wrap(label: str, limit: int) -> list[str]:
    """At most two lines of at most `limit` characters, cut at spaces."""
    lines: list[str] = []
    current = ""
    for word in label.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= limit or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == 2:
            break
    if len(lines) < 2 and current:
        lines.append(current)
    if len(lines) == 2 and " ".join(lines) != " ".join(label.split()):
        lines[1] = _short(lines[1] + " …", limit)
    return [_short(line, limit) for line in lines]


def comparison_chart(
    chart_id: str,
    title: str,
    rows: list[ComparisonRow],
    live_label: str,
    baseline_label: str,
    width: int = 440,
) -> Markup:
    """Horizontal paired bars of shares (0–100%): the registry now, the report in 2022.
    Narrow, so that its text stays readable when a phone scales it down."""
    left, right = 4, 48
    bar_width = width - left - right
    line_height, bars_height, gap = 15, 30, 10
    top = 52
    layout = []
    y = top
    for row in rows:
        lines = _wrap(row.label, 52)
        layout.append((row, lines, y))
        y += len(lines) * line_height + bars_height + gap
    pieces = [
        _svg_open(chart_id, title, width, y),
        _rect(left, 6, 12, 12, LIVE_COLOUR),
        _text(left + 18, 17, live_label, size=13),
        _rect(left, 26, 12, 12, BASELINE_COLOUR),
        _text(left + 18, 37, baseline_label, size=13),
    ]
    for row, lines, y in layout:
        bars = [
            _text(left, y + 12 + i * line_height, line, size=13) for i, line in enumerate(lines)
        ]
        bars_top = y + len(lines) * line_height
        for offset, value, colour in (
            (2, row.share, LIVE_COLOUR),
            (16, row.baseline_share, BASELINE_COLOUR),
        ):
            length = bar_width * min(max(value or 0, 0), 100) / 100
            bars.append(_rect(left, bars_top + offset, length, 12, colour))
            bars.append(
                _text(
                    left + length + 4,
                    bars_top + offset + 11,
                    show_percent(value),
                    size=12,
                    fill=MUTED,
                )
            )
        pieces.append(_group(row.label, bars))
    pieces.append(Markup("</svg>"))
    return Markup("").join(pieces)


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
    present = [counts.get(key, 0) for key in REGION_TILES if counts.get(key, 0) > 0]
    lowest, highest = (min(present), max(present)) if present else (0, 0)
    tiles = [
        RegionTile(
            key=key,
            label=labels.get(key, key),
            count=counts.get(key, 0),
            shade=_shade_index(counts.get(key, 0), lowest, highest),
            column=column,
            row=row,
        )
        for key, (column, row) in REGION_TILES.items()
    ]
    tiles.sort(key=lambda tile: (tile.row, tile.column))
    return RegionMap(tuple(tiles), lowest, highest)
