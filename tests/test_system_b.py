"""System B (大泽湖街道 年度考核暨“下述下评”): people on the roster's second sheet, vote ballots entered per
ballot or as hand-counted tallies, quotas per category, the 下述下评 cross-rule and the 约谈 list."""

from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.demo import fill
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.forms import build_setup_workbook
from villagescore.io.reader import read_workbook
from villagescore.io.schemes import load
from villagescore.pipeline import compute, make_forms, validate

from township import find

PERIOD = "2021"
SELF = "村（社区）年度工作总体评价"

# Made-up villages and people
UNITS = [("B1", "湖滨村", "村"), ("B2", "桃花村", "村"), ("B3", "新港社区", "社区")]
PEOPLE = [  # code, name, unit, category, post
    ("B1-1", "孙立新", "B1", "书记", ""),
    ("B1-2", "钱晓燕", "B1", "村干部", "村委会副主任"),
    ("B1-3", "邓文博", "B1", "驻村工作队长", ""),
    ("B1-4", "贺春生", "B1", "村干部", "村委会委员"),
    ("B2-1", "韩国强", "B2", "书记", ""),
    ("B2-2", "曹丽娟", "B2", "村干部", "村务监督委员会主任"),
    ("B2-3", "段玉林", "B2", "村干部", "村委会委员"),
    ("B2-4", "龚晓明", "B2", "驻村工作队长", ""),
    ("B3-1", "彭志刚", "B3", "书记", ""),
    ("B3-2", "蒋秋霞", "B3", "村干部", "居委会委员"),
    ("B3-3", "魏振宇", "B3", "驻村工作队长", ""),
]
LABEL = {c: f"{n}（{post or cat}）" for c, n, _, cat, post in PEOPLE}

# B1 and B3: ballots typed one per row (票号, then a vote on the unit and on each person, in roster order)
B1_BALLOTS = [
    (1, ["好", "好", "较好", "好", "好"]),
    (2, ["好", "较好", "较好", "好", "好"]),
    (3, ["较好", "好", "一般", "好", "好"]),
    (4, ["好", "好", "较好", "较好", "较好"]),
]
B3_BALLOTS = [
    (1, ["较好", "一般", "好", "好"]),
    (2, ["一般", "较好", "好", "较好"]),
    (3, ["较好", "一般", "较好", "好"]),
]
# B2: the office counted by hand: 好, 较好, 一般, 差 per person (20 valid ballots)
B2_TALLY = {"B2": (10, 6, 4, 0), "B2-1": (12, 6, 2, 0), "B2-2": (4, 8, 6, 2), "B2-3": (2, 6, 8, 4),
            "B2-4": (14, 4, 2, 0)}
WORK = {"B1": 90, "B2": 85, "B3": 70, "B1-1": 92, "B1-2": 80, "B1-3": 88, "B1-4": 70, "B2-1": 90, "B2-2": 75,
        "B2-3": 50, "B2-4": 95, "B3-1": 65, "B3-2": 85, "B3-3": 60}
REVIEW = {"B1-1": "较好", "B2-1": "好", "B3-1": "一般"}
RECTIFY = {
    "B3-1": [("党员发展程序不规范", "对照细则逐项整改", "彭志刚", "2022年3月底", "整改中"),
             ("村务公开不及时", "每月10日前公开", "蒋秋霞", "2022年1月底", "已整改")],
    "B1-1": [("集体经济增收渠道单一", "发展乡村旅游", "孙立新", "2022年6月底", "未整改")],
}


def targets(unit: str) -> list[str]:
    return [SELF] + [LABEL[c] for c, _, u, *_ in PEOPLE if u == unit]


def make_roster(scheme, folder: Path) -> Path:
    roster = folder / "名册.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": c, "name": n, "type": t, "township": "大泽湖街道"} for c, n, t in UNITS], people=[
        {"code": c, "name": n, "parent": u, "type": cat, "post": post} for c, n, u, cat, post in PEOPLE]))
    return roster


