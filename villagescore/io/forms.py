"""Blank forms: entry workbooks (typed by the clerk and read back), printable ballots, setup forms.

Every workbook has the same shape, which ``docs/forms.md`` describes and the reader relies on:
the visible table sheet first (row 1 title, row 2 info line, row 3 instruction, row 4 the header
row of ``layout.entry_columns`` / ``layout.setup_columns`` labels, records from row 5), and a very
hidden identity sheet (``layout.IDENTITY_SHEET``) of key/value strings. Workbooks are built in
memory and returned as bytes; ``write_period_forms`` writes a period's whole set atomically.

This module is the layout: what each form holds and where. How a workbook's calls reach xlsxwriter (recorded,
then played, reusing the package of equal workbooks written before in the run) is ``io/replay.py``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from villagescore import TEMPLATE_VERSION
from villagescore.core import layout
from villagescore.core.draw import Draw
from villagescore.core.numbers import plain
from villagescore.core.periods import Period
from villagescore.core.records import Criterion, Unit
from villagescore.core import scheme as scheme_model
from villagescore.core.scheme import Column, Form, Scheme
from villagescore.io import page
from villagescore.io.cells import display_width
from villagescore.io.replay import Book, Fmt, PackageCache, Sheet, repeat_copies

FONT = "宋体"
HEADER_ROW = 3  # zero-based; row 4 as Excel shows it
SETUP_ROWS = {"roster": 100, "criteria": 300, "ledger": 300, "people": 300}
TEXT_LIMIT = scheme_model.TEXT_LIMIT  # length check on text cells whose column sets no max_length (read alike)
LINE = 15  # points per line of 11-point CJK text
MIN_TABLE_WIDTH = 80  # column-width units: about the printable width of portrait A4
BALLOT_KINDS = layout.BALLOT_KINDS
IDENTITY_WORDS = ("姓名", "电话", "身份证", "联系方式", "住址")

_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

# cell styles (merged into every format with the CJK font)
_TITLE = {"bold": True, "font_size": 16, "align": "center"}
_INFO = {"font_size": 10, "text_wrap": True}
_NOTE = {"font_size": 10, "text_wrap": True, "font_color": "#404040"}
_HEAD = {"bold": True, "border": 1, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"}
_FIXED = {"border": 1, "bg_color": "#F2F2F2"}  # prefilled, locked
_INPUT = {"border": 1, "locked": False}

_NOTES = {
    "score_ballot": "每张收回的测评票录入一行，票号与纸质票上的票号一致；各项得分填 0 至该项分值之间的数字，"
    "不用计算合计；作废票在“是否作废”栏选“是”，未收回的票整行留空。",
    "vote_ballot": "每张收回的测评票录入一行，票号与纸质票上的票号一致；作废票在“是否作废”栏选“是”。",
    "callback": "对抽取的每件诉求电话回访或入户走访后填写白色单元格（灰底为台账内容，不能修改），"
    "选择类栏目从下拉列表中选择。",
    "tally": "按回收的问卷逐项统计，在各选项下填写选择该项的人数（0 或正整数）。",
    "register": "每条事项登记一行，从第 1 行起连续填写；选择类栏目从下拉列表中选择。",
    "unit_scores": "每个单位一行，填写白色单元格（灰底为名册内容，不能修改）。",
}
_SETUP_NOTES = {
    "roster": "每个村（社区）填写一行：单位代码须唯一（如 C01），类型从下拉列表中选择；工作经费基数可不填。",
    "criteria": "每行一项考核细则：单位代码与名册一致，方面从下拉列表中选择，序号在本单位内从 1 起连续编号。",
    "ledger": "每件民生诉求填写一行：单位代码与名册一致，诉求编号在本单位内唯一；回访核查从本台账中随机抽取。",
}
_DATE = "日期：____年__月__日"
SIGNATURES = {  # sheets whose filled copy someone signs: who, beside the date
    "unit_scores": f"审核人：__________    审定人：__________    {_DATE}",
    "tally": f"统计人：__________    监督人：__________    {_DATE}",
    "callback": f"回访人：__________    核查人：__________    {_DATE}",
    "vote_tally": f"计票人：__________    监票人：__________    {_DATE}",
}
_VOTE_TALLY_NOTE = ("没有逐票录入、已人工统计票数时填写本表：在各选项下填写得票数（0 或正整数）。"
                   "逐票录入和本表只填其一。")
_BALLOT_NOTE = "请在“得分”栏填写 0 至该项分值之间的分数；本票不记名，请勿在票上署名或作任何记号。"


# ------------------------------------------------------------------ small helpers


_tw = display_width  # display width: 2 per CJK (wide) character, 1 otherwise


def _lines(text: str, width: float) -> int:
    return max(1, math.ceil(_tw(text) / max(width - 1.5, 1)))


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_name(text: str) -> str:
    """A Windows-safe file or folder name."""
    return _BAD_FILE_CHARS.sub("_", text).strip().rstrip(". ") or "_"


def _sheet_name(text: str) -> str:
    return _BAD_SHEET_CHARS.sub("_", text).strip("'")[:31] or "Sheet1"


def period_code(text: str) -> str:
    """A period as file names and titles write it: 2025H1."""
    return str(Period.parse(text))


def _township(scheme: Scheme, units: list[Unit]) -> str:
    names = {u.township for u in units if u.township}
    return scheme.scheme.township or (names.pop() if len(names) == 1 else "")


def _info(scheme: Scheme, period: str, unit: Unit | None, township: str = "", extra: tuple[str, ...] = ()) -> str:
    parts = [f"单位：{unit.full_name}（{unit.code}）"] if unit else [f"乡镇：{township}"] if township else []
    if period:
        parts.append(f"期间：{Period.parse(period).label}")
    return "    ".join([*parts, f"方案：{scheme.scheme.name}", *extra])


def _positions(cols: list[Column]) -> dict[str, int]:
    """Key → column position (keys are unique: the scheme model rejects clashes with fixed columns)."""
    return {c.key: i for i, c in enumerate(cols)}


def _check_anonymous(form: Form, cols: list[Column]) -> None:
    for c in cols:
        if form.anonymous and any(w in c.label for w in IDENTITY_WORDS):
            raise ValueError(f"匿名表“{form.title}”不能有“{c.label}”栏（不得询问身份信息）")


# ------------------------------------------------------------------ validation


_VALIDATIONS: dict[tuple, dict[str, Any]] = {}


def _validation(c: Column) -> dict[str, Any]:
    """Data validation of an input column (the same dict for columns alike; xlsxwriter copies what it changes)."""
    key = (c.type, c.label, tuple(c.options), str(c.min), str(c.max), c.places, c.required, c.max_length)
    found = _VALIDATIONS.get(key)
    if found is None:
        if len(_VALIDATIONS) >= 10_000:
            _VALIDATIONS.clear()
        found = _VALIDATIONS[key] = _make_validation(c)
    return found


def _make_validation(c: Column) -> dict[str, Any]:
    """Data validation of an input column: dropdown, number range or text length, with Chinese messages."""
    need = "（必填）" if c.required else ""
    common = {"input_title": _clip(c.label, 32), "error_title": "输入有误", "error_type": "stop", "show_error": True}
    rule: dict[str, Any]  # xlsxwriter's data_validation options
    if c.type == "option":
        opts = "、".join(c.options)
        if len(",".join(c.options)) > 255:
            raise ValueError(f"“{c.label}”的选项太长，下拉列表最多 255 个字符")
        rule = {"validate": "list", "source": list(c.options)}
        ask, err = f"请从下拉列表中选择：{opts}{need}", f"“{c.label}”只能选择：{opts}。"
    elif c.type == "band":  # a letter from the dropdown, or points typed in: the list only informs
        opts = "、".join(c.options)
        assert c.max is not None  # a band column has its max (Column's check)
        rng = f"{plain(c.min if c.min is not None else Decimal(0))} 至 {plain(c.max)}"
        rule = {"validate": "list", "source": list(c.options)}
        common["error_type"] = "information"
        ask = f"从下拉列表选择档次（{opts}），或直接填写 {rng} 之间的分数（最多 {c.places} 位小数）{need}"
        err = f"“{c.label}”填写档次 {opts}，或 {rng} 之间的分数（最多 {c.places} 位小数）；其他内容检查时会报错。"
    elif c.type in ("number", "integer"):
        kind = "整数" if c.type == "integer" else "数字"
        lo, hi = c.min, c.max
        if lo is not None and hi is not None:
            rule = {"criteria": "between", "minimum": _num(lo), "maximum": _num(hi)}
            rng = f"{plain(lo)} 至 {plain(hi)} 之间的{kind}"
        elif lo is not None:
            rule, rng = {"criteria": ">=", "value": _num(lo)}, f"不小于 {plain(lo)} 的{kind}"
        elif hi is not None:
            rule, rng = {"criteria": "<=", "value": _num(hi)}, f"不大于 {plain(hi)} 的{kind}"
        else:
            rule, rng = {"criteria": "between", "minimum": -1e15, "maximum": 1e15}, kind
        rule["validate"] = "integer" if c.type == "integer" else "decimal"
        places = "" if c.type == "integer" else f"（最多 {c.places} 位小数）"
        ask, err = f"请填写{rng}{places}{need}", f"“{c.label}”应为{rng}。"
    else:
        limit = c.text_limit
        rule = {"validate": "length", "criteria": "<=", "value": limit}
        ask, err = f"请填写文字，不超过 {limit} 个字{need}", f"“{c.label}”不能超过 {limit} 个字。"
    return {**rule, **common, "input_message": _clip(ask, 255), "error_message": _clip(err, 255)}


def _declare_validation(c: Column) -> dict[str, Any]:
    """The 本期无… box: 是 when the register has nothing this period; left blank when it has rows."""
    ask = "本期确实没有任何登记事项的，选“是”；有事项的逐条登记，此处留空。"
    return {"validate": "list", "source": list(c.options), "input_title": _clip(c.label, 32),
            "input_message": ask, "error_title": "输入有误", "error_type": "stop", "show_error": True,
            "error_message": f"“{c.label}”只能选择：是、否。"}


# ------------------------------------------------------------------ workbook (recorded calls: io/replay.py)


def _book(title: str, cache: PackageCache | None = None) -> Book:
    """A form workbook in the CJK font; with ``cache``, packages of equal calls are reused (``io/replay.py``)."""
    return Book(title, {"font_name": FONT, "font_size": 11, "valign": "vcenter"}, cache)


def _identity(scheme: Scheme, role: str, form_id: str, sheet: str, *, unit: Unit | None = None,
              period: str = "", form: Form | None = None, draw: Draw | None = None) -> dict[str, str]:
    return {
        "tool": "villagescore", "role": role,
        "scheme_id": scheme.scheme.id, "scheme_version": scheme.scheme.version,
        "form_id": form_id, "unit_code": unit.code if unit else "", "unit_name": unit.name if unit else "",
        "period": period, "template_version": TEMPLATE_VERSION, "sheet": sheet,
        "seed": str(draw.seed) if draw else "", "drawn": ",".join(draw.ids) if draw else "",
        "issued": str(form.evaluators) if form and layout.is_ballot(form) else "",
    }


def _page(ws: Sheet, landscape: bool) -> None:
    ws.set_paper(9)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.center_horizontally()


# ------------------------------------------------------------------ the table sheet


@dataclass
class _Table:
    sheet: str
    title: str
    info: str
    note: str
    columns: list[Column]
    rows: list[list[Any]]  # values by column position; None = blank
    fixed: set[int]  # positions of prefilled, locked columns
    declare: Column | None = None  # a register's 本期无… declaration: its label and box at the right of the note row
    declared: str | None = None  # the declaration typed in (demo and test data)
    signature: str = ""  # a line below the table for those who sign the filled sheet


def _width(c: Column, values: list[Any]) -> float:
    if c.width:
        return c.width
    # a long run of digits (a phone number) prints wider than its count in some CJK fonts: a little room to spare
    seen = [_tw(str(v)) + (len(str(v)) // 6 if str(v).isdigit() else 0) for v in values if v is not None]
    if c.type in ("option", "band"):
        seen += [_tw(o) + 3 for o in c.options]  # room for the dropdown arrow
    label_cap = 10 if c.type in ("number", "integer") else 16  # longer labels wrap in the header
    floor = 10 if c.type == "text" else 6
    return min(max(max(seen, default=0), min(_tw(c.label), label_cap), floor) + 2, 40)


def _cell_style(c: Column, fixed: bool) -> dict[str, Any]:
    style = dict(_FIXED if fixed else _INPUT)
    if c.type == "text":
        style.update(text_wrap=True, num_format="@")
    else:
        style.update(align="center", num_format="0" if c.type == "integer" else "General")
    return style


def _write_table(book: Book, t: _Table) -> None:
    ws = book.add_sheet(t.sheet)
    n, cols = len(t.columns), t.columns
    widths = [_width(c, [r[i] for r in t.rows]) for i, c in enumerate(cols)]
    if sum(widths) < MIN_TABLE_WIDTH:  # narrow tables fill the page width (and keep the info line whole)
        widths = [w * MIN_TABLE_WIDTH / sum(widths) for w in widths]
    landscape = n > 7 or sum(widths) > 100
    # long text columns wrap rather than shrink the whole sheet below 8-point print (a callback's 诉求内容)
    widths = page.shrink(widths, {i: 14 for i, c in enumerate(cols) if c.type == "text" and widths[i] > 14},
                         landscape=landscape)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    total = sum(widths)
    book.banner(ws, 0, 0, n - 1, t.title, book.fmt(_TITLE), 30)
    info, note, last = t.info, t.note, n - 1
    if t.declare is not None:  # the note leaves the last two columns to the declaration (on a narrow table: all)
        last = n - 3
        if last < 0:
            info, note = f"{t.info}\n{t.note}", ""
    for r, text, style in ((1, info, _INFO), (2, note, _NOTE)):  # 10-point text: ~10% more per line
        if r == 2 and last < 0:
            continue
        room = total if r == 1 or last == n - 1 else sum(widths[:last + 1])
        book.banner(ws, r, 0, last if r == 2 else n - 1, text, book.fmt(style), LINE * _lines(text, room / 0.9) + 5)
    if t.declare is not None:
        at = max(n - 2, 0)
        label = t.declare.label
        height = max(30, LINE * _lines(label, widths[at]) + 8)
        if note:
            height = max(height, LINE * _lines(note, sum(widths[:last + 1]) / 0.9) + 5)
        ws.write_string(2, at, label, book.fmt(bold=True, border=2, align="center", text_wrap=True,
                                                  bg_color="#FFF2CC"))
        box = book.fmt(_INPUT, border=2, align="center")
        if t.declared:
            ws.write_string(2, at + 1, t.declared, box)
        else:
            ws.write_blank(2, at + 1, None, box)
        ws.set_row(2, height)
        ws.data_validation(2, at + 1, 2, at + 1, _declare_validation(t.declare))
    head = book.fmt(_HEAD)
    for i, c in enumerate(cols):
        ws.write_string(HEADER_ROW, i, c.label, head)
    ws.set_row(HEADER_ROW, min(LINE * max(_lines(c.label, w) for c, w in zip(cols, widths)) + 6, 200))

    formats = [book.fmt(_cell_style(c, i in t.fixed)) for i, c in enumerate(cols)]
    first = HEADER_ROW + 1
    min_h = 30 if len(t.rows) <= 10 else 20  # short tables get room to write by hand
    for r, values in enumerate(t.rows, start=first):
        wrapped = [_lines(str(v), widths[i]) for i, v in enumerate(values) if isinstance(v, str)]
        ws.set_row(r, max(min_h, LINE * max(wrapped, default=1) + 5))
        for i, v in enumerate(values):
            if v is None:
                ws.write_blank(r, i, None, formats[i])
            elif isinstance(v, str):
                ws.write_string(r, i, v, formats[i])
            else:
                ws.write_number(r, i, v if type(v) is int else _num(Decimal(v)), formats[i])
    if t.rows:
        last = first + len(t.rows) - 1
        for i, c in enumerate(cols):
            if i not in t.fixed:
                ws.data_validation(first, i, last, i, _validation(c))

    ws.freeze_panes(first, 0)
    ws.protect("", {"format_columns": True, "format_rows": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
    end = HEADER_ROW + len(t.rows)
    if t.signature:  # two rows below the table: room to sign by hand
        end += 2
        book.banner(ws, end, 0, n - 1, t.signature, book.fmt({"font_size": 12}), 30)
    _page(ws, landscape=landscape)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, HEADER_ROW)
    ws.print_area(0, 0, end, n - 1)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.activate()


def _rows(cols: list[Column], records: list[dict[str, Any]]) -> list[list[Any]]:
    pos = _positions(cols)
    out = []
    for rec in records:
        row: list[Any] = [None] * len(cols)
        for key, value in rec.items():
            if value not in (None, ""):
                row[pos[key]] = value
        out.append(row)
    return out


# ------------------------------------------------------------------ setup forms


def _merge(records: list[dict[str, Any]], values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Records with ``values`` typed over them (row by row; extra values add rows)."""
    if not values:
        return records
    out = [dict(r) for r in records] + [{} for _ in range(len(values) - len(records))]
    for rec, val in zip(out, values):
        rec.update(val)
    return out


