"""The scheme model: one township's rules as data, checked on load.

A scheme (考评方案) is a TOML file. It declares the forms to print and read, a tree of score
nodes (leaves aggregate a form's rows, inner nodes combine children by weight or sum), how
periods combine into a year, and one or more gradings (等次) with quota rules, tie-breakers,
vetoes and consequences. Nothing here reads files; ``load_scheme`` takes the parsed dict.
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from villagescore.core.numbers import dec, plain, sci
from villagescore.core.scheme_expand import KeyPath, expand


class SchemeError(Exception):
    """A scheme file that cannot be used. ``problems`` are Chinese lines naming the key path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


# Bounds on what a scheme may say, so that what ``scheme check`` accepts, compute and template can do: every
# number within ±NUMBER_LIMIT (points, weights, bounds; scores read from cells stay below 1e15), decimals to
# print at most MAX_PLACES, and sizes that fit a printed form and the rows and columns a sheet is read to.
NUMBER_LIMIT = Decimal(10) ** 9
MAX_PLACES = 6
MAX_EVALUATORS = 1000  # ballots a form prints (a row each)
MAX_FORM_ROWS = 5000  # rows of a register
MAX_DRAW = 100
MAX_COLUMNS = 150  # a form's own columns (a sheet is read to 200)
MAX_ITEMS = 200  # options, tally rows, listed criteria, …
MAX_DEPTH = 30  # levels of the score tree
MAX_TEXT = 1000  # characters of any text in a scheme
TEXT_LIMIT = 255  # characters of a text cell whose column sets no max_length (printed forms check the same)
EXCEL_CELL_CHARS = 32767


