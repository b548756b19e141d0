"""A corpus of broken and messy files, built by code: one case per category of issue 3.

Reader cases assert the refusal (code, reason, sheet, cell) or what the reader noted; cases that
could crash the reader run in a subprocess with memory and time limits. The township cases put
every defect into one copy of a filled township and run ``validate`` once; each asserts the exact
issue code and position, and that errors stop only the affected unit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from workbooks import make_book
import pytest
import xlsxwriter

from villagescore.core.layout import IDENTITY_SHEET
from villagescore.core.normalize import CellProblem
from villagescore.io.reader import FileRefused, read_workbook
from villagescore.pipeline import compute, validate

from township import filled, find

ROOT = Path(__file__).resolve().parent.parent
SOFFICE = shutil.which("soffice")


# ------------------------------------------------------------------ helpers to break files


def book(path: Path, rows, *, title="录入表", identity=None) -> Path:
    return make_book(path, rows, title=title, identity=identity)


def rezip(src: Path, dst: Path, change) -> Path:
    """Copy a zip, passing every member through ``change(name, data) -> data | None`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
    return dst


def sheet_xml(fn):
    return lambda name, data: fn(data) if name == "xl/worksheets/sheet1.xml" else data


def edit(path: Path, cells: dict, *, sheet=0, identity: dict | None = None, after=None) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[sheet]
    for ref, value in cells.items():
        ws[ref] = value
    if identity:
        for row in wb[IDENTITY_SHEET].iter_rows():
            if row[0].value in identity:
                row[1].value = identity[row[0].value]
    if after:
        after(wb, ws)
    wb.save(path)
    return path


def cached_error(path: Path, ref: str, formula: str, error: str) -> Path:
    """Give the formula cell ``ref`` the cached error value Excel would store (openpyxl cannot)."""
    tmp = path.with_suffix(".tmp")
    path.rename(tmp)
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*)><f>' + re.escape(formula.encode()) + rb"</f><v\s*/>")
    rezip(tmp, path, lambda n, d: pat.sub(rb'<c r="' + ref.encode() + rb'"\1 t="e"><f>' + formula.encode()
                                          + b"</f><v>" + error.encode() + b"</v>", d) if "worksheets/" in n else d)
    tmp.unlink()
    return path


def refused(path: Path) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        read_workbook(path)
    return info.value


def convert(jobs: dict[str, list[Path]], out: Path) -> dict[tuple[str, str], Path]:
    """LibreOffice --convert-to, one process per format, run side by side; (stem, format) → converted file."""
    runs = [subprocess.Popen([SOFFICE, f"-env:UserInstallation=file://{out}/lo-{fmt}", "--headless", "--convert-to",
                              fmt, "--outdir", str(out / fmt), *map(str, paths)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for fmt, paths in jobs.items()]
    for run in runs:
        try:
            run.wait(timeout=300)
        except subprocess.TimeoutExpired:
            run.kill()
    return {(p.stem, fmt): out / fmt / f"{p.stem}.{fmt}" for fmt, paths in jobs.items() for p in paths
            if (out / fmt / f"{p.stem}.{fmt}").exists()}


_PRISTINE: dict[str, Path] = {}


def township_copy(tmp_path_factory, scheme, name: str) -> Path:
    """A fresh copy of the filled township of ``tests/township.py`` (built once per session)."""
    if "folder" not in _PRISTINE:
        _PRISTINE["folder"] = filled(scheme, tmp_path_factory.mktemp("pristine"))
    target = tmp_path_factory.mktemp(name) / _PRISTINE["folder"].name
    shutil.copytree(_PRISTINE["folder"], target)
    return target


# ------------------------------------------------------------------ wrong files, said plainly


GOOD = [["票号", "班子团结"], [1, 8.5], [2, 9]]


def _docx(p):
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")


def _strict(p):
    book(p.with_suffix(".src"), GOOD)
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rezip(p.with_suffix(".src"), p, lambda n, d: d.replace(ns, b"http://purl.oclc.org/ooxml/spreadsheetml/main"))


def _dtd(p):
    book(p.with_suffix(".src"), GOOD)
    laughs = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    rezip(p.with_suffix(".src"), p, sheet_xml(lambda d: laughs + d.split(b"?>")[-1]))


def _truncated(p):
    book(p.with_suffix(".src"), GOOD * 100)
    p.write_bytes(p.with_suffix(".src").read_bytes()[:3000])


def _twin_parts(p):
    import warnings

    book(p.with_suffix(".src"), GOOD)
    with zipfile.ZipFile(p.with_suffix(".src")) as src, zipfile.ZipFile(p, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.writestr("xl/worksheets/sheet1.xml", src.read("xl/worksheets/sheet1.xml"))


def _rename(path: Path, names: dict[str, str]) -> Path:
    """Rename zip members in place (their bytes and the order kept)."""
    with zipfile.ZipFile(path) as z:
        parts = [(names.get(i.filename, i.filename), z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            z.writestr(name, data)
    return path


def _twin_parts_in_two_cases(p):
    book(p.with_suffix(".src"), GOOD)
    with zipfile.ZipFile(p.with_suffix(".src")) as src, zipfile.ZipFile(p, "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.writestr("XL/Worksheets/Sheet1.xml", src.read("xl/worksheets/sheet1.xml"))


def _password(p):
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptionInfo".encode("utf-16-le")
                  + bytes(100) + "EncryptedPackage".encode("utf-16-le") + bytes(500))


WRONG = {
    "csv named .xlsx": ("名单.xlsx", lambda p: p.write_text("单位代码,单位名称\nV1,青山村\n", encoding="gbk"),
                        "file-unreadable", "CSV"),
    "Word document named .xlsx": ("通知.xlsx", _docx, "file-unreadable", "Word"),
    "Word .doc named .xls": ("通知.xls", lambda p: p.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "WordDocument".encode("utf-16-le") + bytes(500)),
        "file-unreadable", "Word"),
    "HTML page saved as .xls": ("汇总.xls", lambda p: p.write_text(
        "<html><body><table><tr><td>1</td></tr></table></body></html>"), "file-unreadable", "网页"),
    "truncated file": ("测评票.xlsx", _truncated, "file-unreadable", "损坏"),
    "password-protected workbook": ("加密.xlsx", _password, "password-protected", ""),
    "Strict Open XML workbook": ("严格.xlsx", _strict, "file-unreadable", "Strict Open XML"),
    "XML with a DTD and entities": ("实体.xlsx", _dtd, "file-unreadable", "DTD"),
    "zip with two parts of one name": ("重名.xlsx", _twin_parts, "file-unreadable", "重名"),
    "zip with one part's name twice, in two cases": ("大小写.xlsx", _twin_parts_in_two_cases, "file-unreadable", "重名"),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_files_are_named_plainly(tmp_path, case):
    name, make, code, words = WRONG[case]
    path = tmp_path / name
    make(path)
    err = refused(path)
    assert err.code == code and words in err.params.get("reason", "")
    assert "{" not in err.issue(name).message  # the template is filled


def test_openpyxl_parses_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True  # defusedxml is installed, so openpyxl refuses entity tricks too


def test_xlsx_named_et_macros_hidden_sheets_rows_and_charts(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录入表"
    for row in GOOD + [[3, 7]]:
        ws.append(row)
    ws.row_dimensions[3].hidden = True
    wb.create_sheet("草稿").sheet_state = "hidden"
    chart = wb.create_chartsheet("图表")
    from openpyxl.chart import BarChart, Reference

    bar = BarChart()
    bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=4))
    chart.add_chart(bar)
    wb.save(tmp_path / "src.xlsx")
    path = rezip(tmp_path / "src.xlsx", tmp_path / "WPS表格.et",
                 lambda n, d: d if n != "[Content_Types].xml" else d)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not run")
    got = read_workbook(path)
    assert got.format == "xlsx" and got.macros
    assert got.sheet_order == ["录入表", "草稿"]  # the chart sheet has no cells
    assert got.hidden == {"草稿"} and got.hidden_rows == {"录入表": [3]}


def test_merged_cells_carry_their_value(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "细则"
    for row in [["考核细则"], ["方面", "序号"], ["班子队伍", 1], [None, 2], ["产业发展", 3]]:
        ws.append(row)
    ws.merge_cells("A1:B1")
    ws.merge_cells("A3:A4")
    wb.save(tmp_path / "m.xlsx")
    grid = read_workbook(tmp_path / "m.xlsx").sheets["细则"]
    assert grid == [["考核细则", "考核细则"], ["方面", "序号"], ["班子队伍", 1], ["班子队伍", 2], ["产业发展", 3]]


def test_formulas_without_value_and_cached_errors_become_cell_problems(tmp_path):
    path = book(tmp_path / "f.xlsx", [["票号", "班子团结", "产业增收"], [1, "=8+1", "=1/0"], [2, '=IF(1,"","")', 9]])
    cached_error(path, "C2", "1/0", "#DIV/0!")
    grid = read_workbook(path).sheets["录入表"]
    assert grid[1][1] == CellProblem("formula-no-value") and grid[1][2] == CellProblem("formula-error", "#DIV/0!")
    assert grid[2][1] == CellProblem("formula-no-value")  # openpyxl stored no result at all


# ------------------------------------------------------------------ files that could crash the reader

LIMITED = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
    from villagescore.io.reader import FileRefused, read_workbook
    out = {}
    for path in sys.argv[1:]:
        t = time.time()
        try:
            wb = read_workbook(path)
            grid = next(iter(wb.sheets.values()))
            out[path] = ["read", len(grid), max(map(len, grid)), wb.trimmed, time.time() - t]
        except FileRefused as exc:
            out[path] = [exc.code, exc.sheet, exc.cell, exc.params.get("reason", ""), time.time() - t]
    print(json.dumps(out, ensure_ascii=False))
""")


def _ods(path: Path, table: str) -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def _lying_sizes(src: Path, dst: Path) -> Path:
    """A zip bomb whose headers claim a small size: reading must stop at the claim and fail the CRC."""
    data = bytearray(src.read_bytes())
    for sig, at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        pos = data.find(sig + b"", 0)
        while pos != -1:
            name_at = pos + (46 if sig == b"PK\x01\x02" else 30)
            if data[name_at:name_at + 24] == b"xl/worksheets/sheet1.xml":
                data[pos + at:pos + at + 4] = (1000).to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def crash_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("crash")
    cases = {}
    far = book(d / "far.xlsx", GOOD)
    wb = openpyxl.load_workbook(far)
    wb.active["XFD1048576"] = "误输入"
    wb.save(far)
    cases["far cell xlsx"] = far
    cases["far cell xlsx, parts named in capitals"] = rezip(far, d / "caps.xlsx", lambda n, x: x)  # calamine finds
    _rename(cases["far cell xlsx, parts named in capitals"], {"xl/worksheets/sheet1.xml": "XL/Worksheets/Sheet1.XML"})
    bomb = book(d / "bomb.src.xlsx", GOOD)
    zeros = b"<row>" + b"<c><v>0</v></c>" * 500_000 + b"</row>"
    cases["zip bomb"] = rezip(bomb, d / "bomb.xlsx", sheet_xml(lambda x: x.replace(b"</sheetData>",
                                                                                   zeros + b"</sheetData>")))
    cases["zip bomb with lying sizes"] = _lying_sizes(cases["zip bomb"], d / "lying.xlsx")
    cases["declared dimension XFD1048576"] = rezip(far, d / "dim.xlsx", sheet_xml(
        lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', x).replace(
            b'<c r="XFD1048576" t="inlineStr"><is><t>\xe8\xaf\xaf\xe8\xbe\x93\xe5\x85\xa5</t></is></c>', b"")))
    with xlsxwriter.Workbook(d / "strings.src.xlsx") as wb:  # calamine reserves memory for the counted strings
        wb.add_worksheet("名册").write_row(0, 0, ["单位代码", "单位名称"])
    cases["shared strings counted 4e9"] = rezip(d / "strings.src.xlsx", d / "strings.xlsx", lambda n, x: x.replace(
        b'uniqueCount="2"', b'uniqueCount="4000000000"') if n == "xl/sharedStrings.xml" else x)
    assert b"4000000000" in zipfile.ZipFile(cases["shared strings counted 4e9"]).read("xl/sharedStrings.xml")
    cases["billion laughs"] = d / "laughs.xlsx"
    _dtd(cases["billion laughs"])
    cases["ods repeated rows"] = _ods(d / "rows.ods", '<table:table table:name="S">'
                                      '<table:table-row table:number-rows-repeated="1048576">'
                                      '<table:table-cell table:number-columns-repeated="16384" '
                                      'office:value-type="float" office:value="1"/></table:table-row></table:table>')
    cases["ods table never closed"] = _ods(d / "open.ods", '<table:table table:name="S"><table:table-row>'
                                           '<table:table-cell office:value-type="float" office:value="1"/>'
                                           '</table:table-row>')  # calamine loops for ever
    if SOFFICE:
        src = book(d / "farsrc.xlsx", GOOD)
        wb = openpyxl.load_workbook(src)
        wb.active["IV65536"] = "误输入"
        wb.save(src)
        plain = book(d / "plain.xlsx", GOOD)
        got = convert({"xls": [src, plain], "ods": [src]}, d)
        for fmt in ("xls", "ods"):
            if ("farsrc", fmt) in got:
                cases[f"far cell {fmt}"] = got["farsrc", fmt]
        if ("plain", "xls") in got:  # calamine trusts the sizes BIFF records declare: reserve, then abort
            data = got["plain", "xls"].read_bytes()
            at = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS: first row 13, last row 4
            cases["xls DIMENSIONS upside down"] = d / "dims.xls"
            cases["xls DIMENSIONS upside down"].write_bytes(data[:at + 4] + b"\x0d" + data[at + 5:])
            at = data.find(b"\xfc\x00")  # SST: 2 147 483 647 unique strings
            cases["xls SST counted 2e9"] = d / "sst.xls"
            cases["xls SST counted 2e9"].write_bytes(data[:at + 8] + b"\xff\xff\xff\x7f" + data[at + 12:])
    done = subprocess.run([sys.executable, "-c", LIMITED, *map(str, cases.values())], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    return {case: out[str(p)] for case, p in cases.items()}


CRASH = {
    "far cell xlsx": ["read", 3, 2, {"录入表": "XFD1048576"}],
    "far cell xlsx, parts named in capitals": ["read", 3, 2, {"录入表": "XFD1048576"}],
    "zip bomb": ["file-unreadable", "", "", "压缩比"],
    "zip bomb with lying sizes": ["file-unreadable", "", "", "校验失败"],
    "declared dimension XFD1048576": ["read", 3, 2, {}],
    "shared strings counted 4e9": ["read", 1, 2, {}],
    "billion laughs": ["file-unreadable", "", "", "DTD"],
    "ods repeated rows": ["sheet-too-large", "S", "A100001", ""],
    "ods table never closed": ["file-unreadable", "", "", "损坏"],
    "far cell xls": ["sheet-too-large", "录入表", "IV65536", ""],
    "far cell ods": ["sheet-too-large", "录入表", "IV65536", ""],
    "xls DIMENSIONS upside down": ["read", 3, 2, {}],
    "xls SST counted 2e9": ["file-unreadable", "", "", "损坏"],
}


@pytest.mark.parametrize("case", list(CRASH))
def test_hostile_files_are_refused_or_read_in_bounded_time_and_memory(crash_corpus, case):
    if case not in crash_corpus:
        pytest.skip("LibreOffice (soffice) is needed to make this .xls/.ods")
    got = crash_corpus[case]
    want = CRASH[case]
    if want[0] == "read":
        assert got[:4] == want
    else:
        assert got[:3] == want[:3] and want[3] in got[3]
    assert got[4] < 20  # seconds


# ------------------------------------------------------------------ .xls specifics (need LibreOffice)


@pytest.fixture(scope="module")
def xls_files(tmp_path_factory):
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) not installed: cannot make real .xls files")
    d = tmp_path_factory.mktemp("xls")
    plain = book(d / "plain.xlsx", GOOD)
    errors = book(d / "errors.xlsx", [["票号", "班子团结"], [1, "=1/0"], [2, 9], [3, "=NA()"]])
    wb = openpyxl.load_workbook(errors)
    wb.active.row_dimensions[3].hidden = True
    wb.save(errors)
    got = convert({"xls": [plain, errors]}, d)
    if len(got) < 2:
        pytest.skip("LibreOffice could not convert")
    return {stem: path for (stem, _), path in got.items()}


def test_xls_named_xlsx_errors_and_hidden_rows(xls_files, tmp_path):
    renamed = tmp_path / "测评票.xlsx"
    shutil.copy(xls_files["errors"], renamed)
    wb = read_workbook(renamed)
    assert wb.format == "xls" and wb.hidden_rows == {"录入表": [3]}
    grid = wb.sheets["录入表"]
    assert grid[1][1] == CellProblem("formula-error", "#DIV/0!") and grid[3][1] == CellProblem("formula-error", "#N/A")
    assert grid[2] == [2, 9]


def test_xls_password_and_truncation(xls_files, tmp_path):
    data = xls_files["plain"].read_bytes()
    at = data.find(b"\x3d\x00\x12\x00")  # the WINDOW1 record of the workbook globals
    assert at > 0
    locked = tmp_path / "加密.xls"
    locked.write_bytes(data[:at] + b"\x2f\x00" + data[at + 2:])  # now a FILEPASS record: the rest is encrypted
    assert refused(locked).code == "password-protected"
    cut = tmp_path / "半截.xls"
    cut.write_bytes(data[: len(data) // 3])
    err = refused(cut)
    assert err.code == "file-unreadable" and "损坏" in err.params["reason"]


# ------------------------------------------------------------------ a messy township, checked once


def _relayout_questionnaire(path: Path) -> None:
    """Title rows removed, columns reordered, a blank row between records, a wrong 合计 row."""
    def after(wb, ws):
        for rng in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(rng))
        rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4, max_row=7, max_col=4)]
        ws.delete_rows(1, ws.max_row)
        order = [0, 3, 1, 2]  # 评价内容, 不满意, 满意, 基本满意
        for i, r in enumerate(rows[:2] + [[None] * 4] + rows[2:] + [["合计", 30, 0, 1]], start=1):
            for j, k in enumerate(order, start=1):
                ws.cell(i, j).value = r[k]
    edit(path, {}, after=after)


def _two_title_rows_and_merges(path: Path) -> None:
    def after(wb, ws):
        for rng in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(rng))
        ws.insert_rows(1, 2)  # the header moves from row 4 to row 6
        ws["A1"] = "河口村测评票（录入）"
        ws.merge_cells("A1:L2")
        ws["L7"] = "否"  # (merged over two ballots it would be an error: see V1's merged-cells)
        ws.cell(6 + 13, 1).value = "平均"
        for col in range(2, 12):
            ws.cell(6 + 13, col).value = 8
    edit(path, {}, after=after)


@pytest.fixture(scope="module")
def messy(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "messy")
    unit = {u: {f: find(folder, f, u) for f in ("ballot", "callback", "questionnaire", "anonymous")}
            for u in ("V1", "V2", "V3", "V4", "V5")}
    # V1: bad cells in the ballots, a hidden record row
    b = unit["V1"]["ballot"]
    def hide_and_merge(wb, ws):
        ws.row_dimensions[11].hidden = True
        ws.merge_cells("B13:D13")  # one score over three criteria: read, it would count three times

    edit(b, {"C5": 12, "D6": "八", "E7": "=8+1", "F8": "=1/0", "A9": 3, "G10": None, "L15": "否"}, after=hide_and_merge)
    cached_error(b, "F8", "1/0", "#DIV/0!")
    # V2: layout drift only (warnings): its score must not change
    _relayout_questionnaire(unit["V2"]["questionnaire"])
    _two_title_rows_and_merges(unit["V2"]["ballot"])
    edit(unit["V2"]["anonymous"], {}, after=lambda wb, ws: setattr(wb.create_sheet("草稿"), "sheet_state", "hidden"))
    edit(unit["V2"]["callback"], {}, after=lambda wb, ws: wb.create_chartsheet("图"))
    # V3: its questionnaire comes as the office's own table; an old template; an identical copy
    q = unit["V3"]["questionnaire"]
    q.unlink()
    (folder / "自制表").mkdir()
    book(folder / "自制表" / "问卷统计.xlsx", [["石桥村为民服务日常评价问卷统计（2025年上半年）"], [],
                                             ["评价内容", "满意", "基本满意", "不满意"],
                                             ["服务态度", 5, 5, 0], ["服务响应", 5, 5, 0], ["服务效果", 5, 5, 0]],
         title="Sheet1")
    book(folder / "自制表" / "问卷.xlsx", [["评价内容", "满意", "基本满意", "不满意"], ["服务态度", 1, 1, 0]])
    edit(unit["V3"]["anonymous"], {}, identity={"template_version": "0"})
    edit(unit["V3"]["ballot"], {}, after=lambda wb, ws: setattr(ws, "title", "打分"))  # a renamed entry sheet
    shutil.copy(unit["V3"]["callback"], folder / "回访表副本.xlsx")
    # V4: changed callback rows, identity and a long number in the anonymous register, a bad option, macros
    edit(unit["V4"]["callback"], {"B5": "V4-99"})
    edit(unit["V4"]["anonymous"], {"B5": "匿名评价箱", "C5": "吃拿卡要", "D5": "电话 13912345678", "E5": "不属实",
                                   "B6": "匿名评价箱", "C6": "优亲厚友", "E6": "可能属实",
                                   "B7": "匿名评价箱", "C7": "道德品行", "D7": 110101199001011234, "E7": "不属实"})
    q4 = unit["V4"]["questionnaire"]
    with zipfile.ZipFile(q4, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro never run")
    # V5: a void ballot (9 valid < 10), more ballots than issued, two different questionnaires, no anonymous form
    edit(unit["V5"]["ballot"], {"L5": "是"}, identity={"issued": "5"})
    other = folder / "V5另一份问卷.xlsx"
    shutil.copy(unit["V5"]["questionnaire"], other)
    edit(other, {"B5": 1})
    unit["V5"]["anonymous"].unlink()
    # files for nobody: unknown unit, other period, other scheme, unreadable, not a workbook, locks, outputs
    edit(shutil.copy(unit["V1"]["anonymous"], folder / "外村登记表.xlsx"), {}, identity={"unit_code": "V9"})
    edit(shutil.copy(unit["V2"]["anonymous"], folder / "去年的表.xlsx"), {}, identity={"period": "2024H2"})
    edit(shutil.copy(unit["V4"]["anonymous"], folder / "别的方案.xlsx"), {}, identity={"scheme_id": "dazehu"})
    (folder / "名单.xlsx").write_text("单位代码,单位名称\nV1,青山村\n", encoding="gbk")
    (folder / "备注.csv").write_text("a,b\n", encoding="utf-8")
    for name in ("~$测评票.xlsx", ".~lock.测评票.xlsx#", "._测评票.xlsx"):
        (folder / name).write_bytes(b"\x00lock")
    book(folder / "上次汇总.xlsx", [["x"]], identity={"tool": "villagescore", "role": "summary"})
    old = openpyxl.Workbook()
    old.active.title = "汇总"
    old.create_sheet("说明")
    old.save(folder / "旧汇总.xlsx")
    result = validate(scheme, [folder], period="2025H1")
    return folder, unit, result


def where(folder, path):
    return str(path.relative_to(folder.parent))


def find_issue(result, code, **match):
    hits = [i for i in result.report.issues if i.code == code and all(getattr(i, k) == v for k, v in match.items())]
    assert hits, f"no {code} {match}: " + "; ".join(i.text() for i in result.report.issues if i.code == code)
    return hits[0]


CELL_CASES = [  # (unit, form, code, cell): every rule fires on the right cell
    ("V1", "ballot", "out-of-range", "C5"),
    ("V1", "ballot", "not-a-number", "D6"),
    ("V1", "ballot", "formula-no-value", "E7"),
    ("V1", "ballot", "formula-error", "F8"),
    ("V1", "ballot", "duplicate-serial", "A9"),
    ("V1", "ballot", "ballot-item-missing", "G10"),
    ("V1", "ballot", "blank-ballot", "A15"),
    ("V1", "ballot", "row-hidden", "11"),
    ("V1", "ballot", "merged-cells", "B13:D13"),
    ("V2", "questionnaire", "total-mismatch", "B6"),
    ("V4", "anonymous", "identity-in-anonymous", "D5"),
    ("V4", "anonymous", "not-an-option", "E6"),
    ("V4", "anonymous", "long-number", "D7"),
    ("V5", "ballot", "void-ballot", "L5"),
]


@pytest.mark.parametrize("unit, form, code, cell", CELL_CASES)
def test_cell_rules_name_file_sheet_and_cell(messy, unit, form, code, cell):
    folder, files, result = messy
    i = find_issue(result, code, unit=unit, cell=cell)
    assert i.file == where(folder, files[unit][form])
    assert i.sheet and "{" not in i.message and (i.hint or i.code == "void-ballot")


def test_cell_messages_read_well(messy):
    _, _, result = messy
    assert find_issue(result, "formula-error", cell="F8").message == "公式的计算结果是错误值 #DIV/0!"
    assert "Excel 或 WPS" in find_issue(result, "formula-no-value", cell="E7").hint
    mismatch = find_issue(result, "total-mismatch", unit="V2")
    assert mismatch.message == "“不满意”的合计行填写 1，按各行计算应为 0"
    assert find_issue(result, "duplicate-serial").message == "票号 3 重复（另见第 7 行）"
    assert find_issue(result, "long-number").params["value"] == "110101199001011000"


@pytest.mark.parametrize("unit, form, code", [
    ("V4", "callback", "draw-mismatch"),
    ("V5", "ballot", "too-few-valid"),
    ("V5", "ballot", "too-many-ballots"),
    ("V4", "questionnaire", "macros-ignored"),
    ("V2", "anonymous", "sheet-hidden"),
    ("V3", "anonymous", "template-version"),
])
def test_table_and_file_rules(messy, unit, form, code):
    folder, files, result = messy
    i = find_issue(result, code, file=where(folder, files[unit][form]))
    assert i.unit in (unit, "")
    assert "{" not in i.message


def test_layout_drift_and_warnings_do_not_stop_a_unit(messy, scheme):
    folder, _, result = messy
    assert result.coverage.cells["V2", "2025H1", "questionnaire"] == "齐全"
    assert not [i for i in result.report.errors if i.unit == "V2"]
    hidden = find_issue(result, "sheet-hidden", unit="V2")
    assert hidden.sheet == "草稿" and "未读取" in hidden.message
    assert not [i for i in result.report.issues if "图" == i.sheet]  # chart sheets are ignored
    res = compute(scheme, [folder], period="2025H1")
    v2 = next(u for u in res.units if u.code == "V2")
    assert v2.ok and v2.rounded["composite"] == Decimal("82.75")  # the same as the tidy township
    assert {u.code for u in res.units if u.ok} == {"V2", "V3"}
    assert sorted(map(str, res.report.issues)) == sorted(map(str, result.report.issues))  # compute shows the same


def test_foreign_table_identified_and_counted(messy, scheme):
    folder, _, result = messy
    i = find_issue(result, "foreign-identified", unit="V3")
    assert i.file == "2025H1表格/自制表/问卷统计.xlsx" and i.sheet == "Sheet1"
    assert "石桥村（V3），依据表格标题" in i.message and "2025H1，依据表格标题" in i.message
    assert result.coverage.cells["V3", "2025H1", "questionnaire"] == "齐全"
    unknown = find_issue(result, "foreign-unit-unknown")
    assert unknown.file == "2025H1表格/自制表/问卷.xlsx" and "为民服务日常评价问卷统计表" in unknown.message


def test_units_files_and_coverage(messy):
    folder, files, result = messy
    unknown = find_issue(result, "unit-unknown", file="2025H1表格/外村登记表.xlsx")
    assert "V9" in unknown.message
    find_issue(result, "file-other-period", file="2025H1表格/去年的表.xlsx")
    find_issue(result, "file-other-scheme", file="2025H1表格/别的方案.xlsx")
    assert "CSV" in find_issue(result, "file-unreadable", file="2025H1表格/名单.xlsx").message
    find_issue(result, "file-not-workbook", file="2025H1表格/备注.csv")
    dup = find_issue(result, "duplicate-file", file="2025H1表格/回访表副本.xlsx")
    assert dup.params["other"] == where(folder, files["V3"]["callback"])
    conflict = find_issue(result, "conflicting-files", unit="V5")
    both = {conflict.file, conflict.params["other"]}
    assert both == {"2025H1表格/V5另一份问卷.xlsx", where(folder, files["V5"]["questionnaire"])}
    assert result.coverage.cells["V5", "2025H1", "questionnaire"] == "有冲突"
    missing = find_issue(result, "form-missing", unit="V5")
    assert "工作作风匿名评价登记表" in missing.message
    assert result.coverage.cells["V5", "2025H1", "anonymous"] == "缺少"
    assert result.coverage.cells["V1", "2025H1", "ballot"] == "有错误"
    paths = {f.path for f in result.files}
    assert not any("~$" in p or ".~lock" in p or "._" in p for p in paths)  # lock files: quietly skipped
    skipped = {f.path: f.status for f in result.files if "汇总" in f.path}
    assert set(skipped.values()) == {"本工具输出的文件，已跳过"} and len(skipped) == 2
    assert not [i for i in result.report.issues if "汇总" in i.file]
    assert result.exit_code == 1 and result.counts["unreadable"] == 1


def test_collect_zones_as_before(scheme, tmp_path):
    """Each file's zone is the index of the first folder given that holds it once resolved (symlinks too)."""
    import os
    import shutil

    from villagescore.core.issues import Report
    from villagescore.stages.collect import _display_bases, collect, is_inside, list_folders, shown_name
    from villagescore.io.reader import iter_workbook_files

    h1, h2 = tmp_path / "a" / "2025H1表格", tmp_path / "b" / "2025H2表格"
    shutil.copytree(ROOT / "samples" / "qingshi" / "2025H1表格", h1)
    shutil.copytree(ROOT / "samples" / "qingshi" / "2025H2表格", h2)
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
