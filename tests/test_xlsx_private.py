"""What ``villagescore/io/xlsx_private.py`` relies on in xlsxwriter's internals, checked on the version installed.

Each private use has a public way to the same bytes, which the code falls back to when a name is missing: a new
xlsxwriter would not break a run, only slow it down. These tests fail loudly instead, naming what changed.
"""

from __future__ import annotations

import io
import tomllib
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from packaging.requirements import Requirement

from villagescore.io import xlsx_private as xp
from villagescore.io.cells import TEXT_OPTIONS, write_text

ROOT = Path(__file__).resolve().parent.parent


def test_xlsxwriter_is_within_the_pinned_range():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    req = next(Requirement(d) for d in deps if d.lower().startswith("xlsxwriter"))
    assert req.specifier, "xlsxwriter must be pinned to a range: its internals are used (io/xlsx_private.py)"
    assert xlsxwriter.__version__ in req.specifier, (xlsxwriter.__version__, str(req.specifier))


def test_every_private_name_is_there():
    missing = [name for name, there in xp.AVAILABLE.items() if not there]
    assert not missing, f"xlsxwriter {xlsxwriter.__version__} lacks {missing}: see io/xlsx_private.py"
    assert xp.SHARED_STRINGS and xp.ROW_XML
    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    assert hasattr(wb, "str_table") and wb.str_table.count == 0


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("texts", [("甲", "固定", "乙"), ("丙村", "固定", "丙村"), ("<&>", " 空格 ", "\x01控制", "_x0041_")])
def test_shared_strings_made_as_a_workbook_writes_them(texts):
    """The shared strings of a workbook whose cells hold ``texts`` in order, and the table's count of them."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, **TEXT_OPTIONS})
    ws = wb.add_worksheet("表")
    for r, text in enumerate(texts):
        ws.write_string(r, 0, text)
    assert xp.shared_string_count(wb) == len(texts)
    wb.close()
    assert xp.shared_strings_xml(texts).encode("utf-8") == _members(buf.getvalue())[xp.SHARED_STRINGS_PART]


def _sheet_xml(constant_memory: bool, write) -> bytes:
    buf = io.BytesIO()
    opts = {"constant_memory": True, "in_memory": False} if constant_memory else {"in_memory": True}
    wb = xlsxwriter.Workbook(buf, {**opts, **TEXT_OPTIONS})
    ws = wb.add_worksheet("表")
    fmt = wb.add_format({"num_format": "0.00"})
    write(wb, ws, fmt)
    wb.close()
    return _members(buf.getvalue())["xl/worksheets/sheet1.xml"]


@pytest.mark.parametrize("constant_memory", [False, True])
def test_cell_writers_write_what_the_public_methods_write(constant_memory):
    def public(wb, ws, fmt):
        ws.write_string(0, 0, "文字", fmt)
        ws.write_number(0, 1, 87.5, fmt)
        ws.write_blank(0, 2, None, fmt)
        ws.write_formula(1, 0, "=ROUND(B1,2)", fmt, 87.5)
        write_text(ws, 2, 0, "<r>A&B</r>", fmt)  # a text shaped like rich-text XML: runs, escaped

    def private(wb, ws, fmt):
        xp.text_writer(ws)(0, 0, "文字", fmt)
        xp.cell_writer(ws, "write_number")(0, 1, 87.5, fmt)
        xp.cell_writer(ws, "write_blank")(0, 2, None, fmt)
        xp.cell_writer(ws, "write_formula")(1, 0, "=ROUND(B1,2)", fmt, 87.5)
        xp.text_writer(ws)(2, 0, "<r>A&B</r>", fmt)

    assert _sheet_xml(constant_memory, private) == _sheet_xml(constant_memory, public)
    if constant_memory:  # inline strings: the text is in the sheet, as escaped runs
        xml = _sheet_xml(constant_memory, private)
        assert b"<r>A&B" not in xml and b"r&gt;A&amp;B" in xml


def test_rows_handed_over_early_in_constant_memory_mode():
    """flush_rows writes the rows before the one given at once: a later cell there is refused as written."""

    def write(wb, ws, fmt):
        ws.write_number(0, 0, 1, fmt)
        xp.flush_rows(ws, 1)
        assert ws.write_number(0, 1, 2, fmt) < 0  # row 1 is out already: refused
        ws.write_number(1, 0, 3, fmt)

    xml = _sheet_xml(True, write)
    assert b'<c r="A1"' in xml and b'<c r="B1"' not in xml and b'<c r="A2"' in xml
    xp.flush_rows(xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True}).add_worksheet(), 1)  # in memory: nothing


TEXTS = ["文字", "a & b < c > d \" '", "  前后空格 ", "行一\n行二", "tab\there", "控制\x01字符\x1f", "_x0041_ 字面",
         "\ufffe", "<r>看似富文本</r>", "x" * 20000, "", "0123", "=1+1", "http://例子.cn"]
NUMBERS = [0.0, -0.0, 8.5, 87.0, 1e-20, 1.5e20, 123456789.123456789, -3.25, 7, 12345678901234567890]
FORMULAS = ["ROUND('分项得分'!C3*0.8+'分项得分'!D3*0.2,2)", "AVERAGEIFS('测评明细'!N3:N22,'测评明细'!O3:O22,\"有效\")",
            "ROUND(C3-D3,0)", "SUM(C3:C9)", "XLOOKUP(1,A1:A3,B1:B3)", "{=ROUND(A1,2)}"]


def _rows(write_row) -> bytes:
    """A constant_memory sheet of the cells above, one row per case, each row written by ``write_row``."""

    def write(wb, ws, fmt):
        plain = wb.add_format({"border": 1})
        ws.write_string(0, 0, "标题", plain)  # a row written by xlsxwriter before the others
        rows = [[("text", t)] for t in TEXTS] + [[("number", v)] for v in NUMBERS] + \
            [[("formula", f), ("number", 1.0)] for f in FORMULAS] + [[("blank", None), ("text", "后"), ("blank", None)]]
        for r, cells in enumerate(rows, start=1):
            write_row(ws, r, cells, fmt if r % 2 else plain, [None, 13, 29.25, 30, 15.5][r % 5])
        ws.write_string(len(rows) + 1, 1, "尾", plain)  # and one after

    return _sheet_xml(True, write)


def _public(ws, r, cells, fmt, height):
    for c, (kind, value) in enumerate(cells):
        if kind == "text":
            write_text(ws, r, c, value, fmt)
        elif kind == "number":
            ws.write_number(r, c, value, fmt)
        elif kind == "formula":
            ws.write_formula(r, c, "=" + value, fmt, 87.5)
        else:
            ws.write_blank(r, c, None, fmt)
    if height:
        ws.set_row(r, height)


def _sink(ws, r, cells, fmt, height):
    from xlsxwriter.utility import xl_rowcol_to_cell

    sink = _sink.sinks.get(id(ws))
    if sink is None or sink.ws is not ws:
        sink = _sink.sinks[id(ws)] = xp.RowSink(ws, drawings=_sink.drawings)
    sink.begin(r)
    xml = []
    for c, (kind, value) in enumerate(cells):
        ref, style = xl_rowcol_to_cell(r, c), sink.style(fmt)
        if kind == "text":
            x = sink.text(ref, style, value)
        elif kind == "number":
            x = sink.number(ref, style, value)
        elif kind == "formula":
            x = sink.formula(ref, style, value, 87.5)
        else:
            x = sink.blank(ref, style)
        if x is None:  # left to xlsxwriter's methods
            return _public(ws, r, cells, fmt, height)
        xml.append(x)
    sink.row(r, 0, len(cells) - 1, xml, height)


_sink.sinks = {}
_sink.drawings = True


@pytest.mark.parametrize("drawings", [True, False])
def test_rows_written_as_xml_are_what_xlsxwriter_writes(monkeypatch, drawings):
    """The same sheet, byte for byte; the row records xlsxwriter keeps are let go as rows are written."""
    assert xp.ROW_XML and xp.RowSink.usable(xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
                                            .add_worksheet())
    monkeypatch.setattr(_sink, "drawings", drawings)
    kept = []
    real = xp.RowSink.row

    def row(self, r, *args):
        real(self, r, *args)
        kept.append((len(self.ws.row_info), len(self.ws.row_sizes)))

    monkeypatch.setattr(xp.RowSink, "row", row)
    assert _rows(_sink) == _rows(_public)
    assert kept and all(info <= 1 for info, _ in kept)  # at most the row xlsxwriter still has to write
    assert all(sizes <= 1 for _, sizes in kept) if not drawings else kept[-1][1] > 10


def test_only_plain_cells_are_written_as_xml():
    ws = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True}).add_worksheet()
    sink = xp.RowSink(ws)
    assert sink.text("A1", "", "<r>看似富文本</r>") is None and sink.text("A1", "", "x" * 20000) is None
    assert sink.formula("A1", "", "XLOOKUP(1,A1:A3,B1:B3)", 1.0) is None
    assert sink.formula("A1", "", "{=ROUND(A1,2)}", 1.0) is None and sink.formula("A1", "", "ROUND(A1,2)", 1) is None
    assert sink.formula("A1", "", "ROUND(A1,2)", 1.0) == '<c r="A1"><f>ROUND(A1,2)</f><v>1.0</v></c>'
