import json
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from villagescore.core.layout import IDENTITY_SHEET
from villagescore.io.guards import _trim_sheet
from villagescore.io.reader import (
    FileRefused,
    is_lock_or_system_file,
    iter_workbook_files,
    read_workbook,
    sha256_of,
)
from villagescore.io.schemes import load
from villagescore.io.setup_reader import read_setup
from workbooks import make_book




IDENTITY = {"tool": "villagescore", "role": "entry", "form_id": "ballot", "unit_code": "V001", "issued": 20}


@pytest.mark.parametrize("state", ["veryHidden", "hidden"])
def test_identity_sheet_read_back(tmp_path, state):
    p = make_book(tmp_path / "测评票.xlsx", [["票号", "班子团结"], [1, 8.3]], identity=IDENTITY, state=state)
    wb = read_workbook(p)
    assert wb.format == "xlsx"
    assert wb.sheet_order == ["录入表", IDENTITY_SHEET]
    assert wb.hidden == {IDENTITY_SHEET}
    assert wb.visible() == ["录入表"]
    assert wb.identity == {"tool": "villagescore", "role": "entry", "form_id": "ballot", "unit_code": "V001",
                           "issued": "20"}
    assert wb.sheets["录入表"][1] == [1.0, 8.3]
    assert wb.sha256 == sha256_of(p)
    assert wb.trimmed == {}


def test_identity_of_other_tool_ignored(tmp_path):
    p = make_book(tmp_path / "a.xlsx", [["x"]], identity={"tool": "other"})
    assert read_workbook(p).identity is None
    assert read_workbook(make_book(tmp_path / "b.xlsx", [["x"]])).identity is None


def test_grid_starts_at_a1(tmp_path):
    p = tmp_path / "w.xlsx"
    with xlsxwriter.Workbook(p) as wb:
        ws = wb.add_worksheet("名册")
        ws.write("C3", "单位代码")
        ws.write("D4", 13800001111)
    grid = read_workbook(p).sheets["名册"]
    assert grid[2][2] == "单位代码" and grid[3][3] == 13800001111.0
    assert len(grid) == 4


def test_xlsx_renamed_xls_still_reads(tmp_path):
    p = make_book(tmp_path / "回访核查表.xls", [["序号"], [1]])
    wb = read_workbook(p)
    assert wb.format == "xlsx" and wb.sheets["录入表"][1] == [1.0]


def refused(path: Path) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        read_workbook(path)
    return info.value


def test_csv_named_xlsx_refused(tmp_path):
    p = tmp_path / "名册.xlsx"
    p.write_text("单位代码,单位名称\nV001,青山村\n", encoding="gbk")
    err = refused(p)
    assert err.code == "file-unreadable" and "CSV" in err.params["reason"]


def test_html_saved_as_xls_refused(tmp_path):
    p = tmp_path / "汇总.xls"
    p.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    assert "网页" in refused(p).params["reason"]


def test_random_bytes_empty_and_missing_refused(tmp_path):
    import random

    p = tmp_path / "a.xlsx"
    p.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(5000)))
    assert refused(p).code == "file-unreadable"
    p.write_bytes(b"")
    assert "空" in refused(p).params["reason"]
    assert refused(tmp_path / "none.xlsx").code == "file-unreadable"


def test_truncated_zip_refused(tmp_path):
    good = make_book(tmp_path / "good.xlsx", [["票号"], [1]] * 200)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    err = refused(bad)
    assert err.code == "file-unreadable" and "损坏" in err.params["reason"]


def test_corrupted_member_refused(tmp_path):
    good = make_book(tmp_path / "good.xlsx", [["票号"], [1]] * 200)
    data = bytearray(good.read_bytes())
    at = data.find(b"xl/worksheets/sheet1.xml") + 60  # inside the compressed sheet data
    data[at:at + 20] = bytes(20)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    assert refused(bad).code == "file-unreadable"


def test_word_documents_refused(tmp_path):
    docx = tmp_path / "通知.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert "Word" in refused(docx).params["reason"]
    doc = tmp_path / "通知.xls"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "WordDocument".encode("utf-16-le") + bytes(500))
    assert "Word" in refused(doc).params["reason"]


