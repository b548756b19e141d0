"""The performance pass changed how the workbooks are written, never what they contain.

Each test writes the same workbook twice: with the code as it is, and with the plain per-cell code it
replaced (kept below as the reference, patched in for the second run), and compares every member of
the two .xlsx files byte for byte: cells, values, formulas, formats, widths, row heights, merges.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from villagescore.core.numbers import round_half_up
from villagescore.io import summary as S

ROOT = Path(__file__).resolve().parent.parent
QINGSHI = ROOT / "samples" / "qingshi"


def members(data: bytes) -> dict[str, bytes]:
    """The parts of an .xlsx; docProps/core.xml is left out (a workbook without a run time stamps the clock)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def assert_same(new: bytes, old: bytes) -> None:
    a, b = members(new), members(old)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs"


# ------------------------------------------------------------------ summary: the reference per-cell code
#
# The summary used to be written cell by cell into an in-memory workbook (shared strings); it is now
# recorded and written in row order, row by row in xlsxwriter's constant_memory mode for a large run
# (inline strings, no row spans), in memory otherwise (the same bytes as before).
# The reference below is the old per-cell writer (``_RefGrid``, the old ``_Grid`` with its per-cell
# methods, plus an in-memory workbook), patched in for the second run. The two packages are compared
# part by part: every part but the sheets and the shared-string bookkeeping byte for byte (styles,
# charts with their cached values, comments, drawings, workbook with print titles, properties), each
# sheet byte for byte once the old one's shared strings are put inline and its row spans dropped, and
# everything read back through openpyxl.