def ballots(folder: Path, unit: str, rows) -> None:
    labels = targets(unit)
    fill(find(folder, "vote", unit), [{"票号": s, **dict(zip(labels, votes))} for s, votes in rows], match="票号")


def township_sheets(folder: Path) -> None:
    """The street's 履职情况 scores and 下述下评 evaluations."""
    fill(find(folder, "work"), [{"单位代码": c, "履职情况评分": v} for c, v in WORK.items()], match="单位代码")
    fill(find(folder, "review"), [{"单位代码": c, "总体评价": g} for c, g in REVIEW.items()], match="单位代码")


def fill_all(folder: Path) -> None:
    ballots(folder, "B1", B1_BALLOTS)
    # ballot 5 was spoiled; ballot 6 came back without a single vote: the clerk marks both 作废
    fill(find(folder, "vote", "B1"), [{"票号": 5, "是否作废": "是", SELF: "差"}, {"票号": 6, "是否作废": "是"}],
         match="票号")
    ballots(folder, "B3", B3_BALLOTS)
    fill(find(folder, "vote", "B2"), [{"代码": k, "好": a, "较好": b, "一般": c, "差": d}
                                      for k, (a, b, c, d) in B2_TALLY.items()], match="代码", sheet="测评结果汇总")
    township_sheets(folder)
    for code, rows in RECTIFY.items():
        fill(find(folder, "rectify", code), [{"存在问题": p, "整改措施": m, "责任人": o, "整改时限": d, "整改情况": s}
                                             for p, m, o, d, s in rows])


@pytest.fixture(scope="module")
def scheme():
    return load("dazehu")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, scheme):
    root: Path = tmp_path_factory.mktemp("dazehu")
    roster = make_roster(scheme, root / "setup")
    folder = root / f"{PERIOD}表格"
    run = make_forms(scheme, roster, None, None, PERIOD, folder, seed=3)
    assert run.report.errors == []
    fill_all(folder)
    return folder


@pytest.fixture(scope="module")
def result(folder, scheme):
    return compute(scheme, [folder])


def unit(result, code):
    return next(u for u in result.units if u.code == code)


def test_forms_follow_the_people_sheet(folder):
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.xlsx"))
    # a vote ballot per village, a rectification list per secretary (in the village's folder), township sheets
    assert sum("民主测评表录入" in n for n in names) == 3 and sum("民主测评表（打印）" in n for n in names) == 3
    assert [n for n in names if "问题整改清单" in n] == [
        "B1_湖滨村/B1-1_孙立新_问题整改清单_2021.xlsx", "B2_桃花村/B2-1_韩国强_问题整改清单_2021.xlsx",
        "B3_新港社区/B3-1_彭志刚_问题整改清单_2021.xlsx"]
    wb = read_workbook(find(folder, "vote", "B1"))
    assert wb.sheets["民主测评表"][3][1:6] == targets("B1")  # header: 票号, the unit, its people
    tally = wb.sheets["测评结果汇总"]
    assert [r[1] for r in tally[4:-2]] == targets("B1") and tally[-1][0].startswith("计票人：")  # signed below
    assert [r[0] for r in tally[4:-2]] == ["B1", "B1-1", "B1-2", "B1-3", "B1-4"]
    printed = read_workbook(folder / "B1_湖滨村" / "B1_湖滨村_民主测评表（打印）_2021.xlsx")
    assert printed.identity["role"] == "print"
    page = printed.sheets[printed.sheet_order[0]]
    assert page[3] == ["测评对象", "好", "较好", "一般", "差"] and [r[0] for r in page[4:9]] == targets("B1")
    review = read_workbook(find(folder, "review")).sheets["综合评价表"]
    assert [r[0] for r in review[4:-2]] == ["B1-1", "B2-1", "B3-1"]  # secretaries only; then the signature line
    assert review[4][1] == "湖滨村 孙立新（书记）"