def _d(value: Any) -> Any:
    """A number of a scheme as an exact Decimal (a float through its text); anything else is left for pydantic
    to refuse in its own words (mapped to Chinese in ``_message``)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


# Every number of a scheme: exact, finite (pydantic refuses inf and nan), within ±NUMBER_LIMIT.
Num = Annotated[Decimal, BeforeValidator(_d), Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
# A table of exact numbers (weights, point maps, letter bands); each value checked, located by its key.
DecimalMap = Annotated[dict[str, Num], Field(max_length=MAX_ITEMS)]
Places = Annotated[int, Field(ge=0, le=MAX_PLACES)]
Texts = Annotated[list[str], Field(max_length=MAX_ITEMS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)


# ---------------------------------------------------------------- forms

# "band": a department's score given either as a band letter (an option, e.g. A–E) or as points (min–max,
# ``places`` decimals) in the same cell (seed 003: “由高到低分五个档次打分,分数精确到小数点后2位”)
ColumnType = Literal["number", "option", "text", "integer", "band"]


class Column(Strict):
    key: str
    label: str
    type: ColumnType = "text"
    options: Texts = []
    min: Num | None = None
    max: Num | None = None
    places: Places = 2
    required: bool = False
    aliases: Texts = []
    width: Annotated[int, Field(ge=1, le=255)] | None = None
    max_length: Annotated[int, Field(ge=1, le=EXCEL_CELL_CHARS)] | None = None

    @property
    def text_limit(self) -> int:
        """Characters a text cell of this column may hold (the printed form checks the same)."""
        return self.max_length or TEXT_LIMIT

    @model_validator(mode="after")
    def _check(self) -> "Column":
        if self.type == "option" and not self.options:
            raise ValueError("type = \"option\" 的列必须给出 options")
        if self.type == "band" and (not self.options or self.max is None):
            raise ValueError("type = \"band\" 的列必须给出 options（档次）和 max（该项满分）")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max")
        return self


# Columns the tool itself lays out in front of a form's own columns; a scheme may not reuse their keys.
RESERVED_KEYS = {
    "callback": ("seq", "request_id", "date", "content", "requester", "phone"),
    "register": ("seq", "unit", "unit_name"),
    "unit_scores": ("unit", "unit_name"),
}



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
    open: Texts


class Decide(Strict):
    """Register rows the committee decides (党委研究事项): a row whose ``column`` holds one of ``when`` (e.g. 状态
    “申请撤销”) waits for a decision; each choice of ``choices`` (e.g. 同意 → 已撤销, 不同意 → 有效) puts that value
    into the column once decided, and the row is read as if typed so. ``label`` names the matter (撤销减分申请)."""

    column: str
    when: Annotated[list[str], Field(min_length=1, max_length=MAX_ITEMS)]
    choices: Annotated[dict[str, str], Field(min_length=2, max_length=MAX_ITEMS)]
    label: str


# A form is one of six kinds, each a model of its own keys (as score nodes are on ``agg``): a key another kind uses
# is a located error on this one. Code that walks every form reads a few keys of other kinds through class-level
# defaults (``columns`` of a tally is (), ``track`` of a ballot is None, …), so it needs no isinstance test.

class FormBase(Strict):
    """What every form has: identity, title and notes, where it is filled (``scope``) and by which unit types."""

    id: str
    title: str
    scope: Literal["unit", "township"] = "unit"
    file_label: str | None = None  # short name used in file names
    anonymous: bool = False
    note: str = ""
    aliases: Texts = []
    applies_to: Texts = []  # unit types that get this form (and whose rows it has); empty: every type

    def column(self, key: str) -> Column | None:
        return next((c for c in getattr(self, "columns", ()) if c.key == key), None)

    @property
    def short(self) -> str:
        return self.file_label or self.title

    def applies(self, unit_type: str) -> bool:
        return not self.applies_to or unit_type in self.applies_to


Ballots = Annotated[int, Field(ge=1, le=MAX_EVALUATORS)]
FormColumns = Annotated[list[Column], Field(max_length=MAX_COLUMNS)]


def _check_columns(form: "CallbackForm | Register | UnitScores") -> None:
    """A form with columns: at least one, keys unique and not those of the form's fixed columns, veto_field one
    of them."""
    if not form.columns:
        raise ValueError("登记表必须给出 columns")
    keys = [c.key for c in form.columns]
    if len(set(keys)) != len(keys):
        raise ValueError("columns 中有重复的 key")
    clash = [k for k in keys if k in RESERVED_KEYS.get(form.kind, ())]
    if clash:
        raise ValueError(f"columns 的 key “{'、'.join(clash)}”已被本类表格的固定列占用，请换一个名字")
    if form.veto_field and form.column(form.veto_field) is None:
        raise ValueError(f"veto_field “{form.veto_field}”不是本表的列")


class ScoreBallot(FormBase):
    """One row per ballot, one column per item (``items = "criteria"``: each unit's own criteria)."""

    kind: Literal["score_ballot"]
    items: Literal["criteria"] | Annotated[list[str], Field(max_length=MAX_COLUMNS)] | None = None
    evaluators: Ballots = 20
    printable: bool = True
    halves: bool = False  # a readable (scanned) score ballot gets a "+0.5" box beside the whole points
    columns: ClassVar[tuple[Column, ...]] = ()
    veto_field: ClassVar[None] = None
    track: ClassVar[None] = None
    survey: ClassVar[None] = None
    decide: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "ScoreBallot":
        if self.items is None:
            raise ValueError("测评票必须给出 items（\"criteria\" 或细则列表）")
        return self


class VoteBallot(FormBase):
    """One vote per ballot on the unit itself (``self_label``) and on each of its members (people of ``members``
    types on the roster's people sheet), with ``options``; a tally sheet beside it takes hand-counted totals."""

    kind: Literal["vote_ballot"]
    options: Annotated[list[str], Field(max_length=MAX_COLUMNS)] = []
    self_label: str = ""
    members: Texts = []
    evaluators: Ballots = 20
    printable: bool = True
    halves: ClassVar[bool] = False
    columns: ClassVar[tuple[Column, ...]] = ()
    veto_field: ClassVar[None] = None
    track: ClassVar[None] = None
    survey: ClassVar[None] = None
    decide: ClassVar[None] = None

    @model_validator(mode="after")
    def _check(self) -> "VoteBallot":
        if not self.options:
            raise ValueError("投票测评票必须给出 options（例如 [\"好\", \"较好\", \"一般\", \"差\"]）")
        if not (self.self_label or self.members):
            raise ValueError("投票测评票须给出 self_label（对本单位的评价）或 members（评价的人员类别）")
        return self


class CallbackForm(FormBase):
    """The requests drawn from the appeals ledger (``draw``), then ``columns`` for what the callback found."""

    kind: Literal["callback"]
    draw: Annotated[int, Field(ge=1, le=MAX_DRAW)] = 5
    columns: FormColumns = []
    veto_field: str | None = None  # a column whose values name vetoes (一票否决事项)
    track: ClassVar[None] = None
    survey: ClassVar[None] = None
    decide: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "CallbackForm":
        _check_columns(self)
        return self


class Tally(FormBase):
    """One row per ``rows`` label, one count column per ``options`` entry; or counted from a questionnaire's
    export (``survey``)."""

    kind: Literal["tally"]
    rows: Texts = []
    options: Annotated[list[str], Field(max_length=MAX_COLUMNS)] = []
    survey: Survey | None = None  # a tally read from an online questionnaire's export (core/survey.py)
    columns: ClassVar[tuple[Column, ...]] = ()
    veto_field: ClassVar[None] = None
    track: ClassVar[None] = None
    decide: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "Tally":
        if not self.rows or not self.options:
            raise ValueError("统计表必须给出 rows 和 options")
        if self.survey is not None:
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
        return self


class Register(FormBase):
    """Free records with ``columns`` (at most ``max_rows``): anonymous box, adjustments, rectification lists."""

    kind: Literal["register"]
    columns: FormColumns = []
    max_rows: Annotated[int, Field(ge=1, le=MAX_FORM_ROWS)] = 50
    # the declaration, above the header, that the register has nothing this period: an empty register counts as
    # "nothing" only when it says 是 (an untouched one is a form not returned yet)
    none_label: str = "本期无登记事项"
    veto_field: str | None = None  # a column whose values name vetoes (一票否决事项)
    track: Track | None = None  # items carried from period to period (问题整改清单)
    decide: Decide | None = None  # rows left to the committee (党委研究事项), e.g. adjustments 申请撤销
    survey: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "Register":
        _check_columns(self)
        if self.track is not None:
            t = self.track
            missing = [k for k in (t.problem, t.measure, t.owner, t.deadline, t.status) if self.column(k) is None]
            if missing:
                raise ValueError(f"track 引用的列“{'、'.join(missing)}”不是本表的列")
        if self.decide is not None:
            d = self.decide
            col = self.column(d.column)
            if col is None or col.type != "option":
                raise ValueError(f"decide.column “{d.column}”不是本表的选择列")
            wrong = [v for v in [*d.when, *d.choices.values()] if v not in col.options]
            if wrong:
                raise ValueError(f"decide 中的“{'、'.join(wrong)}”不是列“{d.column}”的选项（可选：{'、'.join(col.options)}）")
            if set(d.when) & set(d.choices.values()):
                raise ValueError("decide.choices 决定后的取值不能仍是待决定的取值（decide.when）")
        if not self.none_label.strip():
            raise ValueError("none_label 不能为空")
        return self


class UnitScores(FormBase):
    """One row per unit, with ``columns`` (committee and department scores, entered grades)."""

    kind: Literal["unit_scores"]
    columns: FormColumns = []
    veto_field: str | None = None  # a column whose values name vetoes (一票否决事项)
    track: ClassVar[None] = None
    survey: ClassVar[None] = None
    decide: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "UnitScores":
        _check_columns(self)
        return self


FORM_KINDS: dict[str, type[FormBase]] = {
    "score_ballot": ScoreBallot, "vote_ballot": VoteBallot, "callback": CallbackForm, "tally": Tally,
    "register": Register, "unit_scores": UnitScores,
}
Form = Annotated[
    Union[ScoreBallot, VoteBallot, CallbackForm, Tally, Register, UnitScores],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- score nodes

class Band(Strict):
    at_least: Num
    value: Num


class LeafBase(Strict):
    label: str
    max: Num | None = None
    form: str
    bands: Annotated[list[Band], Field(max_length=MAX_ITEMS)] = []  # value → first band whose at_least ≤ value
    scale: Num | None = None  # multiply after bands
    applies_to: Texts = []

    def post(self) -> str:
        return ""


class BallotMean(LeafBase):
    agg: Literal["ballot_mean"]
    trim: Annotated[int, Field(ge=0, le=MAX_EVALUATORS)] = 0  # drop this many highest and lowest totals
    min_valid: Annotated[int, Field(ge=0, le=MAX_EVALUATORS)] = 1


class CountPoints(LeafBase):
    """points × rows whose ``field`` is in ``match``; on a tally (no field): points × the counts of ``match``."""

    agg: Literal["count_points"]
    field: str | None = None
    match: Texts
    points: Num
    cap: Num | None = None


class SharePoints(LeafBase):
    """points × (weighted answers) / all answers; ``positive`` options weigh 1, or give ``weights``."""

    agg: Literal["share_points"]
    positive: Texts = []
    weights: DecimalMap = {}  # e.g. 好 = 1, 较好 = 0.8, 一般 = 0.6, 差 = 0
    points: Num
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
    start: Num
    per: Num
    distinct: str | None = None  # count each distinct value of this column once
    where: Annotated[dict[str, Texts], Field(max_length=MAX_ITEMS)] = {}
    floor: Num = Decimal(0)


class RegisterSum(LeafBase):
    agg: Literal["register_sum"]
    field: str | None = None  # numeric column to add up
    points_by: str | None = None  # or: a column whose value looks up ``points``
    points_map: DecimalMap = {}
    where: Annotated[dict[str, Texts], Field(max_length=MAX_ITEMS)] = {}
    cap: Num | None = None
    floor: Num | None = None

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
    parts: DecimalMap | Texts
    max: Num | None = None
    applies_to: Texts = []

    @model_validator(mode="after")
    def _check(self) -> "Combine":
        if self.combine == "weighted" and any(w < 0 for w in self.weights.values()):
            raise ValueError("加权（weighted）的权重不能为负数；要减去某项请用 combine = \"sum\" 并给出负的系数")
        return self

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
    grades: Texts


class Rule(Strict):
    grade: str
    kind: RuleKind
    share: Num | None = None
    n: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    score: Num | None = None  # threshold for at_least / below
    min_score: Num | None = None  # extra condition on cap / top_n / next_share
    only_if: OnlyIf | None = None
    # how a share of the units is rounded to a count: a cap and next_share round down, a floor up, unless a
    # seed's own figure says otherwise (seed 002: 26 of 531 in the bottom 5%, a floor rounded down)
    round: Literal["down", "up"] | None = None

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
        if self.round is not None and self.share is None:
            raise ValueError("round（取整方式）只用于按比例（share）计算名额的规则")
        return self

    @property
    def rounds_up(self) -> bool:
        """Whether a share of the units rounds up to a count (a floor by default; ``round`` says otherwise)."""
        return self.round == "up" if self.round is not None else self.kind == "floor"

    def describe(self) -> str:
        pct = f"{(self.share * 100).normalize():f}%" if self.share is not None else ""
        cond = f"且得分不低于{self.min_score}" if self.min_score is not None else ""
        way = ("（向上取整）" if self.rounds_up else "（向下取整）") if pct else ""
        return {
            "cap": f"“{self.grade}”不超过{pct or f'{self.n}个'}{way}{cond}",
            "floor": f"“{self.grade}”不少于{pct or f'{self.n}个'}{way}",
            "top_n": f"排名前{self.n}名为“{self.grade}”{cond}",
            "next_share": f"其后{pct or f'{self.n}个'}{way}为“{self.grade}”{cond}",
            "at_least": f"得分不低于{self.score}为“{self.grade}”",
            "below": f"得分低于{self.score}为“{self.grade}”",
        }[self.kind]


class Consequence(Strict):
    text: str = ""
    funds: Annotated[Decimal, Field(ge=-1, le=1)] | None = None  # share of the roster's 工作经费基数, e.g. 0.10
    # the result it follows: each period's ("each"), or only the year's ("year", seed 000: “对全年考评结果为“好”的”);
    # a half-year or quarter then shows it as 预计 (provisional), never as applied
    period: Literal["each", "year"] = "each"


class Entered(Strict):
    """A grade decided elsewhere and typed into a form column (e.g. the committee's 下述下评 grade)."""

    form: str
    field: str


class Streak(Strict):
    """A grade that needs the same grade in earlier periods too (e.g. 优秀 two quarters running → 提级管理)."""

    grading: str  # the grading whose grades are looked at
    grades: Texts
    periods: Annotated[int, Field(ge=1, le=12)] = 2  # this period and the periods before it, consecutive
    grade: str  # the grade given when the streak holds (the grading's default otherwise)


class Grading(Strict):
    id: str
    label: str
    by: str
    grades: Texts
    default: str
    entered: Entered | None = None  # grades read from a form instead of computed by rules
    rules: Annotated[list[Rule], Field(max_length=MAX_ITEMS)] = []
    tie_breakers: Texts = []
    applies_to: Texts = []
    consequences: Annotated[dict[str, Consequence], Field(max_length=MAX_ITEMS)] = {}
    colors: Annotated[dict[str, str], Field(max_length=MAX_ITEMS)] = {}  # grade → cell colour in the summary, e.g. "红色预警" = "#F4B6B6"
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
    grades: Texts = []
    form: str | None = None
    where: Annotated[dict[str, Texts], Field(max_length=MAX_ITEMS)] = {}
    columns: Texts = []  # the form's columns shown; empty: all

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
    forces: Annotated[dict[str, str], Field(max_length=MAX_ITEMS)] = {}  # grading id → grade
    cancels: Annotated[dict[str, Texts], Field(max_length=MAX_ITEMS)] = {}  # grading id → grades it may not get


# ---------------------------------------------------------------- scheme


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
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字（不能是 inf 或 nan）",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "decimal_max_digits": "数字位数太多",
    "decimal_max_places": "小数位数太多",
    "decimal_whole_digits": "数字位数太多",
    "recursion_loop": "嵌套层数过多",
}
# messages that quote the bound (pydantic's ctx); the value given is added
_BOUNDS = {
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "string_too_long": "文字太长，最多 {max_length} 个字",
    "string_too_short": "文字太短，至少 {min_length} 个字",
}


def _shown(value: Any) -> str:
    """A number or text a scheme gave, as a message shows it (short)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, str) and value.startswith("Decimal('") and value.endswith("')"):  # a bound, as pydantic
        value = Decimal(value[9:-2])                                                        # gives some
    if isinstance(value, (int, float, Decimal)):
        d = dec(value) if not isinstance(value, float) else Decimal(repr(value))
        if not d.is_finite() or abs(d) >= 10**12:
            return sci(d) if d.is_finite() else str(value)
        return plain(d)
    text = str(value)
    return text if len(text) <= 40 else f"{text[:30]}…（共 {len(text)} 字）"


def _message(err: dict[str, Any]) -> str:
    """A pydantic error in Chinese: ours as written, pydantic's by type, never its English text."""
    kind = err["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in _BOUNDS:
        ctx = {k: _shown(v) for k, v in (err.get("ctx") or {}).items()}
        try:
            text = _BOUNDS[kind].format(**ctx)
        except (KeyError, IndexError):
            text = "超出允许的范围"
        given = err.get("input")
        if kind in ("too_long", "too_short") and hasattr(given, "__len__"):
            return f"{text}，写了 {len(given)} 项"
        if kind.startswith("string_") and isinstance(given, str):
            return f"{text}，写了 {len(given)} 个字"
        return f"{text}，填写的是 {_shown(given)}"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    if msg.isascii():  # a message of pydantic's own we have no words for
        return "取值不正确"
    return msg


LEAF_KINDS: dict[str, type[LeafBase]] = {
    "ballot_mean": BallotMean, "count_points": CountPoints, "share_points": SharePoints, "deduction": Deduction,
    "register_sum": RegisterSum, "direct": Direct,
}


def _known() -> dict[str, dict[str, frozenset[str]]]:
    """The keys a default may set, per form kind, column type and leaf agg or combine (scheme_expand.py)."""
    column = frozenset(Column.model_fields) - {"key", "type"} | {"show_max"}
    combine = frozenset(Combine.model_fields) - {"combine"}
    return {
        "forms": {k: frozenset(m.model_fields) - {"id", "kind"} for k, m in FORM_KINDS.items()},
        "columns": {t: column for t in get_args(ColumnType)},
        "nodes": {**{a: frozenset(m.model_fields) - {"agg"} for a, m in LEAF_KINDS.items()},
                  "sum": combine, "weighted": combine},
    }


KNOWN_DEFAULTS = _known()

# A line of the file for a key path (0-based indexes), or None: given by the loader that read the file's text.
Locate = Callable[[KeyPath], "int | None"]


def _where(loc: tuple[Any, ...]) -> tuple[str, KeyPath]:
    """A pydantic location as a key path to print (1-based indexes) and to locate (0-based), without the names
    pydantic gives the members of unions (a form's kind, a node's model and agg)."""
    out, located = "", []
    for i, part in enumerate(loc):
        if i == 2 and loc[0] == "forms" and part in FORM_KINDS:
            continue
        if i == 3 and loc[0] == "nodes" and str(loc[2]).startswith("tagged-union") and part in LEAF_KINDS:
            continue
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif part == "Combine" or "[" in str(part):  # pydantic's labels of models and unions, not keys
            continue
        else:
            out += ("." if out else "") + str(part)
        located.append(part)
    return out or "（顶层）", tuple(located)


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _parse(printed: str, data: dict[str, Any]) -> KeyPath:
    """A key path as our messages print it (``forms[3].columns[1]``, ``gradings.grade.rules``, ``forms.dept_djb``)
    → the path to locate: 0-based indexes, and an array of tables' element named by its id found by that id."""
    out: list[str | int] = []
    node: Any = data
    for m in _PATH_PART.finditer(printed):
        if m.group(1) is not None:
            part: str | int = int(m.group(1)) - 1
        else:
            part = m.group(2)
            if isinstance(node, list):  # an element named by its id
                part = next((i for i, x in enumerate(node) if isinstance(x, dict) and x.get("id") == part), part)
        out.append(part)
        try:
            node = node[part] if isinstance(node, dict) or isinstance(node, list) and isinstance(part, int) else None
        except (KeyError, IndexError):
            node = None
    return tuple(out)


def _form_key_message(kind: str, key: str) -> str:
    others = [k for k, m in FORM_KINDS.items() if key in m.model_fields]
    if others:
        return f"{kind} 表格没有此项（{key} 只用于 {'、'.join(others)} 表格）"
    return f"{kind} 表格不认识的键（拼写错误？）"


def load_scheme(data: dict[str, Any], source: str = "scheme", lines: Locate | None = None) -> Scheme:
    """Build and check a Scheme from parsed TOML (its choices and defaults written out first, scheme_expand.py);
    raise SchemeError with Chinese key-path lines, each with its line in the file when ``lines`` can say it."""
    if not isinstance(data, dict):
        raise SchemeError(source, ["（顶层）：应为表"])
    try:
        ex = expand(data, KNOWN_DEFAULTS)
    except RecursionError:
        raise SchemeError(source, ["（顶层）：嵌套层数过多（表或列表套了上千层）"]) from None

    if ex.problems:
        raise SchemeError(source, _report([(_where(p)[0], p, m) for p, m in ex.problems], ex, lines))
    try:
        return Scheme.model_validate(ex.data)
    except RecursionError:
        raise SchemeError(source, ["（顶层）：嵌套层数过多（表或列表套了上千层）"]) from None
    except ValidationError as exc:
        found: list[tuple[str, KeyPath | None, str]] = []  # (path printed, path located, message)
        for err in exc.errors():
            loc = err.get("loc", ())
            # A node that is neither a Combine nor a Leaf yields errors for both: keep the leaf's when it names an
            # agg, the Combine's when it names combine
            if loc and loc[0] == "nodes" and len(loc) > 2:
                combine_part = str(loc[2]) == "Combine" or str(loc[2]).endswith(", Combine]")
                if combine_part and _has_key(ex.data, loc, "agg"):
                    continue
                if str(loc[2]).startswith("tagged-union") and _has_key(ex.data, loc, "combine") and \
                        not _has_key(ex.data, loc, "agg"):
                    continue
            given = err.get("input")
            if loc and "[" in str(loc[-1]) and (err["type"] == "list_type" and isinstance(given, dict)
                                               or err["type"] == "dict_type" and isinstance(given, list)):
                continue  # the other member of a table-or-list union (Combine.parts): not what was meant
            if loc and loc[0] == "forms" and len(loc) == 4 and err["type"] == "extra_forbidden":
                msg = _form_key_message(str(loc[2]), str(loc[3]))
            elif loc and loc[0] == "forms" and len(loc) == 2 and err["type"].startswith("union_tag_"):
                kinds = "、".join(FORM_KINDS)
                msg = (f"缺少 kind（表格类型：{kinds}）" if err["type"] == "union_tag_not_found"
                       else f"kind 取值不认识（可选：{kinds}）")
            else:
                msg = _message(err)
            for m in msg.split("\n"):
                if loc:
                    found.append((*_where(loc), m))
                else:  # the scheme's own checks: one "path：message" line each
                    printed, sep, rest = m.partition("：")
                    found.append((printed, _parse(printed, ex.data), rest) if sep else ("", None, m))
        raise SchemeError(source, _report(found, ex, lines)) from None


def _report(found: list[tuple[str, KeyPath | None, str]], ex: Any, lines: Locate | None) -> list[str]:
    """Problem lines "path（第 N 行）：message", each once. N is the line where the value is written: for a value
    filled in from [defaults.…] or [choices], that line; and a problem of such a value, found again and again in
    every form, column or leaf it fills, is listed once, saying how many share it."""
    out: list[str] = []
    shared: dict[tuple[KeyPath, str], list[int]] = {}  # (written at, message) → [index in out, times found]
    for printed, located, message in found:
        if located is None:
            out.append(message)
            continue
        written = ex.written(located)
        if written[:1] in (("defaults",), ("choices",)):
            seen = shared.setdefault((written, message), [len(out), 0])
            seen[1] += 1
            if seen[1] > 1:
                continue
        line = lines(written) if lines is not None else None
        out.append(f"{printed}（第 {line} 行）：{message}" if line else f"{printed}：{message}")
    for index, times in shared.values():
        if times > 1:
            out[index] += f"（同一处写法用于 {times} 处，只列出第一处）"
    return list(dict.fromkeys(out))


def _has_key(data: dict[str, Any], loc: tuple[Any, ...], key: str) -> bool:
    node = (data.get("nodes") or {}).get(loc[1]) if isinstance(data.get("nodes"), dict) else None
    return isinstance(node, dict) and key in node
