"""The chart helper: well-formed, labelled SVG with the same figures as its table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from flask import render_template_string

from careteams.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def _pounds(pence):
    return f"£{Decimal(pence) / 100:,.2f}"


def _chart(**kw) -> charts.Chart:
    values = dict(chart_id="c1", title="Hours & pay per month", desc="Bars <for> hours and pay; the table has them too.",
                  categories=["Sep 2026", "Oct 2026"],
                  series=[charts.series("Hours", [Decimal("12.50"), Decimal("19.58")]),
                          charts.series("Pay", [15875, 24867], _pounds)])
    values.update(kw)
    return charts.Chart(**values)


def test_svg_is_well_formed_with_title_and_desc():
    root = ET.fromstring(str(_chart().svg()))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Hours & pay per month"
    assert root.find(f"{SVG}title").get("id") == "c1-title"
    assert root.find(f"{SVG}desc").text == "Bars <for> hours and pay; the table has them too."
    # Every bar carries its figure as text: nothing is told by colour alone.
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"12.50", "19.58", "£158.75", "£248.67", "Hours", "Pay", "Sep 2026", "Oct 2026"} <= set(texts)
    assert len(list(root.iter(f"{SVG}rect"))) == 4
    # The taller bar is the larger figure, within its own series.
    rects = list(root.iter(f"{SVG}rect"))
    assert float(rects[1].get("height")) > float(rects[0].get("height"))


def test_the_table_holds_the_same_figures(app):
    chart = _chart()
    assert chart.headers() == ["Hours", "Pay"]
    assert chart.rows() == [("Sep 2026", ["12.50", "£158.75"]), ("Oct 2026", ["19.58", "£248.67"])]
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import chart_and_table %}{{ chart_and_table(c) }}',
                                      c=chart)
    assert html.count("<svg") == 1 and "<caption>Hours &amp; pay per month: the figures</caption>" in html
    for category, cells in chart.rows():
        assert f'<th scope="row">{category}</th>' in html
        for cell in cells:
            assert f'<td class="num">{cell}</td>' in html
    svg_texts = {t.text for t in ET.fromstring(str(chart.svg())).iter(f"{SVG}text")}
    assert {c for _cat, cells in chart.rows() for c in cells} <= svg_texts


def test_empty_data_is_handled(app):
    chart = _chart(categories=[], series=[charts.series("Hours", [])], empty_text="Nothing paid yet.")
    root = ET.fromstring(str(chart.svg()))
    assert root.find(f"{SVG}title").text and not list(root.iter(f"{SVG}rect"))
    assert "Nothing paid yet." in [t.text for t in root.iter(f"{SVG}text")]
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import chart_and_table %}{{ chart_and_table(c) }}',
                                      c=chart)
    assert "<table" not in html and "<p>Nothing paid yet.</p>" in html


def test_all_zero_and_negative_figures_draw_without_error():
    chart = _chart(categories=["Nov 2026"], series=[charts.series("Pay", [0]), charts.series("Back", [-250], _pounds)])
    root = ET.fromstring(str(chart.svg()))
    assert [float(r.get("height")) for r in root.iter(f"{SVG}rect")][0] == 0.0
    assert "£-2.50" in [t.text for t in root.iter(f"{SVG}text")]


def test_ids_are_safe():
    root = ET.fromstring(str(_chart(chart_id='x" onload="bad').svg()))
    assert root.get("id") == "x--onload--bad" and root.get("onload") is None
