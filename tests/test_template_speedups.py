"""The template pass (forms.py): workbooks of a package already written reuse its parts, and what is written
stays what the plain code writes (``_RefBook`` in test_perf_equivalence.py: every call made on xlsxwriter at
once), byte for byte."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from test_perf_equivalence import _RefBook

from villagescore.io import forms

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def packages(monkeypatch) -> dict:
    """An empty set of known packages for the test (and the real xlsxwriter package writer)."""
    known: dict = {}
    monkeypatch.setattr(forms, "_PACKAGES", known)
    monkeypatch.setattr(forms, "PACKAGES_KEPT", 64)
    return known


def _book(cls, calls: list[tuple], texts: tuple[str, ...] = ()) -> bytes:
    """A one-sheet workbook made by ``calls`` (method, *args; "fmt" as an argument: a bold format) on a book of
    ``cls``; ``texts`` are written in column A from row 10, then the identity sheet."""
    book = cls("标题")
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


def test_packages_reused_only_for_the_same_calls(packages):
    new = [_book(forms._Book, calls, texts) for calls, texts in VARIANTS]
    again = [_book(forms._Book, calls, texts) for calls, texts in VARIANTS]  # every package known now
    plain = [_book(_RefBook, calls, texts) for calls, texts in VARIANTS]
    for i, (a, b, c) in enumerate(zip(new, again, plain)):
        assert a == c, VARIANTS[i]
        assert b == c, VARIANTS[i]
    assert plain[2] != plain[3] and plain[6] != plain[7]  # 0.0 and -0.0, 1.50 and 1.5 are written differently
    assert len(set(plain)) == len(plain) - 2  # all differ but for 30 and 30.0, 0.0 and 0 (kept apart all the same)
    # (甲, 乙) and (乙, 甲) share a package (strings apart, the same calls); the 20,000-character string's is not kept
    assert len(packages) == len(VARIANTS) - 2


def test_known_package_with_other_strings(packages):
    """Another unit's strings in a known package: xlsxwriter's shared strings for them, the rest reused."""
    calls = [("set_row", 3, 30), ("write_string", 4, 1, "固定", "fmt")]
    for texts in [("甲", "乙"), ("丙", "丁"), ("<&>", "\"'"), ("a" * 300, "b"), ("第1村", "第2村")]:
        assert _book(forms._Book, calls, texts) == _book(_RefBook, calls, texts)
    assert len(packages) == 1


def test_known_packages_are_bounded(packages, monkeypatch):
    monkeypatch.setattr(forms, "PACKAGES_KEPT", 3)
    for height in range(20, 30):
        assert _book(forms._Book, [("set_row", 3, height)], ("甲",)) == _book(_RefBook, [("set_row", 3, height)],
                                                                              ("甲",))
    assert len(packages) == 3
    monkeypatch.setattr(forms, "PACKAGES_KEPT", 0)  # none kept: every call played on xlsxwriter
    assert _book(forms._Book, [("set_row", 3, 40)], ("甲",)) == _book(_RefBook, [("set_row", 3, 40)], ("甲",))
    assert len(packages) == 3


def test_only_known_calls_are_logged():
    ws = forms._Book("x").add_sheet("表")
    with pytest.raises(AttributeError):
        ws.write_formula(0, 0, "=1")  # not one the forms use: it would bypass the shared-string bookkeeping


def _reference(monkeypatch) -> None:
    monkeypatch.setattr(forms, "_repeat_ballots", lambda *a: None)
    monkeypatch.setattr(forms, "_Book", _RefBook)


SAMPLE_TEMPLATES = [
    ("pingbian", "qingshi/基础信息", "2025H1"),
    ("dazhou_street", "yunhe/基础信息", "2024"),
    ("shuocheng", "taoyuan/基础信息", "2024"),
    ("dazehu", "qinghu/基础信息", "2025"),
    ("county_dynamic", "lanxi/云岭镇/基础信息", "2025Q1"),
]


@pytest.mark.parametrize("scheme_id,setup,period", SAMPLE_TEMPLATES)
def test_sample_templates_unchanged(packages, monkeypatch, tmp_path, scheme_id, setup, period):
    """Every sample's period forms (systems A–E: ballots, vote ballots with people, callbacks, tallies,
    registers, township tables), byte for byte as the plain code writes them."""
    from villagescore.io.schemes import load
    from villagescore.pipeline import make_forms

    folder = ROOT / "samples" / setup
    files = {k: folder / f"{name}.xlsx" for k, name in (("roster", "名册"), ("criteria", "考核细则"),
                                                          ("ledger", "民生诉求台账"))}
    args = [load(scheme_id), *[p if p.exists() else None for p in files.values()], period]
    fast = make_forms(*args, tmp_path / "fast", seed=11)
    assert not fast.report.errors and fast.paths
    _reference(monkeypatch)
    full = make_forms(*args, tmp_path / "full", seed=11)
    names = [p.relative_to(tmp_path / "fast") for p in fast.paths]
    assert names == [p.relative_to(tmp_path / "full") for p in full.paths]
    for n in names:
        assert (tmp_path / "fast" / n).read_bytes() == (tmp_path / "full" / n).read_bytes(), n


@pytest.fixture(scope="module")
def county():
    """A made-up county of 60 villages (system A): setup and draws as make_forms makes them."""
    from villagescore.core.draw import draw_requests
    from villagescore.core.records import Criterion, LedgerEntry, Setup, Unit
    from villagescore.io.schemes import load

    scheme = load("pingbian")
    units = [Unit(f"C{i:03d}", f"第{i}村" + ("新" * (i % 4)), "村" if i % 7 else "社区") for i in range(1, 61)]
    aspects = scheme.criteria.aspects
    setup = Setup(units=units)
    # criteria texts of different lengths: some villages' ballots differ in shape (row heights, header)
    setup.criteria = {u.code: [Criterion(u.code, aspects[k // 2], k + 1, f"{aspects[k // 2]}细则{k}" + "很长" * (i % 3 * 20),
                                         Decimal(10)) for k in range(2 * len(aspects))] for i, u in enumerate(units)}
    setup.ledger = {u.code: [LedgerEntry(u.code, f"R{j}", "2025-01-02", "张三", "13800000000", "路灯不亮" * j, "已办结")
                             for j in range(1, i % 9)] for i, u in enumerate(units)}
    form = next(f for f in scheme.forms if f.kind == "callback")
    draws = {u.code: draw_requests(setup.ledger[u.code], u.code, "2025H1", 5, form.draw) for u in units}
    return scheme, setup, draws


def test_period_forms_in_workers_unchanged(county, packages, monkeypatch, tmp_path):
    """Both cores (the first unit built here, the others in the workers) and one process write the same files,
    in the same order, as the plain code."""
    scheme, setup, draws = county
    monkeypatch.setattr(forms, "PARALLEL_MIN_UNITS", 2)
    pooled = forms.write_period_forms(scheme, setup, "2025H1", tmp_path / "pooled", draws)
    monkeypatch.setattr(forms, "PARALLEL_MIN_UNITS", 10**6)
    _reference(monkeypatch)
    plain = forms.write_period_forms(scheme, setup, "2025H1", tmp_path / "plain", draws)
    names = [p.relative_to(tmp_path / "pooled") for p in pooled]
    assert names == [p.relative_to(tmp_path / "plain") for p in plain]
    assert len(names) == 1 + 5 * len(setup.units)
    for n in names:
        assert (tmp_path / "pooled" / n).read_bytes() == (tmp_path / "plain" / n).read_bytes(), n


def test_period_forms_into_folders_already_there(county, packages, tmp_path):
    """New unit folders move in whole; into a folder already there (--force) file by file, its other files kept."""
    scheme, setup, draws = county
    small = type(setup)(units=setup.units[:3], criteria=setup.criteria, ledger=setup.ledger)
    out = tmp_path / "out"
    first = forms.write_period_forms(scheme, small, "2025H1", out, draws)
    kept = first[-1].parent / "自己的文件.txt"
    kept.write_text("留着", encoding="utf-8")
    old = {p: p.read_bytes() for p in first}
    first[1].write_bytes(b"stale")
    second = forms.write_period_forms(scheme, small, "2025H1", out, draws)
    assert second == first
    assert {p: p.read_bytes() for p in second} == old
    assert kept.read_text(encoding="utf-8") == "留着"
    assert not [p for p in out.iterdir() if p.name.startswith(".villagescore-")]  # no staging folder left
    assert sorted(p for p in out.rglob("*.xlsx")) == sorted(first)


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


def test_workbooks_open_and_read_back(packages):
    """A known package with other strings still reads back (openpyxl): the unit's own strings in place."""
    from openpyxl import load_workbook

    calls = [("set_row", 3, 30), ("write_string", 4, 1, "固定", "fmt")]
    _book(forms._Book, calls, ("甲村", "乙"))
    data = _book(forms._Book, calls, ("丙村", "丁"))
    wb = load_workbook(io.BytesIO(data))
    ws = wb["表"]
    assert (ws["A1"].value, ws["B5"].value, ws["A11"].value, ws["A12"].value) == ("标题行", "固定", "丙村", "丁")
    assert wb.worksheets[1].sheet_state == "veryHidden"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None


