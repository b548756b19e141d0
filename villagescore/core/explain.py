"""One unit's path from ballots to grade, as Chinese lines, for ``villagescore explain``.

Pure: reads a ``RunResult`` only. The weights come from optional ``RunResult`` fields that the
pipeline fills from the scheme with ``formula_fields``: ``node_formulas`` (inner node → [(child,
weight)], children before parents), ``period_weights`` (period → weight, for a year's result) and
``rounding`` ("end" or "each"). Without them the lines give the values and no weights. The summary
writer uses the same fields to write its weighted scores as spreadsheet formulas.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping

from villagescore.core.grading import ENTERED_RULE
from villagescore.core.numbers import exact, round_half_up
from villagescore.core.periods import Period
from villagescore.core.records import GradeResult, LeafDetail, RunResult, UnitResult
from villagescore.core.scheme import Combine, Scheme

Tree = dict[str, list[tuple[str, Decimal]]]


# ---------------------------------------------------------------- the scheme's arithmetic, from a RunResult


def formula_fields(scheme: Scheme, target: str, periods: list[str]) -> dict[str, Any]:
    """The optional RunResult fields behind formulas and ``explain``, from the scheme."""
    tree = {nid: list(node.weights.items()) for nid in scheme.order()
            if isinstance(node := scheme.nodes[nid], Combine)}
    weights = scheme.annual.weights
    annual = {p: weights[p[4:]] for p in periods if p[4:] in weights} if target not in periods else {}
    return {"node_formulas": tree, "period_weights": annual, "rounding": scheme.scheme.rounding}


def node_tree(result: RunResult) -> Tree:
    return dict(getattr(result, "node_formulas", None) or {})


def period_weights(result: RunResult) -> dict[str, Decimal]:
    """Weights of the periods in a year's result; empty unless every period read has one."""
    weights = dict(getattr(result, "period_weights", None) or {})
    periods = result.periods or [result.period]
    return weights if result.period not in periods and all(p in weights for p in periods) else {}


def rounding(result: RunResult) -> str:
    return getattr(result, "rounding", None) or "end"


def evaluate(node: str, tree: Tree, leaves: Mapping[str, Fraction | None]) -> Fraction | None:
    """A node's exact value from its leaves' values (None when a part is missing)."""
    if node not in tree:
        return leaves.get(node)
    total = Fraction(0)
    for child, weight in tree[node]:
        value = evaluate(child, tree, leaves)
        if value is None:
            return None
        total += exact(weight) * value
    return total


def leaf_values(unit: UnitResult, period: str) -> dict[str, Fraction | None]:
    return {d.node: d.value for d in unit.details if d.period == period}


def unit_root(result: RunResult, u: UnitResult) -> str:
    """The node a unit's final score is: the last shown node the unit has a value for (系统 D: a village's
    村（社区）综合得分, an office's 站办所综合得分), else the last shown node."""
    have = [n for n in result.display if n in u.rounded or n in u.exact]
    return have[-1] if have else (result.display[-1] if result.display else "")


def period_label(text: str) -> str:
    try:
        return Period.parse(text).label
    except ValueError:
        return text


def number(value: Fraction | Decimal | int | None) -> str:
    """An exact value as text: all its decimals when it has few, else ≈ six places."""
    if value is None:
        return "—"
    q = exact(value) if not isinstance(value, int) else Fraction(value)
    for places in range(0, 11):
        if (q * 10**places).denominator == 1:
            return f"{round_half_up(q, places):f}"
    return f"≈{round_half_up(q, 6):f}"


def percent(weight: Decimal) -> str:
    return f"{(weight * 100).normalize():f}%"


def terms(parts: list[tuple[Decimal, str]]) -> str:
    """'80% × 甲 85.5 + 20% × 乙 92'; a weight of 1 or -1 (a plain sum) shows as a sign."""
    out = []
    for i, (w, text) in enumerate(parts):
        sign = "-" if w < 0 else "+"
        body = text if abs(w) == 1 else f"{percent(abs(w))} × {text}"
        out.append((f"{sign} " if i or w < 0 else "") + body)
    return " ".join(out)


# ---------------------------------------------------------------- explain


def _ranks_text(ranks: list[int]) -> str:
    """第 1–3、5 名"""
    spans: list[list[int]] = []
    for r in sorted(ranks):
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    return "第 " + "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans) + " 名"


def _holders(result: RunResult, grading: str, grade: str, exclude: str) -> str:
    held = sorted((x.grades[grading].rank or 0, x.unit.name) for x in result.units
                  if x.code != exclude and grading in x.grades and x.grades[grading].grade == grade)
    if not held:
        return ""
    text = _ranks_text([r for r, _ in held])
    return text + (f"（{'、'.join(n for _, n in held)}）" if len(held) <= 3 else "")


