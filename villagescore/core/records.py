"""Typed records that flow through the pipeline: roster, criteria, ledger, form rows, results.

Readers produce ``FormData``; the scoring core consumes it and produces ``RunResult``; writers
render ``RunResult``. Values in rows are already normalised: Decimal for numbers, str for text and
options, None for blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from villagescore.core.issues import Issue, Report


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    type: str = "村"
    secretary: str = ""
    township: str = ""
    funds_base: Decimal | None = None
    parent: str = ""  # a person's unit (系统 B: 书记, 村干部 … of a village), from the roster's people sheet
    post: str = ""  # a person's post as written on the people sheet, e.g. 村委会副主任
    parent_name: str = ""
    evaluators: int | None = None  # ballots issued to this unit (the roster's 测评人数), None: the scheme's

    @property
    def label(self) -> str:
        """How a person is named on forms: 李明（书记）; a unit: its name."""
        return f"{self.name}（{self.post or self.type}）" if self.parent else self.name

    @property
    def full_name(self) -> str:
        """A person with the unit: 青山村 李明（书记）; a unit: its name."""
        return f"{self.parent_name} {self.label}" if self.parent else self.name


@dataclass(frozen=True, slots=True)
class Criterion:
    unit: str
    aspect: str
    index: int  # 1-based position within the unit
    text: str
    points: Decimal

    @property
    def key(self) -> str:
        return f"c{self.index:02d}"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    unit: str
    request_id: str
    date: str = ""
    requester: str = ""
    phone: str = ""
    content: str = ""
    status: str = ""


@dataclass(slots=True)
class Row:
    values: dict[str, Any]
    row: int  # Excel row number, 1-based, as Excel shows it
    letters: dict[str, str] | None = None  # key → column letters ("C"), shared by every row of a table

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def cell(self, key: str) -> str:
        """Where the value of ``key`` is, as Excel shows it ("C7"); the row number alone if unknown."""
        letters = self.letters.get(key) if self.letters else None
        return f"{letters}{self.row}" if letters else str(self.row)

    @property
    def cells(self) -> dict[str, str]:
        return {k: f"{v}{self.row}" for k, v in (self.letters or {}).items()}


@dataclass(slots=True)
class FormData:
    """One filled entry sheet, identified by its hidden identity record."""

    form_id: str
    unit: str | None  # unit code; None for a township-wide form
    period: str
    file: str
    sheet: str
    sha256: str
    rows: list[Row]
    meta: dict[str, str] = field(default_factory=dict)
    tally: list[Row] = field(default_factory=list)  # a vote ballot's hand-counted tally sheet
    empty: bool = False  # nobody has typed into it yet: it counts for nobody (one form-empty issue says so)


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str
    sha256: str
    form_id: str = ""
    unit: str = ""
    period: str = ""
    status: str = "已读取"  # 已读取, or why the file was not counted (已跳过, 无法读取, 重复，未计入, …)


@dataclass
class Setup:
    """What the office fills once: roster, criteria, appeals ledger."""

    units: list[Unit]
    criteria: dict[str, list[Criterion]] = field(default_factory=dict)
    ledger: dict[str, list[LedgerEntry]] = field(default_factory=dict)

    def unit(self, code: str) -> Unit | None:
        """The first unit of ``units`` with this code (None if none has it).

        An index by code, built on first use and built again when ``units`` is another list or has
        another length (units may be appended after construction) or when the unit found is no longer
        at its place; it is not a dataclass field (not compared, printed or copied)."""
        units = self.units
        index = self.__dict__.get("_by_code")
        if index is None or index[0] is not units or index[1] != len(units):
            by_code: dict[str, int] = {}
            for at, u in enumerate(units):
                by_code.setdefault(u.code, at)
            index = self.__dict__["_by_code"] = (units, len(units), by_code)
        i = index[2].get(code)
        if i is None:
            if any(u.code == code for u in units):  # a unit replaced in place since: look it up the slow way
                del self.__dict__["_by_code"]
                return self.unit(code)
            return None
        u = units[i]
        if u.code != code:
            del self.__dict__["_by_code"]
            return self.unit(code)
        return u

    def members(self, code: str, types: list[str] | None = None) -> list[Unit]:
        """The people of a unit (roster order), of the given types (all when empty)."""
        return [u for u in self.units if u.parent == code and (not types or u.type in types)]


# ---------------------------------------------------------------- results


@dataclass(slots=True)
class LeafDetail:
    """How one leaf value came about, for 分项得分, 测评明细 and ``explain``."""

    node: str
    period: str
    value: Any  # Fraction (exact) or None
    inputs: dict[str, Any] = field(default_factory=dict)  # e.g. {"有效票": 18, "总分合计": ...}
    rule: str = ""  # the rule in words, e.g. "有效票总分平均"
    source: str = ""  # file and sheet the rows came from


@dataclass(frozen=True)
class PendingTie:
    """Units whose score and tie-breakers are identical and straddle a quota line: left to the committee (待党委研究).

    Whichever units the committee picks, exactly ``places`` are given among ``units`` (e.g. 1 × 先进 and
    1 × 良好 for two units tied with one 先进 place left): every quota after the line already counts them. The
    committee chooses which units, not how many. A later decision sets each unit's grade, keeping the counts."""

    grading: str
    units: tuple[str, ...]  # unit codes, sorted
    places: tuple[tuple[str, int], ...]  # (grade, how many of the units get it), in the grading's order, best first
    inside: str  # the grade of the quota line the tie straddles (the first line, when it straddles more)
    outside: str  # the grade the units just outside that line get (not a neighbour in list order)
    line: str  # that line's rule in words

    @property
    def grades(self) -> tuple[str, ...]:
        """The grades the committee chooses between, best first."""
        return tuple(g for g, _ in self.places)

    def count(self, grade: str) -> int:
        return dict(self.places).get(grade, 0)


