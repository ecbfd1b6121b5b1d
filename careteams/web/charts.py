"""Small accessible charts drawn on the server: SVG plus the same figures as a table.

A `Chart` holds the categories (e.g. months), one or more series of figures and the
text each figure is shown as. `Chart.svg()` draws one row of bars per series (each
with its own scale, so hours and pounds never share an axis), every bar labelled with
its figure: nothing is told by colour alone. The SVG has role="img", a <title> and a
<desc>; the template macro `chart_and_table` in templates/_charts.html shows it with a
table of the very same figures (the same `Chart.rows()`), for screen readers and for
anyone who would rather read than look. No JavaScript. Pure: no Flask, no database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup

Number = int | Decimal

# Geometry, in SVG user units; the SVG scales to its container (viewBox, width 100%).
_LABEL_W = 0  # categories are written under the bars, not beside them
_BAR_GAP = 8
_MIN_BAR = 28
_MAX_BAR = 96
_PANEL_H = 120
_TOP = 26  # room for the series name
_VALUE_H = 14  # room above a bar for its figure
_AXIS_H = 18  # room under the bars for the category
_WIDTH = 640


@dataclass(frozen=True)
class Series:
    name: str  # e.g. "Hours", "Pay (£)"
    values: Sequence[Number]
    shown: Sequence[str]  # each figure as the page writes it (same text in SVG and table)


@dataclass(frozen=True)
class Chart:
    chart_id: str  # unique on the page: ids of <title>/<desc> derive from it
    title: str
    desc: str
    categories: Sequence[str]
    series: Sequence[Series] = field(default_factory=tuple)
    empty_text: str = "Nothing to show yet."
    # Shorter words under the bars (e.g. "Oct 26" for "Oct 2026"), where twelve or more
    # categories would crowd each other; the table always says the categories in full.
    axis_labels: Sequence[str] | None = None

    @property
    def empty(self) -> bool:
        return not self.categories or not self.series

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table: one row per category, one cell per series (the figures as shown)."""
        return [(category, [s.shown[i] for s in self.series]) for i, category in enumerate(self.categories)]

    def headers(self) -> list[str]:
        return [s.name for s in self.series]

    def svg(self) -> Markup:
        return Markup(render_svg(self))  # noqa: S704  (every text in it is escaped by render_svg)


def series(name: str, values: Sequence[Number], fmt: Callable[[Number], str] = str) -> Series:
    """A series whose figures are written with `fmt` (the same text in the SVG and the table)."""
    return Series(name, list(values), [fmt(v) for v in values])


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text) or "chart"


def render_svg(chart: Chart) -> str:
    """The chart as an SVG string: well-formed XML, role="img", labelled by its title and desc."""
    cid = _safe_id(chart.chart_id)
    title_id, desc_id = f"{cid}-title", f"{cid}-desc"
    n = len(chart.categories)
    panels = 0 if chart.empty else len(chart.series)
    height = max(1, panels) * _PANEL_H + 10
    slot = max(_MIN_BAR + _BAR_GAP, (_WIDTH - _LABEL_W) / max(1, n)) if n else _WIDTH
    width = max(_WIDTH, int(slot * n) + _LABEL_W)
    bar_w = min(slot - _BAR_GAP, _MAX_BAR)  # one month alone is a bar, not a slab
    axis = list(chart.axis_labels) if chart.axis_labels is not None else list(chart.categories)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="{cid}" '
           f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {width} {height}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet" focusable="false">',
           f'<title id="{title_id}">{escape(chart.title)}</title>',
           f'<desc id="{desc_id}">{escape(chart.desc)}</desc>']
    if chart.empty:
        out.append(f'<text x="8" y="40" class="chart-empty">{escape(chart.empty_text)}</text>')
    for p, s in enumerate(() if chart.empty else chart.series):
        top = p * _PANEL_H
        base = top + _PANEL_H - _AXIS_H
        room = base - (top + _TOP + _VALUE_H)
        peak = max((abs(Decimal(v)) for v in s.values), default=Decimal(0)) or Decimal(1)
        out.append(f'<text x="0" y="{top + 16}" class="chart-series">{escape(s.name)}</text>')
        out.append(f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" class="chart-axis" '
                   'stroke="currentColor" stroke-width="1"/>')
        for i, (value, shown) in enumerate(zip(s.values, s.shown, strict=True)):
            h = float(abs(Decimal(value)) / peak * room)
            x = _LABEL_W + i * slot + (slot - bar_w) / 2
            y = base - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" class="chart-bar" '
                       'fill="currentColor" fill-opacity="0.55" stroke="currentColor"/>')
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                       f'class="chart-value">{escape(shown)}</text>')
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                       f'class="chart-category">{escape(axis[i])}</text>')
    out.append("</svg>")
    return "".join(out)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting = + - @ (or a tab or return) gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def charts_csv(charts: Sequence[Chart], category_header: str = "Month") -> str:
    """The figures of charts over the same categories as one CSV: a header row (the tables'
    column headings) and one row per category with every chart's cells, as the tables show them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in [category_header, *(h for c in charts for h in c.headers())]])
    tables = [c.rows() for c in charts]
    for i, category in enumerate(charts[0].categories if charts else []):
        cells = [cell for rows in tables for cell in rows[i][1]]
        writer.writerow([safe_cell(v) for v in (category, *cells)])
    return out.getvalue()
