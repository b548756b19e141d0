"""Scores from validated rows: leaf aggregations, weighted/summed components, period combination.

Pure: takes rows already read and normalised (``Row.values`` hold Decimal / str / None) and returns
exact Fractions plus the details behind every leaf. Rounding happens once, where the scheme says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, Callable

from villagescore.core.issues import Issue, issue
from villagescore.core.numbers import exact, round_half_up
from villagescore.core.records import BallotLine, Criterion, LeafDetail, Row, Unit
from villagescore.core.scheme import (
    BallotMean,
    Combine,
    CountPoints,
    Deduction,
    Direct,
    RegisterSum,
    Scheme,
    SharePoints,
)

PENDING_MARK = "待核实"


@dataclass
class Source:
    """Where a form's rows came from, to name places in issues."""

    file: str = ""
    sheet: str = ""
    issued: int | None = None  # ballots issued (score ballots)
    counted: dict[str, int | str] | None = None  # facts of the form shown with every leaf that reads it (vote
    # ballots: {"发放": …, "收回": …, "有效票": …})
    reported: bool = False  # the form is missing, conflicting or not typed into, and that was reported once
    # already: the leaves reading it get no value, no source and no issue of their own


@dataclass
class UnitInputs:
    unit: Unit
    period: str
    criteria: list[Criterion] = field(default_factory=list)
    rows: dict[str, list[Row]] = field(default_factory=dict)  # form id → rows of this unit
    sources: dict[str, Source] = field(default_factory=dict)


@dataclass
class LeafOutcome:
    value: Fraction | None
    inputs: dict[str, Any]
    rule: str
    issues: list[Issue] = field(default_factory=list)
    ballots: list[BallotLine] = field(default_factory=list)


@dataclass
class UnitScore:
    unit: Unit
    period: str
    values: dict[str, Fraction | None]
    details: list[LeafDetail]
    issues: list[Issue]
    ballots: list[BallotLine]


def _fmt(value: Fraction | Decimal | int) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))  # a ballot number: what the general case gives, without the exact arithmetic
    d = round_half_up(value if isinstance(value, Fraction) else exact(value), 4)
    text = f"{d:f}".rstrip("0").rstrip(".")
    return text or "0"


# ------------------------------------------------------------------ leaves


def _ballot_mean(node: BallotMean, inp: UnitInputs, nid: str) -> LeafOutcome:
    form_rows = inp.rows.get(node.form, [])
    src = inp.sources.get(node.form, Source())
    where = {"file": src.file, "sheet": src.sheet, "unit": inp.unit.code}
    keys = [c.key for c in inp.criteria] if node.form and inp.criteria else sorted(
        {k for r in form_rows for k in r.values if k.startswith("c")}
    )
    issues: list[Issue] = []
    ballots: list[BallotLine] = []
    totals: list[Fraction] = []
    seen_serial: dict[str, int] = {}
    returned = 0
    for r in form_rows:
        serial = r.get("serial")
        serial_text = _fmt(serial) if isinstance(serial, Decimal) else (serial or "")
        scores = {k: r.get(k) for k in keys}
        filled = [v for v in scores.values() if v is not None]
        void = r.get("void") == "是"
        status = "有效"
        total = None
        if not filled and not void:
            status = "空白"
            issues.append(issue("blank-ballot", cell=r.cell("serial"), serial=serial_text, **where))
        else:
            returned += 1
            if serial_text:
                if serial_text in seen_serial:
                    issues.append(issue("duplicate-serial", cell=r.cell("serial"), serial=serial_text,
                                        other_row=seen_serial[serial_text], **where))
                else:
                    seen_serial[serial_text] = r.row
            if void:
                status = "作废"
                issues.append(issue("void-ballot", cell=r.cell("void"), serial=serial_text, **where))
            elif len(filled) < len(keys):
                status = "有错误"
                for k, v in scores.items():
                    if v is None:
                        issues.append(issue("ballot-item-missing", cell=r.cell(k), label=_label(inp, k), **where))
            else:
                with localcontext() as ctx:  # cell values carry a few decimals: the Decimal sum is exact
                    ctx.prec = 60
                    total = sum(filled, Decimal(0))
                totals.append(Fraction(total))
        ballots.append(BallotLine(inp.unit.code, inp.period, serial_text, scores, total, status,
                                  src.file, src.sheet, r.row))
    if src.issued is not None and returned > src.issued:
        issues.append(issue("too-many-ballots", count=returned, issued=src.issued, **where))
    if len(totals) < node.min_valid:
        issues.append(issue("too-few-valid", valid=len(totals), min=node.min_valid, **where))
    used = sorted(totals)
    if node.trim and len(used) > 2 * node.trim:
        used = used[node.trim: len(used) - node.trim]
    value = sum(used, Fraction(0)) / len(used) if used else None
    inputs = {"发放": src.issued if src.issued is not None else "—", "收回": returned, "有效票": len(totals)}
    if node.trim:
        inputs["去掉最高最低各"] = node.trim
    inputs["计入票总分合计"] = _fmt(sum(used, Fraction(0)))
    rule = "有效票总分的平均分" + (f"（去掉{node.trim}个最高分和{node.trim}个最低分）" if node.trim else "")
    return LeafOutcome(value, inputs, rule, issues, ballots)


