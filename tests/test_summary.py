"""The summary workbook: sheets, values, number formats, text safety, print setup, metadata."""

from __future__ import annotations

from dataclasses import replace
import io
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from villagescore.core.issues import Report, issue
from villagescore.core.records import (
    BallotLine,
    GradeResult,
    InputFile,
    LeafDetail,
    QuotaLine,
    RunResult,
    Unit,
    UnitResult,
)
from villagescore.io.summary import build_issue_list, build_public, build_summary

SHEETS = ["汇总", "图表", "分项得分", "得分依据", "等次配额", "测评明细", "问题清单", "说明"]
SHA = "ab" * 32
LABELS = {"meeting": "发展质量集中考评", "instant": "服务效果即时评价", "reverse": "逆向考评得分",
          "township": "乡党委评价", "composite": "综合考评得分"}


def _unit(code, name, secretary, scores, grade, *, type="村", periods=("2025H1",), ok=True, **kw) -> UnitResult:
    rounded = {k: D(v) for k, v in scores.items()} if ok else {}
    return UnitResult(
        unit=Unit(code, name, type, secretary),
        rounded=rounded,
        by_period={p: dict(rounded) for p in periods} if ok else {},
        details=[LeafDetail("meeting", p, None, {"有效票": 18, "总分合计": D("1620.5")}, "有效票总分平均", "001_测评票.xlsx")
                 for p in periods] if ok else [],
        grades={"grade": grade} if grade else {},
        ok=ok,
        **kw,
    )


def _result(periods=("2025H1",), period="2025H1") -> RunResult:
    scores = {"meeting": "90.03", "instant": "85", "reverse": "89.02", "township": "92.5", "composite": "90.86"}
    units = [
        _unit("001", "青山村", "王小明", scores, GradeResult("grade", "好", rank=1, consequence="增加工作经费10%",
                                                          funds_change=D("3000")), periods=periods),
        _unit("002", "河口社区", "李小红", {k: "80" for k in scores},
              GradeResult("grade", None, pending=("好", "中"), reason="与 003 同分，名额不足", rank=2),
              type="社区", periods=periods),
        _unit("003", "=1+1", "张三丰", {k: "80" for k in scores},
              GradeResult("grade", "差", rank=2, funds_change=D("-2500.5")), periods=periods, vetoes=["严重问题"]),
        _unit("004", "石桥村", "赵小刚", {}, None, ok=False, periods=periods),
    ]
    report = Report([
        issue("not-a-number", file="004_测评票.xlsx", sheet="录入表", cell="C7", unit="004", value="八十"),
        issue("blank-ballot", file="002_测评票.xlsx", sheet="录入表", cell="5", unit="002", serial="05"),
    ])
    ballots = [
        BallotLine("001", "2025H1", "01", {"c01": D("9.5"), "c02": D("10"), "c10": D("8")}, D("27.5"), "有效",
                   "001_测评票.xlsx", "录入表", 3),
        BallotLine("001", "2025H1", "02", {"c01": None, "c02": None, "c10": None}, None, "作废",
                   "001_测评票.xlsx", "录入表", 4),
    ]
    return RunResult(
        scheme_id="pingbian", scheme_name="村党组织书记逆向述职考评", scheme_version="1.0",
        scheme_source="某乡关于开展逆向述职考评的通知", period=period, periods=list(periods), units=units,
        quota=[QuotaLine("grade", "不超过 20%", "好", 4, "≤ 0", 1, 2, "同分待研究")],
        report=report,
        files=[InputFile("001_测评票.xlsx", SHA, "ballot", "001", "2025H1"),
               InputFile("copy.xlsx", SHA, "ballot", "001", "2025H1", "重复")],
        ballots=ballots, computed_at="2025-07-05T10:30:00+08:00", tool_version="0.1.0",
        node_labels=LABELS, display=["meeting", "instant", "reverse", "township", "composite"],
        leaves=["meeting", "township"], gradings=[("grade", "考评等次")], grade_orders={"grade": ["好", "中", "差"]},
        notes=["河口社区与 =1+1 综合得分相同，是否评为“好”由乡党委研究确定。"],
    )


@pytest.fixture(scope="module")
def book():
    return openpyxl.load_workbook(io.BytesIO(build_summary(_result())))


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _header(ws, row=2):
    """A header row's labels as written, without the line breaks that set a long label on two lines."""
    return [c.value.replace("\n", "") if isinstance(c.value, str) else c.value for c in ws[row]]


def _find(ws, value):
    return next(c for row in ws.iter_rows() for c in row if c.value == value)


