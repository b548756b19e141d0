"""The summary workbook the committee signs and the county audits, built in memory with xlsxwriter.

Sheets: 汇总, 分项得分, 等次配额, 测评明细, 问题清单, 说明. Every text that came from an input is
written with ``write_string`` (never a formula), every score as a number rounded half up to
``result.places`` decimals, and every sheet is set up to print on A4 landscape, one page wide.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import xlsxwriter

from villagescore.core.issues import Report, Severity
from villagescore.core.numbers import round_half_up
from villagescore.core.periods import Period
from villagescore.core.records import GradeResult, RunResult, UnitResult

FONT = "宋体"
CAP = 40  # widest column, in Excel width units (≈ 20 CJK characters); longer text wraps
HEADER_CAP = 8  # a header label wider than this wraps instead of widening its column
LINE_HEIGHT = 13  # points per line of 10-point text
SIGNATURE = "审核人：__________    审定人：__________    日期：____年__月__日"
FOOTER = "&C第 &P 页，共 &N 页"

GOOD = {"bg_color": "#C6EFCE", "font_color": "#006100"}
BAD = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
PENDING = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}
MUTED = {"font_color": "#808080"}
BALLOT_TONE = {"有错误": BAD, "作废": MUTED, "空白": MUTED}


def _text_width(text: str) -> int:
    """Display width of the longest line: 2 units per CJK (wide) character, 1 otherwise."""
    return max(
        (sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n")),
        default=0,
    )


def _lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide."""
    room = max((width - 1) * 1.1, 1)  # widths are in units of the 11-point default font; text is 10-point
    return sum(max(1, math.ceil(_text_width(line) / room)) for line in text.split("\n"))


