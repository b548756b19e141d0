"""What a village sends cannot sink or stall a county's run: huge numbers, sheets filled far down, long texts,
merged entry cells and edited identities are each a located issue, and the rest of the township is computed.

Each case changes one form of a copy of the small township (``tests/township.py``) and checks it with
``validate`` / ``compute``; the 150,000-row sheet runs in a subprocess with its address space capped.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from villagescore.core.issues import CODES, Issue, compact, issue
from villagescore.core.normalize import normalize
from villagescore.core.numbers import decimal_places, plain
from villagescore.core.scheme import Column
from villagescore.pipeline import compute, validate

from test_ingest_corpus import edit, township_copy
from township import find

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ 1. huge numbers

HOSTILE_NUMBERS = [1e28, 1e308, -1e308, math.inf, -math.inf, math.nan, -0.0, 1e-30, 10**30, -(10**40)]
HOSTILE_TEXTS = ["1e28", "1e308", "inf", "-inf", "nan", "NaN", "Infinity", "-0", "1e-30", "0." + "0" * 29 + "1",
                 "1" * 40, "-" + "9" * 400, "8." + "0" * 40 + "1", "１" * 30]
COLUMNS = [Column(key="s", label="得分", type="number", min=Decimal(0), max=Decimal(10), places=2),
           Column(key="n", label="人数", type="integer", min=Decimal(0)),
           Column(key="x", label="金额", type="number"),  # no bounds at all (a custom scheme)
           Column(key="o", label="是否", type="option", options=["是", "否"]),
           Column(key="t", label="备注", type="text", max_length=100)]


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.type + (c.max is None and "-unbounded" or ""))
def test_a_blank_cell_is_neither_a_value_nor_an_issue(column):
    """Blank is not wrong in itself: whether a blank cell matters is the table's business (required columns)."""
    for raw in (None, "", "  ", "\u3000", "\n"):
        assert normalize(raw, column) == (None, None, {}), repr(raw)


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS + HOSTILE_TEXTS, ids=repr)
@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.type + (c.max is None and "-unbounded" or ""))
def test_any_number_is_a_value_or_a_coded_issue(raw, column):
    value, code, params = normalize(raw, column)
    assert (value is None) == (code is not None)  # none of these is blank: exactly one of the two
    if code:
        assert code in CODES
        message = issue(code, **params).message
        assert "{" not in message and len(message) < 160
    if column.type in ("number", "integer") and value is not None:
        assert abs(value) < Decimal(10) ** 15 and value.is_finite()
        assert str(value) != "-0"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                 st.decimals(allow_nan=True, allow_infinity=True).map(str),
                 st.integers().map(str), st.text(alphabet="0123456789.-+eE,。分 ", max_size=40)))
def test_normalize_never_raises(raw):
    for column in COLUMNS:
        value, code, _ = normalize(raw, column)
        assert code is None or code in CODES


def test_plain_and_places_are_exact_at_any_size():
    assert plain(Decimal("1E+308")) == "1" + "0" * 308
    assert plain(Decimal("1e28")) == "1" + "0" * 28
    assert plain(Decimal("-0")) == "0" and plain(Decimal("-0.000")) == "0"
    assert plain(Decimal("8.50")) == "8.5" and plain(Decimal("1E-30")) == "0." + "0" * 29 + "1"
    assert decimal_places(Decimal("8.00000000000000000000000000001")) == 29  # no rounding to 28 digits
    assert decimal_places(Decimal("8.50")) == 1 and decimal_places(Decimal("1E+5")) == 0


def test_eight_and_a_bit_is_not_read_as_eight():
    col = COLUMNS[0]
    assert normalize("8." + "0" * 40 + "1", col)[1] == "too-many-decimals"
    assert normalize("-0", col) == (Decimal(0), None, {})


