"""A scheme's score nodes: leaves aggregate a form's rows (a union on ``agg``), and ``Combine`` adds its children up
by weight or sum."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from villagescore.core.scheme.common import MAX_EVALUATORS, MAX_ITEMS, DecimalMap, Num, Strict, Texts


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


LEAF_KINDS: dict[str, type[LeafBase]] = {
    "ballot_mean": BallotMean, "count_points": CountPoints, "share_points": SharePoints, "deduction": Deduction,
    "register_sum": RegisterSum, "direct": Direct,
}