def _plain(value: Any, places: int) -> str:
    """An input value as text for a 依据 cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"≈{round_half_up(value, places + 2)}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (list, tuple, set)):
        return "、".join(_plain(v, places) for v in value)
    return str(value)


def _period_label(text: str) -> str:
    try:
        return Period.parse(text).label
    except ValueError:
        return text


class _Styles:
    """Formats cached by their properties; every one uses the CJK font."""

    def __init__(self, book: xlsxwriter.Workbook, places: int):
        self.book, self.places = book, places
        self.num = "0" if places <= 0 else "0." + "0" * places
        self._cache: dict[tuple, Any] = {}

    def __call__(self, **props: Any):
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
            self._cache[key] = self.book.add_format({**base, **props})
        return self._cache[key]


class _Grid:
    """One worksheet: a title row, a bordered table, free text blocks below, print setup."""

    def __init__(self, book: xlsxwriter.Workbook, st: _Styles, name: str):
        self.ws, self.st = book.add_worksheet(name), st
        self.widths: dict[int, int] = {}
        self.texts: list[tuple[int, int, str]] = []  # wrapped cells, for row heights
        self.caps: dict[int, int] = {}
        self.row = 0  # next free row
        self.ncols = 1
        self.head: int | None = None  # the header row that repeats and freezes
        self.titles: tuple[int, int] | None = None  # rows printed atop every page, when not title..header
        self.table: tuple[int, int] | None = None  # (header row, last row) of the filtered table

    # -- cells
    def _note(self, col: int, width: int) -> None:
        self.widths[col] = max(self.widths.get(col, 0), width)

    def put(self, r: int, c: int, value: Any, **fmt: Any) -> None:
        ws, st = self.ws, self.st
        if isinstance(value, bool):
            value = "是" if value else "否"
        if value is None or value == "":
            ws.write_blank(r, c, None, st(border=1, **fmt))
        elif isinstance(value, Decimal):
            v = round_half_up(value, st.places)
            ws.write_number(r, c, float(v), st(border=1, num_format=st.num, **fmt))
            self._note(c, len(f"{v:.{max(st.places, 0)}f}"))
        elif isinstance(value, int):
            ws.write_number(r, c, value, st(border=1, num_format="0", **fmt))
            self._note(c, len(str(value)))
        else:
            text = str(value)
            ws.write_string(r, c, text, st(border=1, text_wrap=True, **fmt))
            self._note(c, _text_width(text))
            self.texts.append((r, c, text))

    def merged(self, r: int, c1: int, c2: int, text: str, fmt) -> None:
        if c2 > c1:
            self.ws.merge_range(r, c1, r, c2, "", fmt)
        self.ws.write_string(r, c1, text, fmt)

    # -- rows
    def title(self, text: str, ncols: int) -> None:
        self.ncols = max(ncols, 1)
        self.merged(self.row, 0, self.ncols - 1, text, self.st(bold=True, font_size=14, align="center"))
        self.ws.set_row(self.row, 30)
        self.row += 1

    def header(self, labels: list[str]) -> int:
        r = self.row
        fmt = self.st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
        for c, label in enumerate(labels):
            self.ws.write_string(r, c, label, fmt)
            self._note(c, min(_text_width(label), HEADER_CAP))
            self.texts.append((r, c, label))
        if self.head is None:
            self.head = r
        self.row += 1
        return r

    def record(self, values: list[Any], fmts: dict[int, dict] | None = None) -> int:
        r = self.row
        for c, value in enumerate(values):
            self.put(r, c, value, **(fmts or {}).get(c, {}))
        self.row += 1
        return r

    def table_rows(self, header: list[str], rows: list[tuple[list, dict]], *, autofilter: bool = True) -> int:
        """A header row and (values, {column: extra format}) records; returns the header row."""
        head = self.header(header)
        for values, fmts in rows:
            self.record(values, fmts)
        if autofilter:
            self.table = (head, max(self.row - 1, head))
        return head

    def block(self, lines: list[str], *, gap: int = 1, **fmt: Any) -> None:
        """Free text below the table, one merged row per line, heights estimated for wrapping."""
        if not lines:
            return
        self.row += gap
        span = sum(self._widths())
        style = self.st(text_wrap=True, align="left", **fmt)
        for line in lines:
            self.merged(self.row, 0, self.ncols - 1, line, style)
            self.ws.set_row(self.row, LINE_HEIGHT * _lines(line, span) + 6)
            self.row += 1

    # -- finish
    def _widths(self) -> list[int]:
        return [min(max(self.widths.get(c, 0), 4) + 2, self.caps.get(c, CAP)) for c in range(self.ncols)]

    def finish(self, *, freeze_cols: int = 0) -> None:
        ws, widths = self.ws, self._widths()
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        need: dict[int, int] = {}  # Excel and LibreOffice do not re-fit wrapped rows on opening
        for r, c, text in self.texts:
            need[r] = max(need.get(r, 1), _lines(text, widths[c]))
        for r, n in need.items():
            if n > 1:
                ws.set_row(r, LINE_HEIGHT * n + 3)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.center_horizontally()
        ws.set_footer(FOOTER)
        if self.head is not None:
            ws.repeat_rows(*(self.titles or (0, self.head)))
            ws.freeze_panes(self.head + 1, freeze_cols)
        if self.table:
            ws.autofilter(self.table[0], 0, self.table[1], self.ncols - 1)


# ---------------------------------------------------------------- sheet contents


def _grade_text(gr: GradeResult | None) -> str:
    if gr is not None and gr.grade:
        return gr.grade
    if gr is not None and gr.pending:
        return f"待党委研究（{'/'.join(gr.pending)}）"
    return "未评定"


def _grade_tone(gr: GradeResult | None, order: list[str]) -> dict:
    """Top grade green, bottom grade red, pending yellow (order: the grading's grades, best first)."""
    if gr is None:
        return {}
    if not gr.grade:
        return PENDING if gr.pending else {}
    if order and gr.grade == order[0]:
        return GOOD
    if len(order) > 1 and gr.grade == order[-1]:
        return BAD
    return {}


def _consequence(gr: GradeResult | None) -> str:
    if gr is None:
        return ""
    parts = [gr.consequence] if gr.consequence else []
    if gr.funds_change is not None:
        parts.append(f"工作经费 {gr.funds_change:+,.2f} 元")
    return "；".join(parts)


def _remarks(u: UnitResult) -> str:
    parts = [f"一票否决：{v}" for v in u.vetoes]
    parts += [gr.reason for gr in u.grades.values() if not gr.grade and gr.reason]  # pending or withheld
    if not u.ok:
        parts.append("数据有错误，未计算")
    return "；".join(parts)


def _rank(u: UnitResult, gradings: list[tuple[str, str]]) -> int | None:
    for gid, _ in gradings:
        gr = u.grades.get(gid)
        if gr is not None and gr.rank is not None:
            return gr.rank
    return None


def _annual_periods(result: RunResult) -> list[str]:
    """Earlier periods shown beside an annual score (only with more than one)."""
    try:
        annual = Period.parse(result.period).kind == "year"
    except ValueError:
        return []
    found = [p for p in result.periods if p != result.period and any(p in u.by_period for u in result.units)]
    return found if annual and result.display and len(found) > 1 else []


def _summary(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "汇总")
    label = result.node_labels.get
    root = result.display[-1] if result.display else ""
    extra = _annual_periods(result)
    one = len(result.gradings) == 1
    header = ["排名", "单位代码", "单位名称", "类型", "党组织书记"]
    header += [f"{_period_label(p)}得分" for p in extra]
    header += [label(n, n) for n in result.display]
    for _, glabel in result.gradings:
        header += [glabel, "结果运用" if one else f"{glabel}结果运用"]
    header.append("备注")
    g.title(title, len(header))
    g.caps.update({c: 24 for c, h in enumerate(header) if h == "备注" or h.endswith("结果运用")})
    rows = []
    for i, u in enumerate(result.units, 1):
        rank = _rank(u, result.gradings) or (i if u.ok and not result.gradings else None)
        values = [rank, u.unit.code, u.unit.name, u.unit.type, u.unit.secretary]
        values += [u.by_period.get(p, {}).get(root) for p in extra]
        values += [u.rounded.get(n) for n in result.display]
        fmts = {}
        for gid, _ in result.gradings:
            gr = u.grades.get(gid)
            fmts[len(values)] = {"align": "center", **_grade_tone(gr, result.grade_orders.get(gid, []))}
            values += [_grade_text(gr), _consequence(gr)]
        values.append(_remarks(u))
        fmts.update({0: {"align": "center"}, 1: {"align": "center"}, 3: {"align": "center"}})
        rows.append((values, fmts))
    g.table_rows(header, rows)
    g.block([f"说明：{n}" if i == 0 else n for i, n in enumerate(result.notes)])
    g.block([SIGNATURE], gap=2, font_size=12)
    g.finish(freeze_cols=3)


def _short_labels(periods: list[str]) -> dict[str, str]:
    """Period labels for column headers, without the year when all periods share it."""
    try:
        parsed = [Period.parse(p) for p in periods]
    except ValueError:
        return {p: p for p in periods}
    same_year = len({q.year for q in parsed}) == 1 and all(q.kind != "year" for q in parsed)
    return {p: q.label.removeprefix(f"{q.year}年") if same_year else q.label for p, q in zip(periods, parsed)}


def _leaf_value(u: UnitResult, leaf: str, period: str, target: str) -> Decimal | None:
    if period in u.by_period:
        return u.by_period[period].get(leaf)
    return u.rounded.get(leaf) if period == target else None


def _scores(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "分项得分")
    label = result.node_labels.get
    periods = result.periods or [result.period]
    multi = len(periods) > 1
    cols = [(leaf, p) for leaf in result.leaves for p in periods]
    header = ["单位代码", "单位名称"]
    short = _short_labels(periods)
    header += [label(leaf, leaf) + (f"（{short[p]}）" if multi else "") for leaf, p in cols]
    header += [f"{label(leaf, leaf)}依据" for leaf in result.leaves]
    g.title(title, len(header))
    for c in range(2 + len(cols), len(header)):
        g.caps[c] = 24
    rows = []
    for u in result.units:
        values: list[Any] = [u.unit.code, u.unit.name]
        values += [_leaf_value(u, leaf, p, result.period) for leaf, p in cols]
        for leaf in result.leaves:
            lines = []
            for d in (d for d in u.details if d.node == leaf):
                text = "；".join(f"{k}={_plain(v, result.places)}" for k, v in d.inputs.items()) or "—"
                if multi and d.period:
                    text = f"{_period_label(d.period)}：{text}"
                lines.append(text + (f"\n来源：{d.source}" if d.source else ""))
            values.append("\n".join(lines))
        rows.append((values, {0: {"align": "center"}}))
    g.table_rows(header, rows)
    legend = []
    for leaf in result.leaves:
        rules = list(dict.fromkeys(d.rule for u in result.units for d in u.details if d.node == leaf and d.rule))
        if rules:
            legend.append(f"{label(leaf, leaf)}：{'；'.join(rules)}")
    if legend:
        g.block(["计分规则（“依据”列中的数字按下列规则得出该项得分）："] + legend)
    g.finish(freeze_cols=2)


def _quota(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "等次配额")
    labels = dict(result.gradings)
    header = ["等次类别", "规则", "等次", "参评单位数", "允许/要求", "实际", "待党委研究", "说明"]
    g.title(title, len(header))
    center = {c: {"align": "center"} for c in (2, 3, 4, 5, 6)}
    rows = [([labels.get(q.grading, q.grading), q.rule, q.grade, q.n, q.allowed, q.actual, q.pending, q.note], center)
            for q in result.quota]
    g.table_rows(header, rows, autofilter=False)
    g.finish()


def _criterion_order(key: str) -> tuple[int, str]:
    m = re.fullmatch(r"c(\d+)", key)
    return (int(m.group(1)), key) if m else (10**6, key)


def _ballots(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "测评明细")
    keys = sorted({k for b in result.ballots for k in b.scores}, key=_criterion_order)
    names = [f"细则{n}" if n < 10**6 else k for n, k in map(_criterion_order, keys)]
    header = ["单位代码", "期间", "票号", *names, "合计", "状态", "文件", "工作表", "行"]
    g.title(title, len(header))
    status_col = 3 + len(keys) + 1
    rows = []
    for b in result.ballots:
        values = [b.unit, _period_label(b.period), b.serial, *(b.scores.get(k) for k in keys), b.total,
                  b.status, b.file, b.sheet, b.row]
        tone = {"align": "center", **BALLOT_TONE.get(b.status, {})}
        rows.append((values, {0: {"align": "center"}, status_col: tone}))
    g.table_rows(header, rows)
    g.finish(freeze_cols=3)


def _issues(book, st: _Styles, report: Report, title: str, names: dict[str, str] | None = None) -> None:
    g = _Grid(book, st, "问题清单")
    header = ["序号", "级别", "单位", "文件", "工作表", "单元格", "代码", "问题", "改正方法"]
    g.title(title, len(header))
    names = names or {}
    rows = []
    for i, it in enumerate(report.issues, 1):
        unit = f"{it.unit} {names[it.unit]}" if it.unit in names else it.unit
        tone = BAD if it.severity is Severity.ERROR else PENDING
        values = [i, it.severity.label, unit, it.file, it.sheet, it.cell, it.code, it.message, it.hint]
        rows.append((values, {0: {"align": "center"}, 1: {"align": "center", **tone}, 5: {"align": "center"}}))
    g.table_rows(header, rows)
    if not report.issues:
        g.merged(g.row, 0, g.ncols - 1, "未发现问题", st(border=1, align="center"))
        g.table = (g.table[0], g.row)
        g.row += 1
    for c in (7, 8):
        g.caps[c] = 36
    g.finish()


def _about(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "说明")
    header = ["文件", "SHA-256", "表格", "单位", "期间", "状态"]
    g.title(title, len(header))
    names = {u.unit.code: u.unit.name for u in result.units}
    errors, warnings = len(result.report.errors), len(result.report.warnings)
    pairs = [
        ("考评方案", result.scheme_name),
        ("方案编号", result.scheme_id),
        ("方案版本", result.scheme_version),
        ("依据", result.scheme_source),
        ("考评期间", _period_label(result.period)),
        ("读取期间", "、".join(_period_label(p) for p in result.periods)),
        ("参评单位", f"{len(result.units)} 个（{sum(not u.ok for u in result.units)} 个因数据有错误未计算）"),
        ("问题", f"错误 {errors} 条，提示 {warnings} 条（见“问题清单”）"),
        ("计算时间", result.computed_at),
        ("工具版本", result.tool_version),
        ("舍入规则", f"四舍五入，保留 {result.places} 位小数，最后一次舍入"),
    ]
    head_fmt = st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
    g.ws.write_string(g.row, 0, "项目", head_fmt)
    g.merged(g.row, 1, g.ncols - 1, "内容", head_fmt)
    g.head = g.row  # freeze below this header
    g.row += 1
    value_fmt = st(border=1, text_wrap=True, align="left")
    for key, value in pairs:
        g.put(g.row, 0, key, bold=True)
        g.merged(g.row, 1, g.ncols - 1, value, value_fmt)
        g.row += 1
    g.row += 1
    g.merged(g.row, 0, g.ncols - 1, "读取的文件", st(bold=True, font_size=12))
    g.row += 1
    rows = []
    for f in result.files:
        unit = f"{f.unit} {names[f.unit]}" if f.unit in names else f.unit
        tone = {} if f.status == "已读取" else BAD if f.status == "有错误" else MUTED
        rows.append(([f.path, f.sha256, result.form_titles.get(f.form_id, f.form_id), unit, _period_label(f.period) if f.period else "", f.status],
                     {5: {"align": "center", **tone}}))
    files_head = g.table_rows(header, rows, autofilter=False)
    g.titles = (files_head, files_head)  # pages after the first continue the file list under its header
    g.caps[1] = 66  # a whole hash on one line, easy to compare
    g.finish()


# ---------------------------------------------------------------- public API


def _workbook(buf: io.BytesIO) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})