@dataclass(frozen=True)
class Decided:
    """A committee decision (党委研究决定) read from the decision sheet and applied: the source of a grade, or of an
    adjustment's status. ``tie``: the pending tie it settled (for a grade)."""

    choice: str  # what was chosen: a grade, or e.g. 同意 / 不同意
    meeting: str  # 会议/文号, as written
    date: str  # 日期, as YYYY-MM-DD
    file: str  # the decision sheet it was read from
    tie: PendingTie | None = None

    @property
    def source(self) -> str:
        """The citation: 党委研究决定（乡党委2025年第5次会议，2025-07-08）."""
        return f"党委研究决定（{self.meeting}，{self.date}）"


@dataclass(slots=True)
class GradeResult:
    grading: str
    grade: str | None  # None when pending or withheld
    pending: tuple[str, ...] = ()  # the grades the committee must choose between (best first)
    reason: str = ""  # why (rule, veto, tie)
    rank: int | None = None
    consequence: str = ""
    funds_change: Decimal | None = None
    tie: PendingTie | None = None  # the tied group this unit is pending with (the places it holds)
    provisional: bool = False  # the consequence belongs to a longer period's result (e.g. the year's): 预计 only
    decision: Decided | None = None  # the committee's decision that gave the grade (a settled tie)
    undetermined: bool = False  # the rule reads a result still open (an earlier period 待党委研究): 无法判定, why in reason

    @property
    def source(self) -> str:
        """Where the grade comes from when it is not the rules': the decision's citation ("" otherwise)."""
        return self.decision.source if self.decision is not None else ""