def build_setup_workbook(form_id: str, scheme: Scheme, units: list[Unit] | None = None,
                         values: list[dict[str, Any]] | None = None,
                         people: list[dict[str, Any]] | None = None) -> bytes:
    """Blank roster / criteria / ledger workbook; criteria come prefilled per unit × aspect when units are given.

    A scheme that evaluates people too (``member_types``) gets a second roster sheet, 人员名单.
    ``values`` and ``people`` (records by column key) are written in as if typed: demo and test data.
    """
    cols = layout.setup_columns(form_id, scheme)
    title = layout.SETUP_TITLES[form_id]
    note, fixed = _SETUP_NOTES[form_id], set()
    records: list[dict[str, Any]] = [{} for _ in range(SETUP_ROWS[form_id])]
    spec = scheme.criteria
    if form_id == "criteria" and units and spec and spec.aspects:
        records = [
            {"unit": u.code, "unit_name": u.name, "aspect": aspect, "index": a * spec.per_aspect + j + 1,
             "points": spec.default_points}
            for u in units for a, aspect in enumerate(spec.aspects) for j in range(spec.per_aspect)
        ]
        pos = _positions(cols)
        fixed = {pos[k] for k in ("unit", "unit_name", "aspect", "index")}
        note = (f"每个单位 {len(spec.aspects) * spec.per_aspect} 项：{'、'.join(spec.aspects)}各 {spec.per_aspect} 项，"
                f"每项默认 {plain(spec.default_points)} 分（可改）；灰底已预填，只需填写“考核细则”。")
    township = _township(scheme, units or [])
    info = _info(scheme, "", None, township)
    book = _book(title)
    _write_table(book, _Table(title, title, info, note, cols, _rows(cols, _merge(records, values)), fixed))
    if form_id == "roster" and scheme.scheme.member_types:
        pcols = layout.people_columns(scheme)
        pnote = (f"每人一行：{'、'.join(scheme.scheme.member_types)}。人员代码须唯一（如 C01-1），"
                 "所属单位代码填名册中本村（社区）的单位代码，人员类别从下拉列表中选择。")
        blank: list[dict[str, Any]] = [{} for _ in range(SETUP_ROWS["people"])]
        _write_table(book, _Table(layout.PEOPLE_SHEET, layout.PEOPLE_SHEET, info, pnote, pcols,
                                  _rows(pcols, _merge(blank, people)), set()))
        book.sheets[0].activate()
    book.identity(_identity(scheme, "setup", form_id, title))
    return book.close()


