"""The committee's decision sheet (党委研究事项_<period>.xlsx): written by ``compute`` when a run leaves something to
the committee, filled after its meeting, and read back like any form (``docs/forms.md``).

Layout as every entry form: row 1 title, row 2 info line, row 3 instruction, row 4 the header of
``layout.decision_columns()``, one row per unit of each item from row 5 (prefilled and locked: 序号, 事项编号,
单位代码, 单位名称, 研究事项, 可选决定), the inputs 决定 (a dropdown of that row's own choices), 会议/文号 and 日期,
then a signature block. The sheet is protected; a very hidden identity sheet (role ``decisions``) names the scheme
and the period. Items already decided in the run are written with their decision typed in.
"""

from __future__ import annotations

import re
from typing import Any

from villagescore import TEMPLATE_VERSION
from villagescore.core import layout
from villagescore.core.decisions import SHEET_TITLE, TIE, Decision, decision_date
from villagescore.core.issues import Issue, issue
from villagescore.core.periods import Period
from villagescore.core.records import DecisionItem, RunResult
from villagescore.core.tables import parse_table
from villagescore.io.forms import _FIXED, _HEAD, _INFO, _INPUT, _NOTE, _TITLE, HEADER_ROW, LINE, _book, _lines, _page
from villagescore.io.reader import Workbook

SHEET = SHEET_TITLE
_ROW = re.compile(r"[A-Z]*(\d+)")
NOTE = ("党委（党工委）研究后，在每一行的“决定”栏从下拉列表中选择决定，填写会议名称或文号（如“乡党委2025年第5次会议”）"
        "和研究日期；同分单位须全部填写，各等次的个数须与“研究事项”写明的名额相同（党委确定的是哪些单位，不是几个）。"
        "尚未研究的事项留空。填好后放入本期表格文件夹（或用 compute --decisions 指定），重新计算即按决定出结果。")
SIGNATURE = ("经办人：__________    审核人：__________    党委（党工委）负责人：__________    "
             "（盖章）    ____年__月__日")
MIN_ROW_HEIGHT = 30  # room to write by hand on the printed sheet


def _rows(result: RunResult) -> list[tuple[DecisionItem, str, bool]]:
    """(item, unit, first row of its item) for every row of the sheet, in the run's order of items (ties grading by
    grading, then register rows)."""
    return [(item, unit, k == 0) for item in result.decisions for k, unit in enumerate(item.units)]


def build_decision_sheet(result: RunResult) -> bytes:
    """The decision sheet of ``result.decisions`` (every item of the run; those decided have their decision typed in)."""
    cols = layout.decision_columns()
    names = {u.code: u.unit.full_name for u in result.units}
    period = Period.parse(result.period)
    title = f"{result.scheme_name} {period.label} {SHEET_TITLE}"
    towns = {u.unit.township for u in result.units if u.unit.township}
    info = "    ".join([*(f"乡镇：{t}" for t in towns if len(towns) == 1), f"期间：{period.label}",
                        f"方案：{result.scheme_name}", f"计算时间：{result.computed_at}"])
    book = _book(title)
    ws = book.add_sheet(SHEET)
    widths = [5, 13, 9, 11, 40, 23, 10, 20, 12]
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    n, total = len(cols), sum(widths)
    book.banner(ws, 0, 0, n - 1, title, book.fmt(_TITLE), 30)
    book.banner(ws, 1, 0, n - 1, info, book.fmt(_INFO), LINE * _lines(info, total / 0.9) + 5)
    book.banner(ws, 2, 0, n - 1, NOTE, book.fmt(_NOTE), LINE * (_lines(NOTE, total / 0.9) + 1) + 5)
    head = book.fmt(_HEAD)
    for i, c in enumerate(cols):
        ws.write_string(HEADER_ROW, i, c.label, head)
    ws.set_row(HEADER_ROW, 24)
    fixed = {k: book.fmt(_FIXED, text_wrap=True, align="center" if k in ("seq", "unit") else "left")
             for k in layout.DECISION_PREFILLED}
    typed = book.fmt(_INPUT, text_wrap=True, align="center")
    rows = _rows(result)
    first = HEADER_ROW + 1
    for k, (item, unit, lead) in enumerate(rows):
        r = first + k
        text = item.title if lead else f"同上：{names.get(unit, unit)}的{'等次' if item.kind == TIE else '决定'}"
        values: dict[str, Any] = {"seq": k + 1, "key": item.key, "unit": unit, "unit_name": names.get(unit, unit),
                                  "question": text, "options": item.options_text(unit, "\n")}
        height = MIN_ROW_HEIGHT
        for i, c in enumerate(cols):
            if c.key in values:
                v = values[c.key]
                if isinstance(v, int):
                    ws.write_number(r, i, v, fixed[c.key])
                else:
                    ws.write_string(r, i, v, fixed[c.key])
                    height = max(height, LINE * _lines(v, widths[i]) + 6)
        decided = item.decided.get(unit)
        inputs = {"choice": decided.choice if decided else None, "meeting": decided.meeting if decided else None,
                  "date": decided.date if decided else None}
        for key, value in inputs.items():
            i = next(j for j, c in enumerate(cols) if c.key == key)
            if value:
                ws.write_string(r, i, value, typed)
            else:
                ws.write_blank(r, i, None, typed)
        ws.set_row(r, min(height, 400))
        choice = [j for j, c in enumerate(cols) if c.key == "choice"][0]
        options = list(item.options[unit])
        ws.data_validation(r, choice, r, choice, {
            "validate": "list", "source": options, "input_title": "决定", "error_title": "输入有误",
            "error_type": "stop", "show_error": True, "input_message": f"请从下拉列表中选择：{'、'.join(options)}",
            "error_message": f"本行只能选择：{'、'.join(options)}。"})
        for key, ask, limit in (("meeting", "会议名称或文号，如“乡党委2025年第5次会议”", 60),
                                ("date", "研究日期，如 2025-07-08 或 2025年7月8日", 20)):
            i = next(j for j, c in enumerate(cols) if c.key == key)
            ws.data_validation(r, i, r, i, {"validate": "length", "criteria": "<=", "value": limit,
                                            "input_title": cols[i].label, "input_message": ask,
                                            "error_title": "输入有误", "error_type": "stop", "show_error": True,
                                            "error_message": f"“{cols[i].label}”不能超过 {limit} 个字。"})
    last = first + len(rows) - 1
    sign = last + 2
    ws.write_string(sign, 0, SIGNATURE, book.fmt(font_size=12))  # one cell, shown across the empty ones right of it:
    ws.set_row(sign, 36)  # a merged range would give every cell of the row its text when read back
    ws.freeze_panes(first, 0)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})
    _page(ws, landscape=True)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW, HEADER_ROW)
    ws.print_area(0, 0, sign, n - 1)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.activate()
    book.identity({"tool": "villagescore", "role": layout.DECISIONS_ROLE, "scheme_id": result.scheme_id,
                   "scheme_version": result.scheme_version, "form_id": layout.DECISIONS_ROLE, "period": result.period,
                   "template_version": TEMPLATE_VERSION, "sheet": SHEET})
    return book.close(keep=False)


