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

from villagescore.core.numbers import ceil_int, exact, floor_int, round_half_up
from villagescore.core.records import GradeResult, PendingTie, QuotaLine
from villagescore.core.scheme import Grading, Rule, Veto

PENDING = "待党委研究"
ENTERED_RULE = "按录入的等次"  # the rule of grades typed into a form by the committee


@dataclass(frozen=True)
class Candidate:
    code: str
    key: tuple[Decimal, ...]  # (rounded score, rounded tie-breaker 1, …): higher is better
    vetoes: tuple[Veto, ...] = ()
    other: dict[str, str | Undecided | None] = field(default_factory=dict)  # grades of earlier gradings
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
    tie_notes: dict[PendingTie, str] = field(default_factory=dict)  # the note of ``notes`` saying why a tie waits


@dataclass(frozen=True)
class Undecided:
    """A grade not settled where a rule reads it (an earlier period's, or an earlier grading's): pending between
    ``grades`` (待党委研究), or, with none, not graded at all. A rule that would turn on it cannot tell (无法判定)."""

    grades: tuple[str, ...] = ()

    def could_be(self, wanted: list[str]) -> bool:
        return not self.grades or bool(set(self.grades) & set(wanted))

    def text(self) -> str:
        return f"待党委研究（{'/'.join(self.grades)}）" if self.grades else "未评定"


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
    return ceil_int(share) if rule.rounds_up else floor_int(share)


def _neighbour(grading: Grading, grade: str, downward: bool) -> str:
    i = grading.grades.index(grade)
    j = i + 1 if downward else i - 1
    return grading.grades[j] if 0 <= j < len(grading.grades) else grade


@dataclass
class _Tie:
    """A tied group while rules are applied: ``places`` given so far (grade → count); the rest still to place."""

    codes: list[str]
    key: tuple[Decimal, ...]
    places: dict[str, int]
    lines: list[tuple[Rule, int, int]]  # (rule, places left at its line, units in the group then)

    @property
    def rest(self) -> int:
        return len(self.codes) - sum(self.places.values())