# ------------------------------------------------------------------ entry forms


def _items(form: Form, criteria: list[Criterion] | None, unit: Unit | None) -> list[Criterion]:
    crit = sorted(criteria or [], key=lambda c: c.index)
    if form.kind == "score_ballot" and form.items == "criteria" and not crit:
        who = f"{unit.name}（{unit.code}）" if unit else ""
        raise ValueError(f"{who}没有考核细则，无法生成“{form.title}”，请先填写考核评定细则")
    return crit


def _records(form: Form, unit: Unit | None, units: list[Unit], draw: Draw | None) -> list[dict[str, Any]]:
    if layout.is_ballot(form):
        return [{"serial": i} for i in range(1, form.evaluators + 1)]
    if form.kind == "callback":
        if draw is None:
            raise ValueError(f"{unit.name if unit else ''}“{form.title}”缺少回访抽取结果")
        return [{"seq": i, "request_id": e.request_id, "date": e.date, "content": e.content,
                 "requester": e.requester, "phone": e.phone} for i, e in enumerate(draw.entries, start=1)]
    if form.kind == "tally":
        return [{"row": label} for label in form.rows]
    if form.kind == "register":
        return [{"seq": i} for i in range(1, form.max_rows + 1)]
    if form.kind == "unit_scores":
        return [{"unit": u.code, "unit_name": u.full_name} for u in units]
    raise ValueError(f"unknown form kind {form.kind}")


