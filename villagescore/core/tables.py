"""Turn a sheet's grid of raw cells into Rows keyed by column, with issues for bad cells.

The header row is found by its labels (or aliases), so title rows above it, reordered columns and
extra columns do not matter. Every cell goes through ``normalize``; nothing else parses values.
Blank rows, a totals row (合计/平均, checked against the records: a mismatch is a warning) and
signature lines under the table are skipped.
"""

from __future__ import annotations

import functools

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from villagescore.core.issues import Issue, issue
from villagescore.core.normalize import clean_text, column_key, is_blank, normalize, normalize_cached, plain, squash
from villagescore.core.numbers import round_half_up
from villagescore.core.records import Row
from villagescore.core.scheme import Column

HEADER_SCAN = 30
ROW_MARGIN = 50  # rows read below a form's last record row (blank rows, a totals row, a few rows too many)
_TOTAL = re.compile(r"(合计|总计|小计|平均|平均分|平均值)[:：]?")
_TOTAL_KIND = {"合计": "合计", "总计": "合计", "平均": "平均", "平均分": "平均", "平均值": "平均"}
_FOOTER = re.compile(r"(填表人|制表人|填报人|审核人|负责人|联系人|填表日期|说明|注|回访人|统计人|计票人)[:：]")
_MARKS = re.compile(r"^\*+|\*+$|\(必填\)$")  # after NFKC: "＊" is "*", "（" is "("


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _label_key(raw: Any) -> str:
    if isinstance(raw, str):
        return _text_key(raw)
    return _MARKS.sub("", squash(clean_text(raw)))


@functools.lru_cache(maxsize=1 << 14)
def _text_key(text: str) -> str:
    return _MARKS.sub("", squash(clean_text(text)))


def _wanted(columns: list[Column]) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for col in columns:
        for name in (col.label, *col.aliases):
            wanted.setdefault(_label_key(name), col.key)
    return wanted


def _match_header(cells: list[Any], columns: list[Column], wanted: dict[str, str] | None = None) -> dict[str, int]:
    """Column key → 0-based position of its label in ``cells`` (first match wins)."""
    wanted = wanted if wanted is not None else _wanted(columns)
    found: dict[str, int] = {}
    for pos, raw in enumerate(cells):
        if not isinstance(raw, str) or not raw:  # labels are text; numbers and blanks never match
            continue
        key = wanted.get(_label_key(raw))
        if key is not None and key not in found:
            found[key] = pos
    return found


# Our own forms put the header on row 4 (layout contract); try it first and stop when it is complete.
CONTRACT_HEADER_ROW = 3


def find_header(grid: list[list[Any]], columns: list[Column]) -> tuple[int, dict[str, int]] | None:
    """(0-based row index, key → column position) of the best header row in the first rows."""
    required = {c.key for c in columns if c.required}
    wanted = _wanted(columns)
    if len(grid) > CONTRACT_HEADER_ROW:
        found = _match_header(grid[CONTRACT_HEADER_ROW], columns, wanted)
        if len(found) == len(columns) and not any(
                _match_header(cells, columns, wanted) for cells in grid[:CONTRACT_HEADER_ROW]):
            return CONTRACT_HEADER_ROW, found
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN]):
        found = _match_header(cells, columns, wanted)
        enough = 2 * len(found) > len(columns) or (required <= found.keys() and len(found) >= min(2, len(columns)))
        if found and enough and (best is None or len(found) > len(best[1])):
            best = (r, found)
    return best


def _blank(raw: Any) -> bool:
    """``is_blank``, with the common cells (empty, a number) decided without a call."""
    if raw is None or raw == "":
        return True
    kind = type(raw)
    if kind is float or kind is int or kind is bool:
        return False
    return is_blank(raw)


def _skip(cells: list[Any]) -> str | None:
    """"合计"/"平均" for a totals row, "" for another row to skip (小计, a signature line), None otherwise."""
    first = next((c for c in cells if not is_blank(c)), None)
    if not isinstance(first, str):
        return None
    text = squash(clean_text(first))
    total = _TOTAL.fullmatch(text)
    if total:
        return _TOTAL_KIND.get(total.group(1), "")
    return "" if _FOOTER.match(text) else None


def is_footer(cells: list[Any]) -> bool:
    """A row under a table that holds no record: a signature line, a 小计 (not a 合计/平均 to check)."""
    return _skip(cells) == ""


