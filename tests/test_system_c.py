"""System C (县级动态考绩): quarters, several townships ranked as one county, adjustments with a status, three
colours, bottom 5% and top/bottom three, and 提级管理 after two quarters 优秀 read from the archive."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.demo import declare_none, fill
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.forms import build_setup_workbook
from villagescore.io.schemes import load
from villagescore.pipeline import make_forms

from township import find

TOWNSHIPS = {
    "甲镇": [("J1", "东升村", "村", "柯明远"), ("J2", "西岭村", "村", "潘慧芳"), ("J3", "南湖村", "村", "包志强"),
             ("J4", "北塘村", "村", "崔玉洁")],
    "乙镇": [("Y1", "上林村", "村", "车永福"), ("Y2", "中和村", "村", "毛建新"), ("Y3", "下坝村", "村", "鲍春梅"),
             ("Y4", "清河社区", "社区", "殷立军"), ("Y5", "枫林村", "村", "舒晓燕")],
}
# 工作绩效（50）、日常管理（30）、综合测评（20）
Q1 = {"J1": (48, 28, 19), "J2": (45, 26, 18), "J3": (40, 24, 16), "J4": (35, 20, 14),
      "Y1": (47, 29, 18), "Y2": (42, 25, 17), "Y3": (38, 22, 15), "Y4": (30, 18, 12), "Y5": (44, 27, 18)}
Q2 = {**Q1, "Y1": (49, 29, 19)}
# 加减分登记 (Q1 only): unit, 事由, 级别, 类别, 分值, 文号, 状态
ADJUST_Q1 = {
    "甲镇": [("J2", "获评市级文明村", "市级", "加分", 2, "X文明〔2025〕3号", "有效"),
             ("J3", "信访事项办理超时", "县级", "减分", 3, "X信〔2025〕7号", "申请撤销"),
             ("J4", "会议缺席", "乡镇级", "减分", 1, "", "已撤销"),
             ("J1", "环境整治检查不合格", "县级", "减分", 2, "X环〔2025〕2号", "有效")],
    "乙镇": [("Y4", "安全生产检查发现重大隐患", "县级", "减分", 5, "X安〔2025〕1号", "有效"),
             ("Y2", "集体经济增收受县级表扬", "县级", "加分", 1.5, "X组〔2025〕9号", "有效")],
}


def township_forms(scheme, root: Path, town: str, period: str, scores: dict, adjust: list) -> Path:
    setup = root / town / "setup"
    setup.mkdir(parents=True, exist_ok=True)
    roster = setup / "名册.xlsx"
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": c, "name": n, "type": t, "secretary": s, "township": town} for c, n, t, s in TOWNSHIPS[town]]))
    folder = root / town / period
    run = make_forms(scheme, roster, None, None, period, folder, seed=1)
    assert run.report.errors == []
    fill(find(folder, "base"), [{"单位代码": c, "工作绩效考核（50分）": w, "日常管理（30分）": d, "综合测评（20分）": a}
                                for c, _, _, _ in TOWNSHIPS[town] for w, d, a in [scores[c]]], match="单位代码")
    if adjust:
        fill(find(folder, "adjust"), [{"单位代码": c, "事由": r, "级别": lv, "类别": k, "分值": p, "文件文号": doc,
                                       "状态": st} for c, r, lv, k, p, doc, st in adjust])
    else:  # nothing this quarter: the township ticks 本期无加减分事项
        declare_none(find(folder, "adjust"))
    return folder


@pytest.fixture(scope="module")
def scheme():
    return load("county_dynamic")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, scheme):
    root: Path = tmp_path_factory.mktemp("county")
    out = root / "县汇总"
    out.mkdir()
    db = out / "villagescore.db"
    runner = CliRunner()
    results = {}
    for period, scores, adjust in (("2025Q1", Q1, ADJUST_Q1), ("2025Q2", Q2, {})):
        folders = [township_forms(scheme, root, town, period, scores, adjust.get(town, [])) for town in TOWNSHIPS]
        res = runner.invoke(app, ["compute", *map(str, folders), "--scheme", "county_dynamic",
                                  "-o", str(out / f"{period}汇总.xlsx"), "--archive", str(db), "--json"])
        assert res.exit_code == 0, res.output
        results[period] = (json.loads(res.output), out / f"{period}汇总.xlsx")
    # the same Q2 folders without the archive: the streak rule cannot apply
    res = runner.invoke(app, ["compute", *(str(root / t / "2025Q2") for t in TOWNSHIPS), "--scheme", "county_dynamic",
                              "-o", str(root / "no_archive.xlsx"), "--no-archive"])
    assert res.exit_code == 0, res.output
    results["no_archive"] = res.output
    return results


def table(data: dict, key: str) -> dict:
    return {u["unit_code"]: u[key] for u in data["units"]}


def grades(data: dict, gid: str) -> dict:
    return {u["unit_code"]: u[f"grade_{gid}"] for u in data["units"]}


def test_one_county_ranking_across_townships(runs):
    data, _ = runs["2025Q1"]
    assert data["period"] == "2025Q1" and data["issues"] == []
    # totals: base items + 有效 bonus − 有效 penalty; J3's 申请撤销 and J4's 已撤销 do not count
    assert table(data, "score_total") == {
        "Y1": "94.00", "J1": "93.00",  # J1: 48 + 28 + 19 − 2
        "J2": "91.00",                 # 45 + 26 + 18 + 2
        "Y5": "89.00", "Y2": "85.50",  # Y2: 42 + 25 + 17 + 1.5
        "J3": "80.00",                 # 40 + 24 + 16 (the 3-point penalty is only applied for revocation)
        "Y3": "75.00", "J4": "69.00",  # J4: 35 + 20 + 14 (its penalty was revoked)
        "Y4": "55.00"}                 # 30 + 18 + 12 − 5
    assert [u["unit_code"] for u in data["units"]] == ["Y1", "J1", "J2", "Y5", "Y2", "J3", "Y3", "J4", "Y4"]
    assert [u["rank"] for u in data["units"]] == list(range(1, 10))
    assert {u["unit_code"]: u["township"] for u in data["units"]}["Y4"] == "乙镇"


def test_grades_colours_talks_and_speakers(runs):
    data, _ = runs["2025Q1"]
    # 优秀 ≤ 15% of 9 → floor(1.35) = 1 (and ≥ 85); < 60 不合格; < 70 基本合格
    assert grades(data, "grade") == {"Y1": "优秀", "J1": "合格", "J2": "合格", "Y5": "合格", "Y2": "合格",
                                     "J3": "合格", "Y3": "合格", "J4": "基本合格", "Y4": "不合格"}
    # ≥ 85 绿色激励, < 70 红色预警, else 黄色警示
    assert grades(data, "colour") == {"Y1": "绿色激励", "J1": "绿色激励", "J2": "绿色激励", "Y5": "绿色激励",
                                      "Y2": "绿色激励", "J3": "黄色警示", "Y3": "黄色警示", "J4": "红色预警",
                                      "Y4": "红色预警"}
    # bottom 5% of 9 → floor(0.45) = 0: rounded down as the seed's own figure does (26 of 531, see below)
    assert [c for c, g in grades(data, "talk").items() if g == "集中约谈"] == []
    speak = grades(data, "speak")
    assert [c for c, g in speak.items() if g == "前三名"] == ["Y1", "J1", "J2"]
    assert [c for c, g in speak.items() if g == "后三名"] == ["Y3", "J4", "Y4"]


def test_streak_needs_the_archived_quarter(runs):
    q1, _ = runs["2025Q1"]
    assert set(grades(q1, "promote").values()) == {"否"}  # no 2024Q4 in the archive
    q2, _ = runs["2025Q2"]
    # Q2: Y1 49 + 29 + 19 = 97 is 优秀 again (Q1 too) → 提级管理; J1 (95) is not 优秀 in Q2
    assert grades(q2, "grade")["Y1"] == "优秀"
    assert grades(q2, "promote") == {c: ("提级管理" if c == "Y1" else "否") for c in table(q2, "rank")}
    assert "未能适用" in runs["no_archive"] and "2025Q1" in runs["no_archive"]


def test_summary_shows_townships_colours_and_lists(runs):
    from openpyxl import load_workbook

    _, path = runs["2025Q1"]
    wb = load_workbook(path)
    ws = wb["汇总"]
    head = [c.value.replace("\n", "") if isinstance(c.value, str) else c.value for c in ws[2]]  # a long label is set on two lines
    assert head[2] == "乡镇（街道）"
    col = head.index("三色管理") + 1
    fills = {ws.cell(r, 2).value: ws.cell(r, col).fill.fgColor.rgb for r in range(3, 12)}
    assert fills["Y4"].endswith("FFC7CE") and fills["Y1"].endswith("C6EFCE") and fills["J3"].endswith("FFEB9C")
    cells = [c.value for row in wb["名单"].iter_rows() for c in row if c.value is not None]
    assert "信访事项办理超时" in cells  # J3's penalty awaiting revocation, listed as pending
    assert "会议缺席" not in cells      # already revoked
    assert any(str(c).startswith("提级管理名单") for c in cells)


def test_a_unit_listed_by_the_wrong_township_is_refused(scheme, tmp_path):
    folders = [township_forms(scheme, tmp_path, town, "2025Q1", Q1, []) for town in TOWNSHIPS]
    declare_none(find(folders[0], "adjust"), value=None)  # an item registered after all
    fill(find(folders[0], "adjust"), [{"单位代码": "Y2", "事由": "误登", "级别": "县级", "类别": "加分", "分值": 1,
                                       "状态": "有效"}])
    res = CliRunner().invoke(app, ["validate", *map(str, folders), "--scheme", "county_dynamic", "--json"])
    data = json.loads(res.output)
    assert res.exit_code == 1
    assert [i["code"] for i in data["issues"] if i["severity"] == "error"] == ["unit-unknown"]


def test_a_year_of_a_quarterly_scheme_is_refused(scheme, tmp_path):
    folder = township_forms(scheme, tmp_path, "甲镇", "2025Q1", Q1, [])
    res = CliRunner().invoke(app, ["compute", str(folder), "--scheme", "county_dynamic", "--period", "2025",
                                   "-o", str(tmp_path / "y.xlsx"), "--no-archive"])
    assert res.exit_code == 2
    assert "本方案按季度考评，没有规定全年如何合并（方案文件的 [annual] weights）" in res.output  # markup kept as text
    assert not (tmp_path / "y.xlsx").exists()


def test_the_seeds_county_of_531_calls_26_with_ties_at_the_lines(scheme, tmp_path):
    """Seed 002: 531 secretaries, “排名全县后5%的26名” are called in: 531 × 5% = 26.55, so the bottom 5% rounds
    down. Unit i scores 工作绩效 50 − 0.09·i + 日常管理 20 + 综合测评 10 (all distinct), except two pairs typed
    identically: indices 504/505 (ranks 505 and 506, i.e. 27th and 26th from the bottom) straddle the 26th
    place of 集中约谈, and 527/528 (4th and 3rd from the bottom) straddle the third place of 后三名. Each pair is
    offered the grade inside the line or what the units just above it get (否), one place each."""
    from decimal import Decimal as D

    from villagescore.pipeline import compute

    units = [(f"U{i:03d}", f"第{i}村", "村", f"书记{i}") for i in range(531)]
    work = {i: D(50) - D("0.09") * i for i in range(531)}
    work[505], work[528] = work[504], work[527]
    setup = tmp_path / "setup"
    setup.mkdir()
    roster = setup / "名册.xlsx"
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": c, "name": n, "type": t, "secretary": s, "township": "全县"} for c, n, t, s in units]))
    folder = tmp_path / "2025Q1"
    assert make_forms(scheme, roster, None, None, "2025Q1", folder, seed=1).report.errors == []
    fill(find(folder, "base"), [{"单位代码": c, "工作绩效考核（50分）": float(work[i]), "日常管理（30分）": 20,
                                 "综合测评（20分）": 10} for i, (c, *_) in enumerate(units)], match="单位代码")
    declare_none(find(folder, "adjust"))
    res = compute(scheme, [folder])
    assert [i.text() for i in res.report.errors] == []
    talk = {u.code: u.grades["talk"] for u in res.units}
    called = sorted(c for c, g in talk.items() if g.grade == "集中约谈")
    assert called == [f"U{i:03d}" for i in range(506, 531)]  # 25 sure places, the 26th held by the pair
    pair = talk["U504"].tie
    assert pair.units == ("U504", "U505") and pair.places == (("集中约谈", 1), ("否", 1))
    assert talk["U504"].pending == talk["U505"].pending == ("集中约谈", "否")
    line = next(q for q in res.quota if q.grading == "talk")
    assert (line.allowed, line.actual, line.pending) == ("≥ 26", 25, 1) and "向下取整" in line.rule
    speak = {u.code: u.grades["speak"] for u in res.units}
    assert [c for c, g in speak.items() if g.grade == "前三名"] == ["U000", "U001", "U002"]
    assert sorted(c for c, g in speak.items() if g.grade == "后三名") == ["U529", "U530"]
    assert speak["U527"].tie.places == (("后三名", 1), ("否", 1)) and speak["U528"].pending == ("后三名", "否")