def _entry_note(form: Form, cols: list[Column], fixed: set[int], draw: Draw | None) -> str:
    parts = [_NOTES[form.kind]]
    if form.kind in ("callback", "register", "unit_scores"):
        ranges = [f"“{c.label}”填 {plain(c.min)} 至 {plain(c.max)}" for i, c in enumerate(cols)
                  if i not in fixed and c.type in ("number", "integer") and c.min is not None and c.max is not None]
        if ranges:
            parts.append("、".join(ranges) + "。")
        bands = [c for i, c in enumerate(cols) if i not in fixed and c.type == "band"]
        if bands:
            parts.append(f"各项可选择档次（{'、'.join(bands[0].options)}），也可直接填写分数（0 至该项分值，"
                         f"最多 {bands[0].places} 位小数）。")
    if draw is not None and draw.short:
        parts.append(f"本单位台账只有 {draw.available} 件诉求，已全部抽取。" if draw.available
                     else "本单位台账没有诉求记录，本期无可回访的诉求。")
    note = form.note or ("本表不记录反映人任何身份信息。" if form.anonymous else "")
    if form.kind == "register":
        note += f"本期没有任何事项的，在右侧“{form.none_label}”中选“是”（不选则视为尚未填写）。"
    return "".join([*parts, note])


def build_entry_workbook(scheme: Scheme, form: Form, period: str, *, unit: Unit | None = None,
                         units: list[Unit] | None = None, criteria: list[Criterion] | None = None,
                         draw: Draw | None = None, values: list[dict[str, Any]] | None = None,
                         members: list[Unit] | None = None, tally: list[dict[str, Any]] | None = None,
                         declared: str | None = None, more: Callable[[Book], None] | None = None,
                         identity: dict[str, str] | None = None, cache: PackageCache | None = None) -> bytes:
    """The entry workbook of ``form`` for one unit (unit scope) or for all ``units`` (township scope).

    ``values`` (records by column key, row by row) are written in as if typed: demo and benchmark data.
    A vote ballot votes on the unit's ``members`` and has a second sheet to enter hand-counted totals
    instead (``tally``: its records typed in the same way). A register has a 本期无… box (``declared``: typed in).
    ``more`` adds sheets after these (e.g. the review sheet of ballots read from scans, ``io/omr_book.py``);
    ``identity``: keys added to the identity record; ``cache``: packages of workbooks written before in the run.
    """
    period = period_code(period)
    if form.scope == "unit" and unit is None:
        raise ValueError(f"“{form.title}”按单位填写，需要给出单位")
    if form.scope == "township":
        unit = None
    units = list(units or [])
    cols = layout.entry_columns(scheme, form, _items(form, criteria, unit), members)
    _check_anonymous(form, cols)
    pos = _positions(cols)
    fixed = {pos[k] for k in layout.prefilled_keys(form) if k in pos}
    draw = draw if form.kind == "callback" else None
    extra: tuple[str, ...] = (
        (f"抽取种子：{draw.seed}", f"台账 {draw.available} 件，抽取 {len(draw.entries)} 件") if draw else ())
    if layout.is_ballot(form):
        extra = (f"发放测评票：{form.evaluators} 张",)
    sheet = _sheet_name(form.short)
    table = _Table(sheet, form.title, _info(scheme, period, unit, _township(scheme, units), extra),
                   _entry_note(form, cols, fixed, draw), cols,
                   _rows(cols, _merge(_records(form, unit, units, draw), values)), fixed,
                   layout.none_column(form), declared, SIGNATURES.get(form.kind, ""))
    book = _book(form.title, cache)
    _write_table(book, table)
    if form.kind == "vote_ballot":
        tcols = layout.vote_tally_columns(form)
        records = [{"who": unit.code if key == layout.SELF_KEY and unit else key, "row": label}
                   for key, label in layout.vote_targets(form, members)]
        _write_table(book, _Table(layout.VOTE_TALLY_SHEET, f"{form.title}结果汇总", table.info, _VOTE_TALLY_NOTE,
                                  tcols, _rows(tcols, _merge(records, tally)), {0, 1}, signature=SIGNATURES["vote_tally"]))
        book.sheets[0].activate()
    if more is not None:
        more(book)
    book.identity({**_identity(scheme, "entry", form.id, sheet, unit=unit, period=period, form=form, draw=draw),
                   **(identity or {})})
    return book.close()