def _check_totals(totals: list[tuple[int, str]], grid: list[list[Any]], rows: list[Row], columns: list[Column],
                  pos: dict[str, int], bad: set[str], where: dict[str, str]) -> list[Issue]:
    """A 合计/平均 row typed under the records must agree with them (Excel's SUM/AVERAGE skip blanks)."""
    out = []
    for r, kind in totals:
        for col in columns:
            if col.type not in ("number", "integer") or col.key not in pos or col.key in bad:
                continue
            cells = grid[r]
            raw = cells[pos[col.key]] if pos[col.key] < len(cells) else None
            typed, code, _ = normalize(raw, col.model_copy(update={"type": "number", "min": None, "max": None,
                                                                     "places": 15}))
            values = [Fraction(v) for v in (row.values.get(col.key) for row in rows) if isinstance(v, Decimal)]
            if code or typed is None or not values:
                continue
            expected = sum(values, Fraction(0)) / (len(values) if kind == "平均" else 1)
            exp = typed.as_tuple().exponent
            places = max(0, -exp) if isinstance(exp, int) else 0
            if round_half_up(expected, places) != typed:
                out.append(issue("total-mismatch", **where, cell=f"{column_letter(pos[col.key])}{r + 1}",
                                 label=col.label, kind=kind, value=plain(typed),
                                 expected=plain(round_half_up(expected, max(places, 2)))))
    return out


def _beyond(grid: list[list[Any]], end: int, positions: list[int], capacity: int, where: dict[str, str]) -> list[Issue]:
    """One issue for whatever the table's columns hold from row ``end`` (0-based) down: it is not read. Its cell
    is the range those cells span, e.g. C75:C10004."""
    count, rows, cols = 0, [], set()
    for r in range(end, len(grid)):
        cells = grid[r]
        found = [p for p in positions if p < len(cells) and not _blank(cells[p])]
        if found:
            count += len(found)
            rows.append(r)
            cols.update(found)
    if not count:
        return []
    first, last = f"{column_letter(min(cols))}{rows[0] + 1}", f"{column_letter(max(cols))}{rows[-1] + 1}"
    return [issue("rows-beyond-form", **where, cell=first if first == last else f"{first}:{last}",
                  count=f"{count:,}", first=rows[0] + 1, capacity=capacity)]


def parse_table(
    grid: list[list[Any]],
    columns: list[Column],
    *,
    file: str,
    sheet: str,
    unit: str = "",
    header_row: int | None = None,
    keep_if_only: set[str] | None = None,
    capacity: int | None = None,
) -> tuple[list[Row], list[Issue], int | None]:
    """Rows below the header, normalised, with an issue per bad or missing cell.

    ``header_row`` (1-based) skips the search. ``keep_if_only``: keys whose values alone do not
    make a row a record (e.g. prefilled columns of a register); by default any non-blank cell in
    the table's columns does. ``capacity``: the records the form holds; rows more than ``ROW_MARGIN``
    below them are not read, and what they hold in the table's columns is one issue (rows-beyond-form).
    Returns (rows, issues, header row number 1-based or None).
    """
    where = {"file": file, "sheet": sheet, "unit": unit}
    found: tuple[int, dict[str, int]] | None
    if header_row is not None:
        cells = grid[header_row - 1] if 0 < header_row <= len(grid) else []
        found = (header_row - 1, _match_header(cells, columns))
    else:
        found = find_header(grid, columns)
    if found is None or not found[1]:
        labels = [c.label for c in columns if c.required] or [c.label for c in columns]
        return [], [issue("header-missing", **where, labels="、".join(labels))], None
    head, pos = found
    issues = [issue("column-missing", **where, cell=str(head + 1), label=c.label)
              for c in columns if c.required and c.key not in pos]
    deciding = [p for k, p in pos.items() if k not in (keep_if_only or ())]
    # per column, once: (key, position, letters, column, normalisation key)
    plan = [(c.key, pos[c.key], column_letter(pos[c.key]), c, column_key(c)) for c in columns if c.key in pos]
    blank_values = dict.fromkeys(c.key for c in columns)
    letters = {key: lt for key, _, lt, _, _ in plan}  # one map for every row: a row holds only its number

    rows: list[Row] = []
    totals: list[tuple[int, str]] = []
    bad: set[str] = set()  # columns with an unreadable cell: their totals cannot be checked
    end = len(grid) if capacity is None else min(len(grid), head + 1 + capacity + ROW_MARGIN)
    if end < len(grid):
        issues += _beyond(grid, end, sorted(pos.values()), capacity or 0, where)
    for r in range(head + 1, end):
        cells = grid[r]
        width = len(cells)
        if all(p >= width or _blank(cells[p]) for p in deciding):
            continue
        skip = _skip(cells)
        if skip is not None:
            if skip:
                totals.append((r, skip))
            continue
        row = Row(blank_values.copy(), r + 1, letters)
        number = str(r + 1)
        for key, p, lt, col, norm in plan:
            ref = lt + number
            value, code, params = normalize_cached(cells[p] if p < width else None, col, norm)
            if code:
                issues.append(issue(code, **where, cell=ref, **params))
                bad.add(key)
            elif value is None and col.required:
                issues.append(issue("missing-value", **where, cell=ref, label=col.label))
            row.values[key] = value
        rows.append(row)
    issues += _check_totals(totals, grid, rows, columns, pos, bad, where)
    return rows, issues, head + 1


__all__ = ["parse_table", "find_header", "column_letter", "HEADER_SCAN", "ROW_MARGIN"]