def test_encrypted_ooxml_is_password_protected(tmp_path):
    p = tmp_path / "加密.xlsx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptionInfo".encode("utf-16-le")
                  + bytes(100) + "EncryptedPackage".encode("utf-16-le") + bytes(500))
    err = refused(p)
    assert err.code == "password-protected"


def test_plain_zip_refused(tmp_path):
    p = tmp_path / "打包.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("测评票/青山村.txt", "x")
    assert "压缩包" in refused(p).params["reason"]


def test_lock_and_system_files(tmp_path):
    for name in ["~$测评票.xlsx", ".~lock.测评票.xlsx#", "._测评票.xlsx", "Thumbs.db", ".DS_Store"]:
        assert is_lock_or_system_file(Path(name))
    assert not is_lock_or_system_file(Path("测评票.xlsx"))
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ["a.xlsx", "~$a.xlsx", "._a.xlsx", "b/c.XLS", "b/d.et", "b/e.ods", "b/f.xlsm", "b/g.csv",
                 ".git/h.xlsx", "Thumbs.db", "b/.~lock.c.XLS#"]:
        (tmp_path / name).write_bytes(b"x")
    found = iter_workbook_files([tmp_path / "b", tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.xlsx", "b/c.XLS", "b/d.et", "b/e.ods", "b/f.xlsm"]


FAR_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
    from villagescore.io.reader import read_workbook
    t = time.time()
    wb = read_workbook(sys.argv[1])
    grid = wb.sheets["录入表"]
    print(json.dumps([len(grid), max(len(r) for r in grid), grid[0][0], wb.trimmed, time.time() - t]))
""")


def test_far_away_cell_does_not_build_a_huge_grid(tmp_path):
    p = make_book(tmp_path / "far.xlsx", [["票号", "班子团结"], [1, 8]])
    wb = openpyxl.load_workbook(p)
    wb["录入表"]["XFD1048576"] = "误输入"
    wb["录入表"]["E5000"] = "保留"
    wb.save(p)
    done = subprocess.run([sys.executable, "-c", FAR_SCRIPT, str(p)], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    rows, cols, first, trimmed, seconds = json.loads(done.stdout)
    assert (rows, cols, first) == (5000, 5, "票号")
    assert trimmed == {"录入表": "XFD1048576"}
    assert seconds < 20


def test_trim_sheet_without_cell_refs():
    xml = (b'<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row>'
           b'<row r="200000"><c><v>3</v></c></row></sheetData></worksheet>')
    out, far = _trim_sheet(xml)
    assert far == "A200000"
    assert b"<v>3</v>" not in out and b"<v>2</v>" in out and b"<t>a</t>" in out
    assert _trim_sheet(xml.replace(b"200000", b"2")) == (xml.replace(b"200000", b"2"), None)
    styled = (b'<x:worksheet><x:sheetData><x:row r="1"><x:c r="A1" s="1"/><x:c r="B1"><x:v>1</x:v></x:c></x:row>'
              b'<x:row r="200001"><x:c r="GS200001" s="2"/><x:c r="A200001"><x:v>3</x:v></x:c></x:row></x:sheetData>'
              b'<x:mergeCells/></x:worksheet>')
    out, far = _trim_sheet(styled)
    assert far == "A200001" and b"<x:v>3</x:v>" not in out and b"GS200001" not in out and b'r="B1"' in out
    assert out.endswith(b"</x:sheetData><x:mergeCells/></x:worksheet>")
    empty = b'<worksheet><sheetData/><pageMargins/></worksheet>'
    assert _trim_sheet(empty) == (empty, None)


# ------------------------------------------------------------------ setup


def test_read_setup(tmp_path):
    scheme = load("pingbian")
    roster = make_book(tmp_path / "名册.xlsx", [
        ["考评对象名册"],
        ["单位代码", "单位名称", "类型", "党组织书记", "所属乡镇", "工作经费基数（元）"],
        ["V001", "青山村", "村", "王小明", "示例乡", 50000],
        ["V002", "绿水社区", "社区", "李小红", "示例乡", "60,000"],
        ["V002", "绿水社区", "社区", "李小红", "示例乡", ""],
    ], title="名册")
    aspects = scheme.criteria.aspects
    crit_rows = [["单位代码", "单位名称", "方面", "序号", "考核细则", "分值"]]
    for i, aspect in enumerate(aspects):  # written out of order: 序号 decides
        crit_rows.append(["V001", "青山村", aspect, 2 * i + 2, f"{aspect}细则乙", 10])
        crit_rows.append(["V001", "青山村", aspect, 2 * i + 1, f"{aspect}细则甲", 10])
    crit_rows.append(["V002", "绿水社区", aspects[0], 1, "只有一项", 10])
    crit_rows.append(["V999", "无名村", aspects[0], 1, "不在名册", 10])
    criteria = make_book(tmp_path / "细则.xlsx", crit_rows, title="考核细则")
    ledger = make_book(tmp_path / "台账.xlsx", [
        ["单位代码", "诉求编号", "登记日期", "诉求人", "联系电话", "诉求内容", "办理情况"],
        ["V001", "Q001", "2025-03-01", "赵一", 13800001111, "修路", "已办结"],
        ["V001", "Q002", "", "", "", "路灯", ""],
        ["V001", "Q002", "", "", "", "路灯", ""],
        ["V003", "Q009", "", "", "", "水管", ""],
    ], title="台账")

    setup, report = read_setup(scheme, roster, criteria, ledger)
    assert [u.code for u in setup.units] == ["V001", "V002"]
    assert setup.units[0].funds_base == Decimal(50000) and setup.units[1].funds_base == Decimal(60000)
    assert setup.units[1].type == "社区" and setup.units[0].secretary == "王小明"

    v1 = setup.criteria["V001"]
    assert [c.index for c in v1] == list(range(1, 11))
    assert v1[0].text == f"{aspects[0]}细则甲" and v1[1].text == f"{aspects[0]}细则乙" and v1[0].key == "c01"
    assert v1[0].points == Decimal(10)
    assert "V999" not in setup.criteria

    assert [e.request_id for e in setup.ledger["V001"]] == ["Q001", "Q002"]
    assert setup.ledger["V001"][0].phone == "13800001111"

    got = {(i.code, i.params.get("code") if i.code == "unit-unknown" else i.unit, i.cell) for i in report.issues}
    assert ("unit-row-duplicate", "V002", "A5") in got
    assert ("unit-unknown", "V999", "A13") in got
    assert ("unit-unknown", "V003", "A5") in got
    assert ("ledger-duplicate", "V001", "B4") in got
    assert ("criteria-count", "V002", "") in got
    assert {i.params["aspect"]: i.params["count"] for i in report.issues if i.code == "criteria-aspect"} == {
        a: int(a == aspects[0]) for a in aspects}
    assert all(i.file for i in report.issues)
    assert [i.code for i in report.issues if i.unit == "V001"] == ["ledger-duplicate"]
    assert str(criteria) in {i.file for i in report.issues if i.code == "unit-unknown"}
    assert "单位代码 V999 不在名册中" in {i.message for i in report.issues}


def test_read_setup_finds_sheet_after_cover(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本名册由乡党建办填写"])
    ws = wb.create_sheet("名册")
    for row in [["单位代码", "单位名称", "类型"], ["V001", "青山村", "村"]]:
        ws.append(row)
    wb.save(tmp_path / "名册.xlsx")
    setup, report = read_setup(load("pingbian"), tmp_path / "名册.xlsx", None, None)
    assert [u.name for u in setup.units] == ["青山村"]
    # a roster without the 党组织书记 and 工作经费基数 columns: each unit says what it lacks (system A needs both)
    assert [(i.code, i.unit, i.cell) for i in report.issues] == [("roster-missing", "V001", "")] * 2
    assert "名册中没有“党组织书记”列" in report.issues[0].message


def test_read_setup_unreadable_roster(tmp_path):
    p = tmp_path / "名册.xlsx"
    p.write_text("单位代码,单位名称\n", encoding="utf-8")
    setup, report = read_setup(load("pingbian"), p, None, None)
    assert setup.units == []
    [err] = report.errors
    assert err.code == "file-unreadable" and err.file == str(p) and "CSV" in err.message


def test_read_setup_swapped_files_and_cell_issue_units(tmp_path):
    scheme = load("pingbian")
    roster = make_book(tmp_path / "名册.xlsx", [
        ["单位代码", "单位名称", "类型"],
        ["V001", "青山村", "乡"],
        ["V002", "绿水社区", "社区"],
    ], identity={"tool": "villagescore", "role": "setup", "form_id": "roster", "sheet": "录入表"})
    criteria = make_book(tmp_path / "细则.xlsx", [["x"]], identity={"tool": "villagescore", "form_id": "ledger"})
    setup, report = read_setup(scheme, roster, criteria, None)
    assert [u.code for u in setup.units] == ["V001", "V002"]
    bad = [i for i in report.issues if i.code == "not-an-option"]
    assert [(i.unit, i.cell) for i in bad] == [("V001", "C2")]
    wrong = [i for i in report.issues if i.code == "setup-wrong-form"]
    assert wrong and "民生诉求落实台账" in wrong[0].message and "考核评定细则" in wrong[0].message


def test_other_data_files_are_listed_not_read(tmp_path):
    for name in ["a.xlsx", "说明.docx", "名单.csv", "扫描件.pdf", "x.py", "~$b.csv"]:
        (tmp_path / name).write_bytes(b"x")
    others: list[Path] = []
    assert [p.name for p in iter_workbook_files([tmp_path], others)] == ["a.xlsx"]
    assert sorted(p.name for p in others) == ["名单.csv", "扫描件.pdf", "说明.docx"]


def test_refusal_names_its_place():
    err = FileRefused("sheet-too-large", {"rows": 10000, "cols": 200}, sheet="测评票", cell="IV65536")
    i = err.issue("青山村.xls", unit="V1")
    assert (i.file, i.sheet, i.cell, i.unit) == ("青山村.xls", "测评票", "IV65536", "V1")
    assert i.message.startswith("工作表“测评票”在 IV65536 处有内容，超出可读取的范围（前 10000 行、200 列）")


def _with_part(src: Path, dst: Path, name: str, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == name else data)
    return dst


def _bad_crc(path: Path, name: str) -> Path:
    """The member ``name`` stored with a CRC that does not match its bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    for sig, at in ((b"PK\x01\x02", 16), (b"PK\x03\x04", 14)):  # central directory and local header
        pos = data.find(sig)
        while pos != -1:
            head = 46 if sig == b"PK\x01\x02" else 30
            if data[pos + head:pos + head + len(name)] == name.encode():
                data[pos + at:pos + at + 4] = ((info.CRC ^ 1) & 0xFFFFFFFF).to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))
    return path