# ------------------------------------------------------------------ printable ballots


def _print_close(book: Book, ws: Sheet, breaks: list[int], end: tuple[int, int], identity: dict[str, str]) -> Book:
    """A printed-ballot workbook finished: a page per ballot, portrait A4, its identity record (not closed)."""
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, *end)
    _page(ws, landscape=False)
    ws.activate()
    book.identity(identity)
    return book


def _ballot_head(book: Book, ws: Sheet, f: dict[str, Fmt], row: int, last: int, texts: tuple[str, str, str],
                copy: int, heads: list[str]) -> int:
    """The top of one printed ballot (title; unit and period with the 票号; the note; the table head); the next row."""
    title, label, note = texts
    book.banner(ws, row, 0, last, title, f["title"], 40)
    book.banner(ws, row + 1, 0, max(last - 2, 0), label, f["info"], 26)
    book.banner(ws, row + 1, last - 1, last, f"票号：{copy:02d}", f["serial"], 26)
    book.banner(ws, row + 2, 0, last, note, f["note"], 36)
    for i, h in enumerate(heads):
        ws.write_string(row + 3, i, h, f["head"])
    ws.set_row(row + 3, 24)
    return row + 4


def build_print_ballots(scheme: Scheme, form: Form, period: str, unit: Unit, criteria: list[Criterion],
                        cache: PackageCache | None = None) -> bytes:
    """``form.evaluators`` numbered ballots (票号 01..N), one A4 page each, with no name field.

    The items are the entry sheet's item columns (same labels, same maxima, same order).
    """
    if form.kind != "score_ballot":
        raise ValueError(f"“{form.title}”不是测评票，没有打印版")
    period = period_code(period)
    crit = _items(form, criteria, unit)
    items = [c for c in layout.entry_columns(scheme, form, crit) if c.key not in ("serial", "void")]
    aspect_of = {c.key: c.aspect for c in crit}
    aspects = [aspect_of.get(c.key, "") for c in items]
    has_aspect = any(aspects)
    heads = (["方面"] if has_aspect else []) + ["考核细则", "分值", "得分"]
    widths = ([10] if has_aspect else []) + [46 if has_aspect else 56, 7, 10]  # fits portrait A4 at 100%
    last, text_col = len(heads) - 1, len(heads) - 3
    sheet = _sheet_name(f"{form.short}（打印）")
    label = f"单位：{unit.name}（{unit.code}）    期间：{Period.parse(period).label}    共 {form.evaluators} 张"
    total = plain(sum((c.max or Decimal(0) for c in items), Decimal(0)))
    base = max(30, min(48, 520 / max(len(items), 1)))  # spread the items over the page, room to write
    heights = [max(base, LINE * _lines(c.label, widths[text_col]) + 10) for c in items]
    maxima = [plain(c.max or Decimal(0)) for c in items]
    runs = [(name, len(list(run))) for name, run in itertools.groupby(aspects)] if has_aspect else []
    page = 4 + len(items) + 1  # rows per ballot

    def build(every_copy: bool) -> Book:
        """The workbook; with ``every_copy`` False only the first ballot and the other ballots' 票号 are written
        (``repeat_copies`` then writes the other ballots' rows into the sheet)."""
        book = _book(form.title, cache)
        ws = book.add_sheet(sheet)
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        f = {
            "title": book.fmt(_TITLE, font_size=18), "info": book.fmt(font_size=12),
            "serial": book.fmt(font_size=12, bold=True, align="right"), "note": book.fmt(_NOTE, font_size=11),
            "head": book.fmt(_HEAD, bg_color="#FFFFFF"), "text": book.fmt(border=1, text_wrap=True),
            "center": book.fmt(border=1, align="center", text_wrap=True), "box": book.fmt(border=1),
            "total": book.fmt(border=1, align="center", bold=True),
        }
        row, breaks = 0, []
        for copy in range(1, form.evaluators + 1):
            if copy > 1:
                breaks.append(row)  # each ballot starts a new page
            if copy > 1 and not every_copy:  # its 票号 only: the shared strings keep the order of a full write
                book.banner(ws, row + 1, last - 1, last, f"票号：{copy:02d}", f["serial"], 26)
                row += page
                continue
            row = _ballot_head(book, ws, f, row, last, (form.title, label, _BALLOT_NOTE), copy, heads)
            k = 0
            for name, n in runs:  # one merged 方面 cell per run of items of the same aspect
                if n > 1:
                    ws.merge_range(row + k, 0, row + k + n - 1, 0, name, f["center"])
                else:
                    ws.write_string(row + k, 0, name, f["center"])
                k += n
            for k, c in enumerate(items):
                ws.write_string(row + k, text_col, c.label, f["text"])
                ws.write_string(row + k, text_col + 1, maxima[k], f["center"])
                ws.write_blank(row + k, last, None, f["box"])
                ws.set_row(row + k, heights[k])
            row += len(items)
            book.banner(ws, row, 0, text_col, "合计", f["total"], 32)
            ws.write_string(row, text_col + 1, total, f["center"])
            ws.write_blank(row, last, None, f["box"])
            row += 1
        if not every_copy:
            ws.set_row(row - 1, 32)  # the last ballot's 合计 row: the sheet's extent, as in a full write
        return _print_close(book, ws, breaks, (row - 1, last), _identity(scheme, "print", form.id, sheet, unit=unit,
                                                                         period=period, form=form))

    full = build(True)
    if form.evaluators > 1 and not full.known():  # a new shape: the first ballot written, then repeated
        fast = repeat_copies(build(False).close(keep=False), form.evaluators, page, last)
        if fast is not None:
            full.parts_of(fast)  # the package of the full write (tests/test_forms_golden.py)
            return fast
    return full.close()