def test_clean_run(result):
    assert result.report.errors == []
    assert all(u.ok for u in result.units)
    voided = [i.params["serial"] for i in result.report.warnings if i.code == "void-ballot"]
    assert voided == ["5", "6"]  # B1's spoiled ballot and the one without a vote
    b1 = [b for b in result.ballots if b.unit == "B1"]
    assert [b.status for b in b1] == ["有效"] * 4 + ["作废"] * 2
    assert b1[0].votes == "村（社区）年度工作总体评价 好；孙立新（书记） 好；钱晓燕（村委会副主任） 较好；邓文博（驻村工作队长） 好；贺春生（村委会委员） 好"


def test_votes_per_person(result):
    # B1 (entered): 4 valid ballots of 6. The village: 好 3, 较好 1 → (3×100 + 80)/4 = 95; 好评率 75%; 较好以上 100%
    b1 = unit(result, "B1").rounded
    assert (b1["vote_score"], b1["good_rate"], b1["fine_rate"]) == (D("95.00"), D("75.00"), D("100.00"))
    # 钱晓燕: 较好 3, 一般 1 → (240 + 60)/4 = 75; 好评率 0; 较好以上 75%
    b12 = unit(result, "B1-2").rounded
    assert (b12["vote_score"], b12["good_rate"], b12["fine_rate"]) == (D("75.00"), D("0.00"), D("75.00"))
    # B2 (hand tally, 20 each): 韩国强 12/6/2/0 → (1200 + 480 + 120)/20 = 90; 好评率 60%; 较好以上 90%
    b21 = unit(result, "B2-1").rounded
    assert (b21["vote_score"], b21["good_rate"], b21["fine_rate"]) == (D("90.00"), D("60.00"), D("90.00"))
    # B3 (entered, 3 ballots): 彭志刚 一般 2, 较好 1 → (120 + 80)/3 = 66.666…; 较好以上 1/3 = 33.33%
    b31 = unit(result, "B3-1").rounded
    assert (b31["vote_score"], b31["fine_rate"]) == (D("66.67"), D("33.33"))
    detail = next(d for d in unit(result, "B1-2").details if d.node == "vote_score")
    assert detail.inputs == {"发放": 40, "收回": 6, "有效票": 4, "好": "0", "较好": "3", "一般": "1", "差": "0",
                             "合计": "4"}
    tallied = next(d for d in unit(result, "B2-1").details if d.node == "vote_score")
    assert tallied.inputs["人工统计"] == "测评结果汇总" and tallied.inputs["合计"] == "20"


def test_totals_by_hand(result):
    # total = 0.4 × 民主测评 + 0.6 × 履职
    expect = {
        "B1": "92.00",     # 0.4×95 + 0.6×90 = 38 + 54
        "B2": "85.40",     # 0.4×86 + 0.6×85 = 34.4 + 51   (86 = (1000 + 480 + 240)/20)
        "B3": "71.33",     # 0.4×73.333… + 0.6×70 = 29.333… + 42
        "B1-1": "93.20",   # 0.4×95 + 0.6×92
        "B2-1": "90.00",   # 0.4×90 + 0.6×90
        "B3-1": "65.67",   # 0.4×66.666… + 0.6×65 = 26.666… + 39
        "B1-2": "78.00",   # 0.4×75 + 0.6×80
        "B1-4": "80.00",   # 0.4×95 + 0.6×70
        "B2-2": "73.00",   # 0.4×70 + 0.6×75
        "B2-3": "53.20",   # 0.4×58 + 0.6×50   (58 = (200 + 480 + 480)/20)
        "B3-2": "88.33",   # 0.4×93.333… + 0.6×85
        "B1-3": "90.80",   # 0.4×95 + 0.6×88
        "B2-4": "93.80",   # 0.4×92 + 0.6×95
        "B3-3": "73.33",   # 0.4×93.333… + 0.6×60
    }
    assert {c: str(unit(result, c).rounded["total"]) for c in expect} == expect