def _grade_text(gr: GradeResult | None) -> str:
    if gr is None:
        return "不参加本项评定"
    if gr.grade:
        return f"“{gr.grade}”"
    if gr.pending:
        return f"待党委研究（“{'”或“'.join(gr.pending)}”）"
    if gr.undetermined:
        return "无法判定"
    return "未评定"


def _stance(result: RunResult, u: UnitResult, gid: str, gr: GradeResult, line) -> str:
    decision = gr.decision
    tie = decision.tie if decision is not None else None
    if decision is not None and tie is not None and tie.count(line.grade):
        where = "恰好跨越名额线" if tie.line == line.rule and tie.inside == line.grade else "待党委研究"
        return (f"本单位与同分单位{where}（{len(tie.units)} 个单位中 {tie.count(line.grade)} 个为“{line.grade}”），"
                f"经{decision.source}确定本单位为“{gr.grade}”")
    if gr.grade == line.grade:
        if gr.reason.startswith("一票否决"):
            return f"本单位因{gr.reason}为“{line.grade}”，计入该名额"
        return f"本单位在其内，为“{line.grade}”"
    if gr.tie is not None and gr.tie.count(line.grade):
        if gr.tie.line == line.rule and gr.tie.inside == line.grade:
            return (f"本单位与同分单位恰好跨越名额线，待党委研究（{len(gr.tie.units)} 个单位中 "
                    f"{gr.tie.count(line.grade)} 个为“{line.grade}”）")
        return f"本单位与同分单位待党委研究，其中 {gr.tie.count(line.grade)} 个为“{line.grade}”，已计入此名额"
    if line.grade in gr.pending:
        return "本单位与同分单位恰好跨越名额线，待党委研究"
    others = _holders(result, gid, line.grade, u.code)
    if line.allowed.startswith("≤"):
        empty = f"，{len(line.vacated)} 个名额空出、不递补" if line.vacated else ""
        return f"名额已由{others}占用{empty}，本单位不在其内" if others else "本单位不在其内"
    if line.allowed.startswith("≥"):
        return f"由{others}承担，本单位不在其内" if others else "本单位不在其内"
    return "本单位不符合"


def _leaf_lines(result: RunResult, u: UnitResult, period: str) -> list[str]:
    label = result.node_labels.get
    order = {n: i for i, n in enumerate(result.leaves)}
    lines = []
    details: list[LeafDetail] = sorted((d for d in u.details if d.period == period),
                                       key=lambda d: order.get(d.node, len(order)))
    for d in details:
        lines.append(f"  {label(d.node, d.node)}：{number(d.value)}" + (f"（{d.rule}）" if d.rule else ""))
        if d.inputs:
            lines.append("    依据：" + "；".join(f"{k}={number(v) if isinstance(v, (Fraction, Decimal)) else v}"
                                              for k, v in d.inputs.items()))
        if d.source:
            lines.append(f"    来源：{d.source}")
    ballots = [b for b in result.ballots if b.unit == u.code and b.period == period]
    if ballots:
        valid = [b for b in ballots if b.status == "有效"]
        lines.append(f"  测评票：{len(ballots)} 行，有效 {len(valid)} 张" + (
            "，各张总分：" + "、".join(number(b.total) for b in valid) if valid else ""))
        for status in ("作废", "空白", "有错误"):
            serials = [b.serial or f"第 {b.row} 行" for b in ballots if b.status == status]
            if serials:
                lines.append(f"    {status}（未计入）：票号 {'、'.join(serials)}")
    return lines


def _combine_lines(result: RunResult, tree: Tree, leaves: Mapping[str, Fraction | None],
                   shown: Mapping[str, Decimal]) -> list[str]:
    label = result.node_labels.get
    lines = []
    for node, parts in tree.items():
        value = evaluate(node, tree, leaves)
        if value is None:
            continue
        text = terms([(w, f"{label(c, c)} {number(evaluate(c, tree, leaves))}") for c, w in parts])
        rounded = shown.get(node, round_half_up(value, result.places))
        lines.append(f"    {label(node, node)} = {text} = {number(value)} → {rounded}")
    return lines


