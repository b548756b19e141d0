"""System D (street target management, templates/dazhou_street.toml) end to end.

A made-up street with eight villages (one a 社区) and three offices: write the roster, generate the
year's forms, type them as the clerks would (openpyxl), compute, and check every total and grade
against the arithmetic written out below.
"""

import shutil
from decimal import Decimal as D

import pytest

from villagescore.demo import declare_none, fill
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.forms import build_setup_workbook
from villagescore.io.schemes import load, resolve
from villagescore.pipeline import compute, make_forms

from township import find

PERIOD = "2023"
UNITS = [
    ("V1", "青禾村", "村"), ("V2", "溪口村", "村"), ("V3", "枫林村", "村"), ("V4", "桃源村", "村"),
    ("V5", "松岗村", "村"), ("V6", "梅岭社区", "社区"), ("V7", "竹溪村", "村"), ("V8", "石坝村", "村"),
    ("O1", "党政办", "站办所"), ("O2", "财政所", "站办所"), ("O3", "司法所", "站办所"),
]
VILLAGES = [c for c, _, t in UNITS if t != "站办所"]
OFFICES = [c for c, _, t in UNITS if t == "站办所"]

# 基础工作: every department gives the village one band on every item, except the overrides.
# A/B/C/D/E = 100/90/80/70/60% of the item maximum, so a uniform band gives 85 × share:
# A 85, B 76.5, C 68, D 59.5, E 51.
BANDS = {
    "V1": ("A", {}),                  # 85
    "V2": ("B", {"anquan": "A"}),     # 76.5 + 安全生产 5 × (1.0 − 0.9) = 77.0
    "V3": ("A", {}),                  # 85
    "V4": ("B", {}),                  # 76.5
    "V5": ("C", {}),                  # 68
    "V6": ("C", {"yiqing": "B"}),     # 68 + 疫情防控 5 × (0.9 − 0.8) = 68.5
    "V7": ("D", {}),                  # 59.5
    "V8": ("E", {}),                  # 51
}
# 党政领导评议 (mean × 0.05), 村述村评 tally 好/较好/一般/差, 村述街道评 (× 0.05), 加减分 rows.
PUBLIC = {
    # V1: mean 94 → 4.70; (40+8)/50 = 0.96 → 90 → 4.50; 90 → 4.50; public 13.70
    #     加减分 市级荣誉 +1, 逾期未办通知 −0.2 → +0.8; total 85 + 13.70 + 0.8 = 99.50
    "V1": ([92, 94, 96], (40, 8, 2, 0), 90, ["市级荣誉", "逾期未办通知"]),
    # V2: mean 89 → 4.45; 40/50 = 0.80 → 80 → 4.00; 85 → 4.25; public 12.70; total 77 + 12.70 = 89.70
    "V2": ([90, 88], (30, 10, 8, 2), 85, []),
    # V3: mean 95 → 4.75; 50/50 → 90 → 4.50; 95 → 4.75; public 14.00; total 85 + 14 = 99.00 (vetoed below)
    "V3": ([95, 95], (45, 5, 0, 0), 95, []),
    # V4: mean 80 → 4.00; 35/50 = 0.70 → 70 → 3.50; 80 → 4.00; public 11.50
    #     加减分 县级市表彰 +0.2, 市级批评 −0.3 → −0.1; total 76.5 + 11.5 − 0.1 = 87.90
    "V4": ([80], (20, 15, 10, 5), 80, ["县级市表彰", "市级批评"]),
    # V5: mean 80 → 4.00; 32/50 = 0.64 → 60 → 3.00; 75 → 3.75; public 10.75; 省级荣誉 +2
    #     total 68 + 10.75 + 2 = 80.75
    "V5": ([85, 75], (25, 7, 13, 5), 75, ["省级荣誉"]),
    # V6: mean 80 → 4.00; 20/40 = 0.50 → 40 → 2.00; 70 → 3.50; public 9.50; total 68.5 + 9.5 = 78.00
    "V6": ([70, 80, 90], (10, 10, 10, 10), 70, []),
    # V7: mean 76 → 3.80; 39/40 = 0.975 → 90 → 4.50; 80 → 4.00; public 12.30; 县级市荣誉 +0.5
    #     total 59.5 + 12.3 + 0.5 = 72.30
    "V7": ([76], (30, 9, 1, 0), 80, ["县级市荣誉"]),
    # V8: mean 60 → 3.00; 10/40 = 0.25 → 40 → 2.00; 60 → 3.00; public 8.00
    #     省级批评 −0.5, two overdue notices −0.4 → −0.9; total 51 + 8 − 0.9 = 58.10 (below 60)
    "V8": ([60], (5, 5, 20, 10), 60, ["省级批评", "逾期未办通知", "逾期未办通知"]),
}
# Offices: 职责 (40), 财务 (10), 重点难点 (10), 述职民主测评 0–100 × 0.2, leaders' mean × 0.2, 加减分.
OFFICE = {
    # O1: 38 + 9 + 9 + 90×0.2 = 18 + mean 85 × 0.2 = 17 + 市级表彰 0.3 = 91.30
    "O1": ((38, 9, 9, 90), [90, 80], ["市级表彰"]),
    # O2: 30 + 7 + 7 + 14 + 70 × 0.2 = 14 → 72.00
    "O2": ((30, 7, 7, 70), [70], []),
    # O3: 28 + 6 + 6 + 12 + 65 × 0.2 = 13 → 65.00 (under the 70 floor for 先进)
    "O3": ((28, 6, 6, 60), [65], []),
}
VETO = {"V3": "安全生产工作造成较大影响"}


