"""units.csv / issues.csv and the JSON export: stable English columns, exact decimals, safe text."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

from openpyxl import Workbook

from villagescore.core.issues import Report, issue
from villagescore.core.records import GradeResult, RunResult, Unit, UnitResult
from villagescore.io.exports import safe_cell, to_json, unit_columns, write_csv


def _result() -> RunResult:
    def unit(code, name, score, grade, **kw):
        rounded = {"reverse": D(score) - 1, "composite": D(score)} if score else {}
        return UnitResult(Unit(code, name, "村", "王小明", "青石乡"), rounded=rounded, grades={"grade": grade},
                          ok=bool(score), **kw)

    units = [
        unit("V1", "青山村", "88.52", GradeResult("grade", "好", rank=1, funds_change=D("3000.00"))),
        unit("V2", "=HYPERLINK(\"http://x\")", "80.10", GradeResult("grade", None, ("好", "中"), "同分", rank=2)),
        unit("V3", "@石桥村", "80.10", GradeResult("grade", "差", rank=2, funds_change=D("-2500.50"))),
        unit("V4", "+河口村", "", GradeResult("grade", None, (), "暂不评定")),
    ]
    report = Report([issue("not-a-number", file="-V4_测评票.xlsx", sheet="测评票", cell="C7", unit="V4", value="=1+1")])
    return RunResult("pingbian", "村党组织书记逆向述职考评", "1.0", "", "2025H1", ["2025H1"], units, [], report, [], [],
                     "2025-07-05 10:30:00", "0.1.0", node_labels={"reverse": "逆向考评得分", "composite": "综合考评得分"},
                     display=["reverse", "composite"], gradings=[("grade", "考评等次")])


def _read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_units_csv_columns_and_values(tmp_path):
    paths = write_csv(_result(), tmp_path / "导出")
    assert [p.name for p in paths] == ["units.csv", "issues.csv"]
    rows = _read(paths[0])
    assert rows[0] == ["unit_code", "unit_name", "unit_type", "secretary", "township", "parent_code", "parent_name",
                       "rank", "score_reverse",
                       "score_composite", "grade_grade", "grade_pending", "funds_change", "funds_provisional", "ok"]
    assert rows[0] == unit_columns(_result())
    assert rows[1] == ["V1", "青山村", "村", "王小明", "青石乡", "", "", "1", "87.52", "88.52", "好", "", "3000.00",
                       "", "true"]
    assert rows[2][1] == "'=HYPERLINK(\"http://x\")" and rows[2][10:12] == ["", "好/中"]
    assert rows[3][1] == "'@石桥村" and rows[3][12] == "-2500.50"  # our own negative number stays a number
    assert rows[4][1] == "'+河口村" and rows[4][7:10] == ["", "", ""] and rows[4][-1] == "false"
    assert paths[0].read_bytes().count(b"\r\n") == 5


def test_issues_csv(tmp_path):
    rows = _read(write_csv(_result(), tmp_path)[1])
    assert rows[0] == ["code", "severity", "file", "sheet", "cell", "unit", "message", "hint"]
    assert rows[1][:6] == ["not-a-number", "error", "'-V4_测评票.xlsx", "测评票", "C7", "V4"]
    assert rows[1][6] == "“=1+1”不是数字"  # does not start with =, so not quoted


def test_csv_opens_as_text_in_a_spreadsheet(tmp_path):
    """What a spreadsheet would run as a formula arrives as text."""
    rows = _read(write_csv(_result(), tmp_path)[0])
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    assert all(not str(c.value).startswith(("=", "+", "-", "@")) or c.value == "-2500.50"
               for r in wb.active.iter_rows() for c in r if c.value is not None)


def test_json_same_fields_exact_decimals():
    data = to_json(_result())
    json.dumps(data, ensure_ascii=False)  # plain JSON types only
    assert data["scheme"] == "pingbian" and data["period"] == "2025H1" and data["periods"] == ["2025H1"]
    assert data["nodes"] == {"reverse": "逆向考评得分", "composite": "综合考评得分"}
    first, second, _, broken = data["units"]
    assert list(first) == unit_columns(_result())
    assert first["score_composite"] == "88.52" and first["rank"] == 1 and first["funds_change"] == "3000.00"
    assert second["unit_name"] == "=HYPERLINK(\"http://x\")"  # JSON is not a spreadsheet: no quoting
    assert second["grade_grade"] is None and second["grade_pending"] == {"grade": ["好", "中"]}
    assert broken["ok"] is False and broken["score_composite"] is None and broken["rank"] is None
    assert data["issues"][0] == {"code": "not-a-number", "severity": "error", "file": "-V4_测评票.xlsx",
                                 "sheet": "测评票", "cell": "C7", "unit": "V4", "message": "“=1+1”不是数字",
                                 "hint": "请填写数字，例如 85 或 85.5。"}


def test_safe_cell():
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "a=b", None, True, 3, D("-1.50"))] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "a=b", "", "true", "3", "-1.50"]
