"""Online questionnaires (问卷星, 腾讯问卷): the Excel export of the responses, one per row, counted into the tally
of a form that has a ``survey`` section in the scheme (which column names the unit, which columns are the
questions, which answers count for which option).

A column is found by its header: the text the scheme gives, or the one header containing it (the exports
number the questions, "3、服务态度：", and write a matrix question's rows in brackets). Each response is given to
the unit its answer names (the roster's name or code, or the scheme's ``units``); each answer to the option the
scheme says (or ignored, or blank); anything else is an issue naming the export's cell, and nothing is guessed.
With a submission-time column, every response falls in the period of its date.

Pure: the sheet's grid in, counts and issues out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from villagescore.core.issues import Issue, issue
from villagescore.core.normalize import clean_text, squash
from villagescore.core.records import Row, Unit
from villagescore.core.scheme import Tally
from villagescore.core.tables import column_letter

TIME_COLUMNS = ("提交答卷时间", "结束答题时间", "提交时间", "答题结束时间", "开始答题时间", "答卷时间")
HEAD_ROWS = 6  # the header is on one of the first rows
_NUMBERING = re.compile(r"^(第?\d+[题、.．:：)）]\s*)")
_TRAILING = re.compile(r"[：:？?。\s]+$")
_DATE = re.compile(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")


def _norm(text: Any) -> str:
    t = squash(clean_text(text))
    return _TRAILING.sub("", _NUMBERING.sub("", t))


@dataclass
class Columns:
    head: int  # 0-based row of the header
    unit: int
    questions: dict[str, int]  # the form's row → column
    time: int | None = None


def _find(cells: list[Any], wanted: str) -> list[int]:
    w = _norm(wanted)
    if not w:
        return []
    names = [_norm(c) if isinstance(c, str) else "" for c in cells]
    exact = [i for i, n in enumerate(names) if n == w]
    return exact or [i for i, n in enumerate(names) if w in n]


def find_columns(form: Tally, grid: list[list[Any]]) -> Columns | None:
    """The export's header row and columns for ``form``'s survey, or None when this sheet is not such an export
    (the unit column and every question's column, each found exactly once)."""
    sv = form.survey
    if sv is None:
        return None
    for r, cells in enumerate(grid[:HEAD_ROWS]):
        unit = _find(cells, sv.unit)
        if len(unit) != 1:
            continue
        found = {label: _find(cells, text) for label, text in sv.questions.items()}
        if any(len(v) != 1 for v in found.values()):
            continue
        time = None
        for name in ([sv.time] if sv.time else list(TIME_COLUMNS)):
            hits = _find(cells, name)
            if len(hits) == 1:
                time = hits[0]
                break
        return Columns(r, unit[0], {k: v[0] for k, v in found.items()}, time)
    return None


def missing_columns(form: Tally, grid: list[list[Any]]) -> list[str]:
    """For a sheet that looks like the export but lacks columns: the headers not found (or found twice)."""
    sv = form.survey
    if sv is None or not grid:
        return []
    best: list[str] | None = None
    for cells in grid[:HEAD_ROWS]:
        if len(_find(cells, sv.unit)) != 1:
            continue
        missing = [text for text in sv.questions.values() if len(_find(cells, text)) != 1]
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def response_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.search(clean_text(value))
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def period_of(day: dt.date, kind: str) -> str:
    if kind == "half":
        return f"{day.year}H{1 if day.month <= 6 else 2}"
    if kind == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


@dataclass
class Counted:
    """What an export says: per (unit, period) the tally rows, and the issues naming its cells."""

    tallies: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    responses: dict[tuple[str, str], int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    undated: int = 0


def count(form: Tally, grid: list[list[Any]], cols: Columns, units: list[Unit], *, period_kind: str,
          file: str, sheet: str) -> Counted:
    """The tally of every unit (and period, when responses are dated; "" otherwise) from the export's rows."""
    sv = form.survey
    assert sv is not None
    by_answer: dict[str, str] = {}
    for answer_of, texts in sv.answers.items():
        for t in texts:
            by_answer[_norm(t)] = answer_of
    ignored = {_norm(t) for t in sv.ignore}
    by_unit: dict[str, str] = {}
    for u in units:
        for name in (u.code, u.name, u.full_name):
            by_unit.setdefault(_norm(name), u.code)
    for text, unit_code in sv.units.items():
        by_unit[_norm(text)] = unit_code
    known = {u.code for u in units}
    out = Counted()
    counts: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    where = {"file": file, "sheet": sheet}
    for r in range(cols.head + 1, len(grid)):
        cells = grid[r]

        def cell(c: int) -> Any:
            return cells[c] if c < len(cells) else None

        answers = {label: _norm(cell(c)) for label, c in cols.questions.items()}
        who = _norm(cell(cols.unit))
        if not who and not any(answers.values()):
            continue  # a blank row
        ref = f"{column_letter(cols.unit)}{r + 1}"
        code = by_unit.get(who)
        if code is None or code not in known:
            out.issues.append(issue("survey-unit-unknown", **where, cell=ref, row=r + 1, value=clean_text(cell(cols.unit))
                                    or "（空）"))
            continue
        period = ""
        if cols.time is not None:
            day = response_date(cell(cols.time))
            if day is None:
                out.undated += 1
            else:
                period = period_of(day, period_kind)
        tally = counts.setdefault((code, period), {label: {o: 0 for o in form.options} for label in form.rows})
        bad = False
        chosen: dict[str, str] = {}
        for label, c in cols.questions.items():
            a = answers[label]
            if not a or a in ignored:
                continue
            option = by_answer.get(a)
            if option is None:
                out.issues.append(issue("survey-answer-unknown", **where, cell=f"{column_letter(c)}{r + 1}", unit=code,
                                        row=r + 1, question=label, value=clean_text(cell(c))))
                bad = True
                continue
            chosen[label] = option
        if bad:
            continue  # a response with an answer nobody mapped is not counted in part
        for label, option in chosen.items():
            tally[label][option] += 1
        out.responses[(code, period)] = out.responses.get((code, period), 0) + 1
    for (code, period), tally in counts.items():
        out.tallies[(code, period)] = [Row({"row": label, **{o: Decimal(n) for o, n in tally[label].items()}}, 0)
                                      for label in form.rows]
    return out


__all__ = ["find_columns", "missing_columns", "count", "Counted", "Columns", "period_of", "response_date"]
