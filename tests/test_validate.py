"""validate(): the same checks as compute, without results: issues, a units × forms coverage table, counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from villagescore.io.reader import sha256_of
from villagescore.core.issues import FatalInput
from villagescore.pipeline import compute, validate
from villagescore.stages.validate import COVERAGE_STATUS

from test_ingest_corpus import book, edit, find_issue, township_copy
from township import COMMITTEE, find


@pytest.fixture(scope="module")
def clean(tmp_path_factory, scheme):
    return township_copy(tmp_path_factory, scheme, "clean")


def test_clean_township(clean, scheme):
    before = {p: sha256_of(p) for p in clean.rglob("*") if p.is_file()}
    res = validate(scheme, [clean])
    assert res.exit_code == 0 and res.report.issues == [] and res.periods == ["2025H1"]
    table = res.coverage.table()
    assert table[0] == ["单位", "测评票", "回访核查表", "问卷统计表", "匿名评价登记表", "乡党委县委评分表", "错误数"]
    assert table[1] == ["青山村（V1）", *["齐全"] * 5, "0"] and len(table) == 6
    assert res.counts == {"files": 29, "read": 21, "setup": 3, "skipped": 5, "unreadable": 0, "errors": 0,
                          "warnings": 0, "units": 5, "units_with_errors": 0}
    data = json.loads(json.dumps(res.as_dict(), ensure_ascii=False))
    assert data["coverage"]["units"][0]["forms"]["2025H1/ballot"] == "齐全"
    assert {p: sha256_of(p) for p in clean.rglob("*") if p.is_file()} == before  # inputs never change


def test_every_period_checked_where_compute_asks(tmp_path, clean, scheme):
    folder = tmp_path / "f"
    shutil.copytree(clean, folder)
    edit(shutil.copy(find(folder, "anonymous", "V1"), folder / "去年.xlsx"), {}, identity={"period": "2024H2"})
    with pytest.raises(FatalInput):
        compute(scheme, [folder])
    res = validate(scheme, [folder])
    assert res.periods == ["2024H2", "2025H1"]
    cells = res.coverage.cells
    assert cells["V1", "2024H2", "anonymous"] == "齐全" and cells["V1", "2024H2", "ballot"] == "缺少"
    assert cells["V2", "2025H1", "ballot"] == "齐全"
    assert res.coverage.columns[0] == ("2024H2", "ballot", "测评票（2024H2）")
    assert validate(scheme, [folder], period="2025H1").coverage.columns[0] == ("2025H1", "ballot", "测评票")


def test_two_township_files_block_everyone_without_picking_one(tmp_path, clean, scheme):
    folder = tmp_path / "f"
    shutil.copytree(clean, folder)
    other = shutil.copy(find(folder, "committee"), folder / "评分表（改）.xlsx")
    edit(other, {"C5": 60})
    res = validate(scheme, [folder])
    err = find_issue(res, "conflicting-files")
    assert err.unit == "" and {err.file, err.params["other"]} == {"f/评分表（改）.xlsx",
                                                                   "f/乡党委县委评分表_2025H1.xlsx"}
    assert {res.coverage.cells[u, "2025H1", "committee"] for u in ("V1", "V5")} == {"有冲突"}
    assert [i.code for i in res.report.errors] == ["conflicting-files"]  # nothing else: no made-up row issues
    result = compute(scheme, [folder])
    assert not any(u.ok for u in result.units)


def test_missing_committee_row_is_that_units_error_only(tmp_path, clean, scheme):
    folder = tmp_path / "f"
    shutil.copytree(clean, folder)
    path = find(folder, "committee")
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0].delete_rows(9)  # V5's row
    wb.save(path)
    res = validate(scheme, [folder])
    [err] = res.report.errors
    assert (err.code, err.unit) == ("unit-row-missing", "V5") and "乡党委评价及县委评定得分表" in err.message
    assert res.coverage.cells["V5", "2025H1", "committee"] == "有错误"
    assert res.coverage.cells["V4", "2025H1", "committee"] == "齐全"
    assert res.coverage.errors == {"V5": 1} and res.exit_code == 1


def test_office_made_tables_read_by_their_headers(tmp_path, clean, scheme):
    folder = tmp_path / "f"
    shutil.copytree(clean, folder)
    find(folder, "committee").unlink()
    rows = [["乡党委评价及县委评定得分汇总"], ["单位代码", "村名", "乡党委评价", "县委评定"]]
    rows += [[code, "", t, c] for code, (t, c) in COMMITTEE.items()]
    book(folder / "乡党委评分（2025年上半年）.xlsx", rows, title="评分")
    find(folder, "anonymous", "V1").unlink()  # the village's own register, columns reordered, the unit in a column
    book(folder / "匿名登记.xlsx", [["反映事项", "村名", "核实结果", "渠道"],
                                  ["吃拿卡要", "青山村", "属实", "匿名评价箱"],
                                  ["吃拿卡要", "青山村", "属实", "网上匿名信箱"],
                                  ["优亲厚友", "青山村", "不属实", "匿名评价箱"]])
    res = validate(scheme, [folder])
    notes = {i.file: i for i in res.report.issues}
    assert {i.code for i in notes.values()} == {"foreign-identified"} and len(notes) == 2
    committee, register = notes["f/乡党委评分（2025年上半年）.xlsx"], notes["f/匿名登记.xlsx"]
    assert committee.sheet == "评分" and "各行的单位代码" in committee.message
    assert "2025H1，依据文件名" in committee.message
    assert "青山村（V1），依据表内单位列" in register.message and "按本次计算的期间" in register.message
    assert [u.rounded for u in compute(scheme, [folder]).units] == [u.rounded for u in compute(scheme, [clean]).units]


def test_open_file_and_grouping(tmp_path, clean, scheme, monkeypatch):
    folder = tmp_path / "f"
    shutil.copytree(clean, folder)
    locked = find(folder, "callback", "V2")
    real = Path.read_bytes

    def read_bytes(self):
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    res = validate(scheme, [folder])
    err = find_issue(res, "file-unreadable")
    assert err.file.endswith(locked.name) and "正在 Excel/WPS 中打开" in err.message
    assert res.coverage.cells["V2", "2025H1", "callback"] == "缺少" and res.counts["unreadable"] == 1
    groups = res.issues_by_file()
    assert groups[-1][0] == "" and [i.code for i in groups[-1][1]] == ["form-missing"]
    assert set(COVERAGE_STATUS.values()) == {"齐全", "未填写", "有错误", "缺少", "有冲突", "—"}


def test_no_roster_is_fatal(tmp_path, scheme):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FatalInput):
        validate(scheme, [tmp_path / "empty"])


def test_a_form_not_filled_yet_is_one_issue_not_one_per_cell(tmp_path, scheme):
    """Checking while forms come in: an untouched callback form says so once (and 未填写 in the coverage);
    a partly filled one still names each empty cell."""
    from township import forms

    from villagescore.demo import fill

    folder = forms(scheme, tmp_path)
    res = validate(scheme, [folder])
    # every form of a township that returned nothing says so once: four per village, one for the committee's sheet
    assert len(res.report.errors) == 5 * 4 + 1
    empty = [i for i in res.report.errors if i.code == "form-empty" and "回访核查表" in i.message]
    assert sorted(i.unit for i in empty) == ["V1", "V2", "V3", "V4", "V5"]
    assert all("从 " in i.message and i.sheet for i in empty)
    assert set(c for row in res.coverage.table()[1:] for c in row[1:-1]) == {COVERAGE_STATUS["blank"]}
    path = find(folder, "callback", "V1")
    assert not any(i.code == "missing-value" and i.file.endswith(path.name) for i in res.report.errors)
    v1 = res.coverage.table()[1]
    assert v1[0].startswith("青山村") and COVERAGE_STATUS["blank"] in v1
    ids = [c.value for c in openpyxl.load_workbook(path).worksheets[0]["B"][4:] if c.value]
    fill(path, [{"诉求编号": ids[0], "回访方式": "电话回访"}], match="诉求编号")
    again = validate(scheme, [folder])
    missing = [i for i in again.report.errors if i.file.endswith(path.name) and i.code == "missing-value"]
    assert missing and not any(i.code == "form-empty" and i.file.endswith(path.name) for i in again.report.errors)