RICH = "<r>A&B<t>x</t></r>"  # what xlsxwriter would write into the file as rich-text XML, unescaped


@pytest.mark.parametrize("texts", [(RICH, "乙"), ("甲", RICH)])
def test_text_shaped_like_rich_text_stays_text(packages, texts):
    """Typed into a roster or criteria, such a text is written escaped (as runs in the cell's format): the
    workbook opens and the cell holds the text; its package is never reused for other strings."""
    import openpyxl

    calls = [("merge_range", 2, 0, 2, 3, RICH, "fmt")]
    for _ in range(2):
        data = _book(forms._Book, calls, texts)
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = wb["表"]
        assert ws["A3"].value == RICH and "A3:D3" in {str(m) for m in ws.merged_cells.ranges}
        assert [ws.cell(11 + i, 1).value for i in range(2)] == list(texts)  # written from row index 10
        assert ws["A11"].font.b  # the cell's own format
    assert not packages
    from python_calamine import CalamineWorkbook

    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python()[2][0] == RICH


def test_roster_texts_shaped_like_rich_text_in_every_form(tmp_path):
    """End to end: a unit named like rich-text XML gets forms that open, with its name in them."""
    import openpyxl

    from villagescore.core.draw import draw_requests
    from villagescore.core.records import Criterion, LedgerEntry, Setup, Unit
    from villagescore.io.schemes import load

    scheme = load("pingbian")
    unit = Unit("V1", RICH, "村", "某书记")
    crit = [Criterion("V1", "班子队伍", i + 1, f"{RICH}{i}" if i == 0 else f"细则{i}", Decimal(10)) for i in range(10)]
    setup = Setup(units=[unit], criteria={"V1": crit})
    ledger = [LedgerEntry("V1", f"V1-{i}", "2025-03-01", RICH, "13800001111", f"诉求{i}") for i in range(8)]
    paths = forms.write_period_forms(scheme, setup, "2025H1", tmp_path,
                                     {"V1": draw_requests(ledger, "V1", "2025H1", 1, 5)})
    assert paths
    for p in paths:
        wb = openpyxl.load_workbook(p)
        assert any(RICH in str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row), p.name