def _ref_text_width(text: str) -> int:
    return max(
        (sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n")),
        default=0,
    )


def _ref_lines(text: str, width: int) -> int:
    room = max((width - 1) * 1.1, 1)
    return sum(max(1, math.ceil(_ref_text_width(line) / room)) for line in text.split("\n"))


class _RefGrid:
    """The old ``_Grid``: each cell written to xlsxwriter as it comes, widths and heights set at the end."""

    def __init__(self, book, st, name, log=None):
        self.ws, self.st, self.name = book.add_worksheet(name), st, name
        self.scale = st.size / 10
        self.log = log if log is not None else []
        self.widths: dict[int, int] = {}
        self.texts: list[tuple[int, int, int, str, float, int]] = []
        self.caps: dict[int, int] = {}
        self.row = 0
        self.ncols = 1
        self.head = None
        self.titles = None
        self.table = None
        self.heading = 0
        self.line = S.LINE_HEIGHT * st.size / 10
        self.heads: dict[int, int] = {}
        self.spanning: set[int] = set()
        self.flex: dict[int, int] = {}
        self.keys = 0
        self.repeat = True

    def _note(self, col: int, width: int) -> None:
        self.widths[col] = max(self.widths.get(col, 0), math.ceil(width * self.scale))

    def _wrap(self, r, c1, c2, text, *, block=False, size=None) -> None:
        line = S.LINE_HEIGHT * (size or self.st.size) / 10
        self.texts.append((r, c1, c2, text, line, 6 if block else 3))

    def put(self, r: int, c: int, value, **fmt) -> None:
        ws, st = self.ws, self.st
        if isinstance(value, bool):
            value = "是" if value else "否"
        if isinstance(value, Decimal):
            value = S._Entry(value, places=st.places)
        if value is None or value == "":
            ws.write_blank(r, c, None, st(border=1, **fmt))
        elif isinstance(value, S._Entry):
            self.number(r, c, value, **fmt)
        elif isinstance(value, int):
            ws.write_number(r, c, value, st(border=1, num_format="0", **fmt))
            self._note(c, len(str(value)))
        else:
            text = str(value)
            ws.write_string(r, c, text, st(border=1, text_wrap=True, **fmt))
            if not isinstance(value, S._Narrow):  # a text that wraps and never widens its column
                self._note(c, S._text_width(text))
            self._wrap(r, c, c, text)

    def number(self, r: int, c: int, e, **fmt) -> None:
        value = e.value if e.places is None else round_half_up(e.value, e.places)
        shown = float(value)
        style = self.st(border=1, num_format=self.st.num, **fmt)
        if e.formula:
            self.ws.write_formula(r, c, "=" + e.formula, style, shown)
        else:
            self.ws.write_number(r, c, shown, style)
        if e.note:
            self.ws.write_comment(r, c, e.note, {"x_scale": 2, "y_scale": 1.5, "font_name": S.FONT})
            self.log.append(f"{self.name}!{S.xl_rowcol_to_cell(r, c)}：{e.note}")
        self._note(c, len(f"{round_half_up(value, max(self.st.places, 0)):f}"))

    def string(self, r, c, text, fmt) -> None:
        self.ws.write_string(r, c, text, fmt)

    def height(self, r, height) -> None:
        self.ws.set_row(r, height)

    def data(self, r1, r2, c):
        return None  # xlsxwriter reads a chart's cached values from its cell table

    def merged(self, r, c1, c2, text, fmt, *, wrap=None) -> None:
        if c2 > c1:
            self.ws.merge_range(r, c1, r, c2, "", fmt)
        self.ws.write_string(r, c1, text, fmt)
        if wrap:
            self.texts.append((r, c1, c2, text, *wrap))

    def title(self, text, ncols) -> None:
        self.ncols = max(ncols, 1)
        self.spanning.add(self.row)
        self.merged(self.row, 0, self.ncols - 1, text, self.st(bold=True, font_size=self.st.size + 4, align="center"))
        self.heading = math.ceil(S._text_width(text) * (self.st.size + 4) / 11) + 2
        self.ws.set_row(self.row, 30 * self.scale)
        self.row += 1

    def header(self, labels) -> int:
        r = self.row
        fmt = self.st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
        for c, label in enumerate(labels):
            label = S.balanced_lines(label, S.HEADER_CAP)
            self.ws.write_string(r, c, label, fmt)
            self.heads[c] = max(self.heads.get(c, 0), math.ceil(min(S._text_width(label), S.HEADER_WIDEST) * self.scale))
            self._wrap(r, c, c, label)
        if self.head is None:
            self.head = r
        self.row += 1
        return r

    def record(self, values, fmts=None) -> int:
        r = self.row
        for c, value in enumerate(values):
            self.put(r, c, value, **(fmts or {}).get(c, {}))
        self.row += 1
        return r

    def table_rows(self, header, rows, *, autofilter=True) -> int:
        head = self.header(header)
        for values, fmts in rows:
            self.record(values, fmts)
        if autofilter:
            self.table = (head, max(self.row - 1, head))
        return head

    def block(self, lines, *, gap=1, **fmt) -> None:
        if not lines:
            return
        self.row += gap
        style = self.st(text_wrap=True, align="left", **fmt)
        for line in lines:
            self.spanning.add(self.row)
            self.merged(self.row, 0, self.ncols - 1, line, style)
            self._wrap(self.row, 0, self.ncols - 1, line, block=True, size=fmt.get("font_size"))
            self.row += 1

    def _widths(self):
        widths = [min(max(max(self.widths.get(c, 0), 4) + 2, self.heads.get(c, 0) + 1), self.caps.get(c, S.CAP))
                  for c in range(self.ncols)]
        short = self.heading - sum(widths)
        return [w + math.ceil(short / len(widths)) for w in widths] if short > 0 else widths

    def _clip(self, plan) -> None:
        """Text across a split sheet moves to the columns ``page.span`` gives: its merge, cells and heights."""
        from xlsxwriter.worksheet import CellBlankTuple as cell_blank_tuple

        from villagescore.io import page

        if not plan.breaks:
            return
        ws, title = self.ws, min(self.spanning)
        moved = {r: page.span(plan, self.ncols, r == title) for r in self.spanning}
        ws.merge = [[r1, *moved[r1][:1], r2, moved[r1][1]] if r1 in moved else [r1, c1, r2, c2]
                    for r1, c1, r2, c2 in ws.merge]
        for r, (c1, c2) in moved.items():
            cells = ws.table.get(r, {})
            text = cells.get(0)
            blank = next((c for k, c in cells.items() if k), None)
            fmt = blank.format if blank is not None else getattr(text, "format", None)
            ws.table[r] = {c1: text, **{c: cell_blank_tuple(fmt) for c in range(c1 + 1, c2 + 1)}}
        self.texts = [(r, *moved[r], *rest) if r in moved else (r, c1, c2, *rest) for r, c1, c2, *rest in self.texts]

    def finish(self, *, freeze_cols=0, landscape=True) -> None:
        from villagescore.io import page

        ws, widths = self.ws, page.shrink(self._widths(), self.flex, landscape=landscape)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        plan = page.plan(widths, keys=self.keys or freeze_cols, landscape=landscape)
        self._clip(plan)
        need: dict[int, float] = {}
        for r, c1, c2, text, line, pad in self.texts:
            n = S._lines(text, sum(widths[c1:c2 + 1]) / (line / S.LINE_HEIGHT))
            if n > 1 or pad > 3:
                need[r] = max(need.get(r, 0), line * n + pad)
        for r, height in need.items():
            ws.set_row(r, height)
        page.apply(ws, plan, footer=S.FOOTER)
        if self.head is not None and self.repeat:
            ws.repeat_rows(*(self.titles or ((self.head, self.head) if plan.breaks else (0, self.head))))
            ws.freeze_panes(self.head + 1, freeze_cols)
        if self.table:
            ws.autofilter(self.table[0], 0, self.table[1], self.ncols - 1)


def _ref_workbook(buf, tmpdir):
    import xlsxwriter

    return xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})


