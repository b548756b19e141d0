"""图表: per category of units a table of scores with a bar chart beside it, then each grading's distribution."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from villagescore.core.explain import unit_root
from villagescore.core.records import GradeResult, RunResult, UnitResult
from villagescore.io import page
from villagescore.io.summary.common import CHART_COLOURS, CHARTS, PENDING, chart_colour, grade_text, grade_tone
from villagescore.io.summary.engine import FONT, Grid, Styles

def _chart(book, g: Grid, kind: str, title: str, rows: tuple[int, int], cols: tuple[int, int], colours: list[str],
           num_format: str, values: dict, categories: dict | None = None):
    """A one-series native chart over a table on 图表 (``g``); a point's colour follows its grade.

    The chart's cached values are given from the recorded rows: xlsxwriter reads them from its cell
    table, which constant_memory mode does not keep."""
    chart = book.add_chart({"type": kind})
    font = {"name": FONT, "size": 9}
    chart.add_series({
        "categories": [CHARTS, rows[0], cols[0], rows[1], cols[0]],
        "values": [CHARTS, rows[0], cols[1], rows[1], cols[1]],
        "categories_data": g.data(rows[0], rows[1], cols[0]),
        "values_data": g.data(rows[0], rows[1], cols[1]),
        "points": [{"fill": {"color": c}, "border": {"none": True}} for c in colours],
        "data_labels": {"value": True, "num_format": num_format, "font": font},
        "gap": 60,
    })
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 11, "bold": True}})
    chart.set_legend({"none": True})
    value_axis = {"num_font": font, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}, **values}
    category_axis = {"num_font": font, **(categories or {})}
    if kind == "bar":  # xlsxwriter's x axis of a bar chart is the horizontal one: the values
        chart.set_x_axis(value_axis)
        chart.set_y_axis(category_axis)
    else:
        chart.set_x_axis(category_axis)
        chart.set_y_axis(value_axis)
    return chart


CHART_ROW = 15  # points: a row of 图表 not otherwise set (xlsxwriter's default height)
CHART_HEAD = 32  # points a category's header row takes at most (a score label on two lines)
MAX_BARS = 40  # a category of more units is listed but not drawn: its bars would be too thin to read
PX = 4 / 3  # pixels per point


@dataclass
class _Category:
    """Units graded together (their first grading): one score chart, ranked by that grading."""

    gid: str
    label: str  # the grading's label
    types: list[str]  # the units' types, as the roster names them
    root: str  # the node their score is
    units: list[UnitResult]
    people: bool


def _categories(result: RunResult) -> list[_Category]:
    """The units of each first grading (系统 B: villages, secretaries, cadres, work teams; 系统 D: villages and
    offices), each with its own score node (``unit_root``); units without a grading form one category."""
    order = [gid for gid, _ in result.gradings]
    labels = dict(result.gradings)
    groups: dict[str, list[UnitResult]] = {}
    for u in result.units:
        first = next((gid for gid in order if gid in u.grades), "")
        groups.setdefault(first, []).append(u)
    out = []
    for gid, units in groups.items():
        scored = [u for u in units if u.ok and unit_root(result, u) in u.rounded]
        root = unit_root(result, scored[0]) if scored else (result.display[-1] if result.display else "")
        out.append(_Category(gid, labels.get(gid, ""), list(dict.fromkeys(u.unit.type for u in units)), root,
                             scored, any(u.unit.parent for u in units)))
    return out


@dataclass
class _Block:
    """A table on 图表 and the chart beside it: rows from ``start``, its header at ``head``, ``n`` data rows."""

    start: int
    head: int
    n: int
    kind: str  # "bars" (a category's scores) or "counts" (a grading's distribution)
    about: Any  # the _Category, or the grading's (id, label)
    height: float = 0.0  # the chart's height in points (0: not drawn)
    payload: list = field(default_factory=list)


class _ChartPages:
    """Vertical layout of 图表: which block starts a page, how tall each chart may be so it ends on its page.

    Rows are counted at the heights they print at: ``CHART_ROW`` for a table row, ``CHART_HEAD`` for a header."""

    def __init__(self) -> None:
        self.avail = page.printable_height(True) - 16  # points a block may take on one page
        self.used = 30.0  # points used on the current page: the title row on the first
        self.breaks: list[int] = []

    def place(self, g: Grid, block: _Block, want: float) -> None:
        """Start a page before the block if it needs one (a category always does, but the first), size its chart,
        then leave empty rows so the next block starts below the chart."""
        table = CHART_HEAD + CHART_ROW * block.n
        if block.start > 1 and (block.kind == "bars" or self.used + max(table, want + 4) > self.avail):
            self.breaks.append(block.start)
            self.used = 0.0
        block.height = min(want, self.avail - self.used - 4) if want else 0.0
        extra = math.ceil(max(0.0, block.height + 4 - table) / CHART_ROW)
        g.row += extra + 1
        self.used += table + CHART_ROW * (extra + 1)


def charts_sheet(book, st: Styles, result: RunResult, title: str) -> None:
    """图表: per category of units (``_categories``) a table of scores with a bar chart beside it, best on top,
    a page each; then per grading how many units got each grade, as many to a page as fit. No chart crosses
    a page break (``_ChartPages``)."""
    g = Grid(book, st, CHARTS)
    g.repeat = False
    label = result.node_labels.get
    cats = [c for c in _categories(result) if c.units]
    people = any(c.people for c in cats)
    g.ncols = 5 if people else 4
    g.string(0, 0, title, st(bold=True, font_size=st.size + 4))
    g.height(0, 30)
    g.row = 1
    if not cats:
        g.block(["没有算出得分的单位，无法绘图。"])
        g.finish()
        return
    pages, blocks = _ChartPages(), []
    for cat in cats:
        order = result.grade_orders.get(cat.gid, [])
        units = sorted(cat.units, key=lambda u: (-u.rounded[cat.root], _rank(u, cat.gid), u.code))
        header = ["排名", "姓名" if cat.people else "单位名称", *(["所属单位"] if people else []),
                  label(cat.root, cat.root), *([cat.label] if cat.gid else [])]
        rows = []
        for u in units:
            gr = u.grades.get(cat.gid)
            values = [gr.rank if gr else None, u.unit.name, *([u.unit.parent_name] if people else []),
                      u.rounded[cat.root], *([grade_text(gr)] if cat.gid else [])]
            fmts = {0: {"align": "center"}}
            if cat.gid:
                fmts[len(values) - 1] = {"align": "center", **grade_tone(gr, order)}
            rows.append((values, fmts))
        block = _Block(g.row, 0, len(units), "bars", cat, payload=units)
        block.head = g.table_rows(header, rows, autofilter=False)
        pages.place(g, block, max(210.0, 15 * len(units) + 70) if len(units) <= MAX_BARS else 0.0)
        blocks.append(block)
    for gid, glabel in result.gradings:
        counts = _grade_counts(result, gid)
        block = _Block(g.row, 0, len(counts), "counts", (gid, glabel), payload=counts)
        block.head = g.table_rows([glabel, "单位数"], [([k, n], {0: {"align": "center", **tone}, 1: {"align": "center"}})
                                                      for k, n, tone, _ in counts], autofilter=False)
        pages.place(g, block, 200.0)
        blocks.append(block)
    _draw_charts(book, g, result, blocks)
    g.finish()
    if pages.breaks:
        g.ws.set_h_pagebreaks(pages.breaks)


def _rank(u: UnitResult, gid: str) -> int:
    gr = u.grades.get(gid)
    return gr.rank if gr and gr.rank else 10**6


def _draw_charts(book, g: Grid, result: RunResult, blocks: list[_Block]) -> None:
    """Each block's chart, right of the tables, as wide as the landscape page leaves (``_ChartPages`` gave heights)."""
    label = result.node_labels.get
    anchor = g.ncols + 1
    room = page.printable_width(True) - sum(map(page.column_points, g._widths()[:anchor]))
    width = int(max(320, min(640, room - 16)) * PX)
    for b in blocks:
        if b.kind == "bars":
            cat = b.about
            if not b.height:
                g.merged(b.head, anchor, anchor + 6, f"共 {b.n} 个，条形图从略，得分见左表。", g.st(italic=True))
                continue
            order = result.grade_orders.get(cat.gid, [])
            low = min(u.rounded[cat.root] for u in b.payload)
            chart = _chart(book, g, "bar", f"{'、'.join(cat.types)}：{label(cat.root, cat.root)}（按得分从高到低）",
                           (b.head + 1, b.head + b.n), (1, 3 if g.ncols == 5 else 2),
                           [chart_colour(u.grades.get(cat.gid), order) for u in b.payload], g.st.num,
                           {"min": max(0, math.floor((low - 5) / 10) * 10), "num_format": "0"},
                           {"reverse": True, "crossing": "max"})  # the best on top, the value axis still below
        else:
            chart = _chart(book, g, "column", f"{b.about[1]}分布（单位数）", (b.head + 1, b.head + b.n), (0, 1),
                           [c for *_, c in b.payload], "0", {"min": 0, "major_unit": 1, "num_format": "0"})
        chart.set_size({"width": width, "height": int(b.height * PX)})
        g.ws.insert_chart(b.start, anchor, chart, {"x_offset": 10, "y_offset": 2, "object_position": 3})


def _grade_counts(result: RunResult, gid: str) -> list[tuple[str, int, dict, str]]:
    """(grade, units, cell tone, chart colour) for every grade of a grading, then pending and ungraded units."""
    order = result.grade_orders.get(gid, [])
    graded = [u.grades[gid] for u in result.units if gid in u.grades]
    names = list(dict.fromkeys([*order, *(gr.grade for gr in graded if gr.grade)]))
    out = [(k, sum(gr.grade == k for gr in graded), grade_tone(GradeResult(gid, k), order),
            chart_colour(GradeResult(gid, k), order)) for k in names]
    for text, test, key in (("待党委研究", lambda gr: not gr.grade and gr.pending, "pending"),
                            ("未评定", lambda gr: not gr.grade and not gr.pending, "none")):
        n = sum(1 for gr in graded if test(gr))
        if n:
            out.append((text, n, PENDING if key == "pending" else {}, CHART_COLOURS[key]))
    return out


