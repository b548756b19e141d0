"""Grades under quotas: caps, floors, top-N, shares, thresholds, vetoes and unbreakable ties.

Rules apply in the scheme's order to the units not yet graded. A quota is never exceeded and a
tie is never settled by file order: when units with identical keys (the rounded score, then the
rounded tie-breakers) straddle a quota line, all of them are marked 待党委研究 with the grades the
committee must choose between, and the rule gives out only the places it can give for sure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import groupby

from villagescore.core.numbers import ceil_int, exact, floor_int, round_half_up
from villagescore.core.records import GradeResult, QuotaLine
from villagescore.core.scheme import Grading, Rule, Veto

PENDING = "待党委研究"
ENTERED_RULE = "按录入的等次"  # the rule of grades typed into a form by the committee


@dataclass(frozen=True)
class Candidate:
    code: str
    key: tuple[Decimal, ...]  # (rounded score, rounded tie-breaker 1, …): higher is better
    vetoes: tuple[Veto, ...] = ()
    other: dict[str, str | None] = field(default_factory=dict)  # grades of earlier gradings
    funds_base: Decimal | None = None
    name: str = ""

    @property
    def score(self) -> Decimal:
        return self.key[0]


@dataclass
class GradingOutcome:
    results: dict[str, GradeResult]
    quota: list[QuotaLine]
    notes: list[str]


def ranks(cands: list[Candidate]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) on the full key; fully tied units share a rank."""
    ordered = sorted(cands, key=lambda c: (tuple(-k for k in c.key), c.code))
    out: dict[str, int] = {}
    for i, c in enumerate(ordered):
        if i and ordered[i - 1].key == c.key:
            out[c.code] = out[ordered[i - 1].code]
        else:
            out[c.code] = i + 1
    return out


def _quota(rule: Rule, n: int) -> int:
    if rule.n is not None and rule.share is None:
        return min(rule.n, n)
    share = exact(rule.share or 0) * n
    return ceil_int(share) if rule.kind == "floor" else floor_int(share)


def _neighbour(grading: Grading, grade: str, downward: bool) -> str:
    i = grading.grades.index(grade)
    j = i + 1 if downward else i - 1
    return grading.grades[j] if 0 <= j < len(grading.grades) else grade


def grade_units(grading: Grading, cands: list[Candidate], places: int = 2) -> GradingOutcome:
    n = len(cands)
    rank = ranks(cands)
    grade: dict[str, str] = {}
    reason: dict[str, str] = {}
    pending: dict[str, tuple[str, ...]] = {}
    forbidden: dict[str, set[str]] = {c.code: set() for c in cands}
    notes: list[str] = []
    quota: list[QuotaLine] = []

    for c in cands:
        for v in c.vetoes:
            forbidden[c.code].update(v.cancels.get(grading.id, []))
            forced = v.forces.get(grading.id)
            if forced and c.code not in grade:
                grade[c.code] = forced
                reason[c.code] = f"一票否决：{v.label}"
            elif forced:
                reason[c.code] += f"；{v.label}"
    for c in cands:
        if c.vetoes and c.code not in grade:
            reason[c.code] = "一票否决：" + "、".join(v.label for v in c.vetoes)

    def eligible(c: Candidate, rule: Rule) -> bool:
        if c.code in grade or c.code in pending or rule.grade in forbidden[c.code]:
            return False
        if rule.min_score is not None and c.score < rule.min_score:
            return False
        if rule.only_if and c.other.get(rule.only_if.grading) not in rule.only_if.grades:
            return False
        return True

    desc = sorted(cands, key=lambda c: (tuple(-k for k in c.key), c.code))
    for rule in grading.rules:
        pool = [c for c in desc if eligible(c, rule)]
        pend_before = len(pending)
        if rule.kind in ("at_least", "below"):
            threshold = rule.score if rule.score is not None else Decimal(0)
            for c in pool:
                if (c.score >= threshold) if rule.kind == "at_least" else (c.score < threshold):
                    grade[c.code] = rule.grade
                    reason[c.code] = rule.describe()
            allowed = "—"
        else:
            from_bottom = rule.kind == "floor"
            want = _quota(rule, n)
            already = sum(1 for g in grade.values() if g == rule.grade) if rule.kind in ("cap", "floor") else 0
            room = max(want - already, 0)
            allowed = f"≥ {want}" if from_bottom else f"≤ {want}"
            taken = 0
            walk = list(reversed(pool)) if from_bottom else pool
            for _, group_iter in groupby(walk, key=lambda c: c.key):
                group = list(group_iter)
                if taken + len(group) <= room:
                    for c in group:
                        grade[c.code] = rule.grade
                        reason[c.code] = rule.describe()
                    taken += len(group)
                    if taken == room:
                        break
                    continue
                if taken < room:
                    other = _neighbour(grading, rule.grade, downward=not from_bottom)
                    choice = (other, rule.grade) if from_bottom else (rule.grade, other)
                    names = "、".join(sorted(f"{c.name}（{c.code}）" if c.name else c.code for c in group))
                    line = (f"{grading.label}：{names} 的得分及同分比较项完全相同，"
                            f"恰好跨越名额线（{rule.describe()}：剩余 {room - taken} 个名额、{len(group)} 个单位），"
                            f"不按文件顺序取舍，提请党委研究确定为“{choice[0]}”或“{choice[1]}”")
                    notes.append(line)
                    for c in group:
                        pending[c.code] = choice
                        reason[c.code] = line
                break
        actual = sum(1 for g in grade.values() if g == rule.grade)
        held = len(pending) - pend_before
        quota.append(QuotaLine(grading.id, rule.describe(), rule.grade, n, allowed, actual, held,
                               "名额线上同分，待党委研究" if held else ""))

    for c in cands:
        if c.code not in grade and c.code not in pending:
            grade[c.code] = grading.default
    for line in quota:  # final counts, after defaults and vetoes
        line.actual = sum(1 for g in grade.values() if g == line.grade)

    results: dict[str, GradeResult] = {}
    for c in cands:
        g = grade.get(c.code)
        results[c.code] = _with_consequence(
            grading, GradeResult(grading.id, g, pending.get(c.code, ()), reason.get(c.code, ""), rank[c.code]), c, places)
    return GradingOutcome(results, quota, notes)