@pytest.fixture
def reference_summary(monkeypatch):
    """Call to patch the reference code into villagescore.io.summary (undone after the test)."""

    def patch() -> None:
        monkeypatch.setattr(S, "_text_width", _ref_text_width)
        monkeypatch.setattr(S, "_lines", _ref_lines)
        monkeypatch.setattr(S, "_Grid", _RefGrid)
        monkeypatch.setattr(S, "_workbook", _ref_workbook)
        monkeypatch.setattr(S._Trace, "_expr", S._Trace._build_expr)  # each subtree built again: no memo

    return patch


_SST = re.compile(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="s"><v>(\d+)</v></c>')


def _inline(sheet: bytes, strings: list[bytes]) -> bytes:
    """An in-memory sheet as constant_memory mode writes it: shared strings inline, no row spans."""
    sheet = re.sub(rb' spans="\d+:\d+"', b"", sheet)
    return _SST.sub(lambda m: m.group(1) + b' t="inlineStr"><is>' + strings[int(m.group(2))] + b"</is></c>", sheet)


def assert_same_summary(new: bytes, old: bytes) -> None:
    """``new`` (row by row, inline strings) holds exactly what ``old`` (per cell, shared strings) holds."""
    a, b = members(new), members(old)
    sst = b.pop("xl/sharedStrings.xml", None)
    strings = re.findall(rb"<si>(.*?)</si>", sst, re.S) if sst else []
    assert "xl/sharedStrings.xml" not in a
    assert sorted(a) == sorted(b)
    for name in a:
        want = b[name]
        if name.startswith("xl/worksheets/sheet"):
            want = _inline(want, strings)
        elif name == "[Content_Types].xml":
            want = re.sub(rb'<Override PartName="/xl/sharedStrings.xml"[^>]*/>', b"", want)
        elif name == "xl/_rels/workbook.xml.rels":
            want = re.sub(rb'<Relationship Id="rId\d+" Type="[^"]*/sharedStrings" Target="sharedStrings.xml"/>', b"",
                          want)
        assert a[name] == want, f"{name} differs"
    assert_read_back_same(new, old)


def _read_back(data: bytes) -> dict:
    """Everything a reader sees, through openpyxl: per sheet its state, widths, heights, merges, filter, panes,
    print setup, and per cell value, formula, number format, font, fill, border, alignment and comment."""
    from openpyxl import load_workbook

    def side(s):
        return (s.style, s.color and s.color.rgb) if s is not None else None

    wb = load_workbook(io.BytesIO(data), rich_text=True)
    out: dict = {"order": wb.sheetnames, "props": (wb.properties.title, wb.properties.creator)}  # no clock
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                f, a, b = c.font, c.alignment, c.border
                cells[c.coordinate] = (
                    c.value, c.data_type, c.number_format,
                    (f.name, f.sz, f.b, f.i, f.u, f.color and f.color.rgb),
                    (c.fill.fill_type, c.fill.fgColor.rgb, c.fill.bgColor.rgb),
                    (side(b.left), side(b.right), side(b.top), side(b.bottom)),
                    (a.horizontal, a.vertical, a.wrap_text, a.indent),
                    c.comment and (c.comment.text, c.comment.width, c.comment.height),
                )
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "widths": {k: (d.width, d.customWidth, d.min, d.max) for k, d in ws.column_dimensions.items()},
            "heights": {k: (d.height, d.customHeight) for k, d in ws.row_dimensions.items() if d.height is not None},
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "filter": ws.auto_filter.ref,
            "freeze": ws.freeze_panes,
            "titles": (ws.print_title_rows, ws.print_title_cols, ws.print_area),
            "page": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                     ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage,
                     ws.print_options.horizontalCentered, ws.oddFooter.center.text,
                     (ws.page_margins.left, ws.page_margins.right, ws.page_margins.top, ws.page_margins.bottom)),
            "charts": len(ws._charts),
            "dimension": ws.calculate_dimension(),
        }
    return out