def test_quotas_per_category_and_cross_rule(result):
    def grades(gid):
        return {u.code: u.grades[gid].grade for u in result.units if gid in u.grades}

    # villages: 一类 ≤ 50% of 3 → 1
    assert grades("village") == {"B1": "一类", "B2": "二类", "B3": "二类"}
    # 下述下评 as entered by the committee
    assert grades("xsxp") == REVIEW
    # secretaries: 优秀 ≤ 40% of 3 → 1; 孙立新 ranks first (93.20) but his 下述下评 is 较好, not 好 → not 优秀;
    # the place goes to 韩国强 (好); 彭志刚 65.67 < 70 → 基本称职
    assert grades("secretary") == {"B1-1": "称职", "B2-1": "优秀", "B3-1": "基本称职"}
    # other cadres: 优秀 ≤ 30% of 5 → 1; 段玉林 53.20 < 60 → 不称职
    assert grades("cadre") == {"B3-2": "优秀", "B1-4": "称职", "B1-2": "称职", "B2-2": "称职", "B2-3": "不称职"}
    # work teams: 优秀 ≤ 40% of 3 → 1
    assert grades("team") == {"B2-4": "优秀", "B1-3": "称职", "B3-3": "称职"}
    caps = {(q.grading, q.grade): q.allowed for q in result.quota if q.allowed.startswith("≤")}
    assert caps == {("village", "一类"): "≤ 1", ("secretary", "优秀"): "≤ 1", ("cadre", "优秀"): "≤ 1",
                    ("team", "优秀"): "≤ 1"}


def test_talk_list_with_open_rectification_items(result):
    (talk,) = result.lists
    assert talk.title == "约谈名单" and talk.columns[-1] == "整改情况"
    assert [(e.unit, e.grade) for e in talk.entries] == [("B3-1", "一般")]
    assert [row[0] for row in talk.entries[0].rows] == ["党员发展程序不规范"]  # the 已整改 item is not open
    assert talk.entries[0].name == "新港社区 彭志刚（书记）"