def _raw_cell(path: Path, ref: str, value: bytes, text: bool = False) -> None:
    """Put a raw <v> value (e.g. b"inf", b"1e400"), or with ``text`` an inline string of any length, into cell
    ``ref`` of the first sheet, as a hostile writer would (openpyxl would not write it)."""
    import re

    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"
    xml = members[name]
    cell = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
    assert cell.search(xml), ref
    body = b'" t="inlineStr"><is><t>' + value + b"</t></is></c>" if text else b'"><v>' + value + b"</v></c>"
    members[name] = cell.sub(lambda m: b'<c r="' + ref.encode() + body, xml, count=1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            z.writestr(k, v)


@pytest.fixture(scope="module")
def huge(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "huge")
    ballot = find(folder, "ballot", "V1")
    edit(ballot, {"C5": 1e308, "D6": "100000000000000000000000000000", "E7": "-0", "F8": 1e-30, "G9": "inf"})
    _raw_cell(ballot, "H10", b"1e400")  # beyond a double: calamine gives inf
    _raw_cell(ballot, "I11", b"nan")
    edit(find(folder, "committee"), {"C5": 1e28})  # V1's 乡党委评价 in the township form
    return folder


def test_huge_numbers_are_located_errors_not_a_crash(huge, scheme):
    res = validate(scheme, [huge], period="2025H1")
    got = {(i.code, i.cell) for i in res.report.errors if i.unit == "V1"}
    assert {("number-too-large", "C5"), ("number-too-large", "D6"), ("too-many-decimals", "F8"),
            ("not-a-number", "G9"), ("not-a-number", "H10")} <= got
    assert ("number-too-large", "C5") in got and any(c == "I11" for _, c in got)
    big = next(i for i in res.report.errors if i.cell == "C5")
    assert big.message == "“青山村细则2”填写的数值 1e+308 过大，不是有效的分数或数量"
    assert any(i.code == "number-too-large" and i.file.endswith("乡党委县委评分表_2025H1.xlsx")
               for i in res.report.errors)
    assert res.coverage.cells["V2", "2025H1", "ballot"] == "齐全"
    result = compute(scheme, [huge], period="2025H1")  # the others are computed as before
    assert {u.code for u in result.units if u.ok} == {"V2", "V3", "V4", "V5"}


def test_cli_exits_1_with_messages_not_3(huge):
    from typer.testing import CliRunner

    from villagescore.cli import app

    res = CliRunner().invoke(app, ["validate", str(huge), "--period", "2025H1"])
    assert res.exit_code == 1, res.output
    assert "程序内部错误" not in res.output and "InvalidOperation" not in res.output


# ------------------------------------------------------------------ 2. sheets filled far down


def _fill_down(path: Path, column: str, first: int, last: int, value: bytes = b"8") -> None:
    """Column ``column`` filled with ``value`` from row ``first`` to ``last`` (a fill-down over the whole sheet):
    rows written into the sheet XML directly, as a file of 10,000 or 150,000 rows is made in a moment."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"
    rows = b"".join(b'<row r="%d"><c r="%s%d"><v>%s</v></c></row>' % (r, column.encode(), r, value)
                    for r in range(first, last + 1))
    members[name] = members[name].replace(b"</sheetData>", rows + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            z.writestr(k, v)


def test_a_column_filled_down_10000_rows_is_a_few_lines(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "rows10k")
    _fill_down(find(folder, "ballot", "V1"), "C", 25, 10004)  # 20 ballots on rows 5-24, then 9,980 rows
    res = validate(scheme, [folder], period="2025H1")
    v1 = [i for i in res.report.issues if i.unit == "V1"]
    assert len(v1) <= 20, [i.text() for i in v1]
    beyond = next(i for i in v1 if i.code == "rows-beyond-form")
    assert beyond.cell == "C75:C10004" and beyond.params["count"] == "9,930"
    assert "超出表格范围" in beyond.message and "最多 20 行" in beyond.message
    serial = next(i for i in v1 if i.code == "missing-value")
    assert serial.cell == "A25:A74" and serial.count == 50 and serial.message.endswith("（A25:A74 共 50 格）")
    assert not [i for i in res.report.errors if i.unit != "V1"]


CAPPED = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1024 << 20, 1024 << 20))
    from pathlib import Path
    from villagescore.io.schemes import load
    from villagescore.pipeline import validate
    t = time.time()
    res = validate(load("pingbian"), [Path(sys.argv[1])], period="2025H1")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.time() - t, "mb": rss, "issues": len(res.report.issues),
                      "codes": sorted({i.code for i in res.report.issues})}))
""")


