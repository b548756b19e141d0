"""Online questionnaires: a 问卷星 / 腾讯问卷 export counted into the 为民服务日常评价 tally (system A, seed 000:
30 × (满意 + 基本满意) / all answers), per unit and period, its problems named by the export's cells."""

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import township
from villagescore.cli import app
from villagescore.core.records import Unit
from villagescore.core.scheme import SchemeError, load_scheme
from villagescore.core.survey import count, find_columns
from villagescore.io.schemes import load

runner = CliRunner()
WJX = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "1、您所在的村（社区）：", "2、您对村干部的服务态度：",
       "3、村干部对您的诉求响应是否及时（服务响应）", "4、服务效果", "5、其他意见和建议"]
TENCENT = ["编号", "开始答题时间", "结束答题时间", "答题时长", "1.您所在的村（社区）", "2.服务态度", "3.服务响应", "4.服务效果"]


def wjx(path: Path, rows: list[tuple]) -> Path:
    """A 问卷星 export (按选项文本): one response per row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(WJX)
    for i, (day, unit, a, b, c) in enumerate(rows, start=1):
        ws.append([i, day, "95秒", "微信", "N/A", "10.0.0.1", unit, a, b, c, ""])
    wb.save(path)
    return path


def form():
    return load("pingbian").form("questionnaire")


def test_columns_are_found_by_their_questions():
    grid = [["某某问卷"], WJX]
    cols = find_columns(form(), grid)
    assert cols.head == 1 and cols.unit == 6 and cols.questions == {"服务态度": 7, "服务响应": 8, "服务效果": 9}
    assert cols.time == 1
    cols = find_columns(form(), [TENCENT])
    assert cols.unit == 4 and cols.time == 2  # 结束答题时间 before 开始答题时间
    assert find_columns(form(), [["单位代码", "满意", "基本满意"]]) is None  # a typed tally is no export


def test_responses_counted_per_unit_and_period_and_every_problem_named():
    units = [Unit("V1", "青山村"), Unit("V2", "河口村")]
    grid = [WJX,
            [1, dt.datetime(2025, 3, 1), "", "", "", "", "青山村", "满意", "基本满意", "满意", ""],
            [2, "2025/9/1 10:00:00", "", "", "", "", "青山村", "不满意", "满意", "满意", ""],
            [3, dt.datetime(2025, 5, 2), "", "", "", "", "V2", "满意", "", "满意", ""],  # one question skipped
            [4, dt.datetime(2025, 5, 2), "", "", "", "", "河口", "满意", "满意", "满意", ""],  # not a roster name
            [5, dt.datetime(2025, 5, 3), "", "", "", "", "河口村", "还行", "满意", "满意", ""],  # not an answer
            [None, None, None, None, None, None, None, None, None, None, None]]
    c = count(form(), grid, find_columns(form(), grid), units, period_kind="half", file="问卷.xlsx", sheet="Sheet1")
    assert sorted(c.tallies) == [("V1", "2025H1"), ("V1", "2025H2"), ("V2", "2025H1")]
    v1 = {r.values["row"]: r.values for r in c.tallies[("V1", "2025H1")]}
    assert v1["服务态度"]["满意"] == 1 and v1["服务响应"]["基本满意"] == 1
    v2 = {r.values["row"]: r.values for r in c.tallies[("V2", "2025H1")]}
    assert sum(v2["服务响应"][o] for o in ("满意", "基本满意", "不满意")) == 0  # the skipped question counts nowhere
    assert [(i.code, i.cell, i.unit) for i in c.issues] == [("survey-unit-unknown", "G5", ""),
                                                            ("survey-answer-unknown", "H6", "V2")]
    assert "第 6 行" in c.issues[1].message and "还行" in c.issues[1].message


def test_the_scheme_section_is_checked():
    data = {"id": "q", "kind": "tally", "title": "问卷", "rows": ["服务态度"], "options": ["满意", "不满意"],
            "survey": {"unit": "村", "questions": {"服务效率": "效率"}, "answers": {"满意": ["满意"]}}}
    sch = load("pingbian").model_dump(mode="json")
    sch["forms"] = [f for f in sch["forms"] if f["id"] != "questionnaire"] + [data]
    with pytest.raises(SchemeError) as exc:
        load_scheme(sch)
    assert any("服务效率" in p for p in exc.value.problems)


@pytest.fixture()
def township_folder(tmp_path):
    sch = load("pingbian")
    folder = township.filled(sch, tmp_path)
    for p in folder.glob("V[2-5]_*/*问卷统计表*.xlsx"):  # typed for V1 only; the others answered online
        openpyxl.load_workbook(p).save(p)  # (left blank below)
        blank = township.find(folder, "questionnaire", p.name.split("_")[0])
        wb = openpyxl.load_workbook(blank)
        for r in range(5, 8):
            for c in range(2, 5):
                wb.worksheets[0].cell(r, c).value = None
        wb.save(blank)
    return folder


def test_compute_counts_the_export_in_place_of_the_blank_tallies(township_folder):
    folder = township_folder
    rows = []
    for unit in ("石桥村", "柳湾村", "松林社区", "河口村"):  # 9 responses each in H1: 6 满意, 2 基本满意, 1 不满意
        rows += [(dt.datetime(2025, 4, 1 + k), unit, a, a, a) for k, a in enumerate(["满意"] * 6 + ["基本满意"] * 2 +
                                                                                ["不满意"])]
        rows.append((dt.datetime(2025, 10, 1), unit, "不满意", "不满意", "不满意"))  # H2: not this period
    wjx(folder / "为民服务问卷_问卷星导出.xlsx", rows)
    res = runner.invoke(app, ["compute", str(folder), "--period", "2025H1", "--json", "--no-archive", "-o",
                              str(folder.parent / "汇总.xlsx")])
    out = json.loads(res.output)
    assert res.exit_code == 0, out["issues"]
    instant = {u["unit_code"]: u["score_instant"] for u in out["units"]}
    # 服务效果即时评价 = 10 per request resolved + 30 × (6 + 2) / 9 + 5 per clean item of the anonymous box
    assert instant["V2"] == "76.67"  # 3 resolved: 30 + 26.666… + 20
    assert instant["V5"] == "61.67"  # 2 resolved, 侵占挪用 found true: 20 + 26.666… + 15
    read = [i for i in out["issues"] if i["code"] == "survey-read"]
    assert len(read) == 1 and "36 份答卷计入 4 个单位" in read[0]["message"] and "其他期间的 4 份" in read[0]["message"]
    res = runner.invoke(app, ["validate", str(folder), "--period", "2025H1", "--json"])
    files = {f["path"]: f["status"] for f in json.loads(res.output)["files"]}
    assert files["2025H1表格/为民服务问卷_问卷星导出.xlsx"] == "网上问卷导出表"
    assert files["2025H1表格/V2_河口村/V2_河口村_问卷统计表_2025H1.xlsx"].startswith("未填写")


def test_an_answer_not_mapped_stops_that_unit_and_a_typed_tally_conflicts(township_folder):
    folder = township_folder
    rows = [(dt.datetime(2025, 4, 1), u, "满意", "满意", "满意") for u in ("河口村", "石桥村", "柳湾村", "松林社区")]
    rows.append((dt.datetime(2025, 4, 2), "河口村", "非常满意", "满意", "满意"))
    rows.append((dt.datetime(2025, 4, 2), "青山村", "满意", "满意", "满意"))  # V1 typed its tally too
    wjx(folder / "问卷导出.xlsx", rows)
    res = runner.invoke(app, ["validate", str(folder), "--period", "2025H1", "--json"])
    issues = json.loads(res.output)["issues"]
    unknown = [i for i in issues if i["code"] == "survey-answer-unknown"]
    assert [(i["file"], i["cell"], i["unit"]) for i in unknown] == [("2025H1表格/问卷导出.xlsx", "H6", "V2")]
    assert any(i["code"] == "conflicting-files" and i["unit"] == "V1" for i in issues)