def test_both_ways_filled_is_an_error(folder, scheme, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    fill(find(copy, "vote", "B1"), [{"代码": "B1", "好": 3, "较好": 1, "一般": 0, "差": 0}], match="代码",
         sheet="测评结果汇总")
    res = validate(scheme, [copy])
    errs = [i for i in res.report.errors if i.code == "vote-both-ways"]
    assert len(errs) == 1 and errs[0].unit == "B1" and "只填其一" in errs[0].hint


def test_summary_has_the_list_and_people(result, tmp_path):
    from openpyxl import load_workbook

    from villagescore.io.summary import build_summary

    path = tmp_path / "b.xlsx"
    path.write_bytes(build_summary(result))
    wb = load_workbook(path)
    assert "名单" in wb.sheetnames
    cells = [c.value for row in wb["名单"].iter_rows() for c in row if c.value]
    assert "B3-1" in cells and "党员发展程序不规范" in cells and "村务公开不及时" not in cells
    head = [c.value for c in wb["汇总"][2]]
    assert "所属单位" in head


def test_cli_runs_the_scheme(folder, tmp_path):
    res = CliRunner().invoke(app, ["compute", str(folder), "--scheme", "dazehu", "-o", str(tmp_path / "s.xlsx"),
                                   "--no-archive"])
    assert res.exit_code == 0, res.output
    assert "约谈名单" in res.output


def test_rectification_items_carried_and_repeats_flagged(folder, scheme, tmp_path):
    """2021 with the archive, then 2022: B3-1 lists 党员发展程序不规范 again (repeated); B1-1's open 2021 item is
    not on its 2022 list (carried over as still open)."""
    from openpyxl import load_workbook

    root = folder.parent
    out = tmp_path / "汇总"
    out.mkdir()
    runner = CliRunner()
    db = out / "villagescore.db"
    res = runner.invoke(app, ["compute", str(folder), "--scheme", "dazehu", "-o", str(out / "2021.xlsx"),
                              "--archive", str(db)])
    assert res.exit_code == 0, res.output
    later = tmp_path / "2022表格"
    res = runner.invoke(app, ["template", "--scheme", "dazehu", "--roster", str(root / "setup" / "名册.xlsx"),
                              "--period", "2022", "-o", str(later), "--archive", str(db)])
    assert res.exit_code == 0, res.output
    assert "往期未完成的整改事项 2 项" in res.output  # B3-1's 整改中 item and B1-1's 未整改 item
    carried_ws = load_workbook(find(later, "rectify", "B1-1")).worksheets[0]
    assert [c.value for c in carried_ws[5]][1:6] == ["集体经济增收渠道单一", "发展乡村旅游", "孙立新", "2022年6月底", "未整改"]
    # the clerk of B1-1 clears the carried row: this year's list does not mention it
    fill(find(later, "rectify", "B1-1"), [{"存在问题": None, "整改措施": None, "责任人": None, "整改时限": None,
                                           "整改情况": None}])
    ballots(later, "B1", B1_BALLOTS)
    ballots(later, "B2", [(1, ["好"] * 5)])
    ballots(later, "B3", B3_BALLOTS)
    township_sheets(later)
    fill(find(later, "rectify", "B3-1"), [{"存在问题": "党员发展程序 不规范", "整改措施": "再次整改", "责任人": "彭志刚",
                                           "整改时限": "2023年3月底", "整改情况": "未整改"}])  # over the carried row
    res = runner.invoke(app, ["compute", str(later), "--scheme", "dazehu", "-o", str(out / "2022.xlsx"),
                              "--archive", str(db)])
    assert res.exit_code == 0, res.output
    assert "往期已经列入" in res.output and "尚未完成" in res.output
    ws = load_workbook(out / "2022.xlsx")["整改事项"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert rows[0][:4] == ["B3-1", "新港社区 彭志刚（书记）", "2022年度", "党员发展程序 不规范"]
    assert rows[0][8] == "2021"  # the same problem (spacing aside) was listed in 2021
    carried = [r for r in rows if r[0] == "B1-1"]
    assert carried and carried[0][3] == "集体经济增收渠道单一" and carried[0][7] == "未整改"
    hist = runner.invoke(app, ["history", "B3-1", "--archive", str(db)])
    assert hist.exit_code == 0, hist.output
    assert "未完成的整改事项 1 项" in hist.output and "往期已列入：2021" in hist.output
    rows = [r for r in hist.output.splitlines() if r.startswith("│ 202")]
    assert len(rows) == 2 and all(" 3 " in r and "一般" in r for r in rows)  # rank among the 3 secretaries


def test_explain_a_secretary(folder):
    res = CliRunner().invoke(app, ["explain", "B3-1", str(folder), "--scheme", "dazehu"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "年度考核综合得分 = 40% × 民主测评得分" in out
    assert "按录入的等次：“好” 1 个、“较好” 1 个、“一般” 1 个、“差” 0 个（共 3 个单位）" in out
    assert "【村（社区）考核等次】不参加本项评定" in out
    assert "“优秀”不超过40%（向下取整）：3 个单位，名额 ≤ 1" in out


def test_public_version_names_people_with_their_unit(result, tmp_path):
    from openpyxl import load_workbook

    from villagescore.io.summary import build_public

    path = tmp_path / "public.xlsx"
    path.write_bytes(build_public(result))
    ws = load_workbook(path)["公示"]
    head = [c.value.replace("\n", "") for c in ws[3]]
    assert head == ["排名", "单位或人员", "所属单位", "年度考核综合得分", "等次"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=4, values_only=True) if r[1]}
    assert rows["彭志刚（书记）"][2] == "新港社区"
    assert rows["彭志刚（书记）"][4] == "“下述下评”总体评价：一般\n党组织书记年度考核建议等次：基本称职"
