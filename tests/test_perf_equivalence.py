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


def _ref_text_width(text: str) -> int:
    return max(
        (sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n")),
        default=0,
    )


def _ref_lines(text: str, width: int) -> int:
    room = max((width - 1) * 1.1, 1)
    return sum(max(1, math.ceil(_ref_text_width(line) / room)) for line in text.split("\n"))


def _ref_note(self, col: int, width: int) -> None:
    self.widths[col] = max(self.widths.get(col, 0), math.ceil(width * self.scale))


def _ref_put(self, r: int, c: int, value, **fmt) -> None:
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
        self._note(c, S._text_width(text))
        self._wrap(r, c, c, text)


def _ref_number(self, r: int, c: int, e, **fmt) -> None:
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


def _ref_record(self, values, fmts=None) -> int:
    r = self.row
    for c, value in enumerate(values):
        self.put(r, c, value, **(fmts or {}).get(c, {}))
    self.row += 1
    return r


def _ref_expr(self, u, key, node, sheet):
    if node not in self.tree:
        e = self.leaf(u, key, node) if node in self.col else None
        return None if e is None or e.model is None else (self.ref(u, key, node, sheet), e.model)
    texts, total = [], Fraction(0)
    for child, weight in self.tree[node]:
        sub = self._expr(u, key, child, sheet)
        if sub is None:
            return None
        texts.append(S._term(weight, f"({sub[0]})" if child in self.tree else sub[0]))
        total += S.exact(weight) * sub[1]
    return S._join(texts), total


@pytest.fixture
def reference_summary(monkeypatch):
    """Call to patch the reference code into villagescore.io.summary (undone after the test)."""

    def patch() -> None:
        monkeypatch.setattr(S, "_text_width", _ref_text_width)
        monkeypatch.setattr(S, "_lines", _ref_lines)
        monkeypatch.setattr(S._Grid, "_note", _ref_note)
        monkeypatch.setattr(S._Grid, "put", _ref_put)
        monkeypatch.setattr(S._Grid, "number", _ref_number)
        monkeypatch.setattr(S._Grid, "record", _ref_record)
        monkeypatch.setattr(S._Trace, "_expr", _ref_expr)

    return patch


@pytest.fixture(scope="module")
def results():
    from villagescore.io.schemes import load
    from villagescore.pipeline import compute

    return {
        "qingshi-2025": compute(load("pingbian"), [QINGSHI / "2025H1表格", QINGSHI / "2025H2表格"], period="2025"),
        "qingshi-2025H1": compute(load("pingbian"), [QINGSHI / "2025H1表格"]),
        "yunhe-2024": compute(load("dazhou_street"), [ROOT / "samples" / "yunhe" / "2024表格"]),
    }


@pytest.mark.parametrize("name", ["qingshi-2025", "qingshi-2025H1", "yunhe-2024"])
def test_summary_workbooks_unchanged(results, reference_summary, name):
    result = results[name]
    assert result.ballots  # the 测评明细 sheet has rows
    new = (S.build_summary(result), S.build_public(result), S.build_issue_list(result.report, "问题清单"))
    reference_summary()
    old = (S.build_summary(result), S.build_public(result), S.build_issue_list(result.report, "问题清单"))
    for a, b in zip(new, old):
        assert_same(a, b)


def test_summary_cells_read_back_unchanged(results, reference_summary):
    """The same check through openpyxl: every sheet's values, formulas, number formats and fonts."""
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


@pytest.fixture
def full_ballots(monkeypatch):
    """Call to make build_print_ballots write every ballot cell by cell (the code before the pass)."""
    from villagescore.io import forms

    return lambda: monkeypatch.setattr(forms, "_repeat_ballots", lambda *a: None)


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
    used = []
    repeat = forms._repeat_ballots
    monkeypatch.setattr(forms, "_repeat_ballots", lambda *a: used.append(repeat(*a)) or used[-1])
    fast = forms.build_print_ballots(scheme, form, "2025H1", unit, crit)
    assert used and used[0] is not None  # the repeated ballots were used, not the fallback
    full_ballots()
    full = forms.build_print_ballots(scheme, form, "2025H1", unit, crit)
    assert_same(fast, full)
    assert fast == full  # the very same bytes
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
    from villagescore.pipeline import make_forms

    setup = QINGSHI / "基础信息"
    args = (scheme, setup / "名册.xlsx", setup / "考核细则.xlsx", setup / "民生诉求台账.xlsx", "2025H1")
    fast = make_forms(*args, tmp_path / "fast", seed=7)
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
    from villagescore.collect import _display, collect, is_inside
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
            col = collect(scheme, folders, Report(), exclude={Path("a/2025H1表格/乡党委县委评分表_2025H1.xlsx")})
            expected = {}
            for p in iter_workbook_files(folders, []):
                zone = next((str(i) for i, f in enumerate(folders) if is_inside(p, [f])), "")
                expected[_display(p, folders)] = zone
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

    from villagescore import cli
    from villagescore.core.issues import Report, issue

    report = Report()
    for i in range(120):
        report.add(issue("draw-short", unit=f"C{i:03d}", file=f"f{i:03d}.xlsx", count=1, want=5))
    for i in range(3):
        report.add(issue("file-unreadable", file=f"z{i}.xlsx", reason="文件已损坏"))
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=200, highlight=False))
    cli._print_report(report)
    text = out.getvalue()
    rows = [line for line in text.splitlines() if re.search(r"\b[fz]\d+\.xlsx", line)]
    assert len(rows) == 50
    assert all(f"z{i}.xlsx" in text for i in range(3))  # errors first
    assert "另有 73 条问题未显示" in text and "问题清单" in text and "--report" in text
    assert "错误 3 条，提示 120 条。" in text
    out.truncate(0)
    short = Report(report.issues[:10])
    cli._print_report(short)
    assert "未显示" not in out.getvalue()
