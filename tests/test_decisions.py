"""The committee's decisions (党委研究事项) as an input, end to end through the forms: compute writes the decision
sheet, a clerk types the committee's decisions into it (openpyxl), puts it into the period's folder and computes
again; the decided grades are the results everywhere (summary, 等次配额, 公示, exports, archive, history, explain,
rules that read earlier periods), and every bad decision is an error naming its file, sheet and cell."""

import io
import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import villagescore
from villagescore.cli import app
from villagescore.core.decisions import Decision, DecisionBook, decision_date
from villagescore.core.grading import Candidate, grade_units
from villagescore.core.layout import IDENTITY_SHEET
from villagescore.core.scheme import Grading, Rule, Veto
from villagescore.io.archive import Archive
from villagescore.io.decision_sheet import build_decision_sheet
from villagescore.io.reader import read_workbook
from villagescore.io.schemes import load
from villagescore.pipeline import compute

from township import COMMITTEE, STANDARD, fill_committee, fill_unit, find, forms

runner = CliRunner()
MEETING, DATE = "乡党委2025年第5次会议", "2025-07-08"
SHEET_H1 = "党委研究事项_2025H1.xlsx"


def decide(sheet: Path, choices: dict[str, str], *, save_as: Path | None = None, meeting: str | None = MEETING,
           date: str | None = DATE) -> Path:
    """Type the committee's decisions into a decision sheet as a clerk would: for each unit code, its 决定 with the
    meeting and the date; ``save_as``: where the filled sheet goes (e.g. into the period's folder)."""
    wb = load_workbook(sheet)
    ws = wb.worksheets[0]
    col = {c.value: c.column for c in ws[4] if c.value}
    for r in range(5, ws.max_row + 1):
        unit = ws.cell(r, col["单位代码"]).value
        if unit in choices:
            ws.cell(r, col["决定"]).value = choices[unit]
            ws.cell(r, col["会议/文号"]).value = meeting
            ws.cell(r, col["日期"]).value = date
    target = save_as or sheet
    wb.save(target)
    return target


def sheet_rows(sheet: Path) -> list[dict]:
    ws = load_workbook(sheet).worksheets[0]
    head = [c.value for c in ws[4]]
    return [dict(zip(head, (c.value for c in row))) for row in ws.iter_rows(min_row=5) if row[1].value]


def flat(text: str) -> str:
    """Printed text without the line breaks and spaces the console's width put in."""
    return "".join(text.replace("│", "").split())


def by_unit(result) -> dict:
    return {u.code: u for u in result.units}


# ------------------------------------------------------------------ A: a tie at pingbian's 好 line


@pytest.fixture(scope="module")
def tied(tmp_path_factory, scheme):
    """青山村 (V1) typed exactly as 柳湾村 (V4): both 91.56 with equal tie-breakers (逆向考评 91.40, 集中考评 90.00);
    好 ≤ 20% of 5 = 1 place for the two of them (差 ≥ 10% → 1: 松林社区 V5). Computed once by the command line."""
    root = tmp_path_factory.mktemp("tied")
    folder = forms(scheme, root, "2025H1")
    for unit, spec in STANDARD.items():
        fill_unit(folder, unit, **(STANDARD["V4"] if unit == "V1" else spec))
    fill_committee(folder, {**COMMITTEE, "V1": COMMITTEE["V4"]})
    out = root / "out"
    res = runner.invoke(app, ["compute", str(folder), "-o", str(out / "h1.xlsx")])
    assert res.exit_code == 0, res.output
    return folder, out, res.output


