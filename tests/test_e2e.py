"""Generate forms, fill them as a clerk would (openpyxl), compute, and check against hand arithmetic."""

from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from villagescore.io.summary import build_summary
from villagescore.core.issues import FatalInput
from villagescore.pipeline import compute

from township import filled, find


@pytest.fixture(scope="module")
def township(tmp_path_factory, scheme):
    root = tmp_path_factory.mktemp("township")
    folder = filled(scheme, root)
    # The clerk renamed one file by hand; it is still recognised by its identity sheet.
    ballot = find(folder, "ballot", "V1")
    ballot.rename(ballot.with_name("青山村 打分 最终版.xlsx"))
    return folder


@pytest.fixture(scope="module")
def result(township, scheme):
    return compute(scheme, [township])


def unit(result, code):
    return next(u for u in result.units if u.code == code)


def test_composite_by_hand(result):
    v1 = unit(result, "V1").rounded
    assert (v1["meeting"], v1["instant"], v1["reverse"]) == (D("85.50"), D("92.00"), D("86.80"))
    assert (v1["township"], v1["county"], v1["composite"]) == (D("90.00"), D("88.00"), D("88.52"))
    v2 = unit(result, "V2").rounded
    assert (v2["meeting"], v2["instant"], v2["reverse"], v2["composite"]) == (D("80.00"), D("80.00"), D("80.00"),
                                                                               D("82.75"))
    # V4: meeting 90, instant 50 + 27 + 20 = 97 → reverse 91.4; 0.4×91.4 + 0.5×92 + 0.1×90 = 91.56
    assert unit(result, "V4").rounded["composite"] == D("91.56")


def test_grades_under_quota(result):
    grades = {u.code: u.grades["grade"].grade for u in result.units}
    # five villages: 好 at most floor(1.0) = 1, 差 at least ceil(0.5) = 1
    assert grades == {"V4": "好", "V1": "中", "V2": "中", "V3": "中", "V5": "差"}
    assert [u.code for u in result.units] == ["V4", "V1", "V2", "V3", "V5"]
    # ±10% of the roster's 工作经费基数 (30,000 each): seed 000 ties it to the year's result, so a half-year
    # shows it only as expected (预计), never as applied
    assert unit(result, "V4").grades["grade"].funds_change == D("3000.00")
    assert unit(result, "V5").grades["grade"].funds_change == D("-3000.00")
    assert unit(result, "V4").grades["grade"].provisional and unit(result, "V5").grades["grade"].provisional