def assert_read_back_same(new: bytes, old: bytes) -> None:
    a, b = _read_back(new), _read_back(old)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            for part in a[key]:
                assert a[key][part] == b[key][part], f"{key}: {part} differs"
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def results():
    from test_summary_recalc import boundary_result

    from villagescore.io.schemes import load
    from villagescore.pipeline import compute

    return {
        "qingshi-2025": compute(load("pingbian"), [QINGSHI / "2025H1表格", QINGSHI / "2025H2表格"], period="2025"),
        "qingshi-2025H1": compute(load("pingbian"), [QINGSHI / "2025H1表格"]),
        "yunhe-2024": compute(load("dazhou_street"), [ROOT / "samples" / "yunhe" / "2024表格"]),
        "taoyuan-2024": compute(load("shuocheng"), [ROOT / "samples" / "taoyuan" / "2024表格"]),
        "qinghu-2025": compute(load("dazehu"), [ROOT / "samples" / "qinghu" / "2025表格"]),  # names, items, votes
        "lanxi-2025Q1": compute(load("county_dynamic"), [ROOT / "samples" / "lanxi" / t / "2025Q1表格"
                                                         for t in ("云岭镇", "石湾镇", "河西街道")]),
        "boundary": boundary_result(),  # values where formulas were expected: cell comments
    }


@pytest.mark.parametrize("mode", ["row_by_row", "in_memory"])
@pytest.mark.parametrize("name", ["qingshi-2025", "qingshi-2025H1", "yunhe-2024", "taoyuan-2024", "qinghu-2025",
                                  "lanxi-2025Q1", "boundary"])
def test_summary_workbooks_unchanged(results, reference_summary, monkeypatch, name, mode):
    """Written row by row (a large run, constant_memory mode) the parts hold what the old writer wrote;
    written in memory (a smaller run) they are the old writer's bytes."""
    result = results[name]
    assert result.ballots or not name.startswith(("qingshi", "yunhe", "qinghu"))  # 测评明细 has rows
    monkeypatch.setattr(S, "ROW_BY_ROW_ROWS", -1 if mode == "row_by_row" else 10**9)
    new = (S.build_summary(result), S.build_public(result), S.build_issue_list(result.report, "问题清单"))
    reference_summary()
    old = (S.build_summary(result), S.build_public(result), S.build_issue_list(result.report, "问题清单"))
    for a, b in zip(new, old):
        if mode == "row_by_row":
            assert_same_summary(a, b)
        else:
            assert_same(a, b)


def test_summary_cells_read_back_unchanged(results, reference_summary):
    """The same check through openpyxl alone: every sheet's values, formulas, number formats and fonts."""
    from openpyxl import load_workbook

    def cells(data: bytes) -> dict:
        wb = load_workbook(io.BytesIO(data))
        return {ws.title: [(c.coordinate, c.value, c.number_format, c.font.b, c.font.color and c.font.color.rgb,
                            c.fill.fgColor.rgb, c.alignment.wrap_text, c.alignment.horizontal)
                           for row in ws.iter_rows() for c in row]
                for ws in wb.worksheets}

    result = results["qingshi-2025"]
    new = cells(S.build_summary(result))
    reference_summary()
    assert new == cells(S.build_summary(result))


