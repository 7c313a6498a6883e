"""Small server-side SVG charts (no JavaScript, no CDN). Each chart also renders as a data table."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 560, 220, 36
BLUE, GREY, GREEN, RED = "#0b5cad", "#8a93a5", "#1c7c3c", "#b3261e"


@dataclass
class Chart:
    title: str
    svg: Markup
    #: (label, value) rows for the accessible table
    rows: list[tuple[str, str]]


def bar_chart(title: str, items: list[tuple[str, float]], *, maximum: float | None = None, unit: str = "", color: str = BLUE) -> Chart:
    top = maximum if maximum is not None else max([v for _, v in items] + [1])
    n = max(len(items), 1)
    slot = (WIDTH - 2 * PAD) / n
    bars = []
    for i, (label, value) in enumerate(items):
        h = 0 if top == 0 else (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * slot + slot * 0.15
        y = HEIGHT - PAD - h
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{color}"><title>{escape(label)}: {value:g}{unit}</title></rect>')
        bars.append(f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" text-anchor="middle" fill="#333">{escape(label[:14])}</text>')
        bars.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle" fill="#333">{value:g}{unit}</text>')
    svg = _frame(title, "".join(bars))
    return Chart(title, svg, [(label, f"{value:g}{unit}") for label, value in items])


def line_chart(title: str, series: list[tuple[str, list[tuple[float, float]], str]], *, x_label: str, y_max: float = 100) -> Chart:
    x_max = max([x for _, pts, _ in series for x, _ in pts] + [1])
    paths = []
    for name, points, color in series:
        if not points:
            continue
        coords = " ".join(f"{PAD + (WIDTH - 2 * PAD) * x / x_max:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * y / y_max:.1f}" for x, y in points)
        paths.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2.5"><title>{escape(name)}</title></polyline>')
    legend = "".join(f'<text x="{PAD + 8 + i * 160}" y="14" font-size="11" fill="{color}">■ {escape(name)}</text>' for i, (name, _, color) in enumerate(series))
    axis = f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" font-size="10" text-anchor="end" fill="#333">{escape(x_label)}</text>'
    svg = _frame(title, legend + axis + "".join(paths))
    rows = []
    for name, points, _ in series:
        if points:
            rows.append((name, ", ".join(f"{x:g}: {y:.0f}%" for x, y in points[:: max(1, len(points) // 8)])))
    return Chart(title, svg, rows)


def _frame(title: str, body: str) -> Markup:
    grid = "".join(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{PAD + i * (HEIGHT - 2 * PAD) / 4:.1f}" y2="{PAD + i * (HEIGHT - 2 * PAD) / 4:.1f}" stroke="#e3e6ec"/>'
                   for i in range(5))
    svg = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
           f'<title>{escape(title)}</title>{grid}{body}</svg>')
    return Markup(svg)  # nosec B704  # built here from escaped text, numbers and our own colours
