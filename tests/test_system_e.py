"""System E (朔城区星级化管理, “3 + X + Y”): the built-in scheme, forms filled like a clerk, hand arithmetic."""

from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.demo import declare_none, fill
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.forms import build_setup_workbook
from villagescore.io.schemes import builtin_dir, builtin_names, load
from villagescore.pipeline import compute, make_forms

from township import find

PERIOD = "2025"  # period_kind = "year"

# Made-up villages: code, name, type, secretary
UNITS = [
    ("E1", "红星村", "村", "周明亮"),
    ("E2", "金沟村", "村", "孙桂兰"),
    ("E3", "杏园社区", "社区", "吴建华"),
    ("E4", "柏树村", "村", "郑德才"),
    ("E5", "泉水村", "村", "冯玉梅"),
]

# 定量考核（满分 60）、组织评价（满分 20）: the township's one-row-per-unit sheet
TOWNSHIP = {"E1": (58, 19), "E2": (52, 18), "E3": (56, 18), "E4": (45, 14), "E5": (45, 14)}
# 群众评议 tally: 满意, 基本满意, 不满意 (weights 1, 0.5, 0; 20 points)
MASS = {"E1": (50, 0, 0), "E2": (45, 10, 5), "E3": (30, 6, 4), "E4": (10, 10, 20), "E5": (20, 9, 1)}
# 加减分登记: 事项, 类别, 分值 (分值 always positive); E5 has nothing to register and leaves the form blank
ADJUST = {
    "E1": [("获评市级先进基层党组织", "加分", 3), ("集体经济增收突出", "加分", 3)],
    "E2": [("人居环境整治受区级表扬", "加分", 2), ("党费收缴不及时", "减分", 1)],
    "E3": [("矛盾纠纷化解成效明显", "加分", 1), ("安全隐患整改滞后", "减分", 1.5)],
    "E4": [("发生信访问题被通报", "减分", 6), ("三务公开不及时被通报", "减分", 6)],
    "E5": [],
}


@pytest.fixture(scope="module")
def scheme():
    return load("shuocheng")


@pytest.fixture(scope="module")
def result(tmp_path_factory, scheme):
    root: Path = tmp_path_factory.mktemp("shuocheng")
    roster = root / "setup" / "名册.xlsx"
    roster.parent.mkdir(parents=True)
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": c, "name": n, "type": t, "secretary": s, "township": "东岭乡"} for c, n, t, s in UNITS]))
    folder = root / f"{PERIOD}表格"
    run = make_forms(scheme, roster, None, None, PERIOD, folder, seed=7)
    assert run.report.errors == []
    # The clerk types the township sheet, then each village's tally and register.
    fill(find(folder, "township"), [{"单位代码": c, "定量考核得分": q, "组织评价得分": o}
                                    for c, (q, o) in TOWNSHIP.items()], match="单位代码")
    for code, (a, b, c) in MASS.items():
        fill(find(folder, "mass", code),
             [{"评价内容": "对党组织书记年度履职情况的总体评价", "满意": a, "基本满意": b, "不满意": c}],
             match="评价内容")
    for code, rows in ADJUST.items():
        if rows:
            fill(find(folder, "adjust", code), [{"事项": i, "类别": k, "分值": p} for i, k, p in rows])
        else:  # nothing to add or deduct: the clerk ticks 本期无加减分事项
            declare_none(find(folder, "adjust", code))
    return compute(scheme, [folder])


def unit(result, code):
    return next(u for u in result.units if u.code == code)


def test_builtin_scheme_loads_and_checks(scheme):
    assert "shuocheng" in builtin_names()
    assert scheme.scheme.system == "E" and scheme.scheme.period_kind == "year"
    assert scheme.nodes["composite"].weights == {"quant": 1, "org": 1, "mass": 1, "bonus": 1, "penalty": -1}
    runner = CliRunner()
    res = runner.invoke(app, ["scheme", "check", str(builtin_dir() / "shuocheng.toml")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["scheme", "show", "shuocheng"])
    assert res.exit_code == 0 and "得分不低于95为“五星”" in res.output


def test_clean_run(result):
    assert result.period == PERIOD
    assert result.report.errors == []
    assert all(u.ok for u in result.units)


def test_composite_by_hand(result):
    # E1: 定量 58 + 组织 19 + 群众 20×50/50 = 20 + X min(3+3, 5) = 5 − Y 0 = 102
    e1 = unit(result, "E1").rounded
    assert (e1["quant"], e1["org"], e1["mass"], e1["bonus"], e1["penalty"]) == (
        D("58.00"), D("19.00"), D("20.00"), D("5.00"), D("0.00"))
    assert e1["composite"] == D("102.00")
    # E2: 52 + 18 + 20×(45 + 10×0.5)/60 = 16.666… + X 2 − Y 1 = 87.666… → 87.67
    e2 = unit(result, "E2").rounded
    assert (e2["mass"], e2["bonus"], e2["penalty"], e2["composite"]) == (D("16.67"), D("2.00"), D("1.00"), D("87.67"))
    # E3: 56 + 18 + 20×(30 + 6×0.5)/40 = 16.5 + X 1 − Y 1.5 = 90 exactly
    e3 = unit(result, "E3").rounded
    assert (e3["mass"], e3["composite"]) == (D("16.50"), D("90.00"))
    # E4: 45 + 14 + 20×(10 + 10×0.5)/40 = 7.5 + X 0 − Y min(6+6, 10) = 10 → 56.5
    e4 = unit(result, "E4").rounded
    assert (e4["mass"], e4["bonus"], e4["penalty"], e4["composite"]) == (D("7.50"), D("0.00"), D("10.00"),
                                                                          D("56.50"))
    # E5 (blank register): 45 + 14 + 20×(20 + 9×0.5)/30 = 16.333… + 0 − 0 = 75.333… → 75.33
    e5 = unit(result, "E5").rounded
    assert (e5["mass"], e5["bonus"], e5["penalty"], e5["composite"]) == (D("16.33"), D("0.00"), D("0.00"),
                                                                          D("75.33"))
    # Ranked by the total: 102 > 90 > 87.67 > 75.33 > 56.5
    assert [u.code for u in result.units] == ["E1", "E3", "E2", "E5", "E4"]


def test_grades_and_stars(result):
    # 等次: 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60, else 差 (thresholds inclusive: E3's 90.00 is 好)
    grades = {u.code: u.grades["grade"].grade for u in result.units}
    assert grades == {"E1": "好", "E3": "好", "E2": "较好", "E5": "一般", "E4": "差"}
    # 星级: ≥95 五星, ≥90 四星, ≥80 三星, ≥70 二星, ≥60 一星, else 零星
    stars = {u.code: u.grades["star"].grade for u in result.units}
    assert stars == {"E1": "五星", "E3": "四星", "E2": "三星", "E5": "二星", "E4": "零星"}


def test_consequences(result):
    e1, e4 = unit(result, "E1"), unit(result, "E4")
    assert "绩效报酬系数 1.2" in e1.grades["star"].consequence
    assert "绩效报酬系数 0.6" in e4.grades["star"].consequence and "减少绩效报酬" in e4.grades["star"].consequence
    assert "诫勉" in e4.grades["grade"].consequence and "限期整改" in e4.grades["grade"].consequence
    assert "绩效报酬系数 1.0" in unit(result, "E2").grades["star"].consequence
