"""The form contract: which columns each entry sheet has, shared by the writer and the reader.

The template writer lays out exactly these columns (one header row of labels, one record per
row); the table parser maps a header row back to these keys. Neither side invents columns.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from villagescore.core.records import Criterion, Unit
from villagescore.core.scheme import (
    RESERVED_KEYS,
    Column,
    ColumnType,
    Form,
    FormBase,
    Scheme,
    ScoreBallot,
    VoteBallot,
)

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

IDENTITY_SHEET = "_villagescore"
IDENTITY_KEYS = (
    "tool",  # always "villagescore"
    "role",  # "entry" (read back), "print" (printable only), "setup" (roster/criteria/ledger)
    "scheme_id",
    "scheme_version",
    "form_id",  # a scheme form id, or "roster" / "criteria" / "ledger"
    "unit_code",  # "" for township-wide forms
    "unit_name",
    "period",  # "" for setup forms
    "template_version",
    "sheet",  # name of the entry sheet
    "seed",  # callback draw seed ("" elsewhere)
    "drawn",  # callback: drawn request ids joined by ","
    "issued",  # score/vote ballots: number of ballots issued
)

YES_NO = ["是", "否"]


def _col(key: str, label: str, type: ColumnType = "text", **kw: Any) -> Column:  # noqa: A002
    """A column; the same arguments give the same (frozen) column, built once: every unit's forms ask for
    their columns again, and a validated model is slow to build."""
    items = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items()))
    return _column(key, label, type, repr(items), items)


@functools.lru_cache(maxsize=8192)
def _column(key: str, label: str, type: ColumnType, spelled: str, items: tuple) -> Column:  # noqa: A002
    # ``spelled`` keys the cache by the arguments as written (Decimal 10 and 10.0 are equal, not the same)
    rest: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in items}
    return Column(key=key, label=label, type=type, **rest)


# ------------------------------------------------------------ setup forms (filled once)


BALLOT_KINDS = ("score_ballot", "vote_ballot")
Ballot: TypeAlias = ScoreBallot | VoteBallot  # the forms of BALLOT_KINDS
EVALUATORS_MAX = 1000


def is_ballot(form: Form) -> TypeIs[Ballot]:
    """Whether ``form`` is a ballot (its kind one of ``BALLOT_KINDS``): the type checker then knows it has
    ``evaluators``, and that a form that is not one has none."""
    return form.kind in BALLOT_KINDS


def roster_columns(scheme: Scheme | None = None) -> list[Column]:
    """The roster's columns; a scheme with ballots adds 测评人数 (the unit's ballots issued: blank for the scheme's)."""
    types = scheme.scheme.unit_types if scheme else ["村", "社区"]
    cols = [
        _col("code", "单位代码", required=True, max_length=20, aliases=["代码", "村代码", "编号"]),
        _col("name", "单位名称", required=True, max_length=40, aliases=["村名", "村（社区）", "名称"]),
        _col("type", "类型", "option", options=list(types), required=True),
        _col("secretary", "党组织书记", max_length=20, aliases=["书记", "书记姓名"]),
        _col("township", "所属乡镇", max_length=40, aliases=["乡镇", "乡镇（街道）"]),
        _col("funds_base", "工作经费基数（元）", "number", min=Decimal(0), max=Decimal(100000000), places=2,
             aliases=["工作经费基数", "工作经费"]),
    ]
    if scheme is not None and any(f.kind in BALLOT_KINDS and f.scope == "unit" for f in scheme.forms):
        cols.append(_col("evaluators", "测评人数", "integer", min=Decimal(1), max=Decimal(EVALUATORS_MAX),
                         aliases=["发放票数", "参会人数"]))
    return cols


FormT = TypeVar("FormT", bound=FormBase)


def issued(form: FormT, count: int | None) -> FormT:
    """``form`` with ``count`` ballots issued (a unit's 测评人数 or a run's ``--evaluators``); as it is without one."""
    printed = form.evaluators if isinstance(form, (ScoreBallot, VoteBallot)) else None  # ballots only
    if printed is None or not count or count == printed:
        return form
    return form.model_copy(update={"evaluators": count})


