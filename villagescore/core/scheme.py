"""The scheme model: one township's rules as data, checked on load.

A scheme (考评方案) is a TOML file. It declares the forms to print and read, a tree of score
nodes (leaves aggregate a form's rows, inner nodes combine children by weight or sum), how
periods combine into a year, and one or more gradings (等次) with quota rules, tie-breakers,
vetoes and consequences. Nothing here reads files; ``load_scheme`` takes the parsed dict.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from villagescore.core.numbers import dec


class SchemeError(Exception):
    """A scheme file that cannot be used. ``problems`` are Chinese lines naming the key path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _d(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("应为数字")
    if isinstance(value, (int, float, str, Decimal)):
        try:
            return dec(value)
        except Exception as exc:  # decimal.InvalidOperation
            raise ValueError("应为数字") from exc
    raise ValueError("应为数字")


# A table of exact numbers (weights, point maps, letter bands); a TOML float is read through its text.
DecimalMap = Annotated[dict[str, Decimal], BeforeValidator(lambda v: {k: _d(x) for k, x in (v or {}).items()})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- forms

ColumnType = Literal["number", "option", "text", "integer"]


class Column(Strict):
    key: str
    label: str
    type: ColumnType = "text"
    options: list[str] = []
    min: Decimal | None = None
    max: Decimal | None = None
    places: int = 2
    required: bool = False
    aliases: list[str] = []
    width: int | None = None
    max_length: int | None = None

    @model_validator(mode="after")
    def _check(self) -> "Column":
        if self.type == "option" and not self.options:
            raise ValueError("type = \"option\" 的列必须给出 options")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max")
        return self


# Columns the tool itself lays out in front of a form's own columns; a scheme may not reuse their keys.
RESERVED_KEYS = {
    "callback": ("seq", "request_id", "date", "content", "requester", "phone"),
    "register": ("seq", "unit", "unit_name"),
    "unit_scores": ("unit", "unit_name"),
}

FormKind = Literal["score_ballot", "vote_ballot", "callback", "tally", "register", "unit_scores"]


class Survey(Strict):
    """A tally counted from an online questionnaire's Excel export (问卷星, 腾讯问卷: one response per row), instead
    of typed: which column names the unit, which column holds each of the form's rows, which answers count for
    each option. Columns are found by their header (the text given, or a header containing it)."""

    unit: str  # the question naming the village, e.g. "所在村（社区）"
    questions: dict[str, str]  # the form's row (评价内容) → the question's column, e.g. 服务态度 = "服务态度"
    answers: dict[str, list[str]]  # the form's option → the answers counted for it, e.g. 满意 = ["满意", "非常满意"]
    units: dict[str, str] = {}  # an answer in the unit column → unit code, where it is not the roster's name or code
    ignore: list[str] = []  # answers counted for no option (e.g. "不了解"); a blank answer is never counted
    time: str = ""  # the submission-time column ("": 提交答卷时间, 结束答题时间 … found by name); it dates each response


class Track(Strict):
    """A register whose rows are items followed from period to period (问题整改清单): which columns hold the
    problem, measure, owner, deadline and status, and which statuses mean the item is still open."""

    problem: str = "problem"
    measure: str = "measure"
    owner: str = "owner"
    deadline: str = "deadline"
    status: str = "status"
    open: list[str]


class Form(Strict):
    id: str
    kind: FormKind
    title: str
    scope: Literal["unit", "township"] = "unit"
    file_label: str | None = None  # short name used in file names
    anonymous: bool = False
    note: str = ""
    # score_ballot
    items: Literal["criteria"] | list[str] | None = None
    evaluators: int = 20
    printable: bool = True
    halves: bool = False  # a readable (scanned) score ballot gets a "+0.5" box beside the whole points
    # callback
    draw: int = 5
    # tally
    rows: list[str] = []
    options: list[str] = []
    # register / callback / unit_scores
    columns: list[Column] = []
    max_rows: int = 50
    aliases: list[str] = []
    veto_field: str | None = None  # a column whose values name vetoes (一票否决事项)
    applies_to: list[str] = []  # unit types that get this form (and whose rows it has); empty: every type
    # vote_ballot: one vote per ballot on the unit itself (``self_label``) and on each of its members
    # (people of ``members`` types on the roster's people sheet), with ``options``; a tally sheet beside it
    self_label: str = ""
    members: list[str] = []
    track: Track | None = None  # a register of items carried from period to period (问题整改清单)
    survey: Survey | None = None  # a tally read from an online questionnaire's export (core/survey.py)

    @model_validator(mode="after")
    def _check(self) -> "Form":
        if self.kind == "score_ballot" and self.items is None:
            raise ValueError("测评票必须给出 items（\"criteria\" 或细则列表）")
        if self.kind == "tally" and (not self.rows or not self.options):
            raise ValueError("统计表必须给出 rows 和 options")
        if self.kind == "vote_ballot" and not self.options:
            raise ValueError("投票测评票必须给出 options（例如 [\"好\", \"较好\", \"一般\", \"差\"]）")
        if self.kind == "vote_ballot" and not (self.self_label or self.members):
            raise ValueError("投票测评票须给出 self_label（对本单位的评价）或 members（评价的人员类别）")
        if self.kind in ("register", "unit_scores", "callback") and not self.columns:
            raise ValueError("登记表必须给出 columns")
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError("columns 中有重复的 key")
        clash = [k for k in keys if k in RESERVED_KEYS.get(self.kind, ())]
        if clash:
            raise ValueError(f"columns 的 key “{'、'.join(clash)}”已被本类表格的固定列占用，请换一个名字")
        if self.track is not None:
            if self.kind != "register":
                raise ValueError("track 只能用于登记表（kind = \"register\"）")
            t = self.track
            missing = [k for k in (t.problem, t.measure, t.owner, t.deadline, t.status) if self.column(k) is None]
            if missing:
                raise ValueError(f"track 引用的列“{'、'.join(missing)}”不是本表的列")
        if self.survey is not None:
            if self.kind != "tally":
                raise ValueError("survey 只能用于统计表（kind = \"tally\"）")
            bad = [r for r in self.survey.questions if r not in self.rows]
            if bad:
                raise ValueError(f"survey.questions 中的“{'、'.join(bad)}”不是本表的 rows")
            bad = [o for o in self.survey.answers if o not in self.options]
            if bad:
                raise ValueError(f"survey.answers 中的“{'、'.join(bad)}”不是本表的 options")
            seen = [a for v in self.survey.answers.values() for a in v] + list(self.survey.ignore)
            twice = sorted({a for a in seen if seen.count(a) > 1})
            if twice:
                raise ValueError(f"survey 中的回答“{'、'.join(twice)}”对应了不止一项")
        if self.veto_field and self.column(self.veto_field) is None:
            raise ValueError(f"veto_field “{self.veto_field}”不是本表的列")
        if self.evaluators < 1 or self.draw < 1:
            raise ValueError("evaluators 和 draw 必须大于 0")
        return self

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def short(self) -> str:
        return self.file_label or self.title

    def applies(self, unit_type: str) -> bool:
        return not self.applies_to or unit_type in self.applies_to


# ---------------------------------------------------------------- score nodes

class Band(Strict):
    at_least: Decimal
    value: Decimal


class LeafBase(Strict):
    label: str
    max: Decimal | None = None
    form: str
    bands: list[Band] = []  # value → first band whose at_least ≤ value (ordered high → low)
    scale: Decimal | None = None  # multiply after bands
    applies_to: list[str] = []

    def post(self) -> str:
        return ""


class BallotMean(LeafBase):
    agg: Literal["ballot_mean"]
    trim: int = 0  # drop this many highest and lowest totals
    min_valid: int = 1


class CountPoints(LeafBase):
    """points × rows whose ``field`` is in ``match``; on a tally (no field): points × the counts of ``match``."""

    agg: Literal["count_points"]
    field: str | None = None
    match: list[str]
    points: Decimal
    cap: Decimal | None = None


class SharePoints(LeafBase):
    """points × (weighted answers) / all answers; ``positive`` options weigh 1, or give ``weights``."""

    agg: Literal["share_points"]
    positive: list[str] = []
    weights: DecimalMap = {}  # e.g. 好 = 1, 较好 = 0.8, 一般 = 0.6, 差 = 0
    points: Decimal
    field: str | None = None  # for ballot/register rows: the column holding the option

    @model_validator(mode="after")
    def _one(self) -> "SharePoints":
        if bool(self.positive) == bool(self.weights):
            raise ValueError("share_points 须且只能给出 positive 或 weights 之一")
        return self

    @property
    def option_weights(self) -> dict[str, Decimal]:
        return dict(self.weights) if self.weights else {o: Decimal(1) for o in self.positive}


class Deduction(LeafBase):
    agg: Literal["deduction"]
    start: Decimal
    per: Decimal
    distinct: str | None = None  # count each distinct value of this column once
    where: dict[str, list[str]] = {}
    floor: Decimal = Decimal(0)


class RegisterSum(LeafBase):
    agg: Literal["register_sum"]
    field: str | None = None  # numeric column to add up
    points_by: str | None = None  # or: a column whose value looks up ``points``
    points_map: DecimalMap = {}
    where: dict[str, list[str]] = {}
    cap: Decimal | None = None
    floor: Decimal | None = None

    @model_validator(mode="after")
    def _one(self) -> "RegisterSum":
        if (self.field is None) == (self.points_by is None):
            raise ValueError("register_sum 须且只能给出 field 或 points_by 之一")
        return self


class Direct(LeafBase):
    agg: Literal["direct"]
    field: str
    letters: DecimalMap = {}  # e.g. A=1.0 … E=0.6, times ``max``


Leaf = Annotated[
    Union[BallotMean, CountPoints, SharePoints, Deduction, RegisterSum, Direct],
    Field(discriminator="agg"),
]


class Combine(Strict):
    label: str
    combine: Literal["weighted", "sum"]
    parts: dict[str, Decimal] | list[str]
    max: Decimal | None = None
    applies_to: list[str] = []

    @field_validator("parts", mode="before")
    @classmethod
    def _parts(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: _d(x) for k, x in v.items()}
        return v

    @property
    def weights(self) -> dict[str, Decimal]:
        if isinstance(self.parts, dict):
            return dict(self.parts)
        return {p: Decimal(1) for p in self.parts}


Node = Union[Combine, Leaf]


# ---------------------------------------------------------------- grading

RuleKind = Literal["cap", "floor", "top_n", "next_share", "at_least", "below"]


class OnlyIf(Strict):
    grading: str
    grades: list[str]


class Rule(Strict):
    grade: str
    kind: RuleKind
    share: Decimal | None = None
    n: int | None = None
    score: Decimal | None = None  # threshold for at_least / below
    min_score: Decimal | None = None  # extra condition on cap / top_n / next_share
    only_if: OnlyIf | None = None

    @model_validator(mode="after")
    def _check(self) -> "Rule":
        if self.kind in ("cap", "floor", "next_share"):
            if (self.share is None) == (self.n is None):
                raise ValueError(f"{self.kind} 规则须给出 share 或 n 之一")
            if self.share is not None and not (Decimal(0) <= self.share <= Decimal(1)):
                raise ValueError("share 必须在 0 到 1 之间（例如 0.2 表示 20%）")
        if self.kind == "top_n" and self.n is None:
            raise ValueError("top_n 规则须给出 n")
        if self.kind in ("at_least", "below") and self.score is None:
            raise ValueError(f"{self.kind} 规则须给出 score")
        return self

    def describe(self) -> str:
        pct = f"{(self.share * 100).normalize():f}%" if self.share is not None else ""
        cond = f"且得分不低于{self.min_score}" if self.min_score is not None else ""
        return {
            "cap": f"“{self.grade}”不超过{pct or f'{self.n}个'}（向下取整）{cond}",
            "floor": f"“{self.grade}”不少于{pct or f'{self.n}个'}（向上取整）",
            "top_n": f"排名前{self.n}名为“{self.grade}”{cond}",
            "next_share": f"其后{pct or f'{self.n}个'}（向下取整）为“{self.grade}”{cond}",
            "at_least": f"得分不低于{self.score}为“{self.grade}”",
            "below": f"得分低于{self.score}为“{self.grade}”",
        }[self.kind]


class Consequence(Strict):
    text: str = ""
    funds: Decimal | None = None  # share of the roster's 工作经费基数, e.g. 0.10 or -0.10


class Entered(Strict):
    """A grade decided elsewhere and typed into a form column (e.g. the committee's 下述下评 grade)."""

    form: str
    field: str


class Streak(Strict):
    """A grade that needs the same grade in earlier periods too (e.g. 优秀 two quarters running → 提级管理)."""

    grading: str  # the grading whose grades are looked at
    grades: list[str]
    periods: int = 2  # this period and the periods before it, consecutive
    grade: str  # the grade given when the streak holds (the grading's default otherwise)


class Grading(Strict):
    id: str
    label: str
    by: str
    grades: list[str]
    default: str
    entered: Entered | None = None  # grades read from a form instead of computed by rules
    rules: list[Rule] = []
    tie_breakers: list[str] = []
    applies_to: list[str] = []
    consequences: dict[str, Consequence] = {}
    colors: dict[str, str] = {}  # grade → cell colour in the summary, e.g. "红色预警" = "#F4B6B6"
    streak: Streak | None = None  # grades from earlier periods (the archive) instead of rules

    @model_validator(mode="after")
    def _check(self) -> "Grading":
        for g, colour in self.colors.items():
            if g not in self.grades:
                raise ValueError(f"colors 中的等次“{g}”不在 grades 中")
            if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
                raise ValueError(f"colors 中“{g}”的颜色“{colour}”应写成 #RRGGBB，例如 #F4B6B6")
        if self.streak and self.streak.grade not in self.grades:
            raise ValueError(f"streak.grade “{self.streak.grade}”不在 grades 中")
        if self.default not in self.grades:
            raise ValueError(f"default “{self.default}”不在 grades 中")
        for r in self.rules:
            if r.grade not in self.grades:
                raise ValueError(f"规则中的等次“{r.grade}”不在 grades 中")
        for g in self.consequences:
            if g not in self.grades:
                raise ValueError(f"consequences 中的等次“{g}”不在 grades 中")
        return self


class Listing(Strict):
    """A list in the summary: units with some grades (e.g. 约谈名单), with their rows of a form matching
    ``where`` (e.g. open rectification items); without ``grading``, every row of the form matching ``where``
    (e.g. adjustments 申请撤销, pending)."""

    id: str
    title: str
    text: str = ""
    grading: str | None = None
    grades: list[str] = []
    form: str | None = None
    where: dict[str, list[str]] = {}
    columns: list[str] = []  # the form's columns shown; empty: all

    @model_validator(mode="after")
    def _check(self) -> "Listing":
        if self.grading is None and self.form is None:
            raise ValueError("名单须给出 grading（按等次列出单位）或 form（列出表格中的条目）")
        if self.grading is not None and not self.grades:
            raise ValueError("按等次列出单位时须给出 grades")
        return self


class Veto(Strict):
    id: str
    label: str
    forces: dict[str, str] = {}  # grading id → grade
    cancels: dict[str, list[str]] = {}  # grading id → grades the unit may not get


# ---------------------------------------------------------------- scheme


class Meta(Strict):
    id: str
    name: str
    version: str = "1"
    system: str = ""
    source: str = ""
    period_kind: Literal["half", "quarter", "year"] = "half"
    places: int = 2
    rounding: Literal["end", "each"] = "end"
    unit_types: list[str] = ["村", "社区"]
    member_types: list[str] = []  # people evaluated too (系统 B), listed on the roster's people sheet
    township: str = ""


class Annual(Strict):
    weights: DecimalMap = {}


class Criteria(Strict):
    aspects: list[str] = []
    per_aspect: int = 2
    default_points: Decimal = Decimal(10)


class Scheme(Strict):
    scheme: Meta
    annual: Annual = Annual()
    criteria: Criteria | None = None
    forms: list[Form]
    nodes: dict[str, Node]
    root: str
    gradings: list[Grading]
    vetoes: list[Veto] = []
    lists: list[Listing] = []
    display: list[str] = []  # node ids shown as columns in the summary, in order

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
            problems.extend(_cycles(self.nodes))
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
                        for v in values if col is not None and col.type == "option" and col.options else []:
                            if v not in col.options:
                                problems.append(f"lists[{i + 1}].where.{k}：选项“{v}”不是表格“{lst.form}”列“{k}”的选项"
                                                f"（可选：{'、'.join(col.options)}）")
        for v in self.vetoes:
            for gid, grade in v.forces.items():
                if gid not in grading_ids or grade not in grading_ids[gid].grades:
                    problems.append(f"vetoes.{v.id}.forces：等次“{gid}={grade}”不存在")
            for gid, cancelled in v.cancels.items():
                if gid not in grading_ids:
                    problems.append(f"vetoes.{v.id}.cancels：等次“{gid}”不存在")
                    continue
                for grade in cancelled:
                    if grade not in grading_ids[gid].grades:
                        problems.append(f"vetoes.{v.id}.cancels：等次“{gid}={grade}”不存在"
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
        if form.kind in _COUNTED_KINDS:
            check(key, names, form.options, f"表格“{form.id}”")
        elif (col := option_column(node.field)) is not None:
            check(key, names, col.options, f"表格“{form.id}”列“{col.key}”")
    if isinstance(node, (Deduction, RegisterSum)):
        for k, values in node.where.items():
            if (col := option_column(k)) is not None:
                check(f"where.{k}", values, col.options, f"表格“{form.id}”列“{col.key}”")
    if isinstance(node, Direct) and node.letters and (col := option_column(node.field)) is not None:
        check("letters", node.letters, col.options, f"表格“{form.id}”列“{col.key}”", "档次")
    return problems


def _cycles(nodes: dict[str, Any]) -> list[str]:
    state: dict[str, int] = {}
    problems: list[str] = []

    def visit(nid: str, path: list[str]) -> None:
        if state.get(nid) == 2:
            return
        if state.get(nid) == 1:
            problems.append("nodes：节点循环引用 " + " → ".join([*path, nid]))
            return
        state[nid] = 1
        node = nodes[nid]
        if isinstance(node, Combine):
            for p in node.weights:
                if p in nodes:
                    visit(p, [*path, nid])
        state[nid] = 2

    for nid in nodes:
        visit(nid, [])
    return problems


_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "literal_error": "取值不在允许范围内",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为表",
    "bool_type": "应为 true 或 false",
    "union_tag_invalid": "agg 取值不认识",
    "union_tag_not_found": "缺少 agg 或 combine",
    "model_type": "应为表",
}


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif part in ("Combine", "function-after[_check(), Combine]") or str(part).startswith(("function-", "tagged-union")):
            continue
        elif part in ("ballot_mean", "count_points", "share_points", "deduction", "register_sum", "direct"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "（顶层）"


def load_scheme(data: dict[str, Any], source: str = "scheme") -> Scheme:
    """Build and check a Scheme from parsed TOML; raise SchemeError with Chinese key-path lines."""
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        problems = []
        seen = set()
        for err in exc.errors():
            loc = err.get("loc", ())
            # A node that is neither a Combine nor a Leaf yields errors for both; keep the leaf one
            if loc and loc[0] == "nodes" and len(loc) > 2 and loc[2] == "Combine" and _has_agg(data, loc):
                continue
            msg = _MESSAGES.get(err["type"])
            if msg is None:
                msg = str(err.get("msg", "")).removeprefix("Value error, ")
            lines = [f"{_path(loc)}：{m}" if loc else m for m in msg.split("\n")]
            for line in lines:
                if line not in seen:
                    seen.add(line)
                    problems.append(line)
        raise SchemeError(source, problems) from None


def _has_agg(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node = (data.get("nodes") or {}).get(loc[1])
    return isinstance(node, dict) and "agg" in node