def _label(inp: UnitInputs, key: str) -> str:
    for c in inp.criteria:
        if c.key == key:
            return c.text
    return key


def _filtered(rows: list[Row], where: dict[str, list[str]]) -> list[Row]:
    return [r for r in rows if all(r.get(k) in allowed for k, allowed in where.items())]


def _count_points(node: CountPoints, inp: UnitInputs, nid: str) -> LeafOutcome:
    rows = inp.rows.get(node.form, [])
    match = "/".join(node.match)
    count: Fraction | int
    inputs: dict[str, Any]
    if node.field is None:  # a tally: the counts under the matching options
        src = inp.sources.get(node.form, Source())
        if not rows:
            return LeafOutcome(None, {}, "", [issue("no-answers", file=src.file, sheet=src.sheet, unit=inp.unit.code,
                                                   form=src.sheet or node.form)])
        count = sum((exact(r.get(o)) for r in rows for o in node.match if isinstance(r.get(o), Decimal)), Fraction(0))
        inputs = {f"{match}票数": _fmt(count), "每票分值": _fmt(node.points)}
        rule = f"“{match}”票数" + (f" × {_fmt(node.points)}" if node.points != 1 else "")
    else:
        count = sum(1 for r in rows if r.get(node.field) in node.match)
        inputs = {"核查件数": len(rows), f"{match}件数": count, "每件分值": _fmt(node.points)}
        rule = f"每件“{match}”得 {_fmt(node.points)} 分"
    raw = exact(node.points) * count
    value = min(raw, exact(node.cap)) if node.cap is not None else raw
    if node.cap is not None:
        rule += f"，最高 {_fmt(node.cap)} 分"
    return LeafOutcome(value, inputs, rule)


def _share_points(node: SharePoints, inp: UnitInputs, nid: str) -> LeafOutcome:
    rows = inp.rows.get(node.form, [])
    src = inp.sources.get(node.form, Source())
    weights = {k: exact(v) for k, v in node.option_weights.items()}
    counts: dict[str, Fraction] = {}
    if node.field is None:  # a tally: option columns hold counts
        for r in rows:
            for k, v in r.values.items():
                if k != "row" and isinstance(v, Decimal):
                    counts[k] = counts.get(k, Fraction(0)) + exact(v)
    else:  # one answer per row
        for r in rows:
            v = r.get(node.field)
            if v is not None:
                counts[str(v)] = counts.get(str(v), Fraction(0)) + 1
    total = sum(counts.values(), Fraction(0))
    weighted = sum((n * weights.get(o, Fraction(0)) for o, n in counts.items()), Fraction(0))
    issues = []
    value = None
    if total == 0:
        issues.append(issue("no-answers", file=src.file, sheet=src.sheet, unit=inp.unit.code, form=src.sheet or node.form))
    else:
        value = exact(node.points) * weighted / total
    if node.weights:
        pos = "、".join(f"{o}×{_fmt(w)}" for o, w in node.weights.items())
        inputs = {o: _fmt(n) for o, n in counts.items()} | {"合计": _fmt(total)}
        rule = f"{_fmt(node.points)} × Σ（票数×权重：{pos}）/ 合计"
    else:
        pos = "+".join(node.positive)
        inputs = {pos: _fmt(weighted), "合计": _fmt(total)}
        rule = f"{_fmt(node.points)} ×（{pos}）/ 合计"
    return LeafOutcome(value, inputs, rule, issues)


def _deduction(node: Deduction, inp: UnitInputs, nid: str) -> LeafOutcome:
    rows = inp.rows.get(node.form, [])
    src = inp.sources.get(node.form, Source())
    hits = _filtered(rows, node.where)
    if node.distinct:
        units = sorted({str(r.get(node.distinct)) for r in hits if r.get(node.distinct) is not None})
        n = len(units)
    else:
        units, n = [], len(hits)
    value = max(exact(node.start) - exact(node.per) * n, exact(node.floor))
    issues = [
        issue("pending-verification", file=src.file, sheet=src.sheet, cell=r.cell(k), unit=inp.unit.code,
              row=r.row, item=r.get(node.distinct) if node.distinct else "")
        for r in rows for k in node.where if r.get(k) == PENDING_MARK
    ]
    cond = "、".join(f"{'/'.join(v)}" for v in node.where.values())
    inputs: dict[str, Any] = {"登记件数": len(rows), f"{cond or '扣分'}件数": len(hits)}
    if node.distinct:
        inputs["扣分事项"] = "、".join(units) or "无"
    rule = (f"满分 {_fmt(node.start)}，" + ("每项" if node.distinct else "每件") + f"{cond}扣 {_fmt(node.per)} 分，"
            f"不低于 {_fmt(node.floor)}")
    return LeafOutcome(value, inputs, rule, issues)