LAUGHS = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'


def test_parts_nothing_reads_are_not_opened(tmp_path):
    """The guards open the parts python-calamine reads (workbook, relationships, strings, styles, sheets), in full;
    a part nobody reads (the theme, the document properties) is checked only by its size in the zip directory."""
    src = make_book(tmp_path / "src.xlsx", [["票号", "班子团结"], [1, 8.3]], identity=IDENTITY)
    props = _with_part(src, tmp_path / "props.xlsx", "docProps/core.xml", lambda d: LAUGHS + d.split(b"?>", 1)[-1])
    assert read_workbook(props).sheets["录入表"][1] == [1.0, 8.3]
    theme = _bad_crc(_with_part(src, tmp_path / "theme.xlsx", "xl/theme/theme1.xml", lambda d: d), "xl/theme/theme1.xml")
    assert read_workbook(theme).sheets["录入表"][1] == [1.0, 8.3]
    for part in ("xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        with pytest.raises(FileRefused, match="DTD"):
            read_workbook(_with_part(src, tmp_path / "dtd.xlsx", part, lambda d: LAUGHS + d.split(b"?>", 1)[-1]))
        with pytest.raises(FileRefused, match="校验失败"):
            read_workbook(_bad_crc(_with_part(src, tmp_path / "crc.xlsx", part, lambda d: d), part))