def explain_unit(result: RunResult, unit_code: str) -> list[str]:
    """Chinese lines: one unit's leaves with their inputs, weights, exact values, rounding, rank and grades."""
    u = next((x for x in result.units if x.code == unit_code), None)
    if u is None:
        raise KeyError(unit_code)
    label = result.node_labels.get
    tree = node_tree(result)
    places = result.places
    periods = result.periods or [result.period]
    each = rounding(result) == "each"
    lines = [
        f"{u.unit.name}（{u.code}），{u.unit.type}，党组织书记：{u.unit.secretary or '—'}",
        f"{result.scheme_name}（版本 {result.scheme_version}），{period_label(result.period)}",
        f"舍入：四舍五入，保留 {places} 位小数，" + ("每一级舍入" if each else "中间过程精确计算，最后一次舍入"),
    ]
    if not u.ok:
        lines.append("本单位数据有错误，未算出得分：")
        lines += [f"  · {i.where + '：' if i.where else ''}{i.message}（{i.hint}）"
                  for i in result.report.errors if i.unit == u.code] or ["  · 缺少表格或数据，见问题清单"]
    multi = result.period not in periods
    shown = [n for n in result.display if n in u.rounded or n in u.exact] or result.display  # the unit's own nodes
    for p in periods:
        lines.append(f"【{period_label(p)}】各项得分及依据")
        lines += _leaf_lines(result, u, p)
        if u.ok and tree and not each:
            lines.append("  加权合成（精确计算，→ 后为四舍五入结果）：")
            lines += _combine_lines(result, tree, leaf_values(u, p), u.by_period.get(p, {}))
        elif u.ok:
            lines += [f"  {label(n, n)}：{u.by_period.get(p, {}).get(n, '—')}" for n in shown]
    weights = period_weights(result)
    if u.ok and multi:
        lines.append(f"【{period_label(result.period)}】各期合并（各期的精确值加权，→ 后为四舍五入结果）")
        for n in shown:
            def part(p: str) -> str:
                value = evaluate(n, tree, leaf_values(u, p)) if tree and not each else u.by_period.get(p, {}).get(n)
                return f"{period_label(p)} {number(value)}"

            parts = f" = {terms([(weights[p], part(p)) for p in periods])}" if weights else ""
            lines.append(f"  {label(n, n)}{parts} = {number(u.exact.get(n))} → {u.rounded.get(n, '—')}")
    root = unit_root(result, u)
    if u.ok and root:
        lines.append(f"最终得分：{label(root, root)} {u.rounded.get(root, '—')}")
    lines += _grading_lines(result, u)
    lines += _decision_lines(result, u)
    return lines


def _decision_lines(result: RunResult, u: UnitResult) -> list[str]:
    """The committee's decisions on this unit (a grade, an adjustment …) with their source, and what is still open."""
    mine = [i for i in getattr(result, "decisions", []) if u.code in i.units]
    if not mine:
        return []
    lines = ["【党委研究事项】"]
    for i in mine:
        d = i.decided.get(u.code)
        if d is not None:
            lines.append(f"  · {i.title}")
            lines.append(f"    决定：“{d.choice}”，依据：{d.source}，来源：{d.file}")
        else:
            lines.append(f"  · 待党委研究：{i.title}（可选：{i.options_text(u.code)}）")
    return lines


def _grading_lines(result: RunResult, u: UnitResult) -> list[str]:
    lines = []
    for gid, glabel in result.gradings:
        gr = u.grades.get(gid)
        lines.append(f"【{glabel}】{_grade_text(gr)}")
        if gr is None:
            continue
        n = sum(1 for x in result.units if gid in x.grades)
        if gr.rank is not None:
            lines.append(f"  排名：第 {gr.rank} 名（共 {n} 个单位）")
        quota = [q for q in result.quota if q.grading == gid]
        if quota and all(q.rule == ENTERED_RULE for q in quota):  # grades typed in by the committee
            counts = "、".join(f"“{q.grade}” {q.actual} 个" for q in quota)
            quota = []
            lines.append(f"  · {ENTERED_RULE}：{counts}（共 {n} 个单位）")
        for q in quota:
            allowed = f"，名额 {q.allowed}" if q.allowed not in ("", "—") else ""
            head = f"  · {q.rule}：{q.n} 个单位{allowed}，实际 {q.actual} 个" + (
                f"，另 {q.pending} 个名额由待党委研究的同分单位占用" if q.pending else "")
            lines.append(head + ("；" + _stance(result, u, gid, gr, q) if gr.grade or gr.pending else ""))
        for v in u.vetoes:
            lines.append(f"  一票否决：{v}")
        if gr.grade:
            lines.append(f"  → 本单位为“{gr.grade}”" + (f"（{gr.reason}）" if gr.reason else "（未进入以上名额，按其余等次评定）"))
        elif gr.reason:
            lines.append(f"  → {gr.reason}")
        ahead = "预计（按全年考评结果执行，本期不执行）" if gr.provisional else ""
        if gr.consequence:
            lines.append(f"  结果运用{ahead}：{gr.consequence}")
        if gr.funds_change is not None:
            lines.append(f"  {'预计' if ahead else ''}工作经费增减：{gr.funds_change:+,.2f} 元"
                         + ("（本期不执行）" if ahead else ""))
    return lines


__all__ = ["explain_unit", "formula_fields", "node_tree", "period_weights", "rounding", "evaluate",
           "leaf_values", "number", "percent", "terms", "period_label", "unit_root"]
