"""The blank forms as kept in golden files (tests/golden/forms/), and the shortcuts that write them change nothing.

The shortcuts: a workbook whose calls equal, but for their cell strings, those of one written before in the run
reuses that package and writes only its shared strings; printed ballots are written once and repeated in the
sheet XML; a large roster's forms are built on both cores. Each is checked against the plain way: every call
played on xlsxwriter, no package reused, every ballot written cell by cell, one process.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

import golden
from villagescore.io import forms, period_forms
from villagescore.io.replay import PackageCache
from villagescore.io.schemes import load

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SAMPLE_TEMPLATES = {  # scheme: (setup folder, period)
    "pingbian": ("qingshi/基础信息", "2025H1"),
    "dazhou_street": ("yunhe/基础信息", "2024"),
    "shuocheng": ("taoyuan/基础信息", "2024"),
    "dazehu": ("qinghu/基础信息", "2025"),
    "county_dynamic": ("lanxi/云岭镇/基础信息", "2025Q1"),
}
# kept byte for byte: a village's five forms of system A (the second village: written with packages known) and
# the township's table; a community's vote ballots and a secretary's rectification list (system B)
KEPT = {
    "pingbian": ["QS02_河口村/QS02_河口村_测评票录入_2025H1.xlsx", "QS02_河口村/QS02_河口村_测评票（打印）_2025H1.xlsx",
                 "QS02_河口村/QS02_河口村_回访核查表_2025H1.xlsx", "QS02_河口村/QS02_河口村_问卷统计表_2025H1.xlsx",
                 "QS02_河口村/QS02_河口村_匿名评价登记表_2025H1.xlsx", "乡党委县委评分表_2025H1.xlsx"],
    "dazehu": ["QH02_柳塘村/QH02_柳塘村_民主测评表录入_2025.xlsx", "QH02_柳塘村/QH02_柳塘村_民主测评表（打印）_2025.xlsx",
               "QH02_柳塘村/QH02-1_汪德胜_问题整改清单_2025.xlsx"],
}


@pytest.fixture
def plain(monkeypatch):
    """Call to write forms the plain way from then on: every call played on xlsxwriter, nothing reused or repeated."""

    def patch() -> None:
        monkeypatch.setattr(forms, "PackageCache", lambda: PackageCache(limit=0))
        monkeypatch.setattr(forms, "repeat_copies", lambda *a: None)

    return patch


def _template(scheme_id: str, out: Path):
    from villagescore.pipeline import make_forms

    setup, period = SAMPLE_TEMPLATES[scheme_id]
    folder = SAMPLES / setup
    files = [folder / f"{n}.xlsx" for n in ("名册", "考核细则", "民生诉求台账")]
    run = make_forms(load(scheme_id), *[p if p.exists() else None for p in files], period, out, seed=11)
    assert not run.report.errors and run.paths
    return sorted(p.relative_to(out) for p in run.paths if p.parent.name != "00_基础信息")  # setup files: copies


@pytest.mark.parametrize("scheme_id", list(KEPT))
def test_forms_as_kept(tmp_path, plain, update_golden, scheme_id):
    names = _template(scheme_id, tmp_path)
    for name in KEPT[scheme_id]:
        assert Path(name) in names
        golden.check(f"forms/{scheme_id}/{Path(name).name}", (tmp_path / name).read_bytes(), update_golden)


def test_setup_form_as_kept(plain, update_golden):
    """A roster with its people sheet (system B)."""
    golden.check("forms/dazehu/名册.xlsx", forms.build_setup_workbook("roster", load("dazehu")), update_golden)


@pytest.mark.parametrize("scheme_id", list(SAMPLE_TEMPLATES))
def test_sample_templates_the_same_written_plainly(tmp_path, plain, scheme_id):
    """Every sample's period forms (systems A–E: ballots, vote ballots with people, callbacks, tallies, registers,
    township tables), byte for byte as the plain way writes them."""
    fast = _template(scheme_id, tmp_path / "fast")
    plain()
    assert _template(scheme_id, tmp_path / "plain") == fast
    for n in fast:
        assert (tmp_path / "fast" / n).read_bytes() == (tmp_path / "plain" / n).read_bytes(), n


@pytest.fixture(scope="module")
def county():
    """A made-up township of 12 villages (system A) whose ballots come in three shapes."""
    from villagescore.core.draw import draw_requests
    from villagescore.core.records import Criterion, LedgerEntry, Setup, Unit

    scheme = load("pingbian")
    units = [Unit(f"C{i:03d}", f"第{i}村" + ("新" * (i % 4)), "村" if i % 7 else "社区") for i in range(1, 13)]
    aspects = scheme.criteria.aspects
    setup = Setup(units=units)
    setup.criteria = {u.code: [Criterion(u.code, aspects[k // 2], k + 1, f"{aspects[k // 2]}细则{k}" + "很长" * (i % 3 * 20),
                                         Decimal(10)) for k in range(2 * len(aspects))] for i, u in enumerate(units)}
    setup.ledger = {u.code: [LedgerEntry(u.code, f"R{j}", "2025-01-02", "张三", "13800000000", "路灯不亮" * j, "已办结")
                             for j in range(1, i % 9)] for i, u in enumerate(units)}
    form = next(f for f in scheme.forms if f.kind == "callback")
    draws = {u.code: draw_requests(setup.ledger[u.code], u.code, "2025H1", 5, form.draw) for u in units}
    return scheme, setup, draws


def test_period_forms_in_workers_the_same(county, plain, monkeypatch, tmp_path):
    """Both cores (the first unit built here, the others in the workers) write what one process writes plainly,
    in the same order."""
    scheme, setup, draws = county
    monkeypatch.setattr(period_forms, "PARALLEL_MIN_UNITS", 2)
    pooled = period_forms.write_period_forms(scheme, setup, "2025H1", tmp_path / "pooled", draws)
    monkeypatch.setattr(period_forms, "PARALLEL_MIN_UNITS", 10**6)
    plain()
    alone = period_forms.write_period_forms(scheme, setup, "2025H1", tmp_path / "plain", draws)
    names = [p.relative_to(tmp_path / "pooled") for p in pooled]
    assert names == [p.relative_to(tmp_path / "plain") for p in alone]
    assert len(names) == 1 + 5 * len(setup.units)
    for n in names:
        assert (tmp_path / "pooled" / n).read_bytes() == (tmp_path / "plain" / n).read_bytes(), n


def test_period_forms_into_folders_already_there(county, tmp_path):
    """New unit folders move in whole; into a folder already there (--force) file by file, its other files kept."""
    scheme, setup, draws = county
    small = type(setup)(units=setup.units[:3], criteria=setup.criteria, ledger=setup.ledger)
    out = tmp_path / "out"
    first = period_forms.write_period_forms(scheme, small, "2025H1", out, draws)
    kept = first[-1].parent / "自己的文件.txt"
    kept.write_text("留着", encoding="utf-8")
    old = {p: p.read_bytes() for p in first}
    first[1].write_bytes(b"stale")
    second = period_forms.write_period_forms(scheme, small, "2025H1", out, draws)
    assert second == first
    assert {p: p.read_bytes() for p in second} == old
    assert kept.read_text(encoding="utf-8") == "留着"
    assert not [p for p in out.iterdir() if p.name.startswith(".villagescore-")]  # no staging folder left
    assert sorted(p for p in out.rglob("*.xlsx")) == sorted(first)


# ------------------------------------------------------------------ printed ballots: one written, repeated


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


@pytest.mark.parametrize("copies", [2, 20])
@pytest.mark.parametrize("case", list(BALLOT_CASES))
def test_print_ballots_repeated_the_same(scheme, plain, monkeypatch, case, copies):
    from openpyxl import load_workbook

    from villagescore.core.records import Unit

    form = next(f for f in scheme.forms if f.kind == "score_ballot").model_copy(update={"evaluators": copies})
    unit, other = Unit("C01", "青山村"), Unit("C02", "石桥村")
    crit, crit2 = _criteria("C01", BALLOT_CASES[case]), _criteria("C02", BALLOT_CASES[case])
    used = []
    repeat = forms.repeat_copies
    monkeypatch.setattr(forms, "repeat_copies", lambda *a: used.append(repeat(*a)) or used[-1])
    cache = PackageCache()
    fast = forms.build_print_ballots(scheme, form, "2025H1", unit, crit, cache)
    assert used and used[0] is not None  # the repeated ballots were used, not the fallback
    known = forms.build_print_ballots(scheme, form, "2025H1", other, crit2, cache)
    assert len(used) == 1  # another unit's ballots of the same shape: the package known, its strings written
    plain()
    assert fast == forms.build_print_ballots(scheme, form, "2025H1", unit, crit)
    assert known == forms.build_print_ballots(scheme, form, "2025H1", other, crit2)
    ws = load_workbook(io.BytesIO(fast)).worksheets[0]
    assert len(ws.row_breaks.brk) == copies - 1


def test_print_ballots_of_fixed_items_the_same(plain):
    """A scheme whose ballot items are fixed (no 方面 column): 云河街道's leaders' ballot."""
    from villagescore.core.records import Unit

    sch = load("dazhou_street")
    form = next(f for f in sch.forms if f.kind == "score_ballot")
    unit = Unit("YH01", "云河社区")
    fast = forms.build_print_ballots(sch, form, "2024", unit, [], PackageCache())
    plain()
    assert fast == forms.build_print_ballots(sch, form, "2024", unit, [])


# ------------------------------------------------------------------ packages reused only for the same calls


def _book(calls: list[tuple], texts: tuple[str, ...] = (), cache: PackageCache | None = None) -> bytes:
    """A one-sheet form workbook made by ``calls`` (method, *args; "fmt" as an argument: a bold format); ``texts``
    are written in column A from row 10, then the identity sheet. Without ``cache``: the plain way."""
    book = forms._book("标题", cache)
    ws = book.add_sheet("表")
    bold = book.fmt(bold=True)
    for name, *args in calls:
        getattr(ws, name)(*[bold if a == "fmt" else a for a in args])
    for r, text in enumerate(texts, start=10):
        ws.write_string(r, 0, text, bold)
    book.banner(ws, 0, 0, 3, "标题行", bold, 30)
    book.identity({"tool": "villagescore", "unit_code": texts[0] if texts else ""})
    return book.close()


# calls that differ only in ways xlsxwriter writes differently: each must get its own package
VARIANTS = [
    ([("set_row", 3, 30)], ("甲", "乙")),
    ([("set_row", 3, 30.0)], ("甲", "乙")),
    ([("write_number", 2, 1, 0.0, "fmt")], ("甲", "乙")),
    ([("write_number", 2, 1, -0.0, "fmt")], ("甲", "乙")),  # "0" and "-0"
    ([("write_number", 2, 1, 0, "fmt")], ("甲", "乙")),
    ([("write_number", 2, 1, True, "fmt")], ("甲", "乙")),
    ([("write_number", 2, 1, Decimal("1.50"), "fmt")], ("甲", "乙")),
    ([("write_number", 2, 1, Decimal("1.5"), "fmt")], ("甲", "乙")),
    ([("set_row", 3, 30)], ("甲", "甲")),  # the same string twice: one shared string, not two
    ([("set_row", 3, 30)], ("乙", "甲")),
    ([("set_row", 3, 30)], ("标题行", "丙")),  # a cell string equal to the banner's
    ([("set_row", 3, 30)], ("丁", "")),
    ([("set_row", 3, 30)], ("  前后空格 ", "x" * 20000)),  # kept apart: xlsxwriter may shorten long strings
    ([("set_column", 0, 0, 12), ("data_validation", 1, 1, 5, 1, {"validate": "list", "source": ["是", "否"]})],
     ("甲", "乙")),
    ([("set_column", 0, 0, 12), ("data_validation", 1, 1, 5, 1, {"validate": "list", "source": ["否", "是"]})],
     ("甲", "乙")),
    ([("merge_range", 2, 0, 2, 3, "合并", "fmt"), ("write_blank", 5, 5, None, "fmt")], ("甲", "乙")),
    ([("merge_range", 2, 0, 2, 3, "合并", "fmt"), ("write_blank", 5, 5, None, None)], ("甲", "乙")),
]


def test_packages_reused_only_for_the_same_calls():
    cache = PackageCache()
    new = [_book(calls, texts, cache) for calls, texts in VARIANTS]
    again = [_book(calls, texts, cache) for calls, texts in VARIANTS]  # every package known now
    kept = len(cache)
    written = [_book(calls, texts) for calls, texts in VARIANTS]
    for i, (a, b, c) in enumerate(zip(new, again, written)):
        assert a == c, VARIANTS[i]
        assert b == c, VARIANTS[i]
    assert written[2] != written[3] and written[6] != written[7]  # 0.0 and -0.0, 1.50 and 1.5 are written differently
    assert len(set(written)) == len(written) - 2  # all differ but for 30 and 30.0, 0.0 and 0 (kept apart all the same)
    # (甲, 乙) and (乙, 甲) share a package (strings apart, the same calls); the 20,000-character string's is not kept
    assert kept == len(VARIANTS) - 2


def test_known_package_with_other_strings():
    """Another unit's strings in a known package: xlsxwriter's shared strings for them, the rest reused."""
    calls = [("set_row", 3, 30), ("write_string", 4, 1, "固定", "fmt")]
    cases = [("甲", "乙"), ("丙", "丁"), ("<&>", "\"'"), ("a" * 300, "b"), ("第1村", "第2村")]
    cache = PackageCache()
    reused = [_book(calls, texts, cache) for texts in cases]
    assert len(cache) == 1
    assert reused == [_book(calls, texts) for texts in cases]


def test_known_packages_are_bounded():
    cache = PackageCache(limit=3)
    for height in range(20, 30):
        _book([("set_row", 3, height)], ("甲",), cache)
    assert len(cache) == 3
    none = PackageCache(limit=0)
    _book([("set_row", 3, 40)], ("甲",), none)
    assert len(none) == 0


def test_only_known_calls_are_logged():
    ws = forms._book("x").add_sheet("表")
    with pytest.raises(AttributeError):
        ws.write_formula(0, 0, "=1")  # not one the forms use: it would bypass the shared-string bookkeeping


def test_workbooks_open_and_read_back():
    """A known package with other strings still reads back (openpyxl): the unit's own strings in place."""
    from openpyxl import load_workbook

    calls = [("set_row", 3, 30), ("write_string", 4, 1, "固定", "fmt")]
    cache = PackageCache()
    _book(calls, ("甲村", "乙"), cache)
    data = _book(calls, ("丙村", "丁"), cache)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["表"]
    assert (ws["A1"].value, ws["B5"].value, ws["A11"].value, ws["A12"].value) == ("标题行", "固定", "丙村", "丁")
    assert wb.worksheets[1].sheet_state == "veryHidden"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None