def test_a_pending_tie_writes_the_decision_sheet(tied):
    folder, out, printed = tied
    sheet = out / SHEET_H1
    assert sheet.exists()
    assert "待党委研究事项（1 项）" in printed and f"党委研究事项表已保存：{sheet}" in printed
    rows = sheet_rows(sheet)
    assert [(r["序号"], r["单位代码"], r["单位名称"], r["可选决定"]) for r in rows] == [
        (1, "V1", "青山村", "好\n中"), (2, "V4", "柳湾村", "好\n中")]
    assert rows[0]["事项编号"] == rows[1]["事项编号"] == "tie:grade:V1,V4"
    assert "（91.56），恰好跨越名额线" in rows[0]["研究事项"] and "这 2 个单位中 1 个为“好”、1 个为“中”" in rows[0]["研究事项"] and rows[1]["研究事项"] == "同上：柳湾村的等次"
    assert all(r["决定"] is None and r["会议/文号"] is None and r["日期"] is None for r in rows)
    wb = load_workbook(sheet)
    ws = wb.worksheets[0]
    assert ws.protection.sheet and not ws["G5"].protection.locked and ws["E5"].protection.locked
    dv = [d for d in ws.data_validations.dataValidation if "G5" in str(d.sqref)]
    assert len(dv) == 1 and dv[0].type == "list" and dv[0].formula1 == '"好,中"'
    assert wb[IDENTITY_SHEET].sheet_state == "veryHidden"
    ident = read_workbook(sheet).identity
    assert (ident["role"], ident["scheme_id"], ident["period"]) == ("decisions", "pingbian", "2025H1")
    assert any("经办人" in str(c.value) for row in ws.iter_rows() for c in row)  # a line to sign
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"


@pytest.mark.parametrize("good,other,base,funds", [("V1", "V4", "50000", "5000.00"), ("V4", "V1", "30000", "3000.00")])
def test_a_tie_at_the_hao_line_decided_either_way(tmp_path, tied, scheme, good, other, base, funds):
    src, out0, _ = tied
    folder = tmp_path / "2025H1表格"
    shutil.copytree(src, folder)
    out = tmp_path / "out"
    shutil.copytree(out0, out)  # the first run's summary, archive and decision sheet
    decide(out / SHEET_H1, {good: "好", other: "中"}, save_as=folder / SHEET_H1)
    before = (folder / "乡党委县委评分表_2025H1.xlsx").read_bytes()
    res = runner.invoke(app, ["compute", str(folder), "-o", str(out / "h1.xlsx"), "--force", "--public",
                              str(out / "公示.xlsx")])
    assert res.exit_code == 0, res.output
    source = f"党委研究决定（{MEETING}，{DATE}）"
    assert "已按党委研究决定计算（1 项）" in res.output and "待党委研究事项" not in res.output
    assert "取代第1次计算" in flat(res.output)  # the run that applies it supersedes the earlier one as current
    assert (folder / "乡党委县委评分表_2025H1.xlsx").read_bytes() == before  # inputs never changed

    data = json.loads(runner.invoke(app, ["compute", str(folder), "-o", str(out / "again.xlsx"), "--no-archive",
                                          "--json"]).output)
    units = {u["unit_code"]: u for u in data["units"]}
    assert (units[good]["grade_grade"], units[other]["grade_grade"]) == ("好", "中")
    assert units[good]["grade_pending"] == {} == units[other]["grade_pending"]
    # seed 000: 好 → working funds +10% of the base, tied to the year's result: a half-year shows it as 预计
    assert units[good]["funds_provisional"] == funds and units[other]["funds_provisional"] is None
    assert [(d["unit_code"], d["decision"], d["meeting"], d["date"]) for d in data["decisions"]] == [
        ("V1", "好" if good == "V1" else "中", MEETING, DATE), ("V4", "好" if good == "V4" else "中", MEETING, DATE)]

    summary = load_workbook(out / "h1.xlsx")
    ws = summary["汇总"]
    head = [c.value for c in ws[2]]
    rows = {r[1]: dict(zip(head, r)) for r in ws.iter_rows(min_row=3, values_only=True) if r[1]}
    assert (rows[good]["考评等次"], rows[other]["考评等次"]) == ("好", "中")
    assert source in rows[good]["备注"] and source in rows[other]["备注"]
    assert "预计" in rows[good]["结果运用"] and f"{int(funds.split('.')[0]):+,}" in rows[good]["结果运用"]
    quota = [[c.value for c in r] for r in summary["等次配额"].iter_rows(min_row=3)]
    hao = next(r for r in quota if r[2] == "好")
    assert hao[4:7] == ["≤ 1", 1, 0] and f"经{source}确定" in hao[7]
    about = "\n".join(str(c.value) for r in summary["说明"].iter_rows() for c in r if c.value)
    assert "党委研究决定" in about and MEETING in about and SHEET_H1 in about  # read like any form, with its hash
    public = [[c.value for c in r] for r in load_workbook(out / "公示.xlsx")["公示"].iter_rows()]
    names = {"V1": "青山村", "V4": "柳湾村"}
    assert next(r for r in public if r[1] == names[good])[-1] == "好"
    assert next(r for r in public if r[1] == names[other])[-1] == "中"

    explained = runner.invoke(app, ["explain", good, str(folder)]).output
    assert f"→ 本单位为“好”（{source}" in explained and "【党委研究事项】" in explained
    assert f"经{source}确定本单位为“好”" in explained

    db = out / "villagescore.db"
    with Archive(db) as arc:
        runs = arc.runs()
        assert [(r.id, r.current) for r in runs] == [(1, False), (2, True)]
        assert [(d.unit, d.decision, d.meeting, d.date) for d in arc.decisions(1)] == [("V1", "", "", ""),
                                                                                       ("V4", "", "", "")]
        assert {d.unit: d.decision for d in arc.decisions(2)} == {good: "好", other: "中"}
    hist = runner.invoke(app, ["history", good, "--archive", str(db)]).output
    assert "待党委研究（好/中）" in flat(hist) and source in flat(hist)
    df = villagescore.results(db).set_index(["run_id", "unit_code"])
    assert df.loc[(2, good), "grade_grade"] == "好" and df.loc[(2, good), "grade_source"] == source
    assert df.loc[(2, good), "funds_provisional"] == D(funds) and df.loc[(1, good), "grade_pending"] == "好/中"


