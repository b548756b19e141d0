"""A form nobody typed into is not returned: 未填写, one issue per form, and never counted as zero reports.

A register whose emptiness would mean "nothing to report" (the anonymous box, adjustments, the rectification
list) says so explicitly with its 本期无… box; left untouched it is a form not returned yet, not full marks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from villagescore.demo import declare_none, fill
from villagescore.io.reader import read_workbook
from villagescore.io.schemes import load
from villagescore.pipeline import compute, make_forms, validate
from villagescore.stages.validate import COVERAGE_STATUS

from township import COMMITTEE, STANDARD, fill_committee, fill_unit, find, forms

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def nothing_from_v3(tmp_path_factory, scheme):
    """The standard township, but 石桥村 (V3) returned nothing: its four forms are as generated."""
    folder = forms(scheme, tmp_path_factory.mktemp("v3"))
    for unit, spec in STANDARD.items():
        if unit != "V3":
            fill_unit(folder, unit, **spec)
    fill_committee(folder, COMMITTEE)
    return folder


def test_a_village_that_returned_nothing_is_not_filled_in(nothing_from_v3, scheme):
    res = validate(scheme, [nothing_from_v3])
    v3 = [i for i in res.report.issues if i.unit == "V3"]
    # one issue per form: 测评票, 回访核查表, 问卷统计表 (form-empty), 匿名评价登记表 (register-empty)
    assert sorted((i.code, i.params["form"]) for i in v3) == [
        ("form-empty", "为民服务日常评价问卷统计表"), ("form-empty", "发展质量集中考评测评票"),
        ("form-empty", "民生诉求效果评价回访核查表"), ("register-empty", "工作作风匿名评价登记表")]
    assert all(i.severity.value == "error" for i in v3)
    anonymous = next(i for i in v3 if i.code == "register-empty")
    assert "也没有在“本期无反映”处选“是”" in anonymous.message
    row = next(r for r in res.coverage.table() if r[0].startswith("石桥村"))
    assert row[1:5] == [COVERAGE_STATUS["blank"]] * 4 and row[5] == COVERAGE_STATUS["ok"]
    other = next(r for r in res.coverage.table() if r[0].startswith("河口村"))  # V2: 本期无反映 ticked
    assert other[1:6] == [COVERAGE_STATUS["ok"]] * 5


def test_compute_holds_back_the_village_and_says_why_once(nothing_from_v3, scheme):
    res = compute(scheme, [nothing_from_v3])
    v3 = next(u for u in res.units if u.code == "V3")
    assert not v3.ok and v3.rounded == {}  # never 20 points for an anonymous box nobody reported on
    assert len([i for i in res.report.errors if i.unit == "V3"]) == 4
    assert not any(i.code in ("no-answers", "too-few-valid", "blank-ballot") for i in res.report.issues
                   if i.unit == "V3")
    assert all(u.grades["grade"].grade is None for u in res.units)  # quotas need every village's score
    v2 = next(u for u in res.units if u.code == "V2")
    assert v2.rounded["style"] == 20  # 本期无反映 ticked: no report, no deduction (5 points × 4 items)


def test_a_ticked_box_with_rows_is_a_contradiction(nothing_from_v3, scheme, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(nothing_from_v3, folder)
    path = find(folder, "anonymous", "V2")  # ticked 本期无反映 …
    fill(path, [{"渠道": "匿名评价箱", "反映事项": "吃拿卡要", "核实结果": "属实"}])  # … and a report typed in
    res = validate(scheme, [folder])
    found = [i for i in res.report.errors if i.file.endswith(path.name)]
    assert [(i.code, i.cell) for i in found] == [("register-none-but-rows", "E3")]
    assert "已在“本期无反映”中选“是”，但表中登记了 1 条事项" in found[0].message


CASES = [  # scheme, the sample's setup folder, period
    ("pingbian", SAMPLES / "qingshi" / "基础信息", "2025H1"),
    ("dazehu", SAMPLES / "qinghu" / "基础信息", "2024"),
    ("county_dynamic", SAMPLES / "lanxi" / "云岭镇" / "基础信息", "2025Q1"),
    ("dazhou_street", SAMPLES / "yunhe" / "基础信息", "2024"),
    ("shuocheng", SAMPLES / "taoyuan" / "基础信息", "2024"),
]


@pytest.mark.parametrize("name,setup,period", CASES, ids=[c[0] for c in CASES])
def test_every_register_of_every_scheme_needs_its_box(name, setup, period, tmp_path):
    """Every register of every built-in scheme: untouched, one issue (an error where a score reads it, a warning
    for a list only, e.g. the 问题整改清单); with its 本期无… box ticked, none."""
    scheme = load(name)
    run = make_forms(scheme, setup / "名册.xlsx", setup / "考核细则.xlsx" if (setup / "考核细则.xlsx").exists() else None,
                     setup / "民生诉求台账.xlsx" if (setup / "民生诉求台账.xlsx").exists() else None, period,
                     tmp_path / "forms", seed=1)
    assert run.report.errors == []
    registers = {f.id: f for f in scheme.forms if f.kind == "register"}
    assert registers
    scored = {n.form for n in scheme.leaves().values()}
    files = [p for p in run.paths if (read_workbook(p).identity or {}).get("form_id") in registers
             and (read_workbook(p).identity or {}).get("role") == "entry"]
    assert files
    res = validate(scheme, [tmp_path / "forms"])
    for path in files:
        form = registers[read_workbook(path).identity["form_id"]]
        mine = [i for i in res.report.issues if i.file.endswith(path.name)]
        assert [i.code for i in mine] == ["register-empty" if form.id in scored else "register-empty-list"], path
        assert f"“{form.none_label}”" in mine[0].message
        declare_none(path, form.none_label)
    again = validate(scheme, [tmp_path / "forms"])
    assert not any(i.file.endswith(p.name) for p in files for i in again.report.issues)