def grade_units(grading: Grading, cands: list[Candidate], places: int = 2) -> GradingOutcome:
    """Grades by the rules in order. A group of units with identical keys that straddles a quota line becomes a
    pending tie: its places inside the line (the places left) and outside it (the rest of the group) are fixed,
    and every later rule counts the rest at the group's rank, as it would count ordinary units there. The
    committee then chooses which units take which place; the quotas hold whatever it chooses."""
    n = len(cands)
    rank = ranks(cands)
    by_code = {c.code: c for c in cands}
    grade: dict[str, str] = {}
    reason: dict[str, str] = {}
    ties: list[_Tie] = []
    tie_of: dict[str, _Tie] = {}
    forbidden: dict[str, set[str]] = {c.code: set() for c in cands}
    vetoed: set[str] = set()  # units a veto gives a grade
    quota: list[QuotaLine] = []

    for c in cands:
        for v in c.vetoes:
            forbidden[c.code].update(v.cancels.get(grading.id, []))
            forced = v.forces.get(grading.id)
            if forced and c.code not in grade:
                vetoed.add(c.code)
                grade[c.code] = forced
                reason[c.code] = f"一票否决：{v.label}"
            elif forced:
                reason[c.code] += f"；{v.label}"
    for c in cands:
        if c.vetoes and c.code not in grade:
            reason[c.code] = "一票否决：" + "、".join(v.label for v in c.vetoes)

    def open_to(c: Candidate, rule: Rule) -> bool:
        """Whether the rule may give ``c`` its grade (a pending unit's place counts when every member may)."""
        if c.code in grade or rule.grade in forbidden[c.code]:
            return False
        if rule.min_score is not None and c.score < rule.min_score:
            return False
        if rule.only_if and c.other.get(rule.only_if.grading) not in rule.only_if.grades:
            return False
        return True

    def blocks(rule: Rule, upward: bool) -> list[tuple[tuple[Decimal, ...], list[Candidate], list[_Tie]]]:
        """(key, units not yet graded, pending ties with places still to give) at each key, in walk order."""
        at: dict[tuple[Decimal, ...], tuple[list[Candidate], list[_Tie]]] = {}
        for c in desc:
            if c.code not in tie_of and open_to(c, rule):
                at.setdefault(c.key, ([], []))[0].append(c)
        for t in ties:
            if t.rest and all(open_to(by_code[x], rule) for x in t.codes):
                at.setdefault(t.key, ([], []))[1].append(t)
        return [(k, *at[k]) for k in sorted(at, reverse=not upward)]

    def give(fresh: list[Candidate], group: list[_Tie], rule: Rule) -> None:
        for c in fresh:
            grade[c.code] = rule.grade
            reason[c.code] = rule.describe()
        for t in group:
            t.places[rule.grade] = t.places.get(rule.grade, 0) + t.rest

    def held(g: str) -> int:
        return sum(t.places.get(g, 0) for t in ties)

    desc = sorted(cands, key=lambda c: (tuple(-k for k in c.key), c.code))
    vacated: tuple[tuple[str, str], ...]
    for rule in grading.rules:
        if rule.kind in ("at_least", "below"):
            threshold = rule.score if rule.score is not None else Decimal(0)
            for key, fresh, group in blocks(rule, upward=False):
                if (key[0] >= threshold) if rule.kind == "at_least" else (key[0] < threshold):
                    give(fresh, group, rule)
            allowed, vacated = "—", ()
        else:
            from_bottom = rule.kind == "floor"
            want = _quota(rule, n)
            already = (sum(1 for g in grade.values() if g == rule.grade) + held(rule.grade)
                       if rule.kind in ("cap", "floor") else 0)
            room = max(want - already, 0)
            allowed = f"≥ {want}" if from_bottom else f"≤ {want}"
            vacated = ()
            if rule.kind == "top_n" and not rule.refill:
                vacated = _vacated(rule, [c for c in desc if c.code not in grade or c.code in vetoed], want,
                                   forbidden, vetoed)
                room = max(room - len(vacated), 0)
            taken = 0
            for key, fresh, group in blocks(rule, upward=from_bottom):
                if taken >= room:
                    break
                size = len(fresh) + sum(t.rest for t in group)
                if taken + size <= room:
                    give(fresh, group, rule)
                    taken += size
                    continue
                left = room - taken  # the group straddles the line: a pending tie, its places fixed
                merged = _Tie([c.code for c in fresh] + [x for t in group for x in t.codes], key, {}, [])
                for t in group:
                    ties.remove(t)
                    for g, k in t.places.items():
                        merged.places[g] = merged.places.get(g, 0) + k
                    merged.lines += t.lines
                merged.places[rule.grade] = merged.places.get(rule.grade, 0) + left
                merged.lines.append((rule, left, size))
                ties.append(merged)
                for x in merged.codes:
                    tie_of[x] = merged
                taken = room
                break
        quota.append(QuotaLine(grading.id, rule.describe(), rule.grade, n, allowed, 0, vacated=vacated))

    for t in ties:  # places nobody claimed: the default, as for any unit there
        if t.rest:
            t.places[grading.default] = t.places.get(grading.default, 0) + t.rest
    settled = [t for t in ties if len(t.places) == 1]  # every place the same grade: nothing to decide
    for t in settled:
        ties.remove(t)
        for x in t.codes:
            del tie_of[x]
            grade[x] = next(iter(t.places))
            reason[x] = t.lines[0][0].describe()
    for c in cands:
        if c.code not in grade and c.code not in tie_of:
            grade[c.code] = grading.default

    order = {g: i for i, g in enumerate(grading.grades)}
    pending: dict[str, PendingTie] = {}
    notes: list[str] = []
    tie_notes: dict[PendingTie, str] = {}
    for t in ties:
        first, _, _ = t.lines[0]
        ranked = tuple(sorted(t.places.items(), key=lambda gk: order[gk[0]]))
        names = "、".join(_name(by_code[x]) for x in sorted(t.codes))
        lines = "；".join(f"{r.describe()}：剩余 {left} 个名额、{size} 个单位" for r, left, size in t.lines)
        split = "、".join(f"{k} 个为“{g}”" for g, k in ranked)
        others = [g for g, _ in ranked if g != first.grade]
        outward = [g for g in others if (order[g] > order[first.grade]) != (first.kind == "floor")]
        near = sorted(others, key=lambda g: abs(order[g] - order[first.grade]))
        outside = (outward[0] if first.kind != "floor" else outward[-1]) if outward else near[0]
        inside_n = dict(ranked)[first.grade]
        ask = (f"由党委研究确定其中哪 {inside_n} 个单位为“{first.grade}”、其余为“{outside}”" if len(ranked) == 2
               else f"由党委研究确定各单位的等次（“{'”“'.join(g for g, _ in ranked)}”的个数如上）")
        text = (f"{grading.label}：{names} 的得分及同分比较项完全相同，恰好跨越名额线（{lines}），不按文件顺序取舍；"
                f"这 {len(t.codes)} 个单位中{split}，{ask}；无论如何确定，这些名额都已计入各项名额")
        notes.append(text)
        tie = PendingTie(grading.id, tuple(sorted(t.codes)), ranked, first.grade, outside, first.describe())
        tie_notes[tie] = text
        short = f"{names} 同分，恰好跨越名额线（{first.describe()}），待党委研究：{split}"
        for x in t.codes:
            pending[x] = tie
            reason[x] = short
    results: dict[str, GradeResult] = {}
    for c in cands:
        unit_tie = pending.get(c.code)
        res = GradeResult(grading.id, None if unit_tie else grade[c.code], unit_tie.grades if unit_tie else (),
                          reason.get(c.code, ""), rank[c.code], tie=unit_tie)
        results[c.code] = with_consequence(grading, res, c, places)
    unit_names = {c.code: _name(c) for c in cands}
    count_lines(quota, results, unit_names)
    # on screen and under 汇总 too: a rule that gives fewer places than it says
    notes += [f"{grading.label}：{line.rule}，{vacancy_text(line, unit_names)}" for line in quota if line.vacated]
    return GradingOutcome(results, quota, notes, tie_notes)