# ------------------------------------------------------------------ B: a tie at D's 先进 line


def test_a_tie_at_the_xianjin_line_decided_moves_the_lianghao_count(tmp_path):
    """System D, the tie of tests/test_system_d.py: 松岗村 (V5) and 梅岭社区 (V6) both 80.75 with equal 基础工作 for
    the 5th 先进 place; 良好 = floor(0.3 × 8) = 2 places, one held by the pair, one 竹溪村 (V7). Decided, the pair's
    second place is 良好: 先进 5, 良好 2 (it was 1 and 1 pending), 石坝村 (V8) stays 合格."""
    from test_system_d import BANDS, PUBLIC, VILLAGES, _fill, _forms

    scheme = load("dazhou_street")
    folder = _forms(scheme, tmp_path)
    _fill(scheme, folder, veto={}, bands={**BANDS, "V6": ("C", {}), "V8": ("D", {})},
          public={**PUBLIC, "V6": PUBLIC["V5"]})
    first = compute(scheme, [folder])
    lines = {q.grade: q for q in first.quota if q.grading == "grade"}
    assert [(lines[g].actual, lines[g].pending) for g in ("先进", "良好")] == [(4, 1), (1, 1)]
    blank = tmp_path / "blank.xlsx"
    blank.write_bytes(build_decision_sheet(first))
    assert [(r["单位代码"], r["可选决定"]) for r in sheet_rows(blank)] == [("V5", "先进\n良好"), ("V6", "先进\n良好")]
    for good, other in (("V5", "V6"), ("V6", "V5")):
        decide(blank, {good: "先进", other: "良好"}, save_as=folder / "党委研究事项_2023.xlsx")
        res = compute(scheme, [folder])
        assert res.report.errors == []
        units = by_unit(res)
        assert {c: units[c].grades["grade"].grade for c in VILLAGES} == {
            "V1": "先进", "V2": "先进", "V3": "先进", "V4": "先进", good: "先进", other: "良好", "V7": "良好",
            "V8": "合格"}
        lines = {q.grade: q for q in res.quota if q.grading == "grade"}
        assert [(lines[g].allowed, lines[g].actual, lines[g].pending) for g in ("先进", "良好")] == [
            ("≤ 5", 5, 0), ("≤ 2", 2, 0)]
        assert "待党委研究" not in lines["良好"].note and not res.decisions[0].open
        assert units[other].grades["grade"].decision.source == f"党委研究决定（{MEETING}，{DATE}）"


