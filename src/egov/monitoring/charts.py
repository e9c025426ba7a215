"""Charts as server-rendered SVG (no JavaScript, no third-party code): small, accessible (``role="img"`` with a
title and a description; the table of figures on the same page is the text alternative)."""
from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 56


def _frame(chart_id: str, title: str, description: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def _axis(maximum: float, suffix: str = "") -> list[str]:
    """Horizontal grid lines at 0, 1/2 and the maximum, with their values."""
    parts = []
    plot_height = HEIGHT - TOP - BOTTOM
    for share in (0, 0.5, 1):
        y = TOP + plot_height * (1 - share)
        value = maximum * share
        text = f"{value:.0f}{suffix}" if value == int(value) else f"{value:.1f}{suffix}"
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{text}</text>')
    return parts


def stacked_bars(chart_id: str, title: str, description: str, labels: list[str],
                 series: list[tuple[str, str, list[int]]]) -> SafeString:
    """Bars per label, stacked by series ``(name, css class, values)``, with a legend under the plot."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    maximum = max(totals + [1])
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(labels), 1)
    bar = slot * 0.6
    body = _axis(maximum)
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_height
        for name, css, values in series:
            h = plot_height * values[i] / maximum
            if h:
                y -= h
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="{css}">'
                            f'<title>{escape(label)}: {escape(name)} {values[i]}</title></rect>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_height + 16}" text-anchor="middle" '
                    f'class="tick">{escape(label)}</text>')
    x = LEFT
    for name, css, _ in series:
        body.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" class="{css}"/>'
                    f'<text x="{x + 16}" y="{HEIGHT - 12}" class="legend">{escape(name)}</text>')
        x += 16 + 9 * len(name) + 24
    return _frame(chart_id, title, description, body)


def percent_bars(chart_id: str, title: str, description: str, labels: list[str],
                 values: list[float | None], css: str = "bar-online") -> SafeString:
    """One bar per label on a 0–100 % scale; a missing value (nothing to share) draws no bar and says "–"."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(labels), 1)
    bar = slot * 0.6
    body = _axis(100, "%")
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar) / 2
        value = values[i]
        if value:
            h = plot_height * value / 100
            body.append(f'<rect x="{x:.1f}" y="{TOP + plot_height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                        f'class="{css}"><title>{escape(label)}: {value}%</title></rect>')
        text = "–" if value is None else f"{value:g}%"
        top = TOP + plot_height - (plot_height * (value or 0) / 100) - 4
        body.append(f'<text x="{x + bar / 2:.1f}" y="{top:.1f}" text-anchor="middle" class="value">{text}</text>'
                    f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_height + 16}" text-anchor="middle" '
                    f'class="tick">{escape(label)}</text>')
    return _frame(chart_id, title, description, body)