@dataclass(slots=True)
class UnitResult:
    unit: Unit
    exact: dict[str, Any] = field(default_factory=dict)  # node → Fraction, for the target period
    rounded: dict[str, Decimal] = field(default_factory=dict)
    by_period: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # period → node → rounded
    details: list[LeafDetail] = field(default_factory=list)
    grades: dict[str, GradeResult] = field(default_factory=dict)
    vetoes: list[str] = field(default_factory=list)  # veto labels
    ok: bool = True  # False when errors stopped this unit's result

    @property
    def code(self) -> str:
        return self.unit.code

    def rank(self, gradings: list[tuple[str, str]]) -> int | None:
        """The unit's rank in the first of ``gradings`` ((id, label), in order) that ranked it."""
        return next((self.grades[g].rank for g, _ in gradings if g in self.grades and self.grades[g].rank), None)


@dataclass
class DecisionItem:
    """One thing the committee must decide (党委研究事项): a pending tie of a grading (a row per unit of the group on
    the decision sheet), or a register row a scheme marks as the committee's call (e.g. an adjustment 申请撤销).

    ``decided`` holds the decisions applied (unit → choice and its source); empty while undecided."""

    key: str  # stable across runs: "tie:<grading>:<unit codes>" or "row:<form>:<unit>:<digest of the row>"
    kind: str  # "tie" or "row"
    period: str
    title: str  # what is to be decided, in words
    units: tuple[str, ...]  # a tie's units (sorted), or the row's unit
    options: dict[str, tuple[str, ...]]  # unit → the choices allowed for it (a veto may take a grade away)
    grading: str = ""  # a tie's grading id
    places: tuple[tuple[str, int], ...] = ()  # a tie's places (grade, how many), best first
    form: str = ""  # a row's form id
    effects: dict[str, str] = field(default_factory=dict)  # a row's choice → the status it sets
    decided: dict[str, Decided] = field(default_factory=dict)  # unit → the decision applied to it (its own row)
    note: str = ""  # what the decision did, in words (empty while undecided)
    brief: str = ""  # a row's item in a few words, without the row's values: 撤销减分申请：《加减分登记表》第 6 行

    @property
    def open(self) -> bool:
        return not self.decided

    @property
    def decision(self) -> Decided | None:
        """The decision of the item's first unit (the group's rows usually cite one meeting)."""
        return next(iter(self.decided.values()), None)

    def options_text(self, unit: str, sep: str = "、") -> str:
        """The choices as the sheet lists them: 优秀、合格; 同意（改为“已撤销”）、不同意（改为“有效”）."""
        return sep.join(f"{c}（改为“{self.effects[c]}”）" if c in self.effects else c for c in self.options[unit])


@dataclass
class QuotaLine:
    grading: str
    rule: str  # the rule in words
    grade: str
    n: int  # units in the grading
    allowed: str  # e.g. "≤ 1" or "≥ 1" or "—"
    actual: int  # units with this grade (pending units not counted)
    pending: int = 0  # places of this grade held by units pending the committee's decision (待党委研究)
    note: str = ""
    vacated: tuple[tuple[str, str], ...] = ()  # (unit, why) ranked within a top_n but barred from its grade: left empty


@dataclass(slots=True)
class BallotLine:
    """A ballot row as read, for 测评明细."""

    unit: str
    period: str
    serial: str
    scores: dict[str, Decimal | None]
    total: Decimal | None
    status: str  # 有效 / 作废 / 空白 / 有错误
    file: str
    sheet: str
    row: int
    votes: str = ""  # a vote ballot: "李明（书记）好；王芳（村委会主任）较好；…"


