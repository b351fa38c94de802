"""Charts drawn on the server as inline SVG: no script, no CDN, nothing to download; each bar says its value
on hover (an SVG <title>), and the chart scales to the width of a phone."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_TOP, PAD_BOTTOM = 600, 180, 14, 34
"""The drawing's own units; the SVG scales to its container (viewBox)."""


def bars(title: str, points: list[tuple[str, float, str]], unit: str = "", prefix: str = "") -> Markup:
    """A bar chart: `points` are (label, value, hover text); labels thin out when there are many bars."""
    if not points:
        return Markup('<p class="muted small">Nothing in this period.</p>')
    top = max((value for _, value, _ in points), default=0) or 1
    slot = WIDTH / len(points)
    bar = max(slot * 0.7, 2)
    every = max(1, round(len(points) / 8))  # at most about eight labels under the bars
    room = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - PAD_BOTTOM}" class="axis"/>',
    ]
    for index, (label, value, hover) in enumerate(points):
        h = room * value / top
        x = index * slot + (slot - bar) / 2
        y = HEIGHT - PAD_BOTTOM - h
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(h, 0.5):.1f}">'
            f"<title>{escape(label)}: {escape(hover)}</title></rect></g>"
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(
        f'<text x="2" y="{PAD_TOP - 3}" class="top">{escape(prefix)}{escape(_number(top))}{escape(unit)}</text></svg>'
    )
    return Markup("".join(parts))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
