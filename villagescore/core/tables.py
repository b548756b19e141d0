"""Turn a sheet's grid of raw cells into Rows keyed by column, with issues for bad cells.

The header row is found by its labels (or aliases), so title rows above it, reordered columns and
extra columns do not matter. Every cell goes through ``normalize``; nothing else parses values.
"""

from __future__ import annotations

import re
from typing import Any

from villagescore.core.issues import Issue, issue
from villagescore.core.normalize import clean_text, is_blank, normalize, squash
from villagescore.core.records import Row
from villagescore.core.scheme import Column

HEADER_SCAN = 30
_TOTAL = re.compile(r"(合计|总计|小计|平均|平均分|平均值)[:：]?")
_FOOTER = re.compile(r"(填表人|制表人|填报人|审核人|负责人|联系人|填表日期|说明|注)[:：]")
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
    return _MARKS.sub("", squash(clean_text(raw)))


def _match_header(cells: list[Any], columns: list[Column]) -> dict[str, int]:
    """Column key → 0-based position of its label in ``cells`` (first match wins)."""
    wanted: dict[str, str] = {}
    for col in columns:
        for name in (col.label, *col.aliases):
            wanted.setdefault(_label_key(name), col.key)
    found: dict[str, int] = {}
    for pos, raw in enumerate(cells):
        key = wanted.get(_label_key(raw)) if not is_blank(raw) else None
        if key is not None and key not in found:
            found[key] = pos
    return found


def find_header(grid: list[list[Any]], columns: list[Column]) -> tuple[int, dict[str, int]] | None:
    """(0-based row index, key → column position) of the best header row in the first rows."""
    required = {c.key for c in columns if c.required}
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN]):
        found = _match_header(cells, columns)
        enough = 2 * len(found) > len(columns) or (required <= found.keys() and len(found) >= min(2, len(columns)))
        if found and enough and (best is None or len(found) > len(best[1])):
            best = (r, found)
    return best


def _skip(cells: list[Any]) -> bool:
    """A totals row (合计/平均…) or a signature line under the table."""
    first = next((c for c in cells if not is_blank(c)), None)
    if not isinstance(first, str):
        return False
    text = squash(clean_text(first))
    return bool(_TOTAL.fullmatch(text) or _FOOTER.match(text))


def parse_table(
    grid: list[list[Any]],
    columns: list[Column],
    *,
    file: str,
    sheet: str,
    unit: str = "",
    header_row: int | None = None,
    keep_if_only: set[str] | None = None,
) -> tuple[list[Row], list[Issue], int | None]:
    """Rows below the header, normalised, with an issue per bad or missing cell.

    ``header_row`` (1-based) skips the search. ``keep_if_only``: keys whose values alone do not
    make a row a record (e.g. prefilled columns of a register); by default any non-blank cell in
    the table's columns does. Returns (rows, issues, header row number 1-based or None).
    """
    where = {"file": file, "sheet": sheet, "unit": unit}
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
    deciding = [k for k in pos if k not in (keep_if_only or ())]

    rows: list[Row] = []
    for r in range(head + 1, len(grid)):
        cells = grid[r]
        raw = {k: cells[p] if p < len(cells) else None for k, p in pos.items()}
        if all(is_blank(raw[k]) for k in deciding) or _skip(cells):
            continue
        row = Row(values={c.key: None for c in columns}, row=r + 1)
        for col in columns:
            if col.key not in pos:
                continue
            ref = f"{column_letter(pos[col.key])}{r + 1}"
            row.cells[col.key] = ref
            value, code, params = normalize(raw[col.key], col)
            if code:
                issues.append(issue(code, **where, cell=ref, **params))
            elif value is None and col.required:
                issues.append(issue("missing-value", **where, cell=ref, label=col.label))
            row.values[col.key] = value
        rows.append(row)
    return rows, issues, head + 1


__all__ = ["parse_table", "find_header", "column_letter", "HEADER_SCAN"]