def is_decision_sheet(wb: Workbook) -> bool:
    return (wb.identity or {}).get("role") == layout.DECISIONS_ROLE


def read_decisions(wb: Workbook, name: str) -> tuple[list[Decision], list[Issue]]:
    """The filled rows of a decision sheet (the period from its identity record), with the problems of their cells;
    a row with a problem comes back with ``ok`` False (its decision is not applied)."""
    ident = wb.identity or {}
    period = ident.get("period", "")
    sheet = ident.get("sheet") or SHEET
    cols = layout.decision_columns()
    if sheet not in wb.sheets:
        sheet = next((s for s in wb.visible()), sheet)
    grid = wb.sheets.get(sheet)
    if grid is None:
        return [], [issue("sheet-missing", file=name, sheet=sheet)]
    rows, problems, _ = parse_table(grid, cols, file=name, sheet=sheet, keep_if_only=set(layout.DECISION_PREFILLED))
    bad_rows = {int(m.group(1)) for i in problems if (m := _ROW.match(i.cell))}
    issues = list(problems)
    out = []
    for r in rows:
        if not r.get("key"):  # not an item's row (text typed below the table, a row added)
            issues.append(issue("decision-stale", file=name, sheet=sheet, cell=str(r.row), row=r.row, item="（空）",
                                why="该行不是事项表中的事项"))
            continue
        date = str(r.get("date") or "")
        when = decision_date(date) if date else None
        ok = r.row not in bad_rows
        if date and when is None:
            issues.append(issue("decision-date", file=name, sheet=sheet, cell=r.cell("date"), value=date))
            ok = False
        out.append(Decision(str(r.get("key") or ""), str(r.get("unit") or ""), r.get("choice"),
                            str(r.get("meeting") or ""), when or "", period, name, sheet, r.row, r.cells, ok))
    if not rows and not problems:
        issues.append(issue("decisions-empty", file=name, sheet=sheet))
    return out, issues




def gather_decisions(scheme_id: str, sheets: dict[str, Workbook], periods: list[str]) -> tuple[list[Decision], list[Issue]]:
    """The decisions of the sheets found (name → workbook): a sheet of another scheme or of a period this run does
    not read is refused whole (an error naming it); two different sheets of one period, both refused (which one
    holds is not for the tool to guess)."""
    issues: list[Issue] = []
    by_period: dict[str, list[str]] = {}
    for name, wb in sheets.items():
        ident = wb.identity or {}
        sheet = ident.get("sheet") or SHEET
        if ident.get("scheme_id") != scheme_id:
            issues.append(issue("decision-other-scheme", file=name, sheet=sheet, cell="A2",
                                found=ident.get("scheme_id", ""), expected=scheme_id))
        elif ident.get("period") not in periods:
            issues.append(issue("decision-other-period", file=name, sheet=sheet, cell="A2",
                                found=ident.get("period", "") or "（未注明）", expected="、".join(periods)))
        else:
            by_period.setdefault(ident["period"], []).append(name)
    out: list[Decision] = []
    for period, names in by_period.items():
        if len(names) > 1:
            for name in names[1:]:
                issues.append(issue("decision-conflict", file=name, sheet=SHEET, other=names[0]))
            issues.append(issue("decision-conflict", file=names[0], sheet=SHEET, other=names[1]))
            continue
        found, problems = read_decisions(sheets[names[0]], names[0])
        out.extend(found)
        issues.extend(problems)
    return out, issues


__all__ = ["build_decision_sheet", "read_decisions", "gather_decisions", "is_decision_sheet", "SHEET"]