@pytest.fixture(scope="module")
def scheme_d():
    return load("dazhou_street")


def _forms(scheme, root):
    setup = root / "setup"
    setup.mkdir(parents=True)
    roster = setup / "名册.xlsx"
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme))
    fill(roster, [{"单位代码": c, "单位名称": n, "类型": t, "党组织书记": f"书记{c}", "所属乡镇": "青石街道"}
                  for c, n, t in UNITS])
    out = root / f"{PERIOD}表格"
    run = make_forms(scheme, roster, None, None, PERIOD, out, seed=7)
    assert run.report.errors == []
    return out


def _fill(scheme, folder, veto=VETO, bands=BANDS, public=PUBLIC):
    # each department types one band per village on its own sheet (its sheet has no rows for offices)
    for form in scheme.forms:
        if not form.id.startswith("dept_"):
            continue
        rows = []
        for code in VILLAGES:
            default, over = bands[code]
            row = {"单位代码": code}
            for col in form.columns:
                if col.type == "band":  # a band letter (points in test_department_points_or_bands)
                    row[col.label] = over.get(col.key, default)
            rows.append(row)
        fill(find(folder, form.id), rows, match="单位代码")
    fill(find(folder, "committee"),
         [{"单位代码": c, "村述街道评": public[c][2], **({"否决事项": veto[c]} if c in veto else {})} for c in VILLAGES],
         match="单位代码")
    fill(find(folder, "office"),
         [{"单位代码": c, "完成站办所职责（40分）": a, "财务状况（10分）": b, "配合完成重点难点工作（10分）": k,
           "年底述职民主测评（百分制）": r} for c, ((a, b, k, r), _, _) in OFFICE.items()], match="单位代码")
    for code in VILLAGES + OFFICES:
        leaders, adjust = (public[code][0], public[code][3]) if code in public else (OFFICE[code][1], OFFICE[code][2])
        fill(find(folder, "leaders", code), [{"票号": i, "评分": s} for i, s in enumerate(leaders, 1)], match="票号")
        if adjust:
            fill(find(folder, "adjust", code), [{"级别/类别": k, "事由": "年度登记"} for k in adjust])
        else:  # nothing this year: the clerk ticks 本期无加减分事项
            declare_none(find(folder, "adjust", code))
        if code in public:
            good, fair, so, bad = public[code][1]
            fill(find(folder, "village_vote", code),
                 [{"评价内容": "村述村评", "好": good, "较好": fair, "一般": so, "差": bad}], match="评价内容")


@pytest.fixture(scope="module")
def street(tmp_path_factory, scheme_d):
    folder = _forms(scheme_d, tmp_path_factory.mktemp("street"))
    _fill(scheme_d, folder)
    return folder


@pytest.fixture(scope="module")
def result(street, scheme_d):
    return compute(scheme_d, [street])


def _by(result):
    return {u.code: u for u in result.units}


def test_clean_run(result):
    assert result.period == PERIOD
    assert [i.text() for i in result.report.errors] == []
    assert all(u.ok for u in result.units)