OUTPUT_ROLES = frozenset({"summary", "issues", "public", "scan"})  # identity roles of what this tool writes: never read back
SETUP_DIR = "00_基础信息"  # where ``template`` puts the roster, criteria and ledger beside the forms
PEOPLE_SHEET = "人员名单"  # the roster's second sheet when a scheme evaluates people too (member_types)


def people_columns(scheme: Scheme) -> list[Column]:
    return [
        _col("code", "人员代码", required=True, max_length=20, aliases=["代码", "编号"]),
        _col("name", "姓名", required=True, max_length=20),
        _col("parent", "所属单位代码", required=True, max_length=20, aliases=["单位代码", "村代码"]),
        _col("type", "人员类别", "option", options=list(scheme.scheme.member_types), required=True),
        _col("post", "职务", max_length=30, aliases=["现任职务"]),
    ]


def criteria_columns(scheme: Scheme) -> list[Column]:
    aspects = scheme.criteria.aspects if scheme.criteria else []
    return [
        _col("unit", "单位代码", required=True, max_length=20),
        _col("unit_name", "单位名称", max_length=40),
        _col("aspect", "方面", "option", options=aspects, required=True) if aspects
        else _col("aspect", "方面", required=True),
        _col("index", "序号", "integer", min=Decimal(1), max=Decimal(50), required=True),
        _col("text", "考核细则", required=True, max_length=60, width=40),
        _col("points", "分值", "number", min=Decimal(0), max=Decimal(100), places=2, required=True),
    ]


def ledger_columns() -> list[Column]:
    return [
        _col("unit", "单位代码", required=True, max_length=20),
        _col("request_id", "诉求编号", required=True, max_length=30),
        _col("date", "登记日期", max_length=20),
        _col("requester", "诉求人", max_length=20),
        _col("phone", "联系电话", max_length=20),
        _col("content", "诉求内容", required=True, max_length=200, width=40),
        _col("status", "办理情况", max_length=100, width=20),
    ]


SETUP_TITLES = {
    "roster": "考评对象名册",
    "criteria": "考核评定细则",
    "ledger": "民生诉求落实台账",
}


def setup_columns(form_id: str, scheme: Scheme) -> list[Column]:
    if form_id == "roster":
        return roster_columns(scheme)
    if form_id == "criteria":
        return criteria_columns(scheme)
    if form_id == "ledger":
        return ledger_columns()
    raise KeyError(form_id)


# ------------------------------------------------------------ scheme forms (per period)

CALLBACK_PREFILLED = RESERVED_KEYS["callback"]


VOTE_TALLY_SHEET = "测评结果汇总"  # beside a vote ballot's entry sheet: counts per person, when counted by hand
SELF_KEY = "self"  # a vote ballot's column (and tally row) for the unit itself


def vote_targets(form: VoteBallot, members: list[Unit] | None) -> list[tuple[str, str]]:
    """(key, label) of everyone a vote ballot votes on: the unit itself, then its members of the form's
    ``members`` categories (all when none are named), in roster order."""
    out = [(SELF_KEY, form.self_label)] if form.self_label else []
    return out + [(m.code, m.label) for m in members or [] if not form.members or m.type in form.members]


def vote_tally_columns(form: VoteBallot) -> list[Column]:
    return [
        _col("who", "代码", required=True),
        _col("row", "评价对象", required=True, width=24),
        *[_col(opt, opt, "integer", min=Decimal(0), max=Decimal(100000)) for opt in form.options],
    ]


