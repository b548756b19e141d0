"""The committee's decisions (党委研究事项) as an input: what a run leaves to the committee, the decisions read back
from the decision sheet, their checks (located issues) and how they are applied.

Two kinds of item:

* a pending tie of a grading (``PendingTie``): a group of g units with r places inside a quota line gives exactly
  r of them the grade inside and the rest the grade outside (the places of every grade are fixed, and every later
  quota already counts them). The committee chooses which units, not how many: one decision per unit, and the
  choices must fill each grade's places exactly; a unit whose veto cancels a grade may not be given it.
* a register row a scheme marks as the committee's call (``Form.decide``, e.g. an adjustment whose 状态 is
  申请撤销): the decision puts the value its choice names into the column (同意 → 已撤销, 不同意 → 有效), and the
  row is scored as if typed so.

An item's key is stable from run to run as long as what is decided does not change (the tied units of a grading;
the row's content), so a sheet filled after one run applies to the next run of the same data; a decision whose
item no longer exists is an error on its row, never applied to something else.

Pure: decisions and rows in, items, changed results and issues out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from villagescore.core.grading import Candidate, GradingOutcome, count_lines, with_consequence
from villagescore.core.issues import Issue, issue
from villagescore.core.numbers import fmt, plain
from villagescore.core.periods import Period
from villagescore.core.records import Decided, DecisionItem, PendingTie, Row
from villagescore.core.scheme import Form, Grading

TIE, ROW = "tie", "row"
SHEET_TITLE = "党委研究事项"  # the sheet's title and the file name's stem: 党委研究事项_2025Q1.xlsx


def file_name(period: str) -> str:
    return f"{SHEET_TITLE}_{period}.xlsx"


@dataclass
class Decision:
    """One filled row of a decision sheet, as read (``ok`` False: its cells had a problem, already reported)."""

    key: str
    unit: str
    choice: str | None
    meeting: str
    date: str  # YYYY-MM-DD
    period: str
    file: str
    sheet: str
    row: int
    cells: dict[str, str] = field(default_factory=dict)  # column key → cell ("G5")
    ok: bool = True
    used: bool = False  # matched an item of this run

    def where(self, key: str = "choice") -> dict[str, str]:
        return {"file": self.file, "sheet": self.sheet, "cell": self.cells.get(key, str(self.row))}

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]

    def decided(self, tie: PendingTie | None = None) -> Decided:
        return Decided(self.choice or "", self.meeting, self.date, self.file, tie)


# ------------------------------------------------------------------ dates

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def decision_date(text: str) -> str | None:
    """A date as a clerk writes it (2025-07-08, 2025/7/8, 2025.7.8, 2025年7月8日, 20250708, an Excel date serial)
    as YYYY-MM-DD; None when it is no date."""
    text = text.strip()
    m = _DATE.match(text) or _COMPACT.match(text)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if re.fullmatch(r"\d{5}(\.0+)?", text) and 20000 <= float(text) <= 80000:  # an Excel serial typed as text
            return (_EXCEL_EPOCH + dt.timedelta(days=int(float(text)))).isoformat()
    except ValueError:
        return None
    return None


# ------------------------------------------------------------------ keys


def tie_key(grading: str, tie: PendingTie) -> str:
    return f"{TIE}:{grading}:{','.join(tie.units)}"


def row_key(form: Form, unit: str, row: Row, seen: dict[str, int]) -> str:
    """A register row's key: its unit and what it says (every column but the decided one), and, for rows alike,
    which of them it is (``seen`` counts the digests met so far)."""
    assert form.decide is not None
    text = "\x1f".join([unit, *(_text(row.get(c.key)) for c in form.columns if c.key != form.decide.column)])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{ROW}:{form.id}:{unit}:{digest}" + (f"#{seen[digest]}" if seen[digest] > 1 else "")


def _text(value) -> str:
    if value is None:
        return ""
    return plain(value) if isinstance(value, Decimal) else str(value)


# ------------------------------------------------------------------ the book of one run


class DecisionBook:
    """The decisions given to a run and the items it finds: rows are decided while forms are read (before scoring),
    ties while grading, each grading before the next reads its grades. ``issues`` collects what is wrong."""

    def __init__(self, target: str, decisions: list[Decision] | None = None, names: dict[str, str] | None = None):
        self.target = target
        self.decisions = list(decisions or [])
        self.names = names or {}  # unit code → 青山村（QS01）
        self.items: list[DecisionItem] = []
        self.issues: list[Issue] = []
        self.withheld: set[str] = set()  # gradings not graded this run: their tie decisions wait
        self._by_key: dict[tuple[str, str], list[Decision]] = {}
        for d in self.decisions:
            self._by_key.setdefault((d.period, d.key), []).append(d)

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def _take(self, period: str, key: str) -> list[Decision]:
        found = self._by_key.get((period, key), [])
        for d in found:
            d.used = True
        return found

    def ordered(self) -> list[DecisionItem]:
        """The items as the sheet and the screen list them: ties (grading by grading), then register rows."""
        return sorted(self.items, key=lambda i: i.kind != TIE)

    @property
    def applied(self) -> list[DecisionItem]:
        return [i for i in self.items if i.decided]

    @property
    def open(self) -> list[DecisionItem]:
        return [i for i in self.items if i.open]

    # -------------------------------------------------------------- register rows (before scoring)

    def rows(self, form: Form, period: str, rows: list[tuple[Row, str]], file: str) -> None:
        """The rows of ``form`` (each with its unit) waiting for the committee: an item each; a valid decision puts
        its choice's value into the row (the row object is changed: scoring reads it so)."""
        spec = form.decide
        if spec is None:
            return
        column = form.column(spec.column)
        assert column is not None
        seen: dict[str, int] = {}
        for row, unit in rows:
            if row.get(spec.column) not in spec.when:
                continue
            key = row_key(form, unit, row, seen)
            what = "；".join(f"{c.label}：{_text(row.get(c.key))}" for c in form.columns
                            if c.key != spec.column and row.get(c.key) not in (None, ""))
            brief = f"{spec.label}：《{form.short}》第 {row.row} 行"
            title = f"{brief}（{what}），{column.label}为“{row.get(spec.column)}”"
            item = DecisionItem(key, ROW, period, title, (unit,), {unit: tuple(spec.choices)}, form=form.id,
                                effects=dict(spec.choices), brief=brief)
            self.items.append(item)
            found = self._take(period, key)
            if not found:
                continue
            first = found[0]
            for d in found[1:]:
                self.issues.append(issue("unit-row-duplicate", **d.where("unit"), form=SHEET_TITLE,
                                         unit=self.name(unit), other_row=first.row))
            if len(found) > 1 or not first.ok:
                continue
            if first.choice not in spec.choices:
                self.issues.append(issue("decision-not-allowed", **first.where(), choice=first.choice,
                                         options="、".join(spec.choices), why=""))
                continue
            status = spec.choices[first.choice]
            before = row.get(spec.column)
            row.values[spec.column] = status
            item.decided = {unit: first.decided()}
            item.note = (f"{spec.label}（{self.name(unit)}，《{form.short}》第 {row.row} 行：{what}）经"
                         f"{item.decided[unit].source}“{first.choice}”，{column.label}由“{before}”按“{status}”计")

    # -------------------------------------------------------------- ties (while grading)

    def ties(self, grading: Grading, outcome: GradingOutcome, cands: list[Candidate], places: int = 2) -> None:
        """The pending ties of ``grading`` in this run's period: an item each; a complete, valid decision gives each
        unit its grade (with the consequence of that grade), and the quota lines and notes say so."""
        by_code = {c.code: c for c in cands}
        ties = list(dict.fromkeys(r.tie for r in outcome.results.values() if r.tie is not None))
        for tie in ties:
            cancelled = {x: {g for v in by_code[x].vetoes for g in v.cancels.get(grading.id, [])} for x in tie.units}
            options = {x: tuple(g for g in tie.grades if g not in cancelled[x]) for x in tie.units}
            names = "、".join(self.name(x) for x in tie.units)
            split = "、".join(f"{k} 个为“{g}”" for g, k in tie.places)
            title = (f"{grading.label}：{names} 得分及同分比较项完全相同（{fmt(by_code[tie.units[0]].score, places)}），"
                     f"恰好跨越名额线（{tie.line}）：这 {len(tie.units)} 个单位中 {split}，由党委研究确定每个单位的等次")
            key = tie_key(grading.id, tie)
            item = DecisionItem(key, TIE, self.target, title, tie.units, options, grading=grading.id,
                                places=tie.places)
            self.items.append(item)
            found = self._take(self.target, key)
            if found and self._valid_tie(grading, tie, item, found, cancelled):
                self._settle(grading, outcome, tie, item, {d.unit: d for d in found}, by_code, places)
        count_lines(outcome.quota, outcome.results, {c.code: _label(c, self) for c in cands})

    def _valid_tie(self, grading: Grading, tie: PendingTie, item: DecisionItem, found: list[Decision],
                   cancelled: dict[str, set[str]]) -> bool:
        ok = all(d.ok for d in found)  # a row with a bad cell: reported where it was read
        first: dict[str, Decision] = {}
        for d in found:
            if d.unit not in tie.units:
                self.issues.append(issue("decision-stale", **d.where("unit"), row=d.row, item=self.name(d.unit),
                                         why=f"该单位不在同分单位（{'、'.join(map(self.name, tie.units))}）中"))
                ok = False
            elif d.unit in first:
                self.issues.append(issue("unit-row-duplicate", **d.where("unit"), form=SHEET_TITLE,
                                         unit=self.name(d.unit), other_row=first[d.unit].row))
                ok = False
            else:
                first[d.unit] = d
        for x, d in first.items():
            if d.ok and d.choice not in item.options[x]:
                why = ""
                if d.choice in cancelled[x]:
                    why = f"；{self.name(x)}有一票否决事项，不得为“{d.choice}”"
                elif d.choice in tie.grades:
                    why = ""
                self.issues.append(issue("decision-not-allowed", **d.where(), choice=d.choice or "",
                                         options="、".join(item.options[x]), why=why))
                ok = False
        if not ok:
            return False
        missing = [x for x in tie.units if x not in first]
        if missing:
            cells = [d.cells.get("choice", str(d.row)) for d in found]
            self.issues.append(issue("decision-incomplete", file=found[0].file, sheet=found[0].sheet,
                                     cell=_span(cells), units="、".join(map(self.name, tie.units)),
                                     given=len(first), missing="、".join(map(self.name, missing))))
            return False
        good = True
        for g, k in tie.places:
            given = [d for d in first.values() if d.choice == g]
            if len(given) != k:
                cells = [d.cells.get("choice", str(d.row)) for d in (given or list(first.values()))]
                self.issues.append(issue("decision-places", file=found[0].file, sheet=found[0].sheet,
                                         cell=_span(cells), units="、".join(map(self.name, tie.units)), grade=g,
                                         given=len(given), places=k))
                good = False
        return good

    def _settle(self, grading: Grading, outcome: GradingOutcome, tie: PendingTie, item: DecisionItem,
                by_unit: dict[str, Decision], by_code: dict[str, Candidate], places: int) -> None:
        for x in tie.units:
            d = by_unit[x]
            others = "、".join(self.name(y) for y in tie.units if y != x)
            decided = d.decided(tie)
            old = outcome.results[x]
            reason = (f"{decided.source}：与{others}同分，恰好跨越名额线（{tie.line}），"
                      f"{len(tie.units)} 个单位中{'、'.join(f'{k} 个为“{g}”' for g, k in tie.places)}，本单位为“{d.choice}”")
            res = replace(old, grade=d.choice, pending=(), tie=None, decision=decided, reason=reason,
                          consequence="", funds_change=None)
            outcome.results[x] = with_consequence(grading, res, by_code[x], places)
            item.decided[x] = decided
        sources = "、".join(dict.fromkeys(d.source for d in item.decided.values()))
        item.note = (f"{grading.label}：{'、'.join(map(self.name, tie.units))}同分恰好跨越名额线（{tie.line}），经"
                     f"{sources}确定：" + "、".join(f"{self.name(x)}为“{item.decided[x].choice}”" for x in tie.units))
        pending = outcome.tie_notes.pop(tie, None)
        if pending in outcome.notes:
            outcome.notes[outcome.notes.index(pending)] = item.note
        else:
            outcome.notes.append(item.note)

    # -------------------------------------------------------------- what is left

    def finish(self, periods: list[str]) -> None:
        """Issues for decisions that matched nothing: an item that no longer exists (the data changed since the
        sheet was made) is an error on its row; a tie of a grading not graded this run waits (a warning); a tie of
        a part of a year computed from its parts is that part's business (nothing is said)."""
        for d in self.decisions:
            if d.used or d.period not in periods:
                continue
            if d.kind == TIE and d.period != self.target:
                continue
            grading = d.key.split(":")[1] if d.kind == TIE else ""
            if grading in self.withheld:
                self.issues.append(issue("decision-not-applied", **d.where(), row=d.row))
                continue
            why = ("本次计算中这些单位已不再同分跨越名额线（得分或名额已改变）" if d.kind == TIE
                   else "登记表中已没有这一行，或这一行的内容、状态已改变")
            self.issues.append(issue("decision-stale", **d.where("key"), row=d.row, item=d.key, why=why))

    def summary(self) -> list[str]:
        """Lines for 说明: every decision applied, with its source."""
        return [i.note for i in self.applied]


def _label(c: Candidate, book: DecisionBook) -> str:
    return f"{c.name}（{c.code}）" if c.name else book.name(c.code)


def _span(cells: list[str]) -> str:
    """Cells of one column, one below the other: "G5:G7" (a single cell as itself)."""
    if not cells:
        return ""
    if len(cells) == 1:
        return cells[0]
    return f"{cells[0]}:{cells[-1]}"


def period_label(period: str) -> str:
    try:
        return Period.parse(period).label
    except ValueError:
        return period


__all__ = ["Decision", "DecisionBook", "decision_date", "tie_key", "row_key", "file_name", "SHEET_TITLE", "TIE",
           "ROW"]