def _vacated(rule: Rule, ranking: list[Candidate], want: int, forbidden: dict[str, set[str]],
             vetoed: set[str]) -> tuple[tuple[str, str], ...]:
    """The units among the first ``want`` of ``ranking`` (best first; the units still to grade and those a veto
    graded) that may not take ``rule.grade``, each with why: a veto grades them or cancels it, or the score is
    under min_score.
    Their places stay empty (``refill = false``). Of a tied block across the line, such units take the places
    left there first: a place is empty when any unit that may not take it ranks there."""
    def why(c: Candidate) -> str:
        if c.code in vetoed or rule.grade in forbidden[c.code]:
            return "一票否决"
        return f"得分低于{rule.min_score}" if rule.min_score is not None and c.score < rule.min_score else ""

    out: list[tuple[str, str]] = []
    pos = i = 0
    while i < len(ranking) and pos < want:
        block = [c for c in ranking[i:] if c.key == ranking[i].key]  # the ranking is sorted: a block is a run
        out += [(c.code, w) for c in block if (w := why(c))][:want - pos]
        pos += len(block)
        i += len(block)
    return tuple(out)


def vacancy_text(line: QuotaLine, names: dict[str, str]) -> str:
    """Why a top_n line without refill gives fewer places than it has: the units ranked within it that may not."""
    who = "、".join(f"{names.get(x, x)}因{why}" for x, why in line.vacated)
    return f"排名在名额内的{who}不能评为“{line.grade}”，空出 {len(line.vacated)} 个名额，不递补"


def count_lines(quota: list[QuotaLine], results: dict[str, GradeResult], names: dict[str, str]) -> None:
    """Each quota line's final count (after defaults and vetoes), the places held by pending ties beside it, and
    its note: a tie pending on the line, or settled there by the committee's decision (``GradeResult.decision``)."""
    pending = list(dict.fromkeys(r.tie for r in results.values() if r.tie is not None))
    settled: dict[PendingTie, list[str]] = {}
    for code, r in results.items():
        if r.decision is not None and r.decision.tie is not None:
            settled.setdefault(r.decision.tie, []).append(code)
    for line in quota:
        line.actual = sum(1 for r in results.values() if r.grade == line.grade)
        line.pending = sum(t.count(line.grade) for t in pending)
        crossed = [t for t in pending if t.line == line.rule and t.inside == line.grade]
        parts = []
        if line.vacated:
            parts.append(vacancy_text(line, names))
        if line.pending:
            held_by = "；".join("、".join(names.get(x, x) for x in t.units) for t in pending if t.count(line.grade))
            parts.append(("名额线上同分，待党委研究；" if crossed else "")
                         + f"另有 {line.pending} 个名额由待党委研究的同分单位（{held_by}）占用，无论党委如何确定")
        elif crossed:
            parts.append("名额线上同分，待党委研究")
        for t, codes in settled.items():
            source = results[codes[0]].source
            decided = "、".join(f"{names.get(x, x)}为“{results[x].grade}”" for x in t.units)
            if t.line == line.rule and t.inside == line.grade:
                parts.append(f"名额线上同分，经{source}确定：{decided}")
            elif t.count(line.grade):
                parts.append(f"其中 {t.count(line.grade)} 个名额属同分单位，经{source}确定：{decided}")
        line.note = "；".join(parts)  # the lines are this grading's own (made by grade_units, notes blank until now)