def test_sheets_in_order(book):
    assert visible(book) == SHEETS
    assert book["汇总"]["A1"].value == "村党组织书记逆向述职考评 2025年上半年 考评结果汇总"


def test_summary_header_values_and_formats(book):
    ws = book["汇总"]
    header = _header(ws)
    assert ws["F2"].value == "发展质量\n集中考评"  # a long label on two lines, broken between words
    assert header == ["排名", "单位代码", "单位名称", "类型", "党组织书记", "发展质量集中考评", "服务效果即时评价",
                      "逆向考评得分", "乡党委评价", "综合考评得分", "考评等次", "结果运用", "备注"]
    first = [c.value for c in ws[3]]
    assert first[:5] == [1, "001", "青山村", "村", "王小明"]
    assert first[5] == pytest.approx(90.03) and first[9] == pytest.approx(90.86)
    assert ws["F3"].number_format == "0.00" and ws["H4"].number_format == "0.00"
    assert first[10] == "好" and first[11] == "增加工作经费10%；\n工作经费 +3,000.00 元"  # the sum on a line of its own
    assert ws["K3"].fill.fgColor.rgb.endswith("C6EFCE")
    pending = [c.value for c in ws[4]]
    assert pending[10] == "待党委研究（好/中）" and pending[12] == "与 003 同分，名额不足"
    assert ws["K4"].fill.fgColor.rgb.endswith("FFEB9C")
    vetoed = [c.value for c in ws[5]]
    assert vetoed[10] == "差" and vetoed[11] == "工作经费 -2,500.50 元" and vetoed[12] == "一票否决：严重问题"
    broken = [c.value for c in ws[6]]
    assert broken[0] is None and broken[5] is None
    assert broken[10] == "未评定" and broken[12] == "数据有错误，未计算"
    assert all(ws.cell(6, c).font.color.rgb.endswith("C00000") for c in (2, 3, 13))  # red text: no result
    assert not str(getattr(ws["C3"].font.color, "rgb", "")).endswith("C00000")
    texts = [r[0] for r in _rows(ws)[6:] if r[0]]
    assert any("乡党委研究确定" in t for t in texts)
    assert texts[-1].startswith("审核人：") and "审定人：" in texts[-1]
    assert ws.auto_filter.ref == "A2:M6"
    assert ws.freeze_panes == "D3"


def test_formula_like_text_stays_text(book):
    cell = book["汇总"]["C5"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(build_summary(_result()))) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_scores_sheet_shows_leaves_and_rules_and_evidence_apart(book):
    rows = _rows(book["分项得分"])
    assert _header(book["分项得分"]) == ["单位代码", "单位名称", "发展质量集中考评", "乡党委评价", "服务效果即时评价",
                                      "逆向考评得分", "综合考评得分"]
    assert rows[2][:7] == ["001", "青山村", pytest.approx(90.03), pytest.approx(92.5), 85, pytest.approx(89.02),
                           pytest.approx(90.86)]
    assert rows[5][:3] == ["004", "石桥村", None]  # no result: no numbers
    assert any(r[0] == "发展质量集中考评：有效票总分平均" for r in rows)
    evidence = _rows(book["得分依据"])  # the long text in a sheet of its own, legible when printed
    assert evidence[1] == ["单位代码", "单位名称", "期间", "项目", "得分", "依据", "来源"]
    assert evidence[2] == ["001", "青山村", "2025年上半年", "发展质量集中考评", None, "有效票=18；总分合计=1620.5",
                           "001_测评票.xlsx"]


def test_quota_and_ballots(book):
    rows = _rows(book["等次配额"])
    assert [h.replace("\n", "") for h in rows[1]] == ["等次类别", "规则", "等次", "参评单位数", "允许/要求", "实际",
                                                      "待党委研究占用", "说明"]
    assert rows[2] == ["考评等次", "不超过 20%", "好", 4, "≤ 0", 1, 2, "同分待研究"]
    rows = _rows(book["测评明细"])
    assert rows[1] == ["单位代码", "期间", "票号", "细则1", "细则2", "细则10", "合计", "状态", "文件", "工作表", "行"]
    assert rows[2] == ["001", "2025年上半年", "01", 9.5, 10, 8, 27.5, "有效", "001_测评票.xlsx", "录入表", 3]
    assert rows[3][3:8] == [None, None, None, None, "作废"]