def _properties(title: str, when: str = "") -> dict[str, Any]:
    props: dict[str, Any] = {"title": title, "author": "", "company": "", "manager": "", "comments": ""}
    try:
        stamp = datetime.fromisoformat(when)
    except (TypeError, ValueError):
        return props
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    props["created"] = stamp  # reproducible: the same run gives the same bytes
    return props


def build_summary(result: RunResult) -> bytes:
    """The summary workbook (汇总 … 说明) as .xlsx bytes."""
    head = f"{result.scheme_name} {_period_label(result.period)}"
    buf = io.BytesIO()
    book = _workbook(buf)
    book.set_properties(_properties(f"{head} 考评结果汇总", result.computed_at))
    st = _Styles(book, result.places)
    _summary(book, st, result, f"{head} 考评结果汇总")
    _scores(book, st, result, f"{head} 分项得分")
    _quota(book, st, result, f"{head} 等次配额")
    _ballots(book, st, result, f"{head} 测评明细")
    _issues(book, st, result.report, f"{head} 问题清单", {u.unit.code: u.unit.name for u in result.units})
    _about(book, st, result, f"{head} 说明")
    book.close()
    return buf.getvalue()


def build_issue_list(report: Report, title: str = "问题清单") -> bytes:
    """A stand-alone 问题清单 workbook, the same sheet as in the summary."""
    buf = io.BytesIO()
    book = _workbook(buf)
    book.set_properties(_properties(title))
    _issues(book, _Styles(book, 2), report, title)
    book.close()
    return buf.getvalue()


__all__ = ["build_summary", "build_issue_list"]
