"""Live formulas in 汇总 and 分项得分: what they say, and that a real spreadsheet program agrees.

LibreOffice (headless, a throw-away profile set to always recalculate on load) opens each summary,
recalculates every formula and saves a copy; every recalculated value must equal the value cached
by the writer. The workbooks come from the real pipeline (a township built inline, and the samples'
2025H1 + 2025H2 → 2025) and from made-up results that sit on and near rounding boundaries.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal as D
from fractions import Fraction as F
from pathlib import Path

import openpyxl
import pytest

from villagescore.core.explain import evaluate, formula_fields
from villagescore.core.issues import Report
from villagescore.core.numbers import round_half_up
from villagescore.core.records import BallotLine, GradeResult, LeafDetail, RunResult, Unit, UnitResult
from villagescore.io.summary import build_summary
from villagescore.io.summary.trace import join_terms as _join, term as _term
from villagescore.pipeline import compute

from township import filled

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "qingshi"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""
# a formula holds cell references, numbers, our own sheet names and words: never text from an input
FORMULA = re.compile(r"=[A-Z0-9$:!.,()*+\-]*(?:(?:'分项得分'|'测评明细'|\"有效\")[A-Z0-9$:!.,()*+\-]*)*")
TREE = {"part": [("a", D(1)), ("c", D(1))], "total": [("part", D("0.4")), ("b", D("0.6"))]}


def traced(result: RunResult, scheme) -> RunResult:
    """The fields the pipeline fills for formulas (set here while it does not yet)."""
    if not getattr(result, "node_formulas", None):
        for key, value in formula_fields(scheme, result.period, result.periods).items():
            setattr(result, key, value)
    return result


def _unit(code: str, leaves: dict[str, F], ballots: list[tuple[str, D | None]] = ()) -> tuple[UnitResult, list]:
    values = {n: evaluate(n, TREE, leaves) for n in ["a", "b", "c", "part", "total"]}
    rounded = {n: round_half_up(v, 2) for n, v in values.items()}
    u = UnitResult(Unit(code, f"{code}村", "村", "王某"), exact=values, rounded=rounded, by_period={"2025H1": rounded},
                   details=[LeafDetail(n, "2025H1", v, {"值": v}, "直接录入", "票.xlsx / 录入表") for n, v in leaves.items()],
                   grades={"grade": GradeResult("grade", "中", rank=1)})
    lines = [BallotLine(code, "2025H1", str(i), {"c01": t}, t, status, "票.xlsx", "录入表", i + 3)
             for i, (status, t) in enumerate(ballots)]
    return u, lines


def boundary_result() -> RunResult:
    """total = 0.4 × (a + c) + 0.6 × b, for values on, near and away from a rounding boundary."""
    specs = {
        "ON": ({"a": F(50), "c": F("0.0125"), "b": F(70)}, []),  # total exactly 62.005 → 62.01
        "BELOW": ({"a": F(50), "c": F("0.01249999999"), "b": F(70)}, []),  # 62.004999999996: 10 places would say 62.01
        "NEAR": ({"a": F(50), "c": F("0.0125000001"), "b": F(70)}, []),  # 4e-11 above the boundary
        "THIRDS": ({"a": F(256, 3), "c": F(1, 7), "b": F("91.5")}, []),
        "BALLOT": ({"a": F(257, 3), "c": F(0), "b": F(90)},
                   [("有效", D(85)), ("作废", None), ("有效", D(86)), ("有效", D(86))]),  # AVERAGEIFS = 257/3
    }
    units, ballots = [], []
    for code, (leaves, lines) in specs.items():
        u, b = _unit(code, leaves, lines)
        units.append(u)
        ballots += b
    result = RunResult("t", "测试方案", "1", "", "2025H1", ["2025H1"], units, [], Report(), [], ballots,
                       "2025-07-05 10:30:00", "0.1.0", node_labels={"a": "甲", "b": "乙", "c": "丙", "part": "小计",
                                                                   "total": "总分"},
                       display=["part", "total"], leaves=["a", "b", "c"], gradings=[("grade", "等次")],
                       grade_orders={"grade": ["好", "中", "差"]})
    result.node_formulas = TREE
    return result


def formulas(data: bytes) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets if ws.sheet_state == "visible" for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")}


def _row(ws, code: str) -> int:
    return next(c.row for col in "AB" for c in ws[col] if c.value == code)


# ---------------------------------------------------------------- what the formulas say (no LibreOffice)


def test_formulas_follow_the_tree_and_hold_no_input_text():
    data = build_summary(boundary_result())
    found = formulas(data)
    assert found and all(FORMULA.fullmatch(f) for f in found.values()), found
    wb = openpyxl.load_workbook(io.BytesIO(data))
    r = _row(wb["分项得分"], "THIRDS")
    assert wb["分项得分"][f"F{r}"].value == f"=ROUND(C{r}+E{r},2)"  # part = a + c
    assert wb["分项得分"][f"G{r}"].value == f"=ROUND(0.4*(C{r}+E{r})+0.6*D{r},2)"  # one rounding, at the end
    assert wb["分项得分"][f"C{r}"].value == pytest.approx(float(F(256, 3)), abs=1e-10)  # exact leaf, 10 decimals
    assert wb["分项得分"][f"C{r}"].number_format == "0.00"
    s = _row(wb["汇总"], "THIRDS")
    assert wb["汇总"][f"G{s}"].value == f"=ROUND(0.4*('分项得分'!C{r}+'分项得分'!E{r})+0.6*'分项得分'!D{r},2)"
    b = _row(wb["分项得分"], "BALLOT")
    assert wb["分项得分"][f"C{b}"].value == "=AVERAGEIFS('测评明细'!E3:E6,'测评明细'!F3:F6,\"有效\")"


def test_values_stand_where_a_formula_could_round_otherwise():
    result = boundary_result()
    wb = openpyxl.load_workbook(io.BytesIO(build_summary(result)))
    cached = openpyxl.load_workbook(io.BytesIO(build_summary(result)), data_only=True)
    for sheet, col in (("分项得分", "G"), ("汇总", "G")):
        ws = wb[sheet]
        for code, shown, why in (("BELOW", 62.0, "不同"), ("NEAR", 62.01, "分界点"), ("ON", 62.01, None)):
            cell = ws[f"{col}{_row(ws, code)}"]
            assert cached[sheet][cell.coordinate].value == pytest.approx(shown), (sheet, code)
            if why is None:
                assert str(cell.value).startswith("=ROUND("), (sheet, code)
            else:
                assert cell.value == pytest.approx(shown) and why in cell.comment.text, (sheet, code)
    about = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    listed = next(r[1] for r in about if r[0] == "未用公式的单元格")
    assert "汇总!G" in listed and "分项得分!G" in listed
    assert any(r[0] == "计算公式" and "ROUND" in r[1] for r in about)


def test_signed_terms():
    terms = [_term(D(1), "A1"), _term(D(-1), "B1"), _term(D("-0.5"), "C1"), _term(D("0.25"), "(D1+E1)")]
    assert _join(terms) == "A1-B1-0.5*C1+0.25*(D1+E1)"


def test_without_weights_plain_values():
    result = boundary_result()
    result.node_formulas = {}
    assert formulas(build_summary(result)) == {}


# ---------------------------------------------------------------- LibreOffice recalculates


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory, scheme) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("recalc")
    township = compute(scheme, [filled(scheme, root / "township")])
    samples = compute(scheme, [SAMPLES / "2025H1表格", SAMPLES / "2025H2表格"], period="2025")
    assert samples.period == "2025" and samples.periods == ["2025H1", "2025H2"]
    return {
        "township": build_summary(traced(township, scheme)),
        "samples": build_summary(traced(samples, scheme)),
        "boundary": build_summary(boundary_result()),
    }


@pytest.fixture(scope="module")
def recalculated(workbooks, tmp_path_factory) -> dict[str, Path]:
    if SOFFICE is None:
        pytest.skip("未安装 LibreOffice（soffice），无法在真实的电子表格程序中重算公式")
    root = tmp_path_factory.mktemp("lo")
    profile = root / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(XCU, encoding="utf-8")
    sources = []
    for name, data in workbooks.items():
        (root / "in").mkdir(exist_ok=True)
        path = root / "in" / f"{name}.xlsx"
        path.write_bytes(data)
        sources.append(str(path))
    out = root / "out"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(out), *sources], check=True, capture_output=True, timeout=600)
    return {name: out / f"{name}.xlsx" for name in workbooks}


@pytest.mark.parametrize("name", ["township", "samples", "boundary"])
def test_libreoffice_recalculates_the_cached_values(name, workbooks, recalculated):
    data = workbooks[name]
    found = formulas(data)
    sheets = {s for s, _ in found}
    assert {"汇总", "分项得分"} <= sheets and sum("ROUND(" in f for f in found.values()) >= 10
    cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    again = openpyxl.load_workbook(recalculated[name], data_only=True)
    differ = []
    for (sheet, cell), formula in found.items():
        before, after = cached[sheet][cell].value, again[sheet][cell].value
        assert isinstance(before, (int, float)), (sheet, cell, formula, before)
        if not isinstance(after, (int, float)) or abs(after - before) > 1e-9:
            differ.append((sheet, cell, formula, before, after))
    assert differ == []


def test_recalculated_township_matches_hand_arithmetic(workbooks, recalculated):
    found = formulas(workbooks["township"])
    assert any("AVERAGEIFS" in f for f in found.values())  # ballot means over 测评明细
    ws = openpyxl.load_workbook(recalculated["township"], data_only=True)["汇总"]
    header = [c.value.replace("\n", "") if isinstance(c.value, str) else c.value for c in ws[2]]  # a long label is set on two lines
    v1 = next(r for r in ws.iter_rows(values_only=True) if r[1] == "V1")
    assert v1[header.index("综合考评得分")] == pytest.approx(88.52, abs=1e-12)  # 0.4×86.8 + 0.5×90 + 0.1×88
    assert v1[header.index("逆向考评得分")] == pytest.approx(86.80, abs=1e-12)


def test_recalculated_year_combines_the_halves(workbooks, recalculated):
    found = formulas(workbooks["samples"])
    wb = openpyxl.load_workbook(recalculated["samples"], data_only=True)
    scores = wb["分项得分"]
    year_rows = [c.row for c in scores["C"] if c.value == "2025年度"]
    assert len(year_rows) == 8
    r = year_rows[0]
    assert found[("分项得分", f"D{r}")] == f"=0.5*D{r - 2}+0.5*D{r - 1}"  # H1 50% + H2 50%, at full precision
    header, first = ([str(c.value).replace("\n", "") if r == 2 else c.value for c in wb["汇总"][r]] for r in (2, 3))
    assert first[1:3] == ["QS01", "青山村"] and first[header.index("综合考评得分")] == pytest.approx(93.16)  # README
