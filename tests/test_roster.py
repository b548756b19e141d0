"""The roster decides who is evaluated and how many ballots each unit gets: its required cells are checked before
any form is made, and its 测评人数 (or ``template --evaluators``) is printed on the ballots and checked on return."""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.demo import fill
from villagescore.io.reader import read_workbook
from villagescore.io.schemes import load
from villagescore.pipeline import compute, make_forms

from township import COMMITTEE, STANDARD, criterion_labels, fill_committee, fill_unit, find, write_setup

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_an_empty_secretary_stops_template_naming_the_cell(tmp_path, scheme):
    roster, criteria, ledger = write_setup(scheme, tmp_path / "setup")
    fill(roster, [{"单位代码": "V3", "党组织书记": None}, {"单位代码": "V5", "工作经费基数（元）": None}], match="单位代码")
    out = tmp_path / "表格"
    res = runner.invoke(app, [str(a) for a in ("template", "--roster", roster, "--criteria", criteria, "--ledger",
                                                ledger, "--period", "2025H1", "-o", out)], terminal_width=250)
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    # V3 is the roster's third row under the header on row 4: D7; V5's 工作经费基数 (column F) is row 9
    assert any("考评对象名册" in x and "│ D7 " in x and "石桥村（V3）的“党组织书记”未填写" in x for x in lines)
    assert any("│ F9 " in x and "松林社区（V5）的“工作经费基数（元）”" in x for x in lines)
    assert "基础表有错误，未生成表格" in res.output
    assert not out.exists() or not any(out.rglob("*.xlsx"))


def test_a_roster_emptied_later_holds_the_unit_back(tmp_path, scheme):
    from township import filled

    folder = filled(scheme, tmp_path)
    roster = folder / "00_基础信息" / "名册.xlsx"
    fill(roster, [{"单位代码": "V3", "党组织书记": None}], match="单位代码")
    res = compute(scheme, [folder])
    [err] = [i for i in res.report.errors if i.code == "roster-missing"]
    assert (err.unit, err.cell, err.sheet) == ("V3", "D7", "考评对象名册")
    assert not next(u for u in res.units if u.code == "V3").ok


def test_offices_need_no_secretary_in_system_d(tmp_path):
    scheme = load("dazhou_street")
    from villagescore.io.atomic import write_bytes_atomic
    from villagescore.io.forms import build_setup_workbook

    roster = tmp_path / "名册.xlsx"
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": "V1", "name": "青禾村", "type": "村", "secretary": "书记甲"}, {"code": "O1", "name": "党政办", "type": "站办所"},
        {"code": "V2", "name": "溪口村", "type": "村"}]))
    run_ = make_forms(scheme, roster, None, None, "2023", tmp_path / "f", seed=1)
    assert [(i.code, i.unit, i.cell) for i in run_.report.errors] == [("roster-missing", "V2", "D7")]


def test_evaluators_per_unit_and_per_run(tmp_path, scheme):
    """青山村 (V1) held its meeting with 21 evaluators (roster 测评人数 21); the run issues 18 to every other village
    (--evaluators 18). The ballots are numbered and printed to those counts, and the returned ballots are checked
    against them: V1's 21 ballots all count (mean of 21 totals of 85: 85.00), a 19th ballot for 河口村 (V2) is
    refused at its cell."""
    roster, criteria, ledger = write_setup(scheme, tmp_path / "setup")
    ws = load_workbook(roster).worksheets[0]
    assert [c.value for c in ws[4]][-1] == "测评人数"
    fill(roster, [{"单位代码": "V1", "测评人数": 21}], match="单位代码")
    out = tmp_path / "表格"
    res = run("template", "--roster", roster, "--criteria", criteria, "--ledger", ledger, "--period", "2025H1",
              "-o", out, "--evaluators", 18, "--seed", 42)
    assert res.exit_code == 0, res.output
    for unit, count in (("V1", 21), ("V2", 18)):
        entry = find(out, "ballot", unit)
        assert read_workbook(entry).identity["issued"] == str(count)
        ws = load_workbook(entry).worksheets[0]
        assert f"发放测评票：{count} 张" in ws["A2"].value
        assert [ws.cell(r, 1).value for r in range(5, ws.max_row + 1)] == list(range(1, count + 1))
        printed = next(p for p in out.rglob(f"{unit}_*测评票（打印）*.xlsx"))
        pws = load_workbook(printed).worksheets[0]
        serials = [c.value for row in pws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("票号")]
        assert serials == [f"票号：{i:02d}" for i in range(1, count + 1)]
        assert any(f"共 {count} 张" in str(c.value) for c in pws[2])
    for unit, spec in STANDARD.items():
        fill_unit(out, unit, **spec)
    fill_committee(out, COMMITTEE)
    labels = criterion_labels(find(out, "ballot", "V1"))
    fill(find(out, "ballot", "V1"), [{"票号": i, **dict.fromkeys(labels, 8.5)} for i in range(1, 22)], match="票号")
    result = compute(scheme, [out])
    assert [i.text() for i in result.report.errors] == []
    v1 = next(u for u in result.units if u.code == "V1")
    assert v1.rounded["meeting"] == D("85.00")
    meeting = next(d for d in v1.details if d.node == "meeting")
    assert (meeting.inputs["发放"], meeting.inputs["有效票"]) == (21, 21)
    # a 19th ballot typed under 河口村's 18 rows
    path = find(out, "ballot", "V2")
    ws = load_workbook(path)
    sheet = ws.worksheets[0]
    sheet.cell(5 + 18, 1).value = 19
    for c in range(2, 12):
        sheet.cell(5 + 18, c).value = 8
    ws.save(path)
    errors = [(i.code, i.cell) for i in compute(scheme, [out]).report.errors if i.unit == "V2"]
    assert ("out-of-range", "A23") in errors
    # the roster changed after the forms were made: the form decides, and the clerk is told
    fill(out / "00_基础信息" / "名册.xlsx", [{"单位代码": "V3", "测评人数": 25}], match="单位代码")
    warned = [i for i in compute(scheme, [out]).report.warnings if i.code == "evaluators-changed"]
    assert [(i.unit, i.params["roster"], i.params["issued"]) for i in warned] == [("V3", 25, 18)]


def test_evaluators_out_of_range_is_refused(tmp_path):
    res = run("template", "--roster", tmp_path / "名册.xlsx", "--period", "2025H1", "--evaluators", 0)
    assert res.exit_code == 2 and "--evaluators 应为 1 至 1000 之间的整数" in res.output
