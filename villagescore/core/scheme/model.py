"""The scheme itself: its header (``[scheme]``), the year's weights, the criteria, and the cross-references between
forms, nodes, gradings, vetoes and lists, checked once every part is valid on its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from villagescore.core.scheme.common import MAX_DEPTH, MAX_ITEMS, DecimalMap, Num, Places, Strict, Texts
from villagescore.core.scheme.forms import Column, Form, Tally, VoteBallot
from villagescore.core.scheme.grading import Grading, Listing, Veto
from villagescore.core.scheme.nodes import (
    Combine,
    CountPoints,
    Deduction,
    Direct,
    Leaf,
    Node,
    RegisterSum,
    SharePoints,
)


class Meta(Strict):
    id: str
    name: str
    version: str = "1"
    system: str = ""
    source: str = ""
    period_kind: Literal["half", "quarter", "year"] = "half"
    places: Places = 2
    rounding: Literal["end", "each"] = "end"
    unit_types: Texts = ["村", "社区"]
    member_types: Texts = []  # people evaluated too (系统 B), listed on the roster's people sheet
    township: str = ""
    # unit types whose roster row must name the 党组织书记 (printed on the summary and the 公示); None: every type
    secretary_types: list[str] | None = None

    @model_validator(mode="after")
    def _types(self) -> "Meta":
        unknown = [t for t in self.secretary_types or [] if t not in self.unit_types]
        if unknown:
            raise ValueError(f"secretary_types 中的类型“{'、'.join(unknown)}”不在 unit_types 中")
        return self

    @property
    def needs_secretary(self) -> list[str]:
        return list(self.unit_types if self.secretary_types is None else self.secretary_types)


class Annual(Strict):
    weights: DecimalMap = {}


class Criteria(Strict):
    aspects: Texts = []
    per_aspect: Annotated[int, Field(ge=1, le=50)] = 2
    default_points: Num = Decimal(10)


class Scheme(Strict):
    scheme: Meta
    annual: Annual = Annual()
    criteria: Criteria | None = None
    forms: Annotated[list[Form], Field(max_length=MAX_ITEMS)]
    nodes: Annotated[dict[str, Node], Field(max_length=2000)]
    root: str
    gradings: Annotated[list[Grading], Field(max_length=50)]
    vetoes: Annotated[list[Veto], Field(max_length=MAX_ITEMS)] = []
    lists: Annotated[list[Listing], Field(max_length=MAX_ITEMS)] = []
    display: Texts = []  # node ids shown as columns in the summary, in order

    @model_validator(mode="after")
    def _refs(self) -> "Scheme":
        problems: list[str] = []
        form_ids = [f.id for f in self.forms]
        if len(set(form_ids)) != len(form_ids):
            problems.append("forms 中有重复的 id")
        forms = {f.id: f for f in self.forms}
        if self.root not in self.nodes:
            problems.append(f"root：节点“{self.root}”不存在")
        for nid, node in self.nodes.items():
            if isinstance(node, Combine):
                for part in node.weights:
                    if part not in self.nodes:
                        problems.append(f"nodes.{nid}.parts：节点“{part}”不存在")
                if node.combine == "weighted":
                    total = sum(node.weights.values(), Decimal(0))
                    if total != 1:
                        problems.append(f"nodes.{nid}.parts：权重合计为 {total}，应为 1")
            else:
                form = forms.get(node.form)
                if form is None:
                    problems.append(f"nodes.{nid}.form：表格“{node.form}”不存在")
                    continue
                problems.extend(_leaf_problems(nid, node, form))
        if not problems and self.root in self.nodes:
            problems.extend(_cycles(self.nodes, self.root))
        for g in self.gradings:
            if g.entered:
                ef = forms.get(g.entered.form)
                if ef is None or ef.column(g.entered.field) is None:
                    problems.append(f"gradings.{g.id}.entered：表格“{g.entered.form}”没有列“{g.entered.field}”")
            for ref in [g.by, *g.tie_breakers]:
                if ref not in self.nodes:
                    problems.append(f"gradings.{g.id}：节点“{ref}”不存在")
            for r in g.rules:
                if r.only_if and r.only_if.grading not in {x.id for x in self.gradings}:
                    problems.append(f"gradings.{g.id}.rules：only_if 引用的等次“{r.only_if.grading}”不存在")
        grading_ids = {g.id: g for g in self.gradings}
        types = {*self.scheme.unit_types, *self.scheme.member_types}
        for f in self.forms:
            for t in f.applies_to:
                if t not in types:
                    problems.append(f"forms.{f.id}.applies_to：单位类型“{t}”不在 scheme.unit_types 或 member_types 中")
            for t in f.members:
                if t not in self.scheme.member_types:
                    problems.append(f"forms.{f.id}.members：人员类别“{t}”不在 scheme.member_types 中")
        for g in self.gradings:
            for t in g.applies_to:
                if t not in types:
                    problems.append(f"gradings.{g.id}.applies_to：单位类型“{t}”不在 scheme.unit_types 或 member_types 中")
            if g.streak and g.streak.grading not in grading_ids:
                problems.append(f"gradings.{g.id}.streak：等次“{g.streak.grading}”不存在")
            elif g.streak and [x.id for x in self.gradings].index(g.streak.grading) > self.gradings.index(g):
                problems.append(f"gradings.{g.id}.streak：等次“{g.streak.grading}”须写在本等次之前")
            elif g.streak and not set(g.streak.grades) <= set(grading_ids[g.streak.grading].grades):
                problems.append(f"gradings.{g.id}.streak.grades：不在“{g.streak.grading}”的等次中")
        for i, lst in enumerate(self.lists):
            if lst.grading is not None:
                if lst.grading not in grading_ids:
                    problems.append(f"lists[{i + 1}].grading：等次“{lst.grading}”不存在")
                elif not set(lst.grades) <= set(grading_ids[lst.grading].grades):
                    problems.append(f"lists[{i + 1}].grades：不在“{lst.grading}”的等次中")
            if lst.form is not None:
                lf = forms.get(lst.form)
                if lf is None:
                    problems.append(f"lists[{i + 1}].form：表格“{lst.form}”不存在")
                else:
                    for k in [*lst.where, *lst.columns]:
                        if lf.column(k) is None:
                            problems.append(f"lists[{i + 1}]：表格“{lst.form}”没有列“{k}”")
                    for k, values in lst.where.items():  # as for a leaf's where: option columns only
                        col = lf.column(k)
                        if col is None or col.type != "option" or not col.options:
                            continue
                        for value in values:
                            if value not in col.options:
                                problems.append(f"lists[{i + 1}].where.{k}：选项“{value}”不是表格“{lst.form}”列“{k}”的选项"
                                                f"（可选：{'、'.join(col.options)}）")
        for veto in self.vetoes:
            for gid, grade in veto.forces.items():
                if gid not in grading_ids or grade not in grading_ids[gid].grades:
                    problems.append(f"vetoes.{veto.id}.forces：等次“{gid}={grade}”不存在")
            for gid, cancelled in veto.cancels.items():
                if gid not in grading_ids:
                    problems.append(f"vetoes.{veto.id}.cancels：等次“{gid}”不存在")
                    continue
                for grade in cancelled:
                    if grade not in grading_ids[gid].grades:
                        problems.append(f"vetoes.{veto.id}.cancels：等次“{gid}={grade}”不存在"
                                        f"（“{gid}”的等次：{'、'.join(grading_ids[gid].grades)}）")
        if self.annual.weights and sum(self.annual.weights.values(), Decimal(0)) != 1:
            problems.append("annual.weights：权重合计应为 1")
        for d in self.display:
            if d not in self.nodes:
                problems.append(f"display：节点“{d}”不存在")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -------- helpers
    def form(self, form_id: str) -> Form:
        for f in self.forms:
            if f.id == form_id:
                return f
        raise KeyError(form_id)

    def leaves(self) -> dict[str, Leaf]:
        return {k: v for k, v in self.nodes.items() if not isinstance(v, Combine)}

    def veto(self, label_or_id: str) -> Veto | None:
        return next((v for v in self.vetoes if label_or_id in (v.id, v.label)), None)

    @property
    def display_nodes(self) -> list[str]:
        return self.display or [self.root]

    def order(self) -> list[str]:
        """Node ids, children before parents (depth-first from the root)."""
        seen: list[str] = []

        def visit(nid: str) -> None:
            node = self.nodes[nid]
            if isinstance(node, Combine):
                for part in node.weights:
                    visit(part)
            if nid not in seen:
                seen.append(nid)

        visit(self.root)
        for nid in self.nodes:
            if nid not in seen:
                visit(nid)
        return seen


def _fields_used(node: Any) -> list[tuple[str, str]]:
    """(key naming the column, column key) for every column a leaf reads."""
    out = []
    for name in ("field", "distinct", "points_by"):
        v = getattr(node, name, None)
        if v:
            out.append((name, v))
    out.extend(("where", k) for k in getattr(node, "where", {}) or {})
    return out


_COUNTED_KINDS = {"tally": "统计表", "vote_ballot": "投票测评票"}  # forms whose counts are per option


def _leaf_problems(nid: str, node: Any, form: Form) -> list[str]:
    """Columns and option names a leaf uses that its form does not have.

    A tally or vote ballot counts per option: its leaves give no ``field``, and their ``match``,
    ``positive`` and ``weights`` name the form's ``options``. On forms with columns, option names are
    checked only against option columns (a free-text column accepts anything)."""
    problems: list[str] = []
    at = f"nodes.{nid}"
    columns = form.kind in ("register", "unit_scores", "callback")
    if columns:
        for key, fld in _fields_used(node):
            if form.column(fld) is None:
                problems.append(f"{at}.{key}：表格“{form.id}”没有列“{fld}”")
    elif form.kind in _COUNTED_KINDS and getattr(node, "field", None):
        problems.append(f"{at}.field：表格“{form.id}”是{_COUNTED_KINDS[form.kind]}，按选项计数，"
                        f"不应给出 field（“{node.field}”）")

    def option_column(key: str | None) -> Column | None:
        col = form.column(key) if columns and key else None
        return col if col is not None and col.type == "option" and col.options else None

    def check(key: str, names: Any, options: list[str], where: str, what: str = "选项") -> None:
        for name in names:
            if name not in options:
                problems.append(f"{at}.{key}：{what}“{name}”不是{where}的选项（可选：{'、'.join(options)}）")

    if isinstance(node, (CountPoints, SharePoints)):
        names = node.match if isinstance(node, CountPoints) else (node.weights or node.positive)
        key = "match" if isinstance(node, CountPoints) else ("weights" if node.weights else "positive")
        if isinstance(form, (Tally, VoteBallot)):  # the kinds of _COUNTED_KINDS
            check(key, names, form.options, f"表格“{form.id}”")
        elif (col := option_column(node.field)) is not None:
            check(key, names, col.options, f"表格“{form.id}”列“{col.key}”")
    if isinstance(node, (Deduction, RegisterSum)):
        for k, values in node.where.items():
            if (col := option_column(k)) is not None:
                check(f"where.{k}", values, col.options, f"表格“{form.id}”列“{col.key}”")
    if isinstance(node, Direct) and node.letters and (col := option_column(node.field)) is not None:
        check("letters", node.letters, col.options, f"表格“{form.id}”列“{col.key}”", "档次")
    band = form.column(node.field) if columns and isinstance(node, Direct) else None
    if band is not None and band.type == "band":
        if not node.letters:
            problems.append(f"{at}.letters：列“{band.key}”按档次或分数填写，须给出各档次的折算比例（letters）")
        else:
            check("letters", node.letters, band.options, f"表格“{form.id}”列“{band.key}”", "档次")
        if node.max is None or band.max != node.max:
            problems.append(f"{at}.max：应与表格“{form.id}”列“{band.key}”的 max（{band.max}）相同，"
                            "档次和分数都按该项满分计")
    return problems


def _cycles(nodes: dict[str, Any], root: str = "") -> list[str]:
    """Cycles in the score tree, and a tree deeper than MAX_DEPTH levels below ``root``. Walked with a stack of
    its own, not by recursion: a scheme nested thousands of levels deep is a message, not a RecursionError."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    depth: dict[str, int] = {}  # levels from a node down to its deepest leaf (a leaf: 1)
    problems: list[str] = []

    def children(nid: str) -> list[str]:
        node = nodes[nid]
        return [p for p in node.weights if p in nodes] if isinstance(node, Combine) else []

    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(children(start)))]
        while stack:
            nid, todo = stack[-1]
            child = next(todo, None)
            if child is None:
                stack.pop()
                state[nid] = 2
                depth[nid] = 1 + max((depth.get(c, 0) for c in children(nid)), default=0)
            elif state.get(child) == 1:
                path = [n for n, _ in stack]
                problems.append("nodes：节点循环引用 " + " → ".join([*path, child]))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(children(child))))
    if not problems and depth.get(root, 0) > MAX_DEPTH:
        problems.append(f"nodes.{root}：计分树有 {depth[root]} 层，最多 {MAX_DEPTH} 层")
    return problems