# ------------------------------------------------------------------ C: county_dynamic, 提级管理 across quarters

def _county(scheme, root: Path, period: str, scores: dict, adjust: dict) -> list[Path]:
    from test_system_c import TOWNSHIPS, township_forms

    return [township_forms(scheme, root, town, period, scores, adjust.get(town, [])) for town in TOWNSHIPS]


def test_pending_on_the_youxiu_line_then_decided_gives_tiji_guanli(tmp_path):
    """Q1: 东升村 (J1) typed as 上林村 (Y1), 94.00 with equal 工作绩效 and 日常管理: 优秀 ≤ floor(15% × 9) = 1 place for
    the two. Q2 computed before the decision: Y1 is 优秀 again (97.00) but whether it was 优秀 in Q1 is not known yet,
    so 提级管理 says 无法判定, never 否. The committee gives Y1 the place; Q1 computed again (it supersedes the first
    run and says Q2 must follow); Q2 again: Y1 提级管理. J1 (合格 in Q1, not 优秀 in Q2) is 否 throughout."""
    from test_system_c import ADJUST_Q1, Q1, Q2

    scheme = load("county_dynamic")
    adjust = {"甲镇": [a for a in ADJUST_Q1["甲镇"] if a[0] != "J1"], "乙镇": ADJUST_Q1["乙镇"]}
    q1 = {**Q1, "J1": Q1["Y1"]}
    folders = _county(scheme, tmp_path, "2025Q1", q1, adjust)
    out = tmp_path / "县汇总"
    base = ["--scheme", "county_dynamic", "--force", "--archive", str(out / "villagescore.db")]
    res = runner.invoke(app, ["compute", *map(str, folders), "-o", str(out / "Q1.xlsx"), *base])
    assert res.exit_code == 0, res.output
    sheet = out / "党委研究事项_2025Q1.xlsx"
    rows = sheet_rows(sheet)
    assert [(r["单位代码"], r["可选决定"]) for r in rows] == [("J1", "优秀\n合格"), ("Y1", "优秀\n合格"),
                                                          ("J3", "同意（改为“已撤销”）\n不同意（改为“有效”）")]
    q2 = _county(scheme, tmp_path, "2025Q2", {**Q2, "J1": Q1["Y1"]}, {})
    q2_args = ["compute", *map(str, q2), "-o", str(out / "Q2.xlsx"), *base, "--json"]
    data = json.loads(runner.invoke(app, q2_args).output)
    promote = {u["unit_code"]: u["grade_promote"] for u in data["units"]}
    assert promote["Y1"] is None and promote["J1"] == "否"  # Y1 无法判定 (no grade), J1 否 (not 优秀 in Q2)
    summary = load_workbook(out / "Q2.xlsx")["汇总"]
    head = [c.value for c in summary[2]]
    y1 = next(dict(zip(head, r)) for r in summary.iter_rows(min_row=3, values_only=True) if r[1] == "Y1")
    assert y1["提级管理"] == "无法判定"
    assert "2025Q1的考绩等次待党委研究（优秀/合格）" in y1["备注"] and "无法判定" in y1["备注"]

    decide(sheet, {"Y1": "优秀", "J1": "合格"}, save_as=folders[0] / "党委研究事项_2025Q1.xlsx")
    res = runner.invoke(app, ["compute", *map(str, folders), "-o", str(out / "Q1.xlsx"), *base])
    assert res.exit_code == 0, res.output
    assert "2025Q2（第2次计算）" in flat(res.output) and "请在本次计算记入后重新计算这些期间" in flat(res.output)
    assert "待党委研究事项（1 项）" in res.output  # J3's application is still open: a new sheet beside the summary
    assert [r["单位代码"] for r in sheet_rows(sheet)] == ["J1", "Y1", "J3"]
    assert [r["决定"] for r in sheet_rows(sheet)] == ["合格", "优秀", None]  # what was decided, typed in again
    data = json.loads(runner.invoke(app, q2_args).output)
    promote = {u["unit_code"]: u["grade_promote"] for u in data["units"]}
    assert promote["Y1"] == "提级管理" and promote["J1"] == "否"
    lst = load_workbook(out / "Q2.xlsx")["名单"]
    assert any(c.value == "Y1" for r in lst.iter_rows() for c in r)  # on 提级管理名单
    hist = runner.invoke(app, ["history", "Y1", "--archive", str(out / "villagescore.db")]).output
    assert "党委研究决定" in hist