def entry_columns(scheme: Scheme, form: Form, criteria: list[Criterion] | None = None,
                  members: list[Unit] | None = None) -> list[Column]:
    """Columns of the entry sheet of ``form`` (for one unit where the form is per unit; ``members``: the
    unit's people a vote ballot votes on)."""
    if form.kind == "score_ballot":
        cols = [_col("serial", "票号", "integer", min=Decimal(1), max=Decimal(form.evaluators), required=True)]
        if form.items == "criteria":
            for c in criteria or []:
                cols.append(_col(c.key, c.text, "number", min=Decimal(0), max=c.points, places=2))
        else:
            default = scheme.criteria.default_points if scheme.criteria else Decimal(10)
            for i, text in enumerate(form.items or [], start=1):
                cols.append(_col(f"c{i:02d}", text, "number", min=Decimal(0), max=default, places=2))
        cols.append(_col("void", "是否作废", "option", options=YES_NO))
        return cols
    if form.kind == "callback":
        return [
            _col("seq", "序号", "integer", min=Decimal(1), max=Decimal(form.draw), required=True),
            _col("request_id", "诉求编号", required=True),
            _col("date", "登记日期"),
            _col("content", "诉求内容", width=36),
            _col("requester", "诉求人"),
            _col("phone", "联系电话"),
            *form.columns,
        ]
    if form.kind == "tally":
        return [
            _col("row", "评价内容", required=True),
            *[_col(opt, opt, "integer", min=Decimal(0), max=Decimal(1000000)) for opt in form.options],
        ]
    if form.kind == "register" and form.scope == "township":  # one register for all units: a unit column
        return [_col("seq", "序号", "integer", min=Decimal(1), max=Decimal(form.max_rows)),
                _col("unit", "单位代码", max_length=20), _col("unit_name", "单位名称", max_length=40),
                *form.columns]
    if form.kind == "register":
        return [_col("seq", "序号", "integer", min=Decimal(1), max=Decimal(form.max_rows)), *form.columns]
    if form.kind == "unit_scores":
        return [
            _col("unit", "单位代码", required=True),
            _col("unit_name", "单位名称"),
            *form.columns,
        ]
    if form.kind == "vote_ballot":  # one option column per person voted on, from the people sheet (system B)
        return [_col("serial", "票号", "integer", min=Decimal(1), max=Decimal(form.evaluators), required=True),
                *[_col(key, label, "option", options=list(form.options))
                  for key, label in vote_targets(form, members)],
                _col("void", "是否作废", "option", options=YES_NO)]
    raise ValueError(f"unknown form kind {form.kind}")


def none_column(form: Form) -> Column | None:
    """A register's declaration that it has nothing this period (e.g. 本期无反映), typed above its header: an empty
    register means "nothing to report" only when this says 是 (an untouched register is not returned yet)."""
    if form.kind != "register":
        return None
    return _col("none", form.none_label, "option", options=YES_NO)


def prefilled_keys(form: Form) -> tuple[str, ...]:
    """Columns the template fills in and locks (the clerk types only the others)."""
    return {
        "callback": CALLBACK_PREFILLED,
        "tally": ("row",),
        "unit_scores": ("unit", "unit_name"),
        "register": ("seq",),
        "score_ballot": ("serial",),
        "vote_ballot": ("serial",),
    }.get(form.kind, ())


# ------------------------------------------------------------ the committee's decision sheet (党委研究事项)

DECISIONS_ROLE = "decisions"  # identity role (and form id) of the decision sheet: written by compute, read back
DECISION_PREFILLED = ("seq", "key", "unit", "unit_name", "question", "options")


def decision_columns() -> list[Column]:
    """Columns of the decision sheet: what is to be decided (prefilled, locked), then the decision, the meeting or
    document (会议/文号) and the date, typed in after the committee has met."""
    return [
        _col("seq", "序号", "integer", min=Decimal(1), max=Decimal(100000)),
        _col("key", "事项编号", max_length=400, width=14),
        _col("unit", "单位代码", max_length=40),
        _col("unit_name", "单位名称", max_length=80, width=12),
        _col("question", "研究事项", max_length=2000, width=46),
        _col("options", "可选决定", max_length=400, width=14),
        _col("choice", "决定", required=True, max_length=40, width=10),
        _col("meeting", "会议/文号", required=True, max_length=60, width=20),
        _col("date", "日期", required=True, max_length=20, width=12),
    ]