def test_text_width_and_number_shortcuts():
    texts = ["", "abc", "a\nbcdef", "青山村", "青山\nabcdefg", "１２", "forms/C1_青山村/x.xlsx", "\n", "é"]
    for t in texts:
        assert S._text_width(t) == _ref_text_width(t)
        assert S._text_width(t) == _ref_text_width(t)  # from the cache
        for w in (1, 5, 8.5, 40):
            assert S._lines(t, w) == _ref_lines(t, w)

    class Book:
        def add_format(self, props):
            return tuple(sorted(props.items()))

    st = S._Styles(Book(), 2)  # type: ignore[arg-type]
    values = [Decimal("0"), Decimal("-0"), Decimal("-0.001"), Fraction(-1, 1000), Decimal("87.0"), Decimal("87"),
              Fraction(17, 2), Decimal("8.5"), Decimal("8.50"), Decimal("0.005"), Decimal("-0.005"), Fraction(1, 3),
              Decimal("12345.6789")]
    for places in (None, 0, 2, 10):
        for v in values + values:  # the second round comes from the cache
            rounded = v if places is None else round_half_up(v, places)
            shown, width = st.number(v, places)
            assert (shown, width) == (float(rounded), len(f"{round_half_up(rounded, 2):f}"))
            assert math.copysign(1, shown) == math.copysign(1, float(rounded))
    for fmt in ({}, {"align": "center"}, {"bold": True, "align": "center"}, {"align": "center", "bold": True}):
        assert st.cell("blank", fmt) == st(border=1, **fmt)
        assert st.cell("int", fmt) == st(border=1, num_format="0", **fmt)
        assert st.cell("text", fmt) == st(border=1, text_wrap=True, **fmt)
        assert st.cell("num", fmt) == st(border=1, num_format=st.num, **fmt)


# ------------------------------------------------------------------ printable ballots: one ballot written, repeated


def _criteria(unit: str, labels: list[tuple[str, str]]):
    from villagescore.core.records import Criterion

    return [Criterion(unit, aspect, i, text, Decimal(points)) for i, (aspect, text, points) in
            enumerate(((a, t, 10 if i % 3 else 7.5) for i, (a, t) in enumerate(labels)), start=1)]


BALLOT_CASES = {
    "ten items, five aspects": [(a, f"{a}细则{j}") for a in ("班子队伍", "产业发展", "为民服务", "乡村环境", "工作实绩")
                                for j in (1, 2)],
    "odd texts": [("方面{1}", "细则 {0} 与 {x}"), ("方面{1}", "票号：05"), ("单项", "很长的细则" * 30),
                  ("<&>", "a & b < c"), ("<&>", "10")],
    "more rows than a span block": [(f"方面{i // 4}", f"细则{i}") for i in range(19)],
    "one item": [("", "唯一一项")],
}