# ------------------------------------------------------------------ D: an adjustment 申请撤销


@pytest.mark.parametrize("choice,j3,status", [("同意", D("80.00"), "已撤销"), ("不同意", D("77.00"), "有效")])
def test_an_adjustment_under_application_decided_either_way(tmp_path, choice, j3, status):
    """南湖村 (J3): 40 + 24 + 16 = 80, with a 3-point penalty whose revocation the township applied for (申请撤销):
    not counted while it waits. 同意 → dropped (as 已撤销): 80.00; 不同意 → counted (as 有效): 77.00."""
    from test_system_c import ADJUST_Q1, Q1

    scheme = load("county_dynamic")
    folders = _county(scheme, tmp_path, "2025Q1", Q1, ADJUST_Q1)
    out = tmp_path / "out"
    args = ["compute", *map(str, folders), "--scheme", "county_dynamic", "-o", str(out / "Q1.xlsx"), "--force"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    book = load_workbook(out / "Q1.xlsx")  # undecided: 汇总's 备注 and 说明 say whose row waits and what it means
    remark = next(r[-1] for r in book["汇总"].iter_rows(values_only=True) if r[1] == "J3")
    assert remark.startswith("撤销减分申请：《加减分登记表》第 ") and remark.endswith(
        "行待党委研究，本期得分暂按表中状态计算，研究后重新计算")
    waiting = next(r[1] for r in book["说明"].iter_rows(values_only=True) if r[0] == "待党委研究事项")
    assert waiting.startswith("1. 南湖村（J3，") and "）撤销减分申请：《加减分登记表》第 " in waiting
    register = next(p for p in folders[0].rglob("*加减分登记表*.xlsx"))
    before = register.read_bytes()
    decide(out / "党委研究事项_2025Q1.xlsx", {"J3": choice}, save_as=folders[0] / "党委研究事项_2025Q1.xlsx")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert register.read_bytes() == before  # the register is read as decided, never changed
    assert "已按党委研究决定计算（1 项）" in res.output and "待党委研究事项" not in res.output
    assert f"“{choice}”，状态由“申请撤销”按“{status}”计" in flat(res.output)
    if choice == "不同意":  # what changed against the run it supersedes
        assert "南湖村（J3）动态考绩得分80.00→77.00" in flat(res.output)
    else:
        assert "得分和等次没有变化" in flat(res.output)
    result = compute(scheme, folders)
    units = by_unit(result)
    assert units["J3"].rounded["total"] == j3 and units["J3"].rounded["penalty"] == D(80) - j3
    assert [lst for lst in result.lists if lst.id == "pending"][0].entries == []  # no longer waiting
    with Archive(out / "villagescore.db") as arc:
        assert [(d.kind, d.unit, d.decision) for d in arc.decisions(2)] == [("row", "J3", choice)]
        assert arc.current("county_dynamic", "2025Q1").id == 2


# ------------------------------------------------------------------ E: bad decisions, each located


def _run(folder: Path, *extra: str) -> tuple[int, dict]:
    res = runner.invoke(app, ["compute", str(folder), "--no-archive", "--json", "-o",
                              str(folder.parent / "x.xlsx"), "--force", *extra])
    return res.exit_code, json.loads(res.output)


def _errors(data: dict) -> list[tuple]:
    return [(i["code"], i["file"], i["sheet"], i["cell"]) for i in data["issues"] if i["severity"] == "error"]


@pytest.fixture
def tie_folder(tmp_path, tied):
    src, out, _ = tied
    folder = tmp_path / "2025H1表格"
    shutil.copytree(src, folder)
    return folder, out / SHEET_H1


def _pending(data: dict) -> dict:
    return {u["unit_code"]: u["grade_pending"] for u in data["units"] if u["grade_pending"]}


def test_a_choice_not_allowed(tie_folder):
    folder, blank = tie_folder
    decide(blank, {"V1": "差", "V4": "好"}, save_as=folder / SHEET_H1)
    code, data = _run(folder)
    assert code == 1
    assert _errors(data) == [("decision-not-allowed", f"2025H1表格/{SHEET_H1}", "党委研究事项", "G5")]
    assert "决定“差”不是本事项可选的决定（可选：好、中）" in data["issues"][-1]["message"]
    assert _pending(data) == {"V1": {"grade": ["好", "中"]}, "V4": {"grade": ["好", "中"]}}  # nothing applied


def test_more_units_given_the_better_grade_than_places(tie_folder):
    folder, blank = tie_folder
    decide(blank, {"V1": "好", "V4": "好"}, save_as=folder / SHEET_H1)
    code, data = _run(folder)
    assert code == 1
    found = [i for i in data["issues"] if i["severity"] == "error"]
    assert [(i["code"], i["cell"]) for i in found] == [("decision-places", "G5:G6"), ("decision-places", "G5:G6")]
    assert "决定为“好”的有 2 个，名额为 1 个" in found[0]["message"]
    assert "决定为“中”的有 0 个，名额为 1 个" in found[1]["message"]
    assert set(_pending(data)) == {"V1", "V4"}


def test_a_group_decided_in_part(tie_folder):
    folder, blank = tie_folder
    decide(blank, {"V1": "好"}, save_as=folder / SHEET_H1)
    code, data = _run(folder)
    assert code == 1 and _errors(data) == [("decision-incomplete", f"2025H1表格/{SHEET_H1}", "党委研究事项", "G5")]
    assert "柳湾村（V4）未填写" in data["issues"][-1]["message"]


def test_a_decision_for_an_item_that_no_longer_exists(tie_folder):
    """The committee decided on the tie, but 柳湾村's 县委评定 was corrected since (90 → 89): no tie any more, so
    the decision has nothing to apply to; it is said on its row, and the grades are the rules' again."""
    folder, blank = tie_folder
    decide(blank, {"V1": "中", "V4": "好"}, save_as=folder / SHEET_H1)
    fill_committee(folder, {"V4": (92, 89)})
    code, data = _run(folder)
    assert code == 1
    assert _errors(data) == [("decision-stale", f"2025H1表格/{SHEET_H1}", "党委研究事项", "B5"),
                             ("decision-stale", f"2025H1表格/{SHEET_H1}", "党委研究事项", "B6")]
    assert "已不再同分跨越名额线" in data["issues"][-1]["message"]
    grades = {u["unit_code"]: u["grade_grade"] for u in data["units"]}
    assert (grades["V1"], grades["V4"]) == ("好", "中")  # by the rules: V1 91.56 above V4 91.46


def test_a_decision_sheet_of_another_period(tmp_path, tied, scheme):
    _, out, _ = tied
    h2 = forms(scheme, tmp_path, "2025H2")
    for unit, spec in STANDARD.items():
        fill_unit(h2, unit, **spec)
    fill_committee(h2, COMMITTEE)
    decide(out / SHEET_H1, {"V1": "好", "V4": "中"}, save_as=h2 / SHEET_H1)
    code, data = _run(h2)
    assert code == 1
    assert _errors(data) == [("decision-other-period", f"2025H2表格/{SHEET_H1}", "党委研究事项", "A2")]
    assert "属于 2025H1，本次计算的是 2025H2" in data["issues"][-1]["message"]


def test_a_decision_sheet_of_another_scheme(tie_folder):
    folder, blank = tie_folder
    target = decide(blank, {"V1": "好", "V4": "中"}, save_as=folder / SHEET_H1)
    wb = load_workbook(target)
    ident = wb[IDENTITY_SHEET]
    for row in ident.iter_rows():
        if row[0].value == "scheme_id":
            row[1].value = "county_dynamic"
    wb.save(target)
    code, data = _run(folder)
    assert code == 1
    assert _errors(data) == [("decision-other-scheme", f"2025H1表格/{SHEET_H1}", "党委研究事项", "A2")]
    assert set(_pending(data)) == {"V1", "V4"}


def test_a_decision_without_its_source_or_with_a_bad_date(tie_folder):
    folder, blank = tie_folder
    decide(blank, {"V1": "好"}, save_as=folder / SHEET_H1)
    decide(folder / SHEET_H1, {"V4": "中"}, meeting=None, date="七月八日")
    code, data = _run(folder)
    assert code == 1
    assert {(i[0], i[3]) for i in _errors(data)} == {("missing-value", "H6"), ("decision-date", "I6")}
    assert set(_pending(data)) == {"V1", "V4"}


def test_two_decision_sheets_for_one_period(tie_folder):
    folder, blank = tie_folder
    decide(blank, {"V1": "好", "V4": "中"}, save_as=folder / SHEET_H1)
    decide(blank, {"V1": "中", "V4": "好"}, save_as=folder / "党委研究事项_2025H1（改）.xlsx")
    code, data = _run(folder)
    assert code == 1 and [e[0] for e in _errors(data)] == ["decision-conflict", "decision-conflict"]
    assert set(_pending(data)) == {"V1", "V4"}


def test_decisions_given_by_option_and_a_workbook_that_is_none(tie_folder, tmp_path):
    folder, blank = tie_folder
    filled = decide(blank, {"V1": "中", "V4": "好"}, save_as=tmp_path / "研究结果.xlsx")
    code, data = _run(folder, "--decisions", str(filled))
    assert code == 0 and {u["unit_code"]: u["grade_grade"] for u in data["units"]}["V4"] == "好"
    # listed among the files read by its name: the summary shows no path of the clerk's PC
    listed = [r[0] for r in load_workbook(folder.parent / "x.xlsx")["说明"].iter_rows(values_only=True) if r[0]]
    assert "研究结果.xlsx" in listed and not any(str(tmp_path) in str(x) for x in listed)
    other = find(folder, "committee")
    res = runner.invoke(app, ["compute", str(folder), "--no-archive", "-o", str(tmp_path / "y.xlsx"),
                              "--decisions", str(other)])
    assert res.exit_code == 2 and "不是党委研究事项表" in res.output


def test_the_sheet_read_is_never_overwritten(tie_folder, tmp_path):
    """The clerk filled the sheet where compute wrote it and gives it back with --decisions, having decided only one
    unit of the group (an error: the item stays open), but the file it read is left as it is."""
    folder, blank = tie_folder
    out = tmp_path / "汇总"
    out.mkdir()
    mine = decide(blank, {"V1": "好"}, save_as=out / SHEET_H1)
    before = mine.read_bytes()
    res = runner.invoke(app, ["compute", str(folder), "--no-archive", "-o", str(out / "h1.xlsx"),
                              "--decisions", str(mine)])
    assert res.exit_code == 1 and "本次读取的党委研究事项表未被覆盖" in flat(res.output)
    assert mine.read_bytes() == before


# ------------------------------------------------------------------ the core, without files


def _d(key, unit, choice, row, period="2025H1"):
    return Decision(key, unit, choice, MEETING, DATE, period, "f.xlsx", "党委研究事项", row, {"choice": f"G{row}"})


def test_a_unit_whose_veto_cancels_a_grade_may_not_receive_it():
    """Three units tied: 先进 (top 1) straddled by A and B (C's veto cancels 先进, so C is not in that line), then
    良好 (the next 1) straddled by the pair's rest and C: one group of three with 1 先进, 1 良好, 1 合格. C may be
    given 良好 or 合格 only: the sheet offers no 先进 for it, and a decision giving it 先进 is refused."""
    g = Grading(id="d", label="等次", by="total", grades=["先进", "良好", "合格"], default="合格",
                rules=[Rule(grade="先进", kind="top_n", n=1), Rule(grade="良好", kind="next_share", n=1)])
    veto = Veto(id="x", label="通报批评", cancels={"d": ["先进"]})
    cands = [Candidate("A", (D(80),)), Candidate("B", (D(80),)), Candidate("C", (D(80),), (veto,))]
    out = grade_units(g, cands)
    tie = out.results["A"].tie
    assert tie.units == ("A", "B", "C") and tie.places == (("先进", 1), ("良好", 1), ("合格", 1))
    key = "tie:d:A,B,C"
    book = DecisionBook("2025H1", [_d(key, "A", "良好", 5), _d(key, "B", "合格", 6), _d(key, "C", "先进", 7)])
    book.ties(g, out, cands)
    assert book.items[0].options["C"] == ("良好", "合格")
    assert [(i.code, i.cell) for i in book.issues] == [("decision-not-allowed", "G7")]
    assert "一票否决" in book.issues[0].message and out.results["C"].grade is None
    book = DecisionBook("2025H1", [_d(key, "A", "良好", 5), _d(key, "B", "先进", 6), _d(key, "C", "合格", 7)])
    out = grade_units(g, cands)
    book.ties(g, out, cands)
    assert book.issues == []
    assert {c: r.grade for c, r in out.results.items()} == {"A": "良好", "B": "先进", "C": "合格"}
    assert [(q.grade, q.actual, q.pending) for q in out.quota] == [("先进", 1, 0), ("良好", 1, 0)]


@pytest.mark.parametrize("text,date", [("2025-07-08", "2025-07-08"), ("2025/7/8", "2025-07-08"),
                                       ("2025年7月8日", "2025-07-08"), ("2025.7.8", "2025-07-08"),
                                       ("20250708", "2025-07-08"), ("45846", "2025-07-08"), ("七月八日", None),
                                       ("2025-02-30", None)])
def test_decision_dates(text, date):
    assert decision_date(text) == date


def test_the_year_from_its_halves_with_a_tie_decided(tmp_path, tied, scheme):
    """Both halves tied as above, computed into one archive and left undecided; the year from the archive says that
    its halves still wait for the committee, and is tied itself (the same 91.56 twice): its own decision sheet. The
    committee gives 好 to 柳湾村 (V4): seed 000's money follows the year's result, so here the +10% is applied."""
    src, out0, _ = tied
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    h2 = forms(scheme, tmp_path, "2025H2")
    for unit, spec in STANDARD.items():
        fill_unit(h2, unit, **(STANDARD["V4"] if unit == "V1" else spec))
    fill_committee(h2, {**COMMITTEE, "V1": COMMITTEE["V4"]})
    assert runner.invoke(app, ["compute", str(h2), "-o", str(out / "h2.xlsx")]).exit_code == 0
    year = ["compute", "--period", "2025", "-o", str(out / "year.xlsx"), "--force"]
    res = runner.invoke(app, year)
    assert res.exit_code == 0, res.output
    assert "以下各期的当前计算仍有待党委研究的事项：2025H1（V1、V4）；2025H2（V1、V4）" in flat(res.output)
    sheet = out / "党委研究事项_2025.xlsx"
    assert [r["单位代码"] for r in sheet_rows(sheet)] == ["V1", "V4"]
    filled = decide(sheet, {"V4": "好", "V1": "中"}, save_as=tmp_path / "年度研究.xlsx")
    data = json.loads(runner.invoke(app, [*year, "--decisions", str(filled), "--json"]).output)
    units = {u["unit_code"]: u for u in data["units"]}
    assert (units["V4"]["grade_grade"], units["V4"]["funds_change"]) == ("好", "3000.00")
    assert units["V1"]["grade_grade"] == "中" and units["V1"]["funds_change"] is None
    with Archive(out / "villagescore.db") as arc:
        run = arc.current("pingbian", "2025")
        assert {d.unit: d.decision for d in arc.decisions(run.id)} == {"V1": "中", "V4": "好"}