def _register_sum(node: RegisterSum, inp: UnitInputs, nid: str) -> LeafOutcome:
    rows = _filtered(inp.rows.get(node.form, []), node.where)
    if node.field is not None:
        total = sum((exact(r.get(node.field)) for r in rows if r.get(node.field) is not None), Fraction(0))
    else:
        assert node.points_by is not None  # the model gives exactly one of field and points_by
        total = sum((exact(node.points_map.get(str(r.get(node.points_by)), Decimal(0))) for r in rows), Fraction(0))
    value = total
    if node.cap is not None:
        value = min(value, exact(node.cap))
    if node.floor is not None:
        value = max(value, exact(node.floor))
    return LeafOutcome(value, {"计入条数": len(rows), "合计": _fmt(total)}, _register_rule(node))


def _register_rule(node: RegisterSum, labels: dict[str, str] | None = None) -> str:
    labels = labels or {}
    cond = "；".join(f"“{labels.get(k, k)}”为{'/'.join(v)}" for k, v in node.where.items())
    by = f"按“{labels.get(node.points_by, node.points_by)}”计分" if node.points_by else "分值"
    text = by + "合计" + (f"（{cond}）" if cond else "")
    if node.cap is not None:
        text += f"，最高 {_fmt(node.cap)}"
    if node.floor is not None:
        text += f"，最低 {_fmt(node.floor)}"
    return text


def _direct(node: Direct, inp: UnitInputs, nid: str) -> LeafOutcome:
    rows = inp.rows.get(node.form, [])
    src = inp.sources.get(node.form, Source())
    if not rows:
        err = issue("unit-row-missing", file=src.file, sheet=src.sheet, unit=inp.unit.code,
                    form=src.sheet or node.form)
        return LeafOutcome(None, {}, "直接录入", [err])
    raw = rows[0].get(node.field)
    if raw is None:
        return LeafOutcome(None, {}, "直接录入")  # the table parser reported the missing value
    if node.letters and isinstance(raw, str):
        share = node.letters.get(raw)
        value = exact(share) * exact(node.max or 100) if share is not None else None
        return LeafOutcome(value, {"档次": raw}, "按档次折算")
    if node.letters:  # a band column given as points (0 to the item's maximum, checked when read)
        return LeafOutcome(exact(raw), {"分数": _fmt(raw)}, "按分数录入")
    return LeafOutcome(exact(raw), {"录入分": _fmt(raw)}, "直接录入")


LEAVES: dict[type, Callable[[Any, UnitInputs, str], LeafOutcome]] = {
    BallotMean: _ballot_mean,
    CountPoints: _count_points,
    SharePoints: _share_points,
    Deduction: _deduction,
    RegisterSum: _register_sum,
    Direct: _direct,
}


def _post(node: Any, value: Fraction | None) -> Fraction | None:
    if value is None:
        return None
    if node.bands:
        value = next((exact(b.value) for b in node.bands if value >= exact(b.at_least)), Fraction(0))
    if node.scale is not None:
        value = value * exact(node.scale)
    return value


# ------------------------------------------------------------------ units


def needed_nodes(scheme: Scheme, unit_type: str) -> list[str]:
    """Node ids needed for a unit of this type, children first."""
    roots = [g.by for g in scheme.gradings if not g.applies_to or unit_type in g.applies_to]
    roots += [t for g in scheme.gradings if not g.applies_to or unit_type in g.applies_to for t in g.tie_breakers]
    roots += [d for d in scheme.display_nodes]
    keep: set[str] = set()

    def visit(nid: str) -> None:
        node = scheme.nodes[nid]
        if node.applies_to and unit_type not in node.applies_to:
            return
        keep.add(nid)
        if isinstance(node, Combine):
            for p in node.weights:
                visit(p)

    for r in roots:
        visit(r)
    return [n for n in scheme.order() if n in keep]