def build_print_votes(scheme: Scheme, form: Form, period: str, unit: Unit, members: list[Unit],
                      cache: PackageCache | None = None) -> bytes:
    """``form.evaluators`` numbered vote ballots (票号 01..N), one A4 page each: everyone voted on (the unit
    itself, then its people, as on the entry sheet) with a box under each option; no name field."""
    if form.kind != "vote_ballot":
        raise ValueError(f"“{form.title}”不是投票测评票")
    period = period_code(period)
    targets = layout.vote_targets(form, members)
    heads = ["测评对象", *form.options]
    widths = [32, *[max(7, 40 / max(len(form.options), 1))] * len(form.options)]  # fits portrait A4 at 100%
    last = len(heads) - 1
    sheet = _sheet_name(f"{form.short}（打印）")
    book = _book(form.title, cache)
    ws = book.add_sheet(sheet)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    f = {"title": book.fmt(_TITLE, font_size=18), "info": book.fmt(font_size=12),
         "serial": book.fmt(font_size=12, bold=True, align="right"), "note": book.fmt(_NOTE, font_size=11),
         "head": book.fmt(_HEAD, bg_color="#FFFFFF"), "text": book.fmt(border=1, text_wrap=True),
         "box": book.fmt(border=1)}
    label = f"单位：{unit.name}（{unit.code}）    期间：{Period.parse(period).label}    共 {form.evaluators} 张"
    note = ("请在每个测评对象对应的档次下划“√”，每个测评对象只选一个档次；未投任何一票的按废票处理。"
            "本票不记名，请勿署名或作任何记号。")
    height = max(30, min(48, 560 / max(len(targets), 1)))
    row, breaks = 0, []
    for copy in range(1, form.evaluators + 1):
        if copy > 1:
            breaks.append(row)
        row = _ballot_head(book, ws, f, row, last, (form.title, label, note), copy, heads)
        for _, who in targets:
            ws.write_string(row, 0, who, f["text"])
            for i in range(1, last + 1):
                ws.write_blank(row, i, None, f["box"])
            ws.set_row(row, height)
            row += 1
    return _print_close(book, ws, breaks, (row - 1, last), _identity(scheme, "print", form.id, sheet, unit=unit,
                                                                     period=period, form=form)).close()
