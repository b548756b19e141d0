"""A scheme's gradings (等次): quota rules, grades entered on a form or following a streak, consequences; and the
vetoes and the lists the summary shows."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from villagescore.core.scheme.common import MAX_ITEMS, Num, Strict, Texts


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
    # top_n: whether a place within the first n of the ranking whose unit may not take the grade (a veto forces
    # another grade or cancels this one, or the score is under min_score) goes to the next unit (true), or stays
    # empty (false: "排名前5位……为先进单位" read as places in the ranking of all units, seed 003's 取消先进单位)
    refill: bool = True

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
        if not self.refill and self.kind != "top_n":
            raise ValueError("refill（空出的名额是否递补）只用于 top_n 规则")
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
            "top_n": f"排名前{self.n}名为“{self.grade}”{cond}" + ("" if self.refill else "（空出的名额不递补）"),
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