def test_village_totals_by_hand(result):
    units = _by(result)
    v1 = units["V1"].rounded
    assert (v1["basic"], v1["leader_review"], v1["village_review"], v1["street_review"]) == (
        D("85.00"), D("4.70"), D("4.50"), D("4.50"))
    assert (v1["public"], v1["adjust"], v1["total"]) == (D("13.70"), D("0.80"), D("99.50"))
    # V2 details: 党群 13 × 0.9 = 11.7; 社会稳定 安全生产 5 (A) + 综合治理 6.3 (B) = 11.3
    v2 = units["V2"].rounded
    assert (v2["party"], v2["stability"], v2["basic"], v2["total"]) == (D("11.70"), D("11.30"), D("77.00"), D("89.70"))
    assert units["V6"].rounded["social"] == D("26.10")  # 32 × 0.8 + 疫情防控 5 × 0.1 = 25.6 + 0.5
    totals = {c: units[c].rounded["total"] for c in VILLAGES}
    assert totals == {"V1": D("99.50"), "V2": D("89.70"), "V3": D("99.00"), "V4": D("87.90"), "V5": D("80.75"),
                      "V6": D("78.00"), "V7": D("72.30"), "V8": D("58.10")}
    assert units["V8"].rounded["adjust"] == D("-0.90")
    assert "office_total" not in units["V1"].rounded


def test_village_grades(result):
    units = _by(result)
    grades = {c: units[c].grades["grade"].grade for c in VILLAGES}
    # Seed 003: “考核得分排名前5位的村(社区)……为目标管理先进单位”, and a veto 取消先进单位 without a word of
    # anyone moving up (the scheme's 【默认】 refill = false). Ranking: V1 99.50, V3 99.00, V2 89.70, V4 87.90,
    # V5 80.75, V6 78.00, V7 72.30, V8 58.10. V8 < 60 → 不合格; V3, second, vetoed → 不合格, its 先进 place stays
    # empty: V1, V2, V4, V5 → 先进 (4 of 5); 良好 = “其后” floor(0.3 × 8) = 2 → V6, V7.
    assert grades == {"V1": "先进", "V2": "先进", "V3": "不合格", "V4": "先进", "V5": "先进", "V6": "良好",
                      "V7": "良好", "V8": "不合格"}
    assert "安全生产" in units["V3"].grades["grade"].reason
    assert all("grade" not in units[c].grades for c in OFFICES)
    line = next(q for q in result.quota if q.grading == "grade" and q.grade == "先进")
    assert (line.allowed, line.actual, line.vacated) == ("≤ 5", 4, (("V3", "一票否决"),))
    assert "不递补" in line.rule and line.note == "排名在名额内的枫林村（V3）因一票否决不能评为“先进”，空出 1 个名额，不递补"
    assert f"考核等次：{line.rule}，{line.note}" in result.notes  # on screen and under 汇总 too
    office = next(q for q in result.quota if q.grading == "office_grade" and q.grade == "先进")
    # three offices, so all three are within the first 4; O3 (65.00) is under the 70 of 取消先进单位 情形6
    assert (office.allowed, office.actual, office.vacated) == ("≤ 3", 2, (("O3", "得分低于70"),))


def test_village_grades_when_a_vetoed_place_is_refilled(street, tmp_path):
    """The other reading of 取消先进单位, one key away (refill = true): the next unit by rank, V6, moves up."""
    text = resolve("dazhou_street").read_text(encoding="utf-8")
    assert text.count(", refill = false }") == 2
    path = tmp_path / "refill.toml"
    path.write_text(text.replace(", refill = false }", ", refill = true }"), encoding="utf-8")
    res = compute(load(str(path)), [street])
    assert res.report.errors == []
    grades = {u.code: u.grades["grade"].grade for u in res.units if u.code in VILLAGES}
    # V3's place goes down the ranking: V1, V2, V4, V5, V6 → 先进; 良好 = 2 places, only V7 left above 60.
    assert grades == {"V1": "先进", "V2": "先进", "V3": "不合格", "V4": "先进", "V5": "先进", "V6": "先进",
                      "V7": "良好", "V8": "不合格"}
    line = next(q for q in res.quota if q.grading == "grade" and q.grade == "先进")
    assert (line.actual, line.vacated, line.note) == (5, (), "")


def test_office_totals_and_grades(result):
    units = _by(result)
    totals = {c: units[c].rounded["office_total"] for c in OFFICES}
    assert totals == {"O1": D("91.30"), "O2": D("72.00"), "O3": D("65.00")}
    assert units["O1"].rounded["office_public"] == D("35.00")  # 17 + 18
    # offices graded apart: top 4 with at least 70 → O1, O2 先进; O3 65 misses the floor;
    # 良好 = floor(0.3 × 3) = 0 → O3 合格 (not below 60).
    grades = {c: units[c].grades["office_grade"].grade for c in OFFICES}
    assert grades == {"O1": "先进", "O2": "先进", "O3": "合格"}
    assert "total" not in units["O1"].rounded