RICH = "<r>A&B<t>x</t></r>"  # what xlsxwriter would write into the file as rich-text XML, unescaped


@pytest.mark.parametrize("texts", [(RICH, "乙"), ("甲", RICH)])
def test_text_shaped_like_rich_text_stays_text(texts):
    """Typed into a roster or criteria, such a text is written escaped (as runs in the cell's format): the
    workbook opens and the cell holds the text; its package is never reused for other strings."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    calls = [("merge_range", 2, 0, 2, 3, RICH, "fmt")]
    cache = PackageCache()
    for _ in range(2):
        data = _book(calls, texts, cache)
        ws = openpyxl.load_workbook(io.BytesIO(data))["表"]
        assert ws["A3"].value == RICH and "A3:D3" in {str(m) for m in ws.merged_cells.ranges}
        assert [ws.cell(11 + i, 1).value for i in range(2)] == list(texts)  # written from row index 10
        assert ws["A11"].font.b  # the cell's own format
    assert len(cache) == 0
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python()[2][0] == RICH


def test_roster_texts_shaped_like_rich_text_in_every_form(tmp_path):
    """End to end: a unit named like rich-text XML gets forms that open, with its name in them."""
    import openpyxl

    from villagescore.core.draw import draw_requests
    from villagescore.core.records import Criterion, LedgerEntry, Setup, Unit

    scheme = load("pingbian")
    unit = Unit("V1", RICH, "村", "某书记")
    crit = [Criterion("V1", "班子队伍", i + 1, f"{RICH}{i}" if i == 0 else f"细则{i}", Decimal(10)) for i in range(10)]
    setup = Setup(units=[unit], criteria={"V1": crit})
    ledger = [LedgerEntry("V1", f"V1-{i}", "2025-03-01", RICH, "13800001111", f"诉求{i}") for i in range(8)]
    paths = period_forms.write_period_forms(scheme, setup, "2025H1", tmp_path,
                                     {"V1": draw_requests(ledger, "V1", "2025H1", 1, 5)})
    assert paths
    for p in paths:
        wb = openpyxl.load_workbook(p)
        assert any(RICH in str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row), p.name


# ------------------------------------------------------------------ caches of pure functions


def test_text_width_cache():
    def ref(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    for text in ["", "abc", "C01", "青山村", "１２３", "a青b", "é", "\x01", "“引号”", "Ⅻ", "ｱ", "한"]:
        assert forms._tw(text) == ref(text)
        assert forms._tw(text) == ref(text)  # from the cache


def test_validation_cache():
    from villagescore.core.layout import _col

    a = _col("x", "得分", "number", min=Decimal(0), max=Decimal(10), places=2)
    b = _col("y", "得分", "number", min=Decimal(0), max=Decimal(10), places=2)
    c = _col("x", "得分", "number", min=Decimal(0), max=Decimal("10.0"), places=2)
    assert forms._validation(a) is forms._validation(b)  # the same for columns alike (key aside)
    assert forms._validation(a) == forms._make_validation(a)
    assert forms._validation(c) == forms._make_validation(c)
    for col in (_col("t", "备注"), _col("o", "是否", "option", options=["是", "否"], required=True),
                _col("i", "人数", "integer", min=Decimal(1))):
        assert forms._validation(col) == forms._make_validation(col)