def test_issue_rows_carry_place(book):
    rows = _rows(book["问题清单"])
    assert rows[1] == ["序号", "级别", "单位", "文件", "工作表", "单元格", "问题", "改正方法", "代码"]
    assert rows[2][:6] == [1, "错误", "004 石桥村", "004_测评票.xlsx", "录入表", "C7"]
    assert rows[2][6] == "“八十”不是数字" and rows[2][8] == "not-a-number"  # the code last: the clerk reads Chinese
    assert rows[3][1] == "提示" and rows[3][5] == "5"


def test_about_lists_files_with_hash(book):
    rows = _rows(book["说明"])
    info = {r[0]: r[1] for r in rows[2:13]}
    assert info["考评方案"] == "村党组织书记逆向述职考评" and info["方案版本"] == "1.0"
    assert info["考评期间"] == "2025年上半年" and info["舍入规则"] == "四舍五入，保留 2 位小数，最后一次舍入"
    head = next(i for i, r in enumerate(rows) if r[0] == "文件")
    assert rows[head] == ["文件", "SHA-256", "表格", "单位", "期间", "状态"]
    assert rows[head + 1] == ["001_测评票.xlsx", SHA, "ballot", "001 青山村", "2025年上半年", "已读取"]
    assert rows[head + 2][-1] == "重复"


def test_print_setup(book):
    for ws in (w for w in book.worksheets if w.sheet_state == "visible"):
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9, ws.title
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title  # 1 is the default
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows or ws.title == "图表", ws.title  # 图表's blocks each start a page of their own
        assert "第 &P 页，共 &N 页" in ws.oddFooter.center.text, ws.title
        assert ws.freeze_panes or ws.title == "图表", ws.title
    assert book["汇总"].print_title_rows == "$1:$2"


def test_no_author_and_title():
    data = build_summary(_result())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        core = z.read("docProps/core.xml").decode()
        app = z.read("docProps/app.xml").decode()
    assert "<dc:creator></dc:creator>" in core or "<dc:creator/>" in core
    assert "<Company></Company>" in app or "<Company/>" in app
    props = openpyxl.load_workbook(io.BytesIO(data)).properties
    assert not props.creator and props.title == "村党组织书记逆向述职考评 2025年上半年 考评结果汇总"
    assert build_summary(_result()) == data  # same run, same bytes


def test_annual_shows_each_period():
    wb = openpyxl.load_workbook(io.BytesIO(build_summary(_result(("2025H1", "2025H2"), "2025"))))
    ws = wb["汇总"]
    header = _header(ws)
    # too wide for one page at 8 pt: split over two, 排名/单位代码/单位名称 repeated on each, the title over the
    # first page right of them (a repeated column would print a piece of it), the signature on the last page
    assert ws.print_title_cols == "$A:$C" and ws.page_setup.scale == 90 and not ws.sheet_properties.pageSetUpPr.fitToPage
    assert [c.value for c in ws[1] if c.value] == ["村党组织书记逆向述职考评 2025年度 考评结果汇总"] and not ws["A1"].value
    assert len(ws.col_breaks.brk) == 1
    signature = next(c for row in ws.iter_rows() for c in row if str(c.value).startswith("审核人"))
    assert signature.column - 1 == ws.col_breaks.brk[0].id
    assert header[5:8] == ["2025年上半年得分", "2025年下半年得分", "发展质量集中考评"]
    assert ws["F3"].value == pytest.approx(90.86) and ws["F3"].number_format == "0.00"
    rows = _rows(wb["分项得分"])
    assert _header(wb["分项得分"])[:5] == ["单位代码", "单位名称", "期间", "发展质量集中考评", "乡党委评价"]
    assert [r[:3] for r in rows[2:5]] == [["001", "青山村", "2025年上半年"], ["001", "青山村", "2025年下半年"],
                                          ["001", "青山村", "2025年度"]]
    assert wb["分项得分"]["D5"].font.b  # the year's row, in bold
    assert any(r[0] == "2025年度（加粗的行）：各项按方案合并各期得分" for r in rows)
    evidence = _rows(wb["得分依据"])
    assert [r[2] for r in evidence[2:4]] == ["2025年上半年", "2025年下半年"]


def test_calamine_reads_values():
    wb = CalamineWorkbook.from_filelike(io.BytesIO(build_summary(_result())))
    assert wb.sheet_names == [*SHEETS, "_villagescore"]
    rows = wb.get_sheet_by_name("汇总").to_python()
    assert rows[2][:3] == [1, "001", "青山村"] and rows[2][9] == pytest.approx(90.86)
    assert rows[4][2] == "=1+1"
    issues = wb.get_sheet_by_name("问题清单").to_python()
    assert issues[2][3:6] == ["004_测评票.xlsx", "录入表", "C7"]