def test_without_veto_thirty_percent_liang_hao(tmp_path, scheme_d):
    folder = _forms(scheme_d, tmp_path)
    _fill(scheme_d, folder, veto={})
    res = compute(scheme_d, [folder])
    grades = {u.code: u.grades["grade"].grade for u in res.units if u.code in VILLAGES}
    # without the veto V3 takes a 先进 place (V1, V3, V2, V4, V5); V6 drops to 良好;
    # 良好 = floor(0.3 × 8) = 2 → V6, V7; V8 still 不合格 (below 60); nobody is left for 合格.
    assert grades == {"V1": "先进", "V3": "先进", "V2": "先进", "V4": "先进", "V5": "先进", "V6": "良好",
                      "V7": "良好", "V8": "不合格"}
    line = next(q for q in res.quota if q.grading == "grade" and q.grade == "良好")
    assert (line.allowed, line.actual) == ("≤ 2", 2)


def test_offices_get_no_village_forms(street):
    from openpyxl import load_workbook

    # 站办所 get only the forms the scheme gives them (applies_to): no 村述村评 tally, no department rows
    with pytest.raises(FileNotFoundError):
        find(street, "village_vote", "O1")
    find(street, "leaders", "O1"), find(street, "adjust", "O1")
    ws = load_workbook(find(street, "dept_djb")).worksheets[0]
    assert [ws.cell(r, 1).value for r in range(5, ws.max_row - 1) if ws.cell(r, 1).value] == VILLAGES
    assert ws.cell(ws.max_row, 1).value.startswith("审核人：")  # the department signs its scores
    ws = load_workbook(find(street, "office")).worksheets[0]
    assert [ws.cell(r, 1).value for r in range(5, ws.max_row - 1) if ws.cell(r, 1).value] == OFFICES


def test_blank_band_is_an_error(tmp_path, street, scheme_d):
    # every village row of a department sheet is required now: a blank band names its cell
    folder = tmp_path / "copy"
    shutil.copytree(street, folder)
    fill(find(folder, "dept_djb"), [{"单位代码": "V2", "党建工作（8分）": None}], match="单位代码")
    res = compute(scheme_d, [folder])
    blank = [i for i in res.report.errors if i.code == "missing-value"]
    assert [(i.sheet, i.cell) for i in blank] == [("党建办评分表", "C6")]  # V2 is the second row below the header
    assert "党建工作（8分）" in blank[0].text()
    assert not _by(res)["V2"].ok and _by(res)["V1"].ok


def test_a_tie_at_the_xianjin_line_keeps_its_liang_hao_place(tmp_path, scheme_d):
    """V6 typed exactly as V5 (basic 68, total 80.75, so the tie-breaker 基础工作 is equal too) and V8 lifted
    above 60 (band D: 59.5 + public 8 − 0.9 = 66.60). Ranking without veto: V1 99.50, V3 99.00, V2 89.70,
    V4 87.90, then V5 = V6 80.75 for the 5th 先进 place, V7 72.30, V8 66.60.
    One of V5/V6 will be 先进, the other 良好, whichever the committee picks; 良好 = floor(0.3 × 8) = 2 places,
    one already held by the pair: V7 is 良好 and V8 合格 (before, V7 and V8 both got 良好 and, once decided,
    there were three)."""
    from villagescore.core.explain import explain_unit
    from villagescore.io.summary import build_summary
    from openpyxl import load_workbook
    import io

    folder = _forms(scheme_d, tmp_path)
    bands = {**BANDS, "V6": ("C", {}), "V8": ("D", {})}
    public = {**PUBLIC, "V6": PUBLIC["V5"]}
    _fill(scheme_d, folder, veto={}, bands=bands, public=public)
    res = compute(scheme_d, [folder])
    assert res.report.errors == []
    units = _by(res)
    assert units["V5"].rounded["total"] == units["V6"].rounded["total"] == D("80.75")
    assert units["V8"].rounded["total"] == D("66.60")
    grades = {c: units[c].grades["grade"] for c in VILLAGES}
    assert {c: g.grade for c, g in grades.items() if g.grade} == {
        "V1": "先进", "V3": "先进", "V2": "先进", "V4": "先进", "V7": "良好", "V8": "合格"}
    tie = grades["V5"].tie
    assert tie is not None and tie == grades["V6"].tie
    assert (tie.units, tie.inside, tie.count(tie.inside), tie.outside) == (("V5", "V6"), "先进", 1, "良好")
    assert grades["V5"].pending == ("先进", "良好")
    lines = {q.grade: q for q in res.quota if q.grading == "grade"}
    assert (lines["先进"].allowed, lines["先进"].actual, lines["先进"].pending) == ("≤ 5", 4, 1)
    assert (lines["良好"].allowed, lines["良好"].actual, lines["良好"].pending) == ("≤ 2", 1, 1)
    assert "另有 1 个名额由待党委研究的同分单位（松岗村（V5）、梅岭社区（V6））占用" in lines["良好"].note
    book = load_workbook(io.BytesIO(build_summary(res)))
    quota_rows = [[c.value for c in row] for row in book["等次配额"].iter_rows()]
    liang = next(r for r in quota_rows if r[0] == "考核等次" and r[2] == "良好")
    assert liang[4:7] == ["≤ 2", 1, 1]
    text = "\n".join(explain_unit(res, "V8"))
    assert "其后30%（向下取整）为“良好”：8 个单位，名额 ≤ 2，实际 1 个，另 1 个名额由待党委研究的同分单位占用" in text
    text = "\n".join(explain_unit(res, "V6"))
    assert "待党委研究（“先进”或“良好”）" in text and "其中 1 个为“良好”，已计入此名额" in text