def test_150000_rows_in_bounded_time_and_memory(tmp_path_factory, scheme):
    """The reader cuts at 100,000 rows, the form at its 20 ballots and a margin: a few issues, a few seconds (the
    figures themselves: benchmarks/big_inputs.py)."""
    folder = township_copy(tmp_path_factory, scheme, "rows150k")
    _fill_down(find(folder, "ballot", "V1"), "C", 25, 150_004)
    done = subprocess.run([sys.executable, "-c", CAPPED, str(folder)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    assert got["issues"] < 40 and {"rows-beyond-form", "sheet-trimmed"} <= set(got["codes"])
    assert got["mb"] < 400


def test_compact_merges_a_column_and_caps_a_file():
    cells = [issue("missing-value", file="a.xlsx", sheet="S", cell=f"C{r}", unit="V1", label="票号")
             for r in range(5, 10005)]
    (one,) = compact(cells)
    assert one.cell == "C5:C10004" and one.count == 10_000
    assert one.message == "“票号”未填写（C5:C10004 共 10,000 格）" and one.as_dict()["count"] == 10_000
    broken = [issue("missing-value", file="a.xlsx", sheet="S", cell=f"C{r}", label="票号") for r in range(5, 105, 2)]
    out = compact(broken, cap=20)
    assert len(out) == 21 and out[-1].omitted and out[-1].count == 30
    assert out[-1].message.startswith("另有 30 处同类问题未逐条列出（本文件此类共 50 处）")
    assert out[-1].severity.value == "error"
    other = [issue("not-a-number", file="a.xlsx", sheet="S", cell=f"C{r}", value=str(r), label="x")
             for r in range(5, 8)]
    assert [i.cell for i in compact(other)] == ["C5", "C6", "C7"]  # different values: kept apart
    assert compact([Issue("form-missing", unit="V1", params={"form": "x"})] * 30)[-1].count == 1  # no file: all

def test_the_cap_keeps_every_unit_with_an_error():
    """A township form's errors, one per unit: capping never leaves a unit without its error (which stops its
    result)."""
    per_unit = [issue("missing-value", file="乡党委评分表.xlsx", sheet="S", cell=f"C{r}", unit=f"U{r}", label="得分")
                for r in range(5, 105, 2)]
    out = compact(per_unit, cap=20)
    assert len(out) == 50 and {i.unit for i in out} == {f"U{r}" for r in range(5, 105, 2)}


# ------------------------------------------------------------------ 6. merged cells over the entry area


def test_merged_score_cells_are_an_error_not_three_scores(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "merged")
    ballot = find(folder, "ballot", "V4")
    edit(ballot, {}, after=lambda wb, ws: ws.merge_cells("B5:D5"))
    res = validate(scheme, [folder], period="2025H1")
    merged = [i for i in res.report.errors if i.code == "merged-cells"]
    assert [(i.unit, i.sheet, i.cell) for i in merged] == [("V4", "测评票", "B5:D5")]
    assert merged[0].message == "填写区域中有合并单元格 B5:D5，合并后各格的数值无法确定"
    result = compute(scheme, [folder], period="2025H1")
    assert not next(u for u in result.units if u.code == "V4").ok  # never 84.00 → 84.11 without a word


# ------------------------------------------------------------------ 7. identity against title and folder


def test_identity_claiming_another_village_is_an_error_naming_all_three(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "identity")
    edit(find(folder, "ballot", "V1"), {}, identity={"unit_code": "V2"})  # V1's ballot, in V1's folder
    res = validate(scheme, [folder], period="2025H1")
    (bad,) = [i for i in res.report.errors if i.code == "identity-mismatch"]
    assert bad.unit == "V2" and bad.file.endswith("V1_青山村/V1_青山村_测评票录入_2025H1.xlsx")
    assert "河口村（V2）" in bad.message and "青山村（V1）" in bad.message and "“V1_青山村”" in bad.message
    assert not [i for i in res.report.issues if i.code == "conflicting-files"]  # not counted for V2
    assert any(i.code == "form-missing" and i.unit == "V1" for i in res.report.errors)
    status = {f.path: f.status for f in res.files}
    assert status[bad.file] == "单位与表头或文件夹不符，未计入"


def test_a_form_in_another_unit_folder_is_an_error(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "moved")
    src = find(folder, "anonymous", "V3")
    src.rename(folder / "V4_柳湾村" / src.name)
    res = validate(scheme, [folder], period="2025H1")
    bad = next(i for i in res.report.errors if i.code == "identity-mismatch")
    assert bad.unit == "V3" and "“V4_柳湾村”" in bad.message and "石桥村（V3）" in bad.message


def test_forms_where_they_belong_are_no_mismatch(messy_free_township):
    assert not [i for i in messy_free_township.report.issues if i.code == "identity-mismatch"]


@pytest.fixture(scope="module")
def messy_free_township(tmp_path_factory, scheme):
    return validate(scheme, [township_copy(tmp_path_factory, scheme, "tidy")], period="2025H1")


# ------------------------------------------------------------------ 8. text limits on reading


def test_text_beyond_the_form_limit_is_refused_and_cut_in_messages(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "longtext")
    path = find(folder, "anonymous", "V2")
    edit(path, {"B5": "匿名评价箱", "C5": "吃拿卡要", "D5": "x", "E5": "不属实", "B6": "匿名评价箱", "C6": "x", "E6": "不属实"})
    rng = random.Random(14)  # varied text: a repeated one would be refused for its compression ratio
    pasted = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(350_000))
    _raw_cell(path, "D5", pasted.encode(), text=True)  # beyond what Excel itself would keep (32,767)
    _raw_cell(path, "C6", pasted.encode(), text=True)
    res = validate(scheme, [folder], period="2025H1")
    long = next(i for i in res.report.errors if i.code == "text-too-long")
    assert (long.unit, long.cell) == ("V2", "D5")
    assert long.message == "“内容摘要”最多 100 个字，填写了 350,000 个字"
    option = next(i for i in res.report.errors if i.code == "not-an-option" and i.cell == "C6")
    assert len(option.message) < 200 and "（共 350,000 字）" in option.message
    assert all(len(i.text()) < 400 for i in res.report.issues)


# ------------------------------------------------------------------ 11. Chinese only


def test_the_reading_library_own_words_do_not_reach_the_clerk(tmp_path):
    import xlsxwriter

    from villagescore.io.reader import FileRefused, read_workbook

    with xlsxwriter.Workbook(tmp_path / "src.xlsx") as wb:
        wb.add_worksheet("S").write_row(0, 0, ["票号", "班子团结"])
    with zipfile.ZipFile(tmp_path / "src.xlsx") as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"  # a shared string that is not there: "Cell string index not found"
    members[name] = members[name].replace(b"<v>1</v>", b"<v>99</v>")
    with zipfile.ZipFile(tmp_path / "bad.xlsx", "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    with pytest.raises(FileRefused) as info:
        read_workbook(tmp_path / "bad.xlsx")
    message = info.value.issue("bad.xlsx").message
    assert message == "无法读取该文件：文件内容已损坏或格式不受支持；请用 Excel 或 WPS 打开后另存为 .xlsx 再提交"


def test_validate_tables_put_the_code_last(huge):
    from typer.testing import CliRunner

    from villagescore.cli import app

    out = CliRunner().invoke(app, ["validate", str(huge), "--period", "2025H1"]).output
    head = next(line for line in out.splitlines() if "级别" in line and "单元格" in line)
    assert head.index("问题") < head.index("改正方法") < head.index("代码")