def test_issue_list_standalone():
    wb = openpyxl.load_workbook(io.BytesIO(build_issue_list(_result().report, "青山乡 问题清单")))
    assert visible(wb) == ["问题清单"] and hidden_role(wb) == "issues"
    ws = wb["问题清单"]
    assert ws["A1"].value == "青山乡 问题清单" and ws["C3"].value == "004"
    empty = openpyxl.load_workbook(io.BytesIO(build_issue_list(Report())))["问题清单"]
    assert empty["A3"].value == "未发现问题"


def test_minimal_result_and_places():
    r = RunResult("x", "某方案", "1", "", "2025Q3", ["2025Q3"], [], [], Report(), [], [], "", "0.1.0", places=0)
    r.units = [_unit("001", "青山村", "王小明", {"total": "88"}, None, periods=("2025Q3",))]
    r.display = r.leaves = ["total"]
    wb = openpyxl.load_workbook(io.BytesIO(build_summary(r)))
    assert visible(wb) == SHEETS and hidden_role(wb) == "summary"
    ws = wb["汇总"]
    assert ws["A1"].value == "某方案 2025年第三季度 考评结果汇总"
    assert _header(ws) == ["排名", "单位代码", "单位名称", "类型", "党组织书记", "total", "备注"]
    assert ws["A3"].value == 1 and ws["F3"].value == 88 and ws["F3"].number_format == "0"
    assert wb["问题清单"]["A3"].value == "未发现问题"


def test_charts_sheet_has_sorted_scores_and_grade_counts(book):
    rows = _rows(book["图表"])
    assert rows[0][0] == "村党组织书记逆向述职考评 2025年上半年 图表"
    assert _header(book["图表"]) == ["排名", "单位名称", "综合考评得分", "考评等次"]
    assert [r[:3] for r in rows[2:5]] == [[1, "青山村", pytest.approx(90.86)], [2, "河口社区", 80], [2, "=1+1", 80]]
    counts = rows[rows.index(["考评等次", "单位数", None, None]) + 1:]
    assert [r[:2] for r in counts] == [["好", 1], ["中", 0], ["差", 1], ["待党委研究", 1]]
    with zipfile.ZipFile(io.BytesIO(build_summary(_result()))) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        kinds = [z.read(n).decode() for n in charts]
    assert len(charts) == 2
    assert '<c:barDir val="bar"/>' in kinds[0] and "图表" in kinds[0]
    assert '<c:barDir val="col"/>' in kinds[1]


def test_public_version_has_only_ranks_names_scores_grades():
    data = build_public(_result(("2025H1", "2025H2"), "2025"))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert visible(wb) == ["公示"]
    ws = wb["公示"]
    rows = _rows(ws)
    assert rows[0][0] == "村党组织书记逆向述职考评 2025年度 考评结果公示"
    assert rows[1][0] == "2025年7月5日"
    assert _header(ws, 3) == ["排名", "单位名称", "党组织书记", "2025年上半年得分", "2025年下半年得分", "综合考评得分", "考评等次"]
    assert rows[3] == [1, "青山村", "王小明", pytest.approx(90.86), pytest.approx(90.86), pytest.approx(90.86), "好"]
    assert rows[5][1] == "=1+1" and ws["B6"].data_type == "s"
    assert rows[6] == [None, "石桥村", "赵小刚", None, None, None, "未评定"]
    text = "".join(str(v) for r in rows for v in r if v is not None)
    for secret in ("001", "xlsx", "八十", "一票否决", "工作经费", "测评", "数据有错误"):
        assert secret not in text
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$3"
    assert "第 &P 页" in ws.oddFooter.center.text
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def visible(wb) -> list[str]:
    return [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]


def hidden_role(wb) -> str:
    rows = {r[0].value: r[1].value for r in wb["_villagescore"].iter_rows()}
    assert wb["_villagescore"].sheet_state == "veryHidden" and rows["tool"] == "villagescore"
    return rows["role"]


def test_text_that_looks_like_rich_text_xml_stays_text():
    """xlsxwriter writes a string shaped like rich-text XML unescaped (shared or inline): it must stay text."""
    result = _result()
    odd = "<r>A&B<t>x</t></r>"
    result.units[0] = replace(result.units[0], unit=replace(result.units[0].unit, name=odd))
    result.ballots[0] = replace(result.ballots[0], file=odd)
    data = build_summary(result)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["汇总"]["C3"].value == odd
    assert _find(wb["测评明细"], odd).font.name == wb["测评明细"]["A3"].font.name
    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("汇总").to_python()
    assert values[2][2] == odd