@dataclass
class RunResult:
    scheme_id: str
    scheme_name: str
    scheme_version: str
    scheme_source: str
    period: str  # the target period, e.g. "2025H1" or "2025"
    periods: list[str]  # the periods read, e.g. ["2025H1", "2025H2"]
    units: list[UnitResult]  # in rank order (units without a result last)
    quota: list[QuotaLine]
    report: Report
    files: list[InputFile]
    ballots: list[BallotLine]
    computed_at: str  # ISO 8601 local time, "YYYY-MM-DD HH:MM:SS"
    tool_version: str
    node_labels: dict[str, str] = field(default_factory=dict)
    display: list[str] = field(default_factory=list)  # node ids shown in 汇总
    leaves: list[str] = field(default_factory=list)  # leaf node ids, shown in 分项得分
    gradings: list[tuple[str, str]] = field(default_factory=list)  # (id, label)
    places: int = 2
    notes: list[str] = field(default_factory=list)  # lines for 说明 (e.g. why a tie is pending)
    grade_orders: dict[str, list[str]] = field(default_factory=dict)  # grading id → grades, best first
    form_titles: dict[str, str] = field(default_factory=dict)  # form id → Chinese title
    previous_period: str = ""  # the period compared with (from the archive), e.g. "2024H2"
    previous: dict[str, "Previous"] = field(default_factory=dict)  # unit code → its result then
    source: str = "workbooks"  # "workbooks", or "archive" when combined from archived runs
    node_formulas: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)  # inner node → [(child, weight)]
    period_weights: dict[str, Decimal] = field(default_factory=dict)  # a year's result: period → weight
    rounding: str = "end"  # the scheme's rounding: "end" (exact inside, round once) or "each"
    lists: list[ListResult] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)  # tracked items (问题整改清单) of this period
    carried: list[Item] = field(default_factory=list)  # items still open last period and not listed again
    grade_colors: dict[str, dict[str, str]] = field(default_factory=dict)  # grading id → grade → "#RRGGBB"
    scan_note: str = ""  # ballots read from scans: how many by machine, how many reviewed (for 说明)
    item_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # unit code → ballot item key → its text
    decisions: list[DecisionItem] = field(default_factory=list)  # 党委研究事项 of this run, decided or still open

    @property
    def has_people(self) -> bool:
        """People graded beside their units (系统 B): shown with the unit they belong to."""
        return any(u.unit.parent for u in self.units)

    @property
    def across_townships(self) -> bool:
        """A county ranking of several townships' units: each unit's township is shown."""
        return len({u.unit.township for u in self.units}) > 1

    @property
    def mixed_gradings(self) -> bool:
        """Gradings for different unit types (系统 B: villages, secretaries, cadres …): one 等次 column, each grade
        with its grading's label."""
        return any(any(gid not in u.grades for gid, _ in self.gradings) for u in self.units if u.ok)


@dataclass
class ListEntry:
    unit: str  # unit code
    name: str  # as shown: 青山村, or 青山村 李明（书记） for a person
    township: str
    grade: str  # the grade that put the unit on the list ("" for a list of form rows)
    rows: list[list[str]] = field(default_factory=list)  # the matching form rows, as text


@dataclass
class ListResult:
    """A list the scheme asks for (e.g. 约谈名单 with open rectification items; adjustments pending)."""

    id: str
    title: str
    text: str
    columns: list[str]  # labels of the row columns
    entries: list[ListEntry] = field(default_factory=list)


@dataclass
class Item:
    """One tracked item (a rectification-list row) of a unit in a period."""

    unit: str
    period: str
    problem: str
    measure: str = ""
    owner: str = ""
    deadline: str = ""
    status: str = ""
    open: bool = True
    repeated: str = ""  # earlier periods in which the same problem was listed for the unit, e.g. "2024"


@dataclass(frozen=True)
class Previous:
    """A unit's result in the previous period, and how it moved since."""

    score: Decimal | None
    rank: int | None
    grade: str | None
    change: Decimal | None  # this period's score minus the previous one
    rank_change: int | None  # positive: moved up that many places


def name_units(issues: list[Issue], setup: Setup) -> list[Issue]:
    """Messages name a unit as 青山村（QS01）, not by its code alone; the unit field keeps the code."""
    names = {u.code: f"{u.name}（{u.code}）" for u in setup.units}
    return [replace(i, params={"unit": names[i.unit], **i.params}) if i.unit in names else i for i in issues]