def score_unit(scheme: Scheme, inp: UnitInputs) -> UnitScore:
    values: dict[str, Fraction | None] = {}
    details: list[LeafDetail] = []
    issues: list[Issue] = []
    ballots: list[BallotLine] = []
    each = scheme.scheme.rounding == "each"
    places = scheme.scheme.places
    for nid in needed_nodes(scheme, inp.unit.type):
        node = scheme.nodes[nid]
        value: Fraction | None
        if isinstance(node, Combine):
            parts = [(v, w) for p, w in node.weights.items() if (v := values.get(p)) is not None]
            if len(parts) != len(node.weights):  # a part not scored (or not applying)
                value = None
            else:
                value = sum((v * exact(w) for v, w in parts), Fraction(0))
        else:
            out = LEAVES[type(node)](node, inp, nid)
            value = _post(node, out.value)
            src = inp.sources.get(node.form, Source())
            details.append(LeafDetail(nid, inp.period, value, {**(src.counted or {}), **out.inputs}, out.rule,
                                      f"{src.file} / {src.sheet}" if src.file and not src.reported else ""))
            if not src.reported:
                issues.extend(out.issues)
            ballots.extend(out.ballots)
        if each and value is not None:
            value = Fraction(round_half_up(value, places))
        values[nid] = value
    return UnitScore(inp.unit, inp.period, values, details, issues, ballots)


def combine_periods(scheme: Scheme, per_period: dict[str, dict[str, Fraction | None]]) -> dict[str, Fraction | None]:
    """The year's value of every node: Σ weight(part) × value(period), e.g. H1 50% + H2 50%.

    Scores are linear in their leaves, so combining every node gives the same year composite as
    combining leaves and recomputing; every node is combined so the summary can show each.
    """
    weights = scheme.annual.weights
    out: dict[str, Fraction | None] = {}
    nodes = set().union(*(v.keys() for v in per_period.values())) if per_period else set()
    for nid in nodes:
        total = Fraction(0)
        for period, values in per_period.items():
            part = period[4:]
            w = weights.get(part)
            v = values.get(nid)
            if w is None or v is None:
                out[nid] = None
                break
            total += v * exact(w)
        else:
            out[nid] = total
    return out


def rounded(values: dict[str, Fraction | None], places: int) -> dict[str, Decimal]:
    return {k: round_half_up(v, places) for k, v in values.items() if v is not None}


def describe_leaf(scheme: Scheme, node: Any) -> str:
    """The rule of a leaf in words, for ``scheme show`` and the summary legend."""
    form = scheme.form(node.form).title
    if isinstance(node, BallotMean):
        text = f"《{form}》有效票总分的平均分" + (f"，去掉{node.trim}个最高分和{node.trim}个最低分" if node.trim else "")
        text += f"，有效票不少于 {node.min_valid} 张"
    elif isinstance(node, CountPoints) and node.field is None:
        text = f"《{form}》中“{'/'.join(node.match)}”的票数" + (f" × {_fmt(node.points)}" if node.points != 1 else "")
    elif isinstance(node, CountPoints):
        text = f"《{form}》每件“{'/'.join(node.match)}”得 {_fmt(node.points)} 分" + (
            f"，最高 {_fmt(node.cap)} 分" if node.cap is not None else "")
    elif isinstance(node, SharePoints):
        part = "+".join(node.positive) if node.positive else "按权重：" + "、".join(
            f"{o}×{_fmt(w)}" for o, w in node.weights.items())
        text = f"{_fmt(node.points)} ×（{part}）/ 全部答卷，据《{form}》"
    elif isinstance(node, Deduction):
        cond = "、".join("/".join(v) for v in node.where.values())
        text = (f"满分 {_fmt(node.start)}，据《{form}》" + ("每项" if node.distinct else "每件") +
                f"{cond}扣 {_fmt(node.per)} 分，不低于 {_fmt(node.floor)}")
    elif isinstance(node, RegisterSum):
        text = f"《{form}》{_register_rule(node, {c.key: c.label for c in scheme.form(node.form).columns})}"
    else:
        column = scheme.form(node.form).column(node.field)
        text = f"《{form}》“{column.label if column else node.field}”" + (
            _letters_text(node) if node.letters else "直接录入")
        if column is not None and column.type == "band":
            text += f"，或直接填写分数（0 至满分，最多 {column.places} 位小数）"
    if node.bands:
        text += "，按档次表折算"
    if node.scale is not None:
        text += f"，再 × {_fmt(node.scale)}"
    return text


def _letters_text(node: Direct) -> str:
    """A letter-band leaf in words: 'A=100%、B=90%…' of the item's maximum (100 when none is given)."""
    full = "满分" if node.max is not None else "100 分"
    bands = "、".join(f"{letter}={_fmt(share * 100)}%" for letter, share in node.letters.items())
    return f"评定档次，计{full}的 {bands}"
