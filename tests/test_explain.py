"""explain_unit: one unit's path from ballots to grade, in Chinese lines."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction as F
from pathlib import Path

import pytest

from villagescore.core.explain import evaluate, explain_unit, formula_fields, number, terms
from villagescore.core.issues import Report, issue
from villagescore.core.numbers import round_half_up
from villagescore.core.records import (BallotLine, GradeResult, LeafDetail, QuotaLine, RunResult, Unit,
                                       UnitResult)

TREE = {"reverse": [("meeting", D("0.8")), ("appeals", D("0.2"))],
        "composite": [("reverse", D("0.4")), ("township", D("0.6"))]}
LABELS = {"meeting": "发展质量集中考评", "appeals": "民生诉求效果评价", "reverse": "逆向考评得分",
          "township": "乡党委评价", "composite": "综合考评得分"}
NODES = ["meeting", "appeals", "township", "reverse", "composite"]
SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "qingshi"


def _unit(code, name, by_period: dict[str, dict[str, F]], grade: GradeResult | None, **kw) -> UnitResult:
    per = {p: {n: evaluate(n, TREE, leaves) for n in NODES} for p, leaves in by_period.items()}
    year = {n: sum(v[n] for v in per.values()) / len(per) for n in NODES}
    details = [LeafDetail(n, p, v, {"有效票": 3, "计入票总分合计": D("256.5")} if n == "meeting" else {"录入分": v},
                          "有效票总分的平均分" if n == "meeting" else "直接录入", f"{p}/{code}_测评票.xlsx / 测评票")
               for p, leaves in by_period.items() for n, v in leaves.items()]
    return UnitResult(Unit(code, name, "村", f"{name}书记"), exact=year,
                      rounded={n: round_half_up(v, 2) for n, v in year.items()},
                      by_period={p: {n: round_half_up(v, 2) for n, v in vals.items()} for p, vals in per.items()},
                      details=details, grades={"grade": grade} if grade else {}, **kw)


def _result(periods=("2025H1",), weights=True) -> RunResult:
    def leaves(m, a, t):
        return {p: {"meeting": F(m), "appeals": F(a), "township": F(t)} for p in periods}

    units = [
        _unit("V1", "甲村", leaves(90, 50, 95), GradeResult("grade", "好", rank=1, reason="“好”不超过20%（向下取整）",
                                                           consequence="增加工作经费10%", funds_change=D("3000"))),
        _unit("V2", "乙村", leaves("85.5", 40, 90), GradeResult("grade", "中", rank=2)),
        _unit("V3", "丙村", leaves(F(256, 3), 30, 88), GradeResult("grade", None, pending=("中", "差"), rank=3,
                                                                  reason="丙村、丁村 同分，待党委研究")),
        _unit("V4", "丁村", leaves(F(256, 3), 30, 88), GradeResult("grade", "差", rank=3, reason="一票否决：严重问题"),
              vetoes=["严重问题"]),
        UnitResult(Unit("V5", "戊村"), ok=False),
    ]
    report = Report([issue("not-a-number", file="戊村_测评票.xlsx", sheet="测评票", cell="C7", unit="V5", value="八十")])
    ballots = [BallotLine("V2", periods[0], serial, {}, total, status, "票.xlsx", "测评票", row)
               for serial, total, status, row in (("1", D(85), "有效", 3), ("2", D(86), "有效", 4), ("3", None, "作废", 5))]
    period = "2025" if len(periods) > 1 else periods[0]
    result = RunResult("pingbian", "村党组织书记逆向述职考评", "1.0", "", period, list(periods), units,
                       [QuotaLine("grade", "“好”不超过20%（向下取整）", "好", 5, "≤ 1", 1),
                        QuotaLine("grade", "“差”不少于10%（向上取整）", "差", 5, "≥ 1", 1)],
                       report, [], ballots, "2025-07-05 10:30:00", "0.1.0", node_labels=LABELS,
                       display=["meeting", "reverse", "township", "composite"],
                       leaves=["meeting", "appeals", "township"], gradings=[("grade", "考评等次")],
                       grade_orders={"grade": ["好", "中", "差"]})
    if weights:
        result.node_formulas = TREE
        result.period_weights = {p: D("0.5") for p in periods} if len(periods) > 1 else {}
    return result


def test_unknown_unit_raises_key_error():
    with pytest.raises(KeyError):
        explain_unit(_result(), "V9")


def test_leaves_weights_rounding_and_rank():
    text = "\n".join(explain_unit(_result(), "V2"))
    assert text.startswith("乙村（V2），村，党组织书记：乙村书记")
    assert "  发展质量集中考评：85.5（有效票总分的平均分）" in text
    assert "    依据：有效票=3；计入票总分合计=256.5" in text
    assert "    来源：2025H1/V2_测评票.xlsx / 测评票" in text
    assert "测评票：3 行，有效 2 张，各张总分：85、86" in text and "作废（未计入）：票号 3" in text
    # 0.8 × 85.5 + 0.2 × 40 = 76.4; 0.4 × 76.4 + 0.6 × 90 = 84.56
    assert "逆向考评得分 = 80% × 发展质量集中考评 85.5 + 20% × 民生诉求效果评价 40 = 76.4 → 76.40" in text
    assert "综合考评得分 = 40% × 逆向考评得分 76.4 + 60% × 乡党委评价 90 = 84.56 → 84.56" in text
    assert "排名：第 2 名（共 4 个单位）" in text
    assert "“好”不超过20%（向下取整）：5 个单位，名额 ≤ 1，实际 1 个；名额已由第 1 名（甲村）占用，本单位不在其内" in text
    assert "“差”不少于10%（向上取整）：5 个单位，名额 ≥ 1，实际 1 个；由第 3 名（丁村）承担，本单位不在其内" in text
    assert text.endswith("→ 本单位为“中”（未进入以上名额，按其余等次评定）")


def test_exact_values_that_do_not_terminate():
    text = "\n".join(explain_unit(_result(), "V3"))
    assert "发展质量集中考评：≈85.333333" in text
    # 0.8 × 256/3 + 0.2 × 30 = 74.2666…; 0.4 × that + 0.6 × 88 = 82.50666… → 82.51
    assert "= ≈82.506667 → 82.51" in text


def test_grade_holders_vetoes_and_pending():
    top = "\n".join(explain_unit(_result(), "V1"))
    assert "本单位在其内，为“好”" in top and "结果运用：增加工作经费10%" in top and "工作经费增减：+3,000.00 元" in top
    vetoed = "\n".join(explain_unit(_result(), "V4"))
    assert "本单位因一票否决：严重问题为“差”，计入该名额" in vetoed and "一票否决：严重问题" in vetoed
    pending = "\n".join(explain_unit(_result(), "V3"))
    assert "【考评等次】待党委研究（“中”或“差”）" in pending
    assert "本单位与同分单位恰好跨越名额线，待党委研究" in pending and "→ 丙村、丁村 同分，待党委研究" in pending


def test_unit_with_errors_names_the_cell():
    text = "\n".join(explain_unit(_result(), "V5"))
    assert "本单位数据有错误，未算出得分" in text
    assert "戊村_测评票.xlsx，工作表“测评票”，单元格 C7：“八十”不是数字" in text
    assert "最终得分" not in text and "【考评等次】不参加本项评定" in text


def test_year_from_two_halves():
    text = "\n".join(explain_unit(_result(("2025H1", "2025H2")), "V2"))
    assert "【2025年上半年】各项得分及依据" in text and "【2025年下半年】各项得分及依据" in text
    assert "综合考评得分 = 50% × 2025年上半年 84.56 + 50% × 2025年下半年 84.56 = 84.56 → 84.56" in text
    assert "最终得分：综合考评得分 84.56" in text


def test_without_weights_values_only():
    text = "\n".join(explain_unit(_result(weights=False), "V2"))
    assert " × " not in text and "  综合考评得分：84.56" in text


def test_number_and_terms():
    assert [number(F(1, 3)), number(F(171, 2)), number(D("88.50")), number(None)] == ["≈0.333333", "85.5", "88.5", "—"]
    assert terms([(D(1), "甲 1"), (D(-1), "乙 2"), (D("0.25"), "丙 3")]) == "甲 1 - 乙 2 + 25% × 丙 3"


def test_explain_on_the_samples(scheme):
    from villagescore.pipeline import compute

    result = compute(scheme, [SAMPLES / "2025H1表格", SAMPLES / "2025H2表格"], period="2025")
    for key, value in formula_fields(scheme, result.period, result.periods).items():
        setattr(result, key, value)
    text = "\n".join(explain_unit(result, "QS06"))
    assert "东坪村（QS06）" in text and "【2025年度】各期合并" in text
    assert "最终得分：综合考评得分 82.31" in text and "→ 本单位为“差”" in text  # README's table
