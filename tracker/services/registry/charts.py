"""Server-made SVG pictures of the registry statistics: paired bars (live beside the 2022
baseline) and a tile map of the economic regions. Presentation attributes only (fill=,
font-size=), no style attributes and no script, so they pass the CSP. Every piece is a
Markup template filled with Markup.format, which escapes each value; the tables beside
the pictures carry the same figures for screen readers."""

from __future__ import annotations

from markupsafe import Markup

from tracker.numbers import show_percent
from tracker.services.registry.stats import ComparisonRow

LIVE_COLOUR = "#0b4f8a"
BASELINE_COLOUR = "#8a94a3"
INK = "#1b1f24"
MUTED = "#4a5360"
OUTLINE = "#8a94a3"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
#: shades from "no organisation" to "the most"
SHADES = ("#eef2f6", "#cfe0f1", "#9cc3e6", "#5b9bd3", "#1d6fb8", "#0b4f8a")

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


def _rect(
    x: float,
    y: float,
    width: float,
    height: float,
    fill: str,
    outline: bool = False,
    rounded: int = 0,
) -> Markup:
    if outline:
        return Markup(
            '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" rx="{}" fill="{}" '
            'stroke="{}" stroke-width="1"/>'
        ).format(x, y, width, height, rounded, fill, OUTLINE)
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


def _split_label(label: str) -> list[str]:
    """Two short lines for a tile: "Şəki-Zaqatala" → ["Şəki-", "Zaqatala"]."""
    if len(label) <= 11:
        return [label]
    for separator in ("-", " "):
        if separator in label:
            head, _, tail = label.partition(separator)
            return [head + (separator if separator == "-" else ""), tail]
    return [label[:13], label[13:]]


def region_tile_map(
    chart_id: str,
    title: str,
    counts: dict[str, int],
    labels: dict[str, str],
    legend_label: str,
) -> Markup:
    """The economic regions as tiles, shaded by how many organisations work in each."""
    tile_w, tile_h, gap = 104, 66, 6
    columns = 1 + max(c for c, _ in REGION_TILES.values())
    rows = 1 + max(r for _, r in REGION_TILES.values())
    width = columns * (tile_w + gap)
    legend_y = rows * (tile_h + gap) + 10
    height = legend_y + 34
    present = [counts.get(key, 0) for key in REGION_TILES if counts.get(key, 0) > 0]
    lowest, highest = (min(present), max(present)) if present else (0, 0)
    pieces = [_svg_open(chart_id, title, width, height)]
    for key, (column, row) in REGION_TILES.items():
        count = counts.get(key, 0)
        shade = _shade_index(count, lowest, highest)
        x, y = column * (tile_w + gap), row * (tile_h + gap)
        ink = "#ffffff" if shade >= 4 else INK
        label = labels.get(key, key)
        tile = [_rect(x, y, tile_w, tile_h, SHADES[shade], outline=True, rounded=6)]
        for line_index, line in enumerate(_split_label(label)):
            tile.append(_text(x + 8, y + 18 + line_index * 15, line, size=12, fill=ink))
        tile.append(
            _text(
                x + tile_w - 8,
                y + tile_h - 9,
                str(count),
                size=18,
                fill=ink,
                anchor="end",
                weight="bold",
            )
        )
        pieces.append(_group(f"{label}: {count}", tile))
    pieces.append(_text(0, legend_y + 12, legend_label, size=12, fill=MUTED))
    for index, colour in enumerate(SHADES):
        pieces.append(_rect(index * 34, legend_y + 18, 30, 12, colour, outline=True))
    scale = f"0, {lowest} – {highest}" if highest else "0"
    pieces.append(_text(6 * 34 + 4, legend_y + 29, scale, size=12, fill=MUTED))
    pieces.append(Markup("</svg>"))
    return Markup("").join(pieces)