def _with_consequence(grading: Grading, res: GradeResult, c: Candidate, places: int) -> GradeResult:
    """The grade's consequence (text, and the change of working funds from the unit's base) on its result."""
    cons = grading.consequences.get(res.grade) if res.grade else None
    if cons:
        res.consequence = cons.text
        if cons.funds is not None and c.funds_base is not None:
            res.funds_change = round_half_up(exact(c.funds_base) * exact(cons.funds), places)
    return res


def withheld(grading: Grading, codes: list[str], missing: list[str]) -> GradingOutcome:
    """Every unit ungraded because some unit has no score: quotas cannot be applied fairly."""
    why = f"{'、'.join(missing)} 未算出得分，{grading.label}暂不评定"
    results = {c: GradeResult(grading.id, None, (), why, None) for c in codes}
    quota = [QuotaLine(grading.id, r.describe(), r.grade, len(codes), "—", 0, 0, why) for r in grading.rules]
    return GradingOutcome(results, quota, [why])


def key_of(values: dict[str, Fraction | None], grading: Grading, places: int) -> tuple[Decimal, ...] | None:
    out = []
    for nid in [grading.by, *grading.tie_breakers]:
        v = values.get(nid)
        if v is None:
            return None
        out.append(round_half_up(v, places))
    return tuple(out)


def grade_entered(grading: Grading, cands: list[Candidate], entered: dict[str, str | None],
                  places: int = 2) -> GradingOutcome:
    """Grades decided elsewhere (e.g. by the committee) and typed into a form; ranks still by score."""
    rank = ranks(cands)
    results: dict[str, GradeResult] = {}
    for c in cands:
        g = entered.get(c.code)
        forced = next((v.forces[grading.id] for v in c.vetoes if grading.id in v.forces), None)
        if forced:
            g, why = forced, "一票否决：" + "、".join(v.label for v in c.vetoes)
        elif g in grading.grades:
            g, why = _entered_grade(grading, c, g)
        else:
            g, why = None, "未录入等次"
        results[c.code] = _with_consequence(grading, GradeResult(grading.id, g, (), why, rank[c.code]), c, places)
    quota = [QuotaLine(grading.id, ENTERED_RULE, grade, len(cands), "—",
                       sum(1 for r in results.values() if r.grade == grade)) for grade in grading.grades]
    return GradingOutcome(results, quota, [])


def _entered_grade(grading: Grading, c: Candidate, g: str) -> tuple[str | None, str]:
    """The entered grade and why; when a veto cancels it, the next lower grade not cancelled (None if none)."""
    cancelled = {x for v in c.vetoes for x in v.cancels.get(grading.id, [])}
    if g not in cancelled:
        return g, ENTERED_RULE
    labels = "、".join(v.label for v in c.vetoes if g in v.cancels.get(grading.id, []))
    why = f"一票否决：{labels}，取消“{g}”"
    lower = g
    while lower in cancelled and (below := _neighbour(grading, lower, downward=True)) != lower:
        lower = below
    if lower in cancelled:
        return None, why + "，没有更低的等次，暂不评定"
    return lower, why + f"，改为“{lower}”"


def grade_streak(grading: Grading, cands: list[Candidate],
                 earlier: list[tuple[str, dict[str, str | None] | None]], places: int = 2) -> GradingOutcome:
    """``grading.streak``: the grade when this period's and each earlier period's grade (newest first, from
    the archive) are all among the streak's grades; the default otherwise. Without every earlier period's
    result the rule cannot apply: every unit gets the default and the outcome says why."""
    streak = grading.streak
    assert streak is not None
    rank = ranks(cands)
    wanted = "/".join(streak.grades)
    rule = f"连续 {streak.periods} 期为“{wanted}”的为“{streak.grade}”"
    missing = [p for p, grades in earlier if grades is None]
    if missing or len(earlier) < streak.periods - 1:
        why = (f"{grading.label}：结果档案库中没有 {'、'.join(missing) or '上期'} 的计算结果，"
               f"无法判断是否连续 {streak.periods} 期为“{wanted}”，本期未能适用此规则")
        results = {c.code: GradeResult(grading.id, grading.default, (), why, rank[c.code]) for c in cands}
        return GradingOutcome(results, [QuotaLine(grading.id, rule, streak.grade, len(cands), "—", 0, 0, why)], [why])
    results = {}
    for c in cands:
        chain = [c.other.get(streak.grading)] + [grades.get(c.code) for _, grades in earlier]  # type: ignore[union-attr]
        if all(g in streak.grades for g in chain):
            periods = "、".join(p for p, _ in reversed(earlier))
            res = GradeResult(grading.id, streak.grade, (), f"{periods}及本期均为“{wanted}”", rank[c.code])
        else:
            res = GradeResult(grading.id, grading.default, (), "", rank[c.code])
        results[c.code] = _with_consequence(grading, res, c, places)
    actual = sum(1 for r in results.values() if r.grade == streak.grade)
    return GradingOutcome(results, [QuotaLine(grading.id, rule, streak.grade, len(cands), "—", actual)], [])
