"""The formulas of 汇总 and 分项得分: each weighted score written as the scheme's tree over the leaf cells.

``Trace`` decides, cell by cell, whether a score is a live formula (its cached value the computed result)
or a plain value with a comment saying why; ``BallotLayout`` is where 测评明细 puts each ballot, which the
ballot means (AVERAGEIFS) refer to.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from xlsxwriter.utility import xl_rowcol_to_cell

from villagescore.core.explain import node_tree, period_weights, rounding
from villagescore.core.numbers import exact, plain, round_half_up
from villagescore.core.records import LeafDetail, RunResult, UnitResult
from villagescore.io.summary.common import BALLOTS, SCORES
from villagescore.io.summary.engine import Entry

# cells whose formula is remembered (a sheet's two readings, 汇总 and 分项得分 ask for the same): a province's are not
CACHED = 200_000
LEAF_PLACES = 10  # 分项得分 keeps leaf values to 10 decimals: formulas over them round like the exact arithmetic
MARGIN = Fraction(1, 10**9)  # closer than this to a rounding boundary, binary arithmetic may round the other way


def _stored(value: Decimal) -> Fraction:
    """The number a workbook holds for ``value``: xlsxwriter writes 16 significant digits."""
    return Fraction(Decimal(f"{float(value):.16G}"))


# ---------------------------------------------------------------- formulas


def term(weight: Decimal, text: str) -> str:
    return text if weight == 1 else f"-{text}" if weight == -1 else f"{plain(weight)}*{text}"


def join_terms(terms: list[str]) -> str:
    return "".join(t if i == 0 or t.startswith("-") else f"+{t}" for i, t in enumerate(terms))


def _risk(model: Fraction, cached: Decimal, places: int) -> str:
    """Why a formula over the stored cells might not show ``cached`` after a recalculation ('' if it will)."""
    if round_half_up(model, places) != cached:
        return f"按单元格中的数值用公式计算，四舍五入后与精确计算的 {cached} 不同"
    step = Fraction(1, 10**places)
    gap = abs((abs(model) / step) % 1 - Fraction(1, 2)) * step
    if 0 < gap < MARGIN:
        return (f"精确结果与四舍五入的分界点相差不到十亿分之一，电子表格的二进制运算可能多进或少进 1 个末位，"
                f"故写入精确计算并四舍五入的 {cached}")
    return ""


class Trace:
    """The formulas of 汇总 and 分项得分, over leaf values kept in 分项得分 (one row per unit and period).

    With the scheme's weights (``node_formulas``) and one rounding at the end: a leaf cell holds the
    exact value to 10 decimals (a ballot mean: AVERAGEIFS over the unit's valid ballots in 测评明细,
    when that is exact; a year's leaf: period weights × the periods' leaf cells); an inner node is
    ROUND(weights × leaf cells, places), the scheme's tree written out. A formula is written only when
    its exact value over the stored cells rounds to the computed result and lies farther than 1e-9
    from a rounding boundary (spreadsheets compute in binary floating point); otherwise the value
    is written, with a comment saying why. Without the weights every cell is a rounded value.
    """

    def __init__(self, result: RunResult, layout: BallotLayout | None = None):
        self.result, self.places = result, result.places
        self.tree = node_tree(result) if rounding(result) == "end" else {}
        self.on = bool(self.tree)
        self.periods = list(result.periods or [result.period])
        self.keys = self.periods + ([result.period] if result.period not in self.periods else [])
        self.weights = period_weights(result)
        leaves = set(result.leaves)
        self.inner = [n for n in (self.tree or result.display) if n not in leaves]
        first = 3 if len(self.keys) > 1 else 2
        self.col = {n: first + i for i, n in enumerate([*result.leaves, *self.inner])}
        self.row = {(u.code, k): 2 + i * len(self.keys) + j
                    for i, u in enumerate(result.units) for j, k in enumerate(self.keys)}
        self.fallbacks: list[str] = []
        self.averaged = False  # a ballot mean was written as AVERAGEIFS
        self._leaves: dict[tuple[str, str, str], Entry | None] = {}
        self._exprs: dict[tuple[str, str, str, str], tuple[str, Fraction] | None] = {}
        # 测评明细: 单位代码, 期间, 票号, [投票], items…, 合计, 状态
        self.layout = layout if layout is not None else BallotLayout(result)
        self.total_col = 3 + self.layout.votes + len(self.layout.keys)

    def ref(self, u: UnitResult, key: str, node: str, sheet: str = "") -> str:
        cell = xl_rowcol_to_cell(self.row[(u.code, key)], self.col[node])
        return f"'{sheet}'!{cell}" if sheet else cell

    def cached(self, u: UnitResult, key: str, node: str) -> Decimal | None:
        return (u.by_period.get(key, {}) if key in self.periods else u.rounded).get(node)

    # -- leaf cells of 分项得分
    def leaf(self, u: UnitResult, key: str, leaf: str) -> Entry | None:
        k = (u.code, key, leaf)
        if k not in self._leaves:
            if len(self._leaves) >= CACHED:
                self._leaves.clear()
            self._leaves[k] = self._leaf(u, key, leaf)
        return self._leaves[k]

    def _leaf(self, u: UnitResult, key: str, leaf: str) -> Entry | None:
        if not u.ok:
            return None
        if not self.on:
            value = self.cached(u, key, leaf)
            return None if value is None else Entry(value, places=self.places)
        if key in self.periods:
            detail = next((d for d in u.details if d.node == leaf and d.period == key), None)
            if detail is None or detail.value is None:
                return None
            return self._mean(u.code, detail) or self._constant(detail.value)
        value = u.exact.get(leaf)
        parts = [(self.weights[p], self.leaf(u, p, leaf)) for p in self.periods] if self.weights else []
        if value is None or not parts or any(e is None or e.model is None for _, e in parts):
            return None if value is None else self._constant(value)
        # every part has a model (checked above); the condition only narrows the type
        model = sum((exact(w) * e.model for w, e in parts if e is not None and e.model is not None), Fraction(0))
        return Entry(model, join_terms([term(w, self.ref(u, p, leaf)) for p, (w, _) in zip(self.periods, parts)]), model)

    @staticmethod
    def _constant(value: Fraction | Decimal) -> Entry:
        d = round_half_up(value, LEAF_PLACES)
        return Entry(d, model=_stored(d))

    def _mean(self, code: str, d: LeafDetail) -> Entry | None:
        """AVERAGEIFS over the unit's ballots from the leaf's file in 测评明细, when contiguous and exactly its value."""
        g = self.layout.groups.get((code, d.period, d.source))
        if g is None or not g[4]:  # its ballots not in one run
            return None
        first, last = g[2], g[3]
        if last - first != g[1] - g[0]:  # a row of item names between them
            return None
        if not g[6] or exact(g[5]) / g[6] != d.value:
            return None

        def span(col: int) -> str:
            return f"'{BALLOTS}'!{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"

        self.averaged = True
        return Entry(d.value, f'AVERAGEIFS({span(self.total_col)},{span(self.total_col + 1)},"有效")', d.value)

    # -- rounded scores: ROUND(weights × leaf cells)
    def scored(self, u: UnitResult, key: str, node: str, sheet: str = "") -> Entry | None:
        cached = self.cached(u, key, node)
        if cached is None:
            return None
        if not self.on:
            return Entry(cached, places=self.places)
        built = self._expr(u, key, node, sheet)
        why = "缺少计算所需的分项数值" if built is None else _risk(built[1], cached, self.places)
        if why or built is None:  # (None has its why)
            return Entry(cached, note=f"此格为数值而非公式：{why}。", places=self.places)
        return Entry(cached, f"ROUND({built[0]},{self.places})", places=self.places)

    def _expr(self, u: UnitResult, key: str, node: str, sheet: str) -> tuple[str, Fraction] | None:
        k = (u.code, key, node, sheet)  # an inner node's subtree is asked for again by every node above it
        if k not in self._exprs:
            if len(self._exprs) >= CACHED:
                self._exprs.clear()
            self._exprs[k] = self._build_expr(u, key, node, sheet)
        return self._exprs[k]

    def _build_expr(self, u: UnitResult, key: str, node: str, sheet: str) -> tuple[str, Fraction] | None:
        if node not in self.tree:
            e = self.leaf(u, key, node) if node in self.col else None
            return None if e is None or e.model is None else (self.ref(u, key, node, sheet), e.model)
        texts, total = [], Fraction(0)
        for child, weight in self.tree[node]:
            sub = self._expr(u, key, child, sheet)
            if sub is None:
                return None
            texts.append(term(weight, f"({sub[0]})" if child in self.tree else sub[0]))
            total += exact(weight) * sub[1]
        return join_terms(texts), total

    def about(self) -> list[tuple[str, str]]:
        """Lines for 说明: how to read the formulas, and where a value stands for one."""
        if not self.on:
            return []
        label = self.result.node_labels.get
        text = (f"“汇总”和“{SCORES}”中的得分是公式，点击单元格即可看到它由哪些单元格、按什么权重算出。"
                f"“{SCORES}”中每项得分保存精确值（保留 {LEAF_PLACES} 位小数，显示 {self.places} 位）；"
                + (f"测评票平均分是对“{BALLOTS}”中本单位有效票合计的平均（AVERAGEIFS）；" if self.averaged else "") +
                f"{'、'.join(label(n, n) for n in self.inner)}为 ROUND(权重 × 各项, {self.places})，即精确计算、最后一次四舍五入。"
                "排名、等次和结果运用按计算时的得分确定，修改表中数字后不会随之改变。")
        pairs = [("计算公式", text)]
        if self.fallbacks:
            pairs.append(("未用公式的单元格", "；".join(dict.fromkeys(self.fallbacks))))
        return pairs


def criterion_order(key: str) -> tuple[int, str]:
    m = re.fullmatch(r"c(\d+)", key)
    return (int(m.group(1)), key) if m else (10**6, key)


class BallotLayout:
    """Where 测评明细 puts each ballot, and what it calls the items.

    Items every unit names alike (a fixed ballot: 评分) head their columns. Where each unit has its own
    criteria (系统 A: ten per village), the columns are headed 细则1 … and each unit's ballots follow a
    row naming its own criteria; the ballot rows of one unit stay together (``Trace._mean``).

    One pass over the ballots (a province's are read back from the run's spool, ``io/spool.Ballots``, which
    also knows the items, the units and whether any ballot is a vote without a pass of its own) gives the rows
    naming criteria and, per unit, period and file, where its ballots are and the sum of their valid totals."""

    def __init__(self, result: RunResult):
        ballots = result.ballots
        about = getattr(ballots, "about", None)
        if about is not None:
            found, self.votes, used = about()
        else:
            found, self.votes, used = set(), False, {}
            for b in ballots:
                found.update(b.scores)
                self.votes = self.votes or bool(b.votes)
                used.setdefault(b.unit, None)
        self.keys = sorted(found, key=criterion_order)
        labels = result.item_labels
        named = [labels[u] for u in used if u in labels]
        shared = {k: named[0].get(k) for k in self.keys} if named else {}
        self.own = bool(named) and any(any(n.get(k) != shared[k] for k in self.keys) for n in named)
        self.names = [s if (s := shared.get(k)) and not self.own else f"细则{n}" if n < 10**6 else k
                      for n, k in map(criterion_order, self.keys)]
        self.labels = labels if self.own else {}
        self.named: dict[int, str] = {}  # sheet row → the unit whose criteria it names
        # (unit, period, "file / sheet") → [first ballot, last ballot, first row, last row, one run, valid total, valid]
        self.groups: dict[tuple[str, str, str], list] = {}
        places, groups = result.places, self.groups
        r, last = 2, None
        for i, b in enumerate(ballots):
            if b.unit != last and b.unit in self.labels:
                self.named[r] = b.unit
                r += 1
            last = b.unit
            key = (b.unit, b.period, f"{b.file} / {b.sheet}")
            g = groups.get(key)
            if g is None:
                g = groups[key] = [i, i, r, r, True, Decimal(0), 0]
            else:
                if g[1] != i - 1:
                    g[4] = False  # another unit's or file's ballot between them
                g[1], g[3] = i, r
            if b.status == "有效" and b.total is not None:
                g[5] += round_half_up(b.total, places)
                g[6] += 1
            r += 1
