"""A scheme's forms: a form is one of six kinds (``kind``), each a model of its own keys, with its columns and the
parts only some kinds have (a questionnaire export, items tracked from period to period, rows the committee
decides)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, model_validator

from villagescore.core.scheme.common import (
    EXCEL_CELL_CHARS,
    MAX_COLUMNS,
    MAX_DRAW,
    MAX_EVALUATORS,
    MAX_FORM_ROWS,
    MAX_ITEMS,
    TEXT_LIMIT,
    Num,
    Places,
    Strict,
    Texts,
)


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


class ColumnsForm(FormBase):
    """A form of plain ``columns`` (a callback check, a table of unit scores): no tracked items, questionnaire,
    decisions, nor people to vote on."""

    columns: FormColumns = []
    veto_field: str | None = None  # a column whose values name vetoes (一票否决事项)
    track: ClassVar[None] = None
    survey: ClassVar[None] = None
    decide: ClassVar[None] = None
    self_label: ClassVar[str] = ""
    members: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _check(self) -> "ColumnsForm":
        assert isinstance(self, (CallbackForm, UnitScores))  # the kinds made of it (this base is no kind of its own)
        _check_columns(self)
        return self


class CallbackForm(ColumnsForm):
    """The requests drawn from the appeals ledger (``draw``), then ``columns`` for what the callback found."""

    kind: Literal["callback"]
    draw: Annotated[int, Field(ge=1, le=MAX_DRAW)] = 5


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


class UnitScores(ColumnsForm):
    """One row per unit, with ``columns`` (committee and department scores, entered grades)."""

    kind: Literal["unit_scores"]


FORM_KINDS: dict[str, type[FormBase]] = {
    "score_ballot": ScoreBallot, "vote_ballot": VoteBallot, "callback": CallbackForm, "tally": Tally,
    "register": Register, "unit_scores": UnitScores,
}
Form = Annotated[
    Union[ScoreBallot, VoteBallot, CallbackForm, Tally, Register, UnitScores],
    Field(discriminator="kind"),
]