def test_department_points_or_bands(tmp_path, street, scheme_d):
    """Seed 003: departments score each item “由高到低分五个档次打分,分数精确到小数点后2位”. A cell takes a band
    letter or points (0 to the item's maximum, two decimals): 党建办 gives V1 7.35 of 8 points instead of A, so
    V1's 基础工作 is 85 − 8 + 7.35 = 84.35 and its total 99.50 − 0.65 = 98.85; 分项得分 says which was given."""
    import io

    from openpyxl import load_workbook

    from villagescore.io.summary import build_summary

    folder = tmp_path / "copy"
    shutil.copytree(street, folder)
    fill(find(folder, "dept_djb"), [{"单位代码": "V1", "党建工作（8分）": 7.35}], match="单位代码")
    res = compute(scheme_d, [folder])
    assert res.report.errors == []
    units = _by(res)
    assert (units["V1"].rounded["dangjian"], units["V1"].rounded["basic"], units["V1"].rounded["total"]) == (
        D("7.35"), D("84.35"), D("98.85"))
    assert units["V2"].rounded["dangjian"] == D("7.20")  # B: 90% of 8
    detail = {u: next(d for d in units[u].details if d.node == "dangjian") for u in ("V1", "V2")}
    assert (detail["V1"].inputs, detail["V1"].rule) == ({"分数": "7.35"}, "按分数录入")
    assert (detail["V2"].inputs, detail["V2"].rule) == ({"档次": "B"}, "按档次折算")
    book = load_workbook(io.BytesIO(build_summary(res)))  # the inputs on 得分依据, the rules under 分项得分
    rows = [[c.value for c in r] for name in ("得分依据", "分项得分") for r in book[name].iter_rows()]
    text = "\n".join(str(c) for r in rows for c in r if c)
    assert "分数=7.35" in text and "档次=B" in text and "按分数录入" in text and "按档次折算" in text
    # the item's maximum is checked, two decimals at most, and anything else is named with its cell
    fill(find(folder, "dept_djb"), [{"单位代码": "V1", "党建工作（8分）": 8.5}, {"单位代码": "V2", "党建工作（8分）": "F"},
                                    {"单位代码": "V3", "党建工作（8分）": 7.125}], match="单位代码")
    res = compute(scheme_d, [folder])
    found = {i.cell: (i.code, i.message) for i in res.report.errors}
    assert found["C5"] == ("out-of-range", "党建工作（8分）应在 0 到 8 之间，填写的是 8.5")
    assert found["C6"][0] == "not-a-band" and "A、B、C、D、E" in found["C6"][1] and "0 至 8" in found["C6"][1]
    assert found["C7"][0] == "too-many-decimals"
    assert not any(units.ok for units in res.units if units.code in ("V1", "V2", "V3"))


def test_department_sheet_offers_bands_and_takes_points(street):
    from openpyxl import load_workbook

    ws = load_workbook(find(street, "dept_djb")).worksheets[0]
    dv = next(d for d in ws.data_validations.dataValidation if "C5" in str(d.sqref))
    # the dropdown lists A–E; points typed in are let through by Excel (information style) and checked on reading
    assert dv.type == "list" and dv.formula1 == '"A,B,C,D,E"' and dv.errorStyle == "information"
    assert "0 至 8 之间的分数" in dv.prompt
    assert "也可直接填写分数" in ws["A3"].value