def _name(c: Candidate) -> str:
    return f"{c.name}（{c.code}）" if c.name else c.code


def with_consequence(grading: Grading, res: GradeResult, c: Candidate, places: int) -> GradeResult:
    """The grade's consequence (text, and the change of working funds from the unit's base) on its result."""
    cons = grading.consequences.get(res.grade) if res.grade else None
    if cons:
        res.consequence = cons.text
        if cons.funds is not None and c.funds_base is not None:
            res.funds_change = round_half_up(exact(c.funds_base) * exact(cons.funds), places)
    return res


MISSING_SHOWN = 5  # units named in the reason a grading is withheld (the others counted)


def withheld(grading: Grading, codes: list[str], missing: list[str]) -> GradingOutcome:
    """Every unit ungraded because some unit has no score: quotas cannot be applied fairly."""
    shown = "、".join(missing[:MISSING_SHOWN])
    if len(missing) > MISSING_SHOWN:  # the reason stands on every unit's row: a county's errors are not listed there
        shown += f" 等 {len(missing)} 个单位"
    why = f"{shown} 未算出得分，{grading.label}暂不评定" + ("（每个单位的问题见问题清单）" if len(missing) > MISSING_SHOWN else "")
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
        results[c.code] = with_consequence(grading, GradeResult(grading.id, g, (), why, rank[c.code]), c, places)
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
                 earlier: list[tuple[str, dict[str, str | Undecided | None] | None]], places: int = 2,
                 label: str = "") -> GradingOutcome:
    """``grading.streak``: the grade when this period's and each earlier period's grade (newest first, from
    the archive) are all among the streak's grades; the default otherwise. Without every earlier period's
    result the rule cannot apply: every unit gets the default and the outcome says why.

    A grade not settled in one of the periods (``Undecided``: 待党委研究, or not graded) that could be one of the
    streak's grades, with every other period's among them, leaves the unit 无法判定 (no grade, ``undetermined``,
    the reason naming the period), never the default: the committee's decision, once applied, settles it.
    ``label``: the label of the grading the streak reads (for the reason)."""
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
    archived = [(p, grades) for p, grades in earlier if grades is not None]  # every period (none is missing)
    results = {}
    for c in cands:
        chain = [("本期", c.other.get(streak.grading))] + [(p, grades.get(c.code)) for p, grades in archived]
        open_ = [(p, g) for p, g in chain if isinstance(g, Undecided)]
        if all(g in streak.grades for _, g in chain):
            periods = "、".join(p for p, _ in reversed(earlier))
            res = GradeResult(grading.id, streak.grade, (), f"{periods}及本期均为“{wanted}”", rank[c.code])
        elif open_ and all(g in streak.grades or isinstance(g, Undecided) and g.could_be(streak.grades)
                           for _, g in chain):
            said = "、".join(f"{p}的{label or streak.grading}{g.text()}" for p, g in open_)
            res = GradeResult(grading.id, None, (), f"无法判定：{said}，不能确定是否连续 {streak.periods} 期为“{wanted}”；"
                              "党委研究确定（或该期得出等次）后重新计算本期即可判定", rank[c.code], undetermined=True)
        else:
            res = GradeResult(grading.id, grading.default, (), "", rank[c.code])
        results[c.code] = with_consequence(grading, res, c, places)
    actual = sum(1 for r in results.values() if r.grade == streak.grade)
    line = QuotaLine(grading.id, rule, streak.grade, len(cands), "—", actual)
    unsure = [c for c in cands if results[c.code].undetermined]
    notes = []
    if unsure:
        names = "、".join(_name(c) for c in unsure)
        line.note = f"另有 {len(unsure)} 个单位无法判定（{names}）：所读的等次尚待党委研究或未评定"
        notes.append(f"{grading.label}：{names} 无法判定，所读的{label or streak.grading}尚待党委研究或未评定；"
                     "党委研究确定后重新计算本期即可判定")
    return GradingOutcome(results, [line], notes)