def test_half_year_funds_are_provisional(result):
    from villagescore.core.explain import explain_unit
    from villagescore.io.exports import to_json

    ws = load_workbook(__import__("io").BytesIO(build_summary(result)))["汇总"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    v4 = next(r for r in rows if "V4" in r)
    assert "预计（按全年考评结果执行，本期不执行）：增加所在村工作经费10%" in " ".join(str(x) for x in v4 if x)
    assert "工作经费 +3,000.00 元" in " ".join(str(x) for x in v4 if x)
    data = {u["unit_code"]: u for u in to_json(result)["units"]}
    assert data["V4"]["funds_change"] is None and data["V4"]["funds_provisional"] == "3000.00"
    assert data["V5"]["funds_change"] is None and data["V5"]["funds_provisional"] == "-3000.00"
    assert "预计工作经费增减：+3,000.00 元（本期不执行）" in "\n".join(explain_unit(result, "V4"))


def test_renamed_file_counted_and_clean_report(result):
    assert any("打分 最终版" in f.path and f.status == "已读取" for f in result.files)
    assert result.report.errors == []


def test_summary_workbook(result, tmp_path):
    path = tmp_path / "汇总.xlsx"
    path.write_bytes(build_summary(result))
    wb = load_workbook(path, data_only=True)  # cached values, as Excel shows them before recalculating
    assert [w.title for w in wb.worksheets if w.sheet_state == "visible"] == [
        "汇总", "图表", "分项得分", "得分依据", "等次配额", "测评明细", "问题清单", "说明"]
    ws = wb["汇总"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = [h.replace("\n", "") if isinstance(h, str) else h for h in next(r for r in rows if r and r[0] == "排名")]
    v1 = next(r for r in rows if "V1" in r)
    assert v1[header.index("综合考评得分")] == pytest.approx(88.52)
    formulas = [[c.value for c in r] for r in load_workbook(path)["汇总"].iter_rows()]
    v1_formula = next(r for r in formulas if "V1" in r)[header.index("综合考评得分")]
    assert v1_formula.startswith("=ROUND(") and "分项得分" in v1_formula
    assert v1[header.index("考评等次")] == "中"
    details = [[c.value for c in r] for r in wb["测评明细"].iter_rows()]
    assert sum(1 for r in details if "V1" in r and r[details[1].index("状态")]) == 10
    named = next(r for r in details if "V1" in r)  # above V1's ballots: the row naming its own ten criteria
    assert named[1].endswith("考核细则") and named[3] and not named[details[1].index("状态")]


def test_other_period_refused(tmp_path, scheme, township):
    import shutil

    other = filled(scheme, tmp_path / "h2", "2025H2")
    mixed = tmp_path / "mixed"
    shutil.copytree(township, mixed / "h1")
    shutil.copy(find(other, "ballot", "V2"), mixed / "h1" / "混进来的下半年表.xlsx")
    res = compute(scheme, [mixed], period="2025H1")
    codes = [(i.code, i.file) for i in res.report.errors]
    assert ("file-other-period", "mixed/h1/混进来的下半年表.xlsx") in codes
    # Without --period a stray half makes the run annual, and the missing half is reported, never ignored.
    res = compute(scheme, [mixed])
    assert res.period == "2025"
    assert any(i.code == "form-missing" and "2025H2" in i.message for i in res.report.errors)
    assert not any(u.ok for u in res.units)


def test_no_forms_is_fatal(tmp_path, scheme):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FatalInput):
        compute(scheme, [tmp_path / "empty"], roster=tmp_path / "none.xlsx")

def test_annual_combines_halves(tmp_path, scheme, township):
    h2 = filled(scheme, tmp_path / "h2", "2025H2")
    res = compute(scheme, [township, h2])
    assert res.period == "2025" and res.periods == ["2025H1", "2025H2"]
    v1 = unit(res, "V1")
    assert v1.rounded["composite"] == D("88.52")  # same values both halves → same year score
    assert set(v1.by_period) == {"2025H1", "2025H2"}
    # the year's grades (the same as each half's) apply the funds change, once
    v4 = unit(res, "V4").grades["grade"]
    assert (v4.grade, v4.funds_change, v4.provisional) == ("好", D("3000.00"), False)
    from villagescore.io.exports import to_json

    data = {u["unit_code"]: u for u in to_json(res)["units"]}
    assert data["V4"]["funds_change"] == "3000.00" and data["V4"]["funds_provisional"] is None


def _copy(township, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(township, target)
    return target


def _edit(path, cells):
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    for ref, value in cells.items():
        ws[ref] = value
    wb.save(path)


def test_unknown_unit_row_in_committee_sheet(tmp_path, scheme, township):
    folder = _copy(township, tmp_path)
    _edit(find(folder, "committee"), {"A10": "V9", "C10": 80, "D10": 80})
    res = compute(scheme, [folder])
    err = next(i for i in res.report.errors if i.code == "unit-unknown")
    assert (err.cell, err.message) == ("A10", "单位代码 V9 不在名册中")
    assert all(u.ok for u in res.units)  # a stray row blocks nobody


def test_two_different_files_for_one_form(tmp_path, scheme, township):
    import shutil

    folder = _copy(township, tmp_path)
    src = find(folder, "questionnaire", "V2")
    other = folder / "另一份问卷.xlsx"
    shutil.copy(src, other)
    _edit(other, {"B5": 1})
    res = compute(scheme, [folder])
    err = next(i for i in res.report.errors if i.code == "conflicting-files")
    assert "河口村（V2）" in err.message and err.unit == "V2"
    assert not next(u for u in res.units if u.code == "V2").ok
    assert {u.code for u in res.units if u.ok} == {"V1", "V3", "V4", "V5"}
    assert all(u.grades["grade"].grade is None for u in res.units)  # quotas need every unit's score


def test_identical_copy_is_a_warning(tmp_path, scheme, township):
    import shutil

    folder = _copy(township, tmp_path)
    shutil.copy(find(folder, "anonymous", "V1"), folder / "副本.xlsx")
    res = compute(scheme, [folder])
    assert any(i.code == "duplicate-file" for i in res.report.warnings)
    assert res.report.errors == []


def test_changed_callback_rows_and_identity_in_anonymous(tmp_path, scheme, township):
    folder = _copy(township, tmp_path)
    _edit(find(folder, "callback", "V3"), {"B5": "V3-99"})
    _edit(find(folder, "anonymous", "V3"), {"B5": "匿名评价箱", "C5": "吃拿卡要", "D5": "联系电话：13912345678",
                                           "E5": "不属实"})
    res = compute(scheme, [folder])
    codes = {i.code: i for i in res.report.errors}
    assert "V3-99" in codes["draw-mismatch"].message
    assert codes["identity-in-anonymous"].cell == "D5"
    assert not next(u for u in res.units if u.code == "V3").ok


def test_file_of_another_scheme_refused(tmp_path, scheme, township):
    folder = _copy(township, tmp_path)
    path = find(folder, "questionnaire", "V4")
    wb = load_workbook(path)
    ident = wb["_villagescore"]
    for row in ident.iter_rows():
        if row[0].value == "scheme_id":
            row[1].value = "dazehu"
    wb.save(path)
    res = compute(scheme, [folder])
    err = next(i for i in res.report.errors if i.code == "file-other-scheme")
    assert "dazehu" in err.message and err.file.endswith(path.name)
    assert any(i.code == "form-missing" and i.unit == "V4" for i in res.report.errors)
    # said once, by its title: not again by the score that reads the form (nor by its internal id)
    assert [i.code for i in res.report.errors if i.unit == "V4"] == ["form-missing"]
    assert not any("questionnaire" in i.message for i in res.report.issues)


def test_blank_optional_score_is_never_silent(tmp_path, township):
    """A blank cell in a column the scheme does not require still stops the unit, with a located reason."""
    import tomllib
    from decimal import Decimal
    from pathlib import Path

    from villagescore.core.scheme import load_scheme

    raw = tomllib.loads((Path(__file__).parent.parent / "templates" / "pingbian.toml").read_text("utf-8"),
                        parse_float=Decimal)
    committee = next(f for f in raw["forms"] if f["id"] == "committee")
    for col in committee["columns"]:
        col["required"] = False
    relaxed = load_scheme(raw)
    folder = _copy(township, tmp_path)
    _edit(find(folder, "committee"), {"D6": None})  # V2's 县委评定 left blank
    res = compute(relaxed, [folder])
    err = next(i for i in res.report.errors if i.code == "leaf-missing")
    assert err.unit == "V2" and "县委评定" in err.message and err.file.endswith("乡党委县委评分表_2025H1.xlsx")
    assert not next(u for u in res.units if u.code == "V2").ok