class _RefBook:
    """``forms._Book`` before the template pass: every call made on xlsxwriter at once, no packages reused."""

    def __init__(self, title: str):
        from datetime import datetime

        import xlsxwriter

        self._buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self._buf, {
            "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        })
        self.wb.set_properties({"title": title, "author": "", "company": "", "manager": "",
                                "created": datetime(2000, 1, 1)})
        self._formats: dict = {}
        self.sheets: list = []

    def add_sheet(self, name: str):
        self.sheets.append(self.wb.add_worksheet(name))
        return self.sheets[-1]

    def fmt(self, *styles, **props):
        from villagescore.io.forms import FONT

        merged = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
        for s in (*styles, props):
            merged.update(s)
        key = tuple(sorted(merged.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(merged)
        return self._formats[key]

    def banner(self, ws, row, first, last, text, fmt, height) -> None:
        if last > first:
            ws.merge_range(row, first, row, last, text, fmt)
        else:
            ws.write_string(row, first, text, fmt)
        ws.set_row(row, height)

    def identity(self, values: dict) -> None:
        from villagescore.core import layout

        ws = self.add_sheet(layout.IDENTITY_SHEET)
        for r, key in enumerate(layout.IDENTITY_KEYS):
            ws.write_string(r, 0, key)
            ws.write_string(r, 1, values.get(key, ""))
        ws.very_hidden()
        ws.protect()

    def known(self) -> bool:
        return False

    def parts_of(self, data: bytes) -> None:
        pass

    def close(self, *, keep: bool = True) -> bytes:
        self.wb.close()
        return self._buf.getvalue()


@pytest.fixture
def full_ballots(monkeypatch):
    """Call to make the forms be written as before both passes: every ballot cell by cell, every call made on
    xlsxwriter directly (``_RefBook``), no package reused. Until then, the packages known start empty."""
    from villagescore.io import forms

    monkeypatch.setattr(forms, "_PACKAGES", {})

    def patch() -> None:
        monkeypatch.setattr(forms, "_repeat_ballots", lambda *a: None)
        monkeypatch.setattr(forms, "_Book", _RefBook)

    return patch


def _ballot_cells(data: bytes) -> dict:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return {
        "cells": [(c.coordinate, c.value, c.font.b, c.font.sz, c.border.left.style, c.alignment.horizontal)
                  for row in ws.iter_rows() for c in row],
        "merges": sorted(str(m) for m in ws.merged_cells.ranges),
        "heights": {r: d.height for r, d in ws.row_dimensions.items()},
        "breaks": [b.id for b in ws.row_breaks.brk],
        "area": ws.print_area,
    }


@pytest.mark.parametrize("copies", [2, 3, 20])
@pytest.mark.parametrize("case", list(BALLOT_CASES))
def test_print_ballots_unchanged(scheme, full_ballots, monkeypatch, case, copies):
    from villagescore.core.records import Unit
    from villagescore.io import forms

    form = next(f for f in scheme.forms if f.kind == "score_ballot").model_copy(update={"evaluators": copies})
    unit = Unit("C01", "青山村")
    crit = _criteria("C01", BALLOT_CASES[case])
    other = Unit("C02", "石桥村")
    used = []
    repeat = forms._repeat_ballots
    monkeypatch.setattr(forms, "_repeat_ballots", lambda *a: used.append(repeat(*a)) or used[-1])
    fast = forms.build_print_ballots(scheme, form, "2025H1", unit, crit)
    assert used and used[0] is not None  # the repeated ballots were used, not the fallback
    known = forms.build_print_ballots(scheme, form, "2025H1", other, _criteria("C02", BALLOT_CASES[case]))
    assert len(used) == 1  # another unit's ballots of the same shape: the package known, its strings written
    full_ballots()
    full = forms.build_print_ballots(scheme, form, "2025H1", unit, crit)
    assert_same(fast, full)
    assert fast == full  # the very same bytes
    assert known == forms.build_print_ballots(scheme, form, "2025H1", other, _criteria("C02", BALLOT_CASES[case]))
    cells = _ballot_cells(fast)
    assert cells == _ballot_cells(full)
    assert len(cells["breaks"]) == copies - 1


def test_print_ballots_of_fixed_items_unchanged(full_ballots):
    """A scheme whose ballot items are fixed (no 方面 column): 云河街道's leaders' ballot."""
    from villagescore.core.records import Unit
    from villagescore.io import forms
    from villagescore.io.schemes import load

    sch = load("dazhou_street")
    form = next(f for f in sch.forms if f.kind == "score_ballot")
    unit = Unit("YH01", "云河社区")
    fast = forms.build_print_ballots(sch, form, "2024", unit, [])
    full_ballots()
    assert_same(fast, forms.build_print_ballots(sch, form, "2024", unit, []))


def test_template_files_unchanged(scheme, full_ballots, tmp_path):
    """A whole period's blank forms of the 青石镇 sample, byte for byte."""
    from villagescore.io import forms
    from villagescore.pipeline import make_forms

    setup = QINGSHI / "基础信息"
    args = (scheme, setup / "名册.xlsx", setup / "考核细则.xlsx", setup / "民生诉求台账.xlsx", "2025H1")
    fast = make_forms(*args, tmp_path / "fast", seed=7)
    assert 0 < len(forms._PACKAGES) < len(fast.paths) // 2  # most workbooks were of a package known
    full_ballots()
    full = make_forms(*args, tmp_path / "full", seed=7)
    names = sorted(p.relative_to(tmp_path / "fast") for p in fast.paths)
    assert names == sorted(p.relative_to(tmp_path / "full") for p in full.paths)
    assert any("打印" in str(n) for n in names)
    for n in names:
        assert (tmp_path / "fast" / n).read_bytes() == (tmp_path / "full" / n).read_bytes(), n


# ------------------------------------------------------------------ collect: folders resolved once


def test_collect_zones_as_before(scheme, tmp_path):
    """Each file's zone is the index of the first folder given that holds it once resolved (symlinks too)."""
    import os
    import shutil

    from villagescore.core.issues import Report
    from villagescore.stages.collect import _display_bases, collect, is_inside, list_folders, shown_name
    from villagescore.io.reader import iter_workbook_files

    h1, h2 = tmp_path / "a" / "2025H1表格", tmp_path / "b" / "2025H2表格"
    shutil.copytree(QINGSHI / "2025H1表格", h1)
    shutil.copytree(QINGSHI / "2025H2表格", h2)
    link = h2 / "链接"
    try:
        link.mkdir()
        os.symlink(next(h1.glob("QS01_*/*.xlsx")), link / "指向上半年.xlsx")
        os.symlink(h1 / "QS02_河口村", h2 / "目录链接")
    except OSError:
        pytest.skip("no symlinks here")
    expected_link = ["1", "0", ""]  # [b, a]: a's index; [h1, …]: h1's; [b] alone: none
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for folders in ([Path("b/2025H2表格"), Path("a/2025H1表格")], [h1, h2, h2 / "QS01_青山村"],
                        [Path("a/../b/2025H2表格")]):
            col = collect(scheme, list_folders(folders, {Path("a/2025H1表格/乡党委县委评分表_2025H1.xlsx")}), Report())
            expected = {}
            for p in iter_workbook_files(folders, []):
                zone = next((str(i) for i, f in enumerate(folders) if is_inside(p, [f])), "")
                expected[shown_name(p, _display_bases(folders))] = zone
            assert col.zones == {k: v for k, v in expected.items() if k in col.zones}
            assert len(col.zones) >= len(expected) - 1
            linked = [z for name, z in col.zones.items() if "指向上半年" in name]
            assert linked == [expected_link.pop(0)]  # the link resolves into the 2025H1 folder
    finally:
        os.chdir(cwd)


def test_setup_unit_index():
    import pickle

    from villagescore.core.records import Setup, Unit

    s = Setup([Unit("A", "甲"), Unit("B", "乙"), Unit("A", "甲二")])
    assert s.unit("A").name == "甲" and s.unit("C") is None  # the first of a code, as the linear scan gave
    s.units.append(Unit("C", "丙"))
    assert s.unit("C").name == "丙"
    s.units[0] = Unit("X", "戊")
    assert s.unit("A").name == "甲二" and s.unit("X").name == "戊"
    s.units = [Unit("Z", "庚")]
    assert s.unit("X") is None and s.unit("Z").name == "庚"
    copy = pickle.loads(pickle.dumps(s))
    assert copy == s and repr(copy) == repr(s) and copy.unit("Z").name == "庚"
    assert "_by_code" not in repr(s)


# ------------------------------------------------------------------ cli: at most 50 issues on screen


def test_print_report_shows_fifty_errors_first(monkeypatch):
    from rich.console import Console

    from villagescore.cli import render
    from villagescore.core.issues import Report, issue

    report = Report()
    for i in range(120):
        report.add(issue("draw-short", unit=f"C{i:03d}", file=f"f{i:03d}.xlsx", count=1, want=5))
    for i in range(3):
        report.add(issue("file-unreadable", file=f"z{i}.xlsx", reason="文件已损坏"))
    out = io.StringIO()
    monkeypatch.setattr(render, "console", Console(file=out, width=200, highlight=False))
    render.print_report(report)
    text = out.getvalue()
    rows = [line for line in text.splitlines() if re.search(r"\b[fz]\d+\.xlsx", line)]
    assert len(rows) == 50
    assert all(f"z{i}.xlsx" in text for i in range(3))  # errors first
    assert "另有 73 条问题未显示" in text and "问题清单" in text and "--report" in text
    assert "错误 3 条，提示 120 条。" in text
    out.truncate(0)
    short = Report(report.issues[:10])
    render.print_report(short)
    assert "未显示" not in out.getvalue()
