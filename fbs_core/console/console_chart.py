"""The overview's 30-day chart, drawn as SVG on the server (no script, no library).

One stacked bar per day: completed, cancelled, rejected and still in flight.
"""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH = 900
HEIGHT = 220
MARGIN_LEFT = 40
MARGIN_BOTTOM = 24
COLOURS = {
    "completed": "#2e7d32",
    "cancelled": "#9e9e9e",
    "rejected": "#c62828",
    "in flight": "#1565c0",
}
"""Each series' colour; the legend names them, so colour is never the only cue."""


def orders_chart(days: list[tuple[date, dict[str, int]]]) -> str:
    """An SVG document: stacked bars of orders per day, with axis labels and a legend."""
    top = max((sum(counts.values()) for _, counts in days), default=0) or 1
    plot_h = HEIGHT - MARGIN_BOTTOM - 20
    plot_w = WIDTH - MARGIN_LEFT - 10
    bar_w = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="Orders per day for the last {len(days)} days, by final status" '
        'class="chart">',
        f'<text x="4" y="14" class="axis">{top}</text>',
        f'<text x="4" y="{HEIGHT - MARGIN_BOTTOM}" class="axis">0</text>',
    ]
    for index, (day, counts) in enumerate(days):
        x = MARGIN_LEFT + index * bar_w
        y = HEIGHT - MARGIN_BOTTOM
        title = ", ".join(f"{n} {series}" for series, n in counts.items() if n) or "no orders"
        parts.append(f"<g><title>{escape(day.isoformat())}: {escape(title)}</title>")
        for series, colour in COLOURS.items():
            n = counts.get(series, 0)
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        parts.append("</g>")
        if index % 5 == 0 or index == len(days) - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" class="axis">{day.strftime("%b %d")}</text>'
            )
    legend_x = MARGIN_LEFT
    for series, colour in COLOURS.items():
        parts.append(f'<rect x="{legend_x}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="13" class="axis">{series}</text>')
        legend_x += 110
    parts.append("</svg>")
    return "".join(parts)
