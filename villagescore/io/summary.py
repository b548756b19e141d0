"""The summary workbook the committee signs and the county audits, written with xlsxwriter in row order.

Sheets: 汇总, 图表, 分项得分, 等次配额, 测评明细, 问题清单, 说明; ``build_public`` writes the 公示
version. Every text that came from an input is written with ``write_string`` (never a formula).
When the RunResult carries the scheme's weights (``node_formulas``, see ``core/explain.py``), the
weighted scores in 汇总 and 分项得分 are live formulas over the leaf values kept in 分项得分, with
their computed values cached (see ``_Trace``); otherwise numbers rounded half up to
``result.places`` decimals. Every sheet is set up to print on A4, one page wide.
"""

from __future__ import annotations

import contextlib
import gc
import io
import math
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from villagescore.core.explain import node_tree, period_weights, rounding, unit_root, period_label as _period_label
from villagescore.core.issues import Report, Severity
from villagescore.core.numbers import exact, round_half_up, plain
from villagescore.core.periods import Period
from villagescore.core.records import GradeResult, LeafDetail, RunResult, UnitResult
from villagescore.io import page
from villagescore.io.cells import TEXT_OPTIONS, balanced_lines, display_width, write_text

FONT = "宋体"
CAP = 40  # widest column, in Excel width units (≈ 20 CJK characters); longer text wraps
HEADER_CAP = 8  # a header label wider than this is set on lines of about equal width, broken between words
HEADER_WIDEST = 12  # the widest a header line may make its column
NARROW = 20  # a wrapping text column (a file path, a message) narrows to this when the sheet would not fit a page
LINE_HEIGHT = 13  # points per line of 10-point text
SIGNATURE = "审核人：__________    审定人：__________    日期：____年__月__日"
FOOTER = "&C第 &P 页，共 &N 页"

GOOD = {"bg_color": "#C6EFCE", "font_color": "#006100"}
BAD = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
PENDING = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}
MUTED = {"font_color": "#808080"}
BALLOT_TONE = {"有错误": BAD, "作废": MUTED, "空白": MUTED}
ERROR_ROW = {"font_color": "#C00000"}  # a unit whose data has errors: red text across its row
SCORES, BALLOTS, CHARTS, EVIDENCE = "分项得分", "测评明细", "图表", "得分依据"
LEAF_PLACES = 10  # 分项得分 keeps leaf values to 10 decimals: formulas over them round like the exact arithmetic
MARGIN = Fraction(1, 10**9)  # closer than this to a rounding boundary, binary arithmetic may round the other way
CHART_COLOURS = {"good": "#70AD47", "bad": "#E06666", "pending": "#FFC000", "none": "#A6A6A6", "": "#5B9BD5"}
PUBLIC_NOTE = "公示期：____年__月__日至____年__月__日。如有异议，请在公示期内向乡（镇）党委反映。"


def _text_width(text: str) -> int:
    """Display width of the longest line: 2 units per CJK (wide) character, 1 otherwise."""
    if "\n" not in text:
        return display_width(text)
    return max(map(display_width, text.split("\n")))


def _lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide."""
    room = max((width - 1) * 1.1, 1)  # widths are in units of the 11-point default font; text is 10-point
    if "\n" not in text:
        return max(1, math.ceil(_text_width(text) / room))
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


@dataclass
class _Entry:
    """A score cell: the number shown (a formula's cached value) and, when traceable, its formula."""

    value: Decimal | Fraction
    formula: str = ""  # without the leading "="; only cell references, numbers and our own words
    model: Fraction | None = None  # the exact value the cell holds, for formulas over it
    note: str = ""  # why a value stands where a formula was expected (a cell comment)
    places: int | None = None  # round the shown value to this many decimals; None keeps it whole


def _stored(value: Decimal) -> Fraction:
    """The number a workbook holds for ``value``: xlsxwriter writes 16 significant digits."""
    return Fraction(Decimal(f"{float(value):.16G}"))


class _Styles:
    """Formats cached by their properties; every one uses the CJK font."""

    def __init__(self, book: xlsxwriter.Workbook, places: int, size: int = 10):
        self.book, self.places, self.size = book, places, size
        self.num = "0" if places <= 0 else "0." + "0" * places
        self._cache: dict[tuple, Any] = {}
        # a table cell's format by (kind, the extra properties as given): no sorting or merging per cell
        self._cells: dict[tuple, Any] = {}
        # (type, value, places) → (the number written, width of its text): one Decimal rounding per value
        self.numbers: dict[tuple, tuple[float, int]] = {}

    def __call__(self, **props: Any):
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            base = {"font_name": FONT, "font_size": self.size, "valign": "vcenter"}
            self._cache[key] = self.book.add_format({**base, **props})
        return self._cache[key]

    def cell(self, kind: str, fmt: dict[str, Any]):
        """The bordered format of a table cell: ``kind`` is blank, int, text or num; ``fmt`` extra properties.

        The same format ``__call__`` gives for ``border=1`` plus the kind's own properties and ``fmt``."""
        key = (kind, *fmt.items()) if fmt else (kind,)
        try:
            return self._cells[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable property value: no shortcut
            key = None
        if kind == "blank":
            style = self(border=1, **fmt)
        elif kind == "int":
            style = self(border=1, num_format="0", **fmt)
        elif kind == "text":
            style = self(border=1, text_wrap=True, **fmt)
        else:
            style = self(border=1, num_format=self.num, **fmt)
        if key is not None:
            self._cells[key] = style
        return style

    def number(self, value: Decimal | Fraction, places: int | None) -> tuple[float, int]:
        """The float a score cell holds (rounded half up to ``places``, or as is for None) and the width of
        its text at the sheet's places."""
        key = (value.__class__, value, places) if value else None  # 0 and -0 are equal but written differently
        if key is not None:
            try:
                return self.numbers[key]
            except (KeyError, TypeError):
                pass
        shown = value if places is None else round_half_up(value, places)
        out = (float(shown), len(f"{round_half_up(shown, max(self.places, 0)):f}"))
        if key is not None:
            try:
                self.numbers[key] = out
            except TypeError:
                pass
        return out


class _Grid:
    """One worksheet: a title row, a bordered table, free text blocks below, print setup.

    A large workbook is written in xlsxwriter's constant_memory mode (``ROW_BY_ROW_ROWS``), where a sheet's
    rows must reach xlsxwriter in increasing order and a row's height before the next row starts, while the
    column widths (and the heights of wrapped rows, which need the widths) depend on the whole content
    (a smaller one is written the same way, in memory). So the sheet functions
    only record rows here, as light entries (the values and their extra format dicts, or a re-iterable
    of such rows for a large table); ``finish`` measures the columns, then writes every row in order,
    each with its height, and the sheet's settings.
    """

    def __init__(self, book: xlsxwriter.Workbook, st: _Styles, name: str, log: list[str] | None = None):
        self.ws, self.st, self.name = book.add_worksheet(name), st, name
        self.scale = st.size / 10
        self.log = log if log is not None else []  # cells where a value stands for a formula, and why
        self.widths: dict[int, int] = {}
        # rows recorded in call order: row → [(kind, payload…)]; tables of many rows: (first row, rows)
        self.entries: dict[int, list[tuple]] = {}
        self.bulk: list[tuple[int, Any]] = []
        self.heights: dict[int, float] = {}  # heights asked for (a wrapped row's need overrides them)
        self.caps: dict[int, int] = {}
        self.flex: dict[int, int] = {}  # wrapping text columns that may narrow to this for the sheet to fit a page
        self.row = 0  # next free row
        self.ncols = 1
        self.head: int | None = None  # the header row that repeats and freezes
        self.titles: tuple[int, int] | None = None  # rows printed atop every page, when not title..header
        self.table: tuple[int, int] | None = None  # (header row, last row) of the filtered table
        self.heading = 0  # width the merged title needs (merged cells clip their text in Excel)
        self.spanning: set[int] = set()  # rows of text across the whole sheet (title, notes): on its first page
        self.keys = 0  # columns that name a row: repeated on every page when the sheet splits over pages
        self.plan: page.Plan | None = None
        self.repeat = True  # print the title and header atop every page (图表: no, its blocks start pages)
        self.line = LINE_HEIGHT * st.size / 10  # line height of the sheet's table text

    def _add(self, r: int, entry: tuple) -> None:
        got = self.entries.get(r)
        if got is None:
            self.entries[r] = [entry]
        else:
            got.append(entry)

    # -- cells (recorded; written by ``finish``)
    def put(self, r: int, c: int, value: Any, **fmt: Any) -> None:
        """A table cell: bordered, formatted by the kind of ``value``, text wrapped."""
        self._add(r, ("rec", c, [value], fmt and {0: fmt}))

    def string(self, r: int, c: int, text: str, fmt) -> None:
        """A text in a format of its own: it does not widen its column."""
        self._add(r, ("str", c, text, fmt))

    def merged(self, r: int, c1: int, c2: int, text: str, fmt, *, wrap: tuple[float, int] | None = None) -> None:
        """A text across columns c1..c2 of row r; ``wrap`` (line height, padding) makes the row as high as the
        text needs in that span."""
        self._add(r, ("mrg", c1, c2, text, fmt, wrap))

    def height(self, r: int, height: float) -> None:
        self.heights[r] = height

    # -- rows
    def title(self, text: str, ncols: int) -> None:
        self.ncols = max(ncols, 1)
        self.spanning.add(self.row)
        self.merged(self.row, 0, self.ncols - 1, text, self.st(bold=True, font_size=self.st.size + 4, align="center"))
        self.heading = math.ceil(_text_width(text) * (self.st.size + 4) / 11) + 2
        self.height(self.row, 30 * self.scale)
        self.row += 1

    def header(self, labels: list[str]) -> int:
        r = self.row
        fmt = self.st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
        self._add(r, ("hdr", [balanced_lines(label, HEADER_CAP) for label in labels], fmt))
        if self.head is None:
            self.head = r
        self.row += 1
        return r

    def record(self, values: list[Any], fmts: dict[int, dict] | None = None) -> int:
        r = self.row
        self._add(r, ("rec", 0, values, fmts))
        self.row += 1
        return r

    def table_rows(self, header: list[str], rows, *, autofilter: bool = True) -> int:
        """A header row and (values, {column: extra format}) records; returns the header row.

        ``rows`` is a list or any object with ``len`` that can be iterated more than once (``finish`` reads
        it twice: once to measure the columns, once to write)."""
        head = self.header(header)
        if len(rows):
            self.bulk.append((self.row, rows))
            self.row += len(rows)
        if autofilter:
            self.table = (head, max(self.row - 1, head))
        return head

    def block(self, lines: list[str], *, gap: int = 1, **fmt: Any) -> None:
        """Free text below the table, one merged row per line, heights estimated for wrapping."""
        if not lines:
            return
        self.row += gap
        style = self.st(text_wrap=True, align="left", **fmt)
        line = LINE_HEIGHT * (fmt.get("font_size") or self.st.size) / 10
        for text in lines:
            self.merged(self.row, 0, self.ncols - 1, text, style, wrap=(line, 6))
            self.spanning.add(self.row)
            self.row += 1

    def data(self, r1: int, r2: int, c: int) -> list:
        """Column c of rows r1..r2 as a chart caches it (what xlsxwriter reads back from its cell table,
        which constant_memory mode does not keep): numbers as 16 significant digits, a text as itself,
        a blank cell "", a missing row None."""
        by_row: dict[int, Any] = {}
        for first, rows in self.bulk:
            for i, (values, _) in enumerate(rows):
                if r1 <= first + i <= r2 and c < len(values):
                    by_row[first + i] = values[c]
        for r in range(r1, r2 + 1):
            for kind, c0, *rest in self.entries.get(r, ()):
                if kind == "rec" and c0 <= c < c0 + len(rest[0]):
                    by_row[r] = rest[0][c - c0]
        out: list = []
        for r in range(r1, r2 + 1):
            if r not in by_row:
                out.append(None)
                continue
            value = by_row[r]
            if isinstance(value, bool):
                value = "是" if value else "否"
            if isinstance(value, Decimal):
                value = _Entry(value, places=self.st.places)
            if value is None or value == "":
                out.append("")
            elif isinstance(value, _Entry):
                shown = self.st.number(value.value, value.places)[0]
                out.append(shown if value.formula else f"{shown:.16g}")
            elif isinstance(value, int):
                out.append(f"{value:.16g}")
            else:
                out.append(str(value))
        return out

    # -- finish: measure, then write in row order
    def _measure(self, values: list[Any], c0: int, widths: dict[int, int]) -> None:
        """Widen the columns of a recorded row to its values (the widths a written cell asks for)."""
        number, places, get = self.st.number, self.st.places, widths.get
        for c, value in enumerate(values, c0):
            cls = value.__class__
            if cls is str:
                if not value:
                    continue
                width = _text_width(value)
            elif cls is Decimal:
                width = number(value, places)[1]
            elif value is None or cls is _Narrow:
                continue
            elif isinstance(value, bool):
                width = 2  # 是 / 否
            elif isinstance(value, Decimal):
                width = number(value, places)[1]
            elif isinstance(value, _Entry):
                width = number(value.value, value.places)[1]
            elif isinstance(value, int):
                width = len(str(value))
            else:
                text = str(value)
                if not text:
                    continue
                width = _text_width(text)
            old = get(c)
            if old is None or width > old:
                widths[c] = width

    def _widths(self) -> list[int]:
        """Column widths: the widest value plus 2, a header line plus 1 (its text is centred and bold-free of
        numbers' padding), within the column's cap; all widened evenly if the title needs more."""
        raw: dict[int, int] = {}
        heads: dict[int, int] = {}
        for first, rows in self.bulk:
            for values, _ in rows:
                self._measure(values, 0, raw)
        for entries in self.entries.values():
            for kind, c, *rest in entries:
                if kind == "rec":
                    self._measure(rest[0], c, raw)
                elif kind == "hdr":
                    for col, label in enumerate(c):
                        width = min(_text_width(label), HEADER_WIDEST)
                        if width > heads.get(col, -1):
                            heads[col] = width
        scale = self.scale
        self.widths = {c: w if scale == 1 else math.ceil(w * scale) for c, w in raw.items()}
        heads = {c: w if scale == 1 else math.ceil(w * scale) for c, w in heads.items()}
        widths = [min(max(max(self.widths.get(c, 0), 4) + 2, heads.get(c, 0) + 1), self.caps.get(c, CAP))
                  for c in range(self.ncols)]
        short = self.heading - sum(widths)
        return [w + math.ceil(short / len(widths)) for w in widths] if short > 0 else widths

    def finish(self, *, freeze_cols: int = 0, landscape: bool = True) -> None:
        ws, widths = self.ws, page.shrink(self._widths(), self.flex, landscape=landscape)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        self.plan = page.plan(widths, keys=self.keys or freeze_cols, landscape=landscape)
        self._fit_spans(self.plan)
        writer = _RowWriter(self, widths)
        singles = sorted(self.entries)
        bulk = sorted(self.bulk, key=lambda b: b[0])
        i = 0
        for first, rows in bulk:
            while i < len(singles) and singles[i] < first:
                writer.row(singles[i], None, None)
                i += 1
            r = first
            for values, fmts in rows:
                if i < len(singles) and singles[i] == r:
                    writer.row(r, values, fmts)
                    i += 1
                else:
                    writer.row(r, values, fmts, alone=True)
                r += 1
        for r in singles[i:]:
            writer.row(r, None, None)
        writer.done()
        page.apply(ws, self.plan, footer=FOOTER)
        if self.head is not None and self.repeat:
            split = bool(self.plan.breaks)  # a title across split pages would print cut: only the header repeats
            ws.repeat_rows(*(self.titles or ((self.head, self.head) if split else (0, self.head))))
            ws.freeze_panes(self.head + 1, freeze_cols)
        if self.table:
            ws.autofilter(self.table[0], 0, self.table[1], self.ncols - 1)


    def _fit_spans(self, plan: page.Plan) -> None:
        """Text across the whole sheet on a sheet split over pages (``page.span``): the title over the first page
        right of the key columns, notes and signatures over the last page, so no repeated key column shows a
        piece of them."""
        for r in self.spanning:
            self.entries[r] = [(e[0], *page.span(plan, self.ncols, r == min(self.spanning)), *e[3:])
                               if e[0] == "mrg" else e for e in self.entries.get(r, ())]


def _method(ws, name: str):
    """xlsxwriter's write method without its A1-notation wrapper (the same code), or the public one."""
    return getattr(ws, f"_{name}", None) or getattr(ws, name)


def _text_writer(ws):
    """``write_string`` without its A1 wrapper, keeping a text shaped like rich-text XML a text (``cells``)."""
    write = _method(ws, "write_string")

    def text(r: int, c: int, value: str, fmt) -> Any:
        return write_text(ws, r, c, value, fmt, write)

    return text


class _RowWriter:
    """Writes a sheet's recorded rows into xlsxwriter, one row at a time in increasing order, each row's
    height set while it is the current row (``_Grid.finish``)."""

    def __init__(self, g: _Grid, widths: list[int]):
        self.g, self.ws, self.st, self.widths = g, g.ws, g.st, widths
        ws = g.ws
        self.string_, self.number_ = _text_writer(ws), _method(ws, "write_number")
        self.blank_, self.formula_ = _method(ws, "write_blank"), _method(ws, "write_formula")
        self.spans: dict[tuple[int, int, float], float] = {}
        # a table cell's wrapped text: lines need more than one line once its width passes the column's room
        self.room = [max((self._span(c, c, g.line) - 1) * 1.1, 1) for c in range(len(widths))]
        self.cell = g.st.cell
        self.last = -1

    def _span(self, c1: int, c2: int, line: float) -> float:
        """Width of columns c1..c2 in units of the text's font (``_lines``)."""
        span = self.spans.get((c1, c2, line))
        if span is None:
            span = self.spans[(c1, c2, line)] = sum(self.widths[c1:c2 + 1]) / (line / LINE_HEIGHT)
        return span

    def row(self, r: int, values: list | None, fmts: dict | None, *, alone: bool = False) -> None:
        """Row r: a bulk table record (values, fmts) and/or the entries recorded for r, in call order."""
        need = 0.0
        if values is not None:
            need = self._record(r, 0, values, fmts)
        if not alone:
            for entry in self.g.entries.get(r, ()):
                need = max(need, self._entry(r, entry))
        height = need or self.g.heights.get(r)
        if height:
            self.ws.set_row(r, height)
        self.last = r

    def _entry(self, r: int, entry: tuple) -> float:
        kind, c = entry[0], entry[1]
        ws, g = self.ws, self.g
        if kind == "rec":
            return self._record(r, c, entry[2], entry[3])
        if kind == "hdr":
            labels, fmt = entry[1], entry[2]
            need = 0.0
            for col, label in enumerate(labels):
                self.string_(r, col, label, fmt)
                need = max(need, self._wrap(label, col, col, g.line, 3))
            return need
        if kind == "str":
            self.string_(r, c, entry[2], entry[3])
            return 0.0
        c2, text, fmt, wrap = entry[2:]  # "mrg"
        if c2 > c:
            ws.merge_range(r, c, r, c2, "", fmt)
        self.string_(r, c, text, fmt)
        return self._wrap(text, c, c2, *wrap) if wrap else 0.0

    def _wrap(self, text: str, c1: int, c2: int, line: float, pad: int) -> float:
        """The height a wrapped text needs (0 when one line of a table cell does)."""
        n = _lines(text, self._span(c1, c2, line))
        return line * n + pad if n > 1 or pad > 3 else 0.0

    def _record(self, r: int, c0: int, values: list, fmts: dict | None) -> float:
        """The cells of one record from column c0 (``put`` for each); returns the height its texts need."""
        st, cell = self.st, self.cell
        places, line, room, nroom = st.places, self.g.line, self.room, len(self.room)
        string_, number_ = self.string_, self.number_
        none: dict = {}
        get = fmts.get if fmts else none.get
        need = 0.0
        for c, value in enumerate(values, c0):
            fmt = get(c - c0, none)
            cls = value.__class__
            if cls is str and value:
                string_(r, c, value, cell("text", fmt))
                if "\n" in value:
                    n = _lines(value, self._span(c, c, line))
                else:
                    width = _text_width(value)
                    fit = room[c] if c < nroom else max((self._span(c, c, line) - 1) * 1.1, 1)
                    n = 1 if width <= fit else max(1, math.ceil(width / fit))
                if n > 1 and line * n + 3 > need:
                    need = line * n + 3
                continue
            if cls is Decimal:
                number_(r, c, st.number(value, places)[0], cell("num", fmt))
                continue
            if isinstance(value, bool):
                value = "是" if value else "否"
            if isinstance(value, Decimal):
                value = _Entry(value, places=places)
            if value is None or value == "":
                self.blank_(r, c, None, cell("blank", fmt))
            elif isinstance(value, _Entry):
                self._number(r, c, value, fmt)
            elif isinstance(value, int):
                number_(r, c, value, cell("int", fmt))
            else:
                text = str(value)
                string_(r, c, text, cell("text", fmt))
                need = max(need, self._wrap(text, c, c, line, 3))
        return need

    def _number(self, r: int, c: int, e: _Entry, fmt: dict[str, Any]) -> None:
        shown = self.st.number(e.value, e.places)[0]
        style = self.cell("num", fmt)
        if e.formula:
            self.formula_(r, c, "=" + e.formula, style, shown)
        else:
            self.number_(r, c, shown, style)
        if e.note:
            self.ws.write_comment(r, c, e.note, {"x_scale": 2, "y_scale": 1.5, "font_name": FONT})
            self.g.log.append(f"{self.g.name}!{xl_rowcol_to_cell(r, c)}：{e.note}")

    def done(self) -> None:
        """Hand the last row over now, not when the workbook closes: formats get their index in the order
        the cells are written, as when every sheet was written at close in sheet order."""
        flush = getattr(self.ws, "_write_single_row", None)
        if self.ws.constant_memory and flush is not None and self.last >= 0:
            flush(self.last + 1)


# ---------------------------------------------------------------- formulas



def _term(weight: Decimal, text: str) -> str:
    return text if weight == 1 else f"-{text}" if weight == -1 else f"{plain(weight)}*{text}"


def _join(terms: list[str]) -> str:
    return "".join(t if i == 0 or t.startswith("-") else f"+{t}" for i, t in enumerate(terms))


def _risk(model: Fraction, cached: Decimal, places: int) -> str:
    """Why a formula over the stored cells might not show ``cached`` after a recalculation ('' if it will)."""
    if round_half_up(model, places) != cached:
        return f"按单元格中的数值用公式计算，四舍五入后与精确计算的 {cached} 不同"
    step = Fraction(1, 10**places)
    gap = abs((abs(model) / step) % 1 - Fraction(1, 2)) * step
    if 0 < gap < MARGIN:
        return (f"精确结果与四舍五入的分界点相差不到十亿分之一，电子表格的二进制运算可能多进或少进 1 个末位，"
                f"故写入精确计算并四舍五入的 {cached}")
    return ""


def _ballot_keys(result: RunResult) -> list[str]:
    return sorted({k for b in result.ballots for k in b.scores}, key=_criterion_order)


class _Trace:
    """The formulas of 汇总 and 分项得分, over leaf values kept in 分项得分 (one row per unit and period).

    With the scheme's weights (``node_formulas``) and one rounding at the end: a leaf cell holds the
    exact value to 10 decimals (a ballot mean: AVERAGEIFS over the unit's valid ballots in 测评明细,
    when that is exact; a year's leaf: period weights × the periods' leaf cells); an inner node is
    ROUND(weights × leaf cells, places), the scheme's tree written out. A formula is written only when
    its exact value over the stored cells rounds to the computed result and lies farther than 1e-9
    from a rounding boundary (spreadsheets compute in binary floating point); otherwise the value
    is written, with a comment saying why. Without the weights every cell is a rounded value.
    """

    def __init__(self, result: RunResult):
        self.result, self.places = result, result.places
        self.tree = node_tree(result) if rounding(result) == "end" else {}
        self.on = bool(self.tree)
        self.periods = list(result.periods or [result.period])
        self.keys = self.periods + ([result.period] if result.period not in self.periods else [])
        self.weights = period_weights(result)
        leaves = set(result.leaves)
        self.inner = [n for n in (self.tree or result.display) if n not in leaves]
        first = 3 if len(self.keys) > 1 else 2
        self.col = {n: first + i for i, n in enumerate([*result.leaves, *self.inner])}
        self.row = {(u.code, k): 2 + i * len(self.keys) + j
                    for i, u in enumerate(result.units) for j, k in enumerate(self.keys)}
        self.fallbacks: list[str] = []
        self.averaged = False  # a ballot mean was written as AVERAGEIFS
        self._leaves: dict[tuple[str, str, str], _Entry | None] = {}
        self._exprs: dict[tuple[str, str, str, str], tuple[str, Fraction] | None] = {}
        # 测评明细: 单位代码, 期间, 票号, [投票], items…, 合计, 状态
        self.total_col = 3 + any(b.votes for b in result.ballots) + len(_ballot_keys(result))
        self.sheet_rows = _BallotLayout(result).rows  # ballot i → its row in 测评明细
        self._ballots: dict[tuple[str, str], list[int]] = {}
        for i, b in enumerate(result.ballots):
            self._ballots.setdefault((b.unit, b.period), []).append(i)

    def ref(self, u: UnitResult, key: str, node: str, sheet: str = "") -> str:
        cell = xl_rowcol_to_cell(self.row[(u.code, key)], self.col[node])
        return f"'{sheet}'!{cell}" if sheet else cell

    def cached(self, u: UnitResult, key: str, node: str) -> Decimal | None:
        return (u.by_period.get(key, {}) if key in self.periods else u.rounded).get(node)

    # -- leaf cells of 分项得分
    def leaf(self, u: UnitResult, key: str, leaf: str) -> _Entry | None:
        k = (u.code, key, leaf)
        if k not in self._leaves:
            self._leaves[k] = self._leaf(u, key, leaf)
        return self._leaves[k]

    def _leaf(self, u: UnitResult, key: str, leaf: str) -> _Entry | None:
        if not u.ok:
            return None
        if not self.on:
            value = self.cached(u, key, leaf)
            return None if value is None else _Entry(value, places=self.places)
        if key in self.periods:
            detail = next((d for d in u.details if d.node == leaf and d.period == key), None)
            if detail is None or detail.value is None:
                return None
            return self._mean(u.code, detail) or self._constant(detail.value)
        value = u.exact.get(leaf)
        parts = [(self.weights[p], self.leaf(u, p, leaf)) for p in self.periods] if self.weights else []
        if value is None or not parts or any(e is None or e.model is None for _, e in parts):
            return None if value is None else self._constant(value)
        model = sum((exact(w) * e.model for w, e in parts), Fraction(0))  # type: ignore[misc]
        return _Entry(model, _join([_term(w, self.ref(u, p, leaf)) for p, (w, _) in zip(self.periods, parts)]), model)

    @staticmethod
    def _constant(value: Fraction | Decimal) -> _Entry:
        d = round_half_up(value, LEAF_PLACES)
        return _Entry(d, model=_stored(d))

    def _mean(self, code: str, d: LeafDetail) -> _Entry | None:
        """AVERAGEIFS over the unit's ballots from the leaf's file in 测评明细, when contiguous and exactly its value."""
        ballots = self.result.ballots
        rows = [i for i in self._ballots.get((code, d.period), [])
                if f"{ballots[i].file} / {ballots[i].sheet}" == d.source]
        if not rows or rows != list(range(rows[0], rows[-1] + 1)):
            return None
        first, last = self.sheet_rows[rows[0]], self.sheet_rows[rows[-1]]
        if last - first != len(rows) - 1:  # a row of item names between them
            return None
        totals = [exact(round_half_up(ballots[i].total, self.places)) for i in rows
                  if ballots[i].status == "有效" and ballots[i].total is not None]
        if not totals or sum(totals, Fraction(0)) / len(totals) != d.value:
            return None

        def span(col: int) -> str:
            return f"'{BALLOTS}'!{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"

        self.averaged = True
        return _Entry(d.value, f'AVERAGEIFS({span(self.total_col)},{span(self.total_col + 1)},"有效")', d.value)

    # -- rounded scores: ROUND(weights × leaf cells)
    def scored(self, u: UnitResult, key: str, node: str, sheet: str = "") -> _Entry | None:
        cached = self.cached(u, key, node)
        if cached is None:
            return None
        if not self.on:
            return _Entry(cached, places=self.places)
        built = self._expr(u, key, node, sheet)
        why = "缺少计算所需的分项数值" if built is None else _risk(built[1], cached, self.places)
        if why:
            return _Entry(cached, note=f"此格为数值而非公式：{why}。", places=self.places)
        return _Entry(cached, f"ROUND({built[0]},{self.places})", places=self.places)  # type: ignore[index]

    def _expr(self, u: UnitResult, key: str, node: str, sheet: str) -> tuple[str, Fraction] | None:
        k = (u.code, key, node, sheet)  # an inner node's subtree is asked for again by every node above it
        if k not in self._exprs:
            self._exprs[k] = self._build_expr(u, key, node, sheet)
        return self._exprs[k]

    def _build_expr(self, u: UnitResult, key: str, node: str, sheet: str) -> tuple[str, Fraction] | None:
        if node not in self.tree:
            e = self.leaf(u, key, node) if node in self.col else None
            return None if e is None or e.model is None else (self.ref(u, key, node, sheet), e.model)
        texts, total = [], Fraction(0)
        for child, weight in self.tree[node]:
            sub = self._expr(u, key, child, sheet)
            if sub is None:
                return None
            texts.append(_term(weight, f"({sub[0]})" if child in self.tree else sub[0]))
            total += exact(weight) * sub[1]
        return _join(texts), total

    def about(self) -> list[tuple[str, str]]:
        """Lines for 说明: how to read the formulas, and where a value stands for one."""
        if not self.on:
            return []
        label = self.result.node_labels.get
        text = (f"“汇总”和“{SCORES}”中的得分是公式，点击单元格即可看到它由哪些单元格、按什么权重算出。"
                f"“{SCORES}”中每项得分保存精确值（保留 {LEAF_PLACES} 位小数，显示 {self.places} 位）；"
                + (f"测评票平均分是对“{BALLOTS}”中本单位有效票合计的平均（AVERAGEIFS）；" if self.averaged else "") +
                f"{'、'.join(label(n, n) for n in self.inner)}为 ROUND(权重 × 各项, {self.places})，即精确计算、最后一次四舍五入。"
                "排名、等次和结果运用按计算时的得分确定，修改表中数字后不会随之改变。")
        pairs = [("计算公式", text)]
        if self.fallbacks:
            pairs.append(("未用公式的单元格", "；".join(dict.fromkeys(self.fallbacks))))
        return pairs


# ---------------------------------------------------------------- sheet contents


def _grade_text(gr: GradeResult | None, ok: bool = False) -> str:
    if gr is None and ok:  # a grading for other unit types (e.g. the offices' grade on a village's row)
        return "—"
    if gr is None:
        return "未评定"
    if gr.grade:
        return gr.grade
    if gr.pending:
        return f"待党委研究（{'/'.join(gr.pending)}）"
    if gr.undetermined:  # the rule reads a result still open (an earlier period 待党委研究): the reason is in 备注
        return "无法判定"
    return "未评定"


def _grade_tone(gr: GradeResult | None, order: list[str], colors: dict[str, str] | None = None) -> dict:
    """The scheme's colour of the grade if it gives one (e.g. 红色预警); else top grade green, bottom grade red;
    pending yellow (order: the grading's grades, best first)."""
    if gr is None:
        return {}
    if not gr.grade:
        return PENDING if gr.pending or gr.undetermined else {}
    if colors:
        return {"bg_color": colors[gr.grade]} if gr.grade in colors else {}
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
    if gr.provisional and parts:  # the year's result decides: never applied from a half-year
        return "预计（按全年考评结果执行，本期不执行）：" + "；\n".join(parts)
    return "；\n".join(parts)  # the fund change on a line of its own: never broken inside


def _remarks(u: UnitResult) -> str:
    parts = [f"一票否决：{v}" for v in u.vetoes]
    parts += [gr.reason for gr in u.grades.values() if (not gr.grade or gr.decision) and gr.reason]  # pending,
    # withheld, 无法判定, or decided by the committee (the decision cited)
    if not u.ok:
        parts.append("数据有错误，未计算")
    return "；".join(parts)


def _annual_periods(result: RunResult) -> list[str]:
    """Earlier periods shown beside an annual score (only with more than one)."""
    try:
        annual = Period.parse(result.period).kind == "year"
    except ValueError:
        return []
    found = [p for p in result.periods if p != result.period and any(p in u.by_period for u in result.units)]
    return found if annual and result.display and len(found) > 1 else []


def _movement(prev: Any, places: int) -> list[Any]:
    """上期得分, 得分变化 and 名次变化 of one unit (text for the signed changes, so the sign always shows)."""
    if prev is None:
        return [None, "—", "—"]
    change = "—" if prev.change is None else f"{prev.change:+.{places}f}"
    moved = prev.rank_change
    rank = "—" if moved is None else "持平" if moved == 0 else f"上升 {moved} 名" if moved > 0 else f"下降 {-moved} 名"
    return [prev.score, change, rank]


def _summary(book, st: _Styles, result: RunResult, title: str, trace: _Trace) -> None:
    g = _Grid(book, st, "汇总", trace.fallbacks)
    label = result.node_labels.get
    root = result.display[-1] if result.display else ""
    extra = _annual_periods(result)
    one = len(result.gradings) == 1
    people, townships = result.has_people, result.across_townships
    header = ["排名", "单位代码", "单位名称", "类型", "所属单位" if people else "党组织书记"]
    if townships:
        header.insert(2, "乡镇（街道）")
    header += [f"{_period_label(p)}得分" for p in extra]
    header += [label(n, n) for n in result.display]
    previous = getattr(result, "previous", None) or {}
    moved: tuple[int, ...] = ()
    if previous:
        header += [f"上期（{_period_label(result.previous_period)}）得分", "得分变化", "名次变化"]
        moved = (len(header) - 2, len(header) - 1)  # signed changes centred, apart from the score beside them
    # gradings of different unit types (系统 B: villages, secretaries, cadres …): one 等次 column, label and grade
    merged = result.mixed_gradings
    for _, glabel in ([("", "等次")] if merged else result.gradings):
        header += [glabel, "结果运用" if one or merged else f"{glabel}结果运用"]
    header.append("备注")
    g.title(title, len(header))
    g.caps.update({c: 24 for c, h in enumerate(header) if h == "备注" or h.endswith("结果运用")})
    rows = []
    for i, u in enumerate(result.units, 1):
        rank = u.rank(result.gradings) or (i if u.ok and not result.gradings else None)
        values: list[Any] = [rank, u.unit.code, u.unit.name, u.unit.type,
                             u.unit.parent_name if people else u.unit.secretary]
        if townships:
            values.insert(2, u.unit.township)
        values += [trace.scored(u, p, root, SCORES) for p in extra]
        values += [trace.scored(u, result.period, n, SCORES) for n in result.display]
        if previous:
            values += _movement(previous.get(u.code), result.places)
        tone = {} if u.ok else ERROR_ROW
        fmts = {c: dict(tone) for c in range(len(header))}
        if merged:
            mine = [(gid, glabel, u.grades[gid]) for gid, glabel in result.gradings if gid in u.grades]
            first = mine[0] if mine else ("", "", None)
            fmts[len(values)] = {**tone, **_grade_tone(first[2], result.grade_orders.get(first[0], []),
                                                       result.grade_colors.get(first[0]))}
            values += ["\n".join(f"{glabel}：{_grade_text(gr, u.ok)}" for _, glabel, gr in mine) or "未评定",
                       "\n".join(c for c in (_consequence(gr) for *_, gr in mine) if c)]
        for gid, _ in ([] if merged else result.gradings):
            gr = u.grades.get(gid)
            fmts[len(values)] = {"align": "center", **tone, **_grade_tone(gr, result.grade_orders.get(gid, []),
                                                                       result.grade_colors.get(gid))}
            values += [_grade_text(gr, u.ok), _consequence(gr)]
        values.append(_remarks(u))
        for c in (0, 1, header.index("类型"), *moved):
            fmts[c]["align"] = "center"
        rows.append((values, fmts))
    funds = max((_text_width(line) for values, _ in rows for v in values if isinstance(v, str)
                 for line in v.split("\n") if line.startswith("工作经费")), default=0)
    g.flex.update({c: max(12, funds + 2) if h.endswith("结果运用") else 12 for c, h in enumerate(header)
                   if h == "备注" or h.endswith("结果运用")})  # a fund change stays on one line
    if merged:
        g.flex[header.index("等次")] = NARROW
    g.table_rows(header, rows)
    g.block([f"说明：{n}" if i == 0 else n for i, n in enumerate(result.notes)])
    g.block([SIGNATURE], gap=2, font_size=12)
    g.keys = 4 if townships else 3  # 排名, 单位代码, (乡镇,) 单位名称 head every page of a split sheet
    g.finish(freeze_cols=3)


def _scores(book, st: _Styles, result: RunResult, title: str, trace: _Trace) -> None:
    """The leaf values and weighted scores of every unit and period, numbers only (their inputs: ``_evidence``)."""
    g = _Grid(book, st, SCORES, trace.fallbacks)
    label = result.node_labels.get
    multi = len(trace.keys) > 1
    header = ["单位代码", "单位名称", *(["期间"] if multi else [])]
    header += [label(n, n) for n in [*result.leaves, *trace.inner]]
    g.title(title, len(header))
    g.header(header)
    for u in result.units:
        tone = {} if u.ok else ERROR_ROW
        for key in trace.keys:
            whole = key not in trace.periods  # a year's row, from its periods
            values: list[Any] = [u.unit.code, u.unit.name, *([_period_label(key)] if multi else [])]
            values += [trace.leaf(u, key, n) for n in result.leaves]
            values += [trace.scored(u, key, n) for n in trace.inner]
            fmts = {c: {**tone, **({"bold": True} if whole else {})} for c in range(len(header))}
            fmts[0]["align"] = "center"
            g.record(values, fmts)
    g.table = (g.head, max(g.row - 1, g.head or 0))  # type: ignore[assignment]
    legend = []
    weights = "＋".join(f"{_period_label(p)}×{(w * 100).normalize():f}%" for p, w in trace.weights.items())
    if multi:
        legend.append(f"{_period_label(result.period)}（加粗的行）："
                      + (f"各项 = {weights}" if weights else "各项按方案合并各期得分"))
    for leaf in result.leaves:
        rules = list(dict.fromkeys(d.rule for u in result.units for d in u.details if d.node == leaf and d.rule))
        if rules:
            legend.append(f"{label(leaf, leaf)}：{'；'.join(rules)}")
    if legend:
        g.block([f"计分规则（各项得分所依据的数字见“{EVIDENCE}”）："] + legend)
    g.finish(freeze_cols=3 if multi else 2)


def _evidence(book, st: _Styles, result: RunResult, title: str) -> None:
    """得分依据: one row per unit, period and item: the inputs behind the item's score and the file they came from."""
    g = _Grid(book, st, EVIDENCE)
    label = result.node_labels.get
    header = ["单位代码", "单位名称", "期间", "项目", "得分", "依据", "来源"]
    g.title(title, len(header))
    order = {n: i for i, n in enumerate(result.leaves)}
    rows = []
    for u in result.units:
        tone = {} if u.ok else ERROR_ROW
        details = sorted(u.details, key=lambda d: (d.period, order.get(d.node, len(order))))
        for d in details:
            text = "；".join(f"{k}={_plain(v, result.places)}" for k, v in d.inputs.items()) or "—"
            value = None if d.value is None else _Entry(d.value, places=result.places)
            rows.append(([u.unit.code, u.unit.name, _period_label(d.period), label(d.node, d.node), value, text,
                          d.source], {0: {"align": "center", **tone}, **{c: tone for c in range(1, 7)}}))
    if not rows:
        rows.append((["无", *[""] * (len(header) - 1)], {}))
    g.caps.update({3: 20, 5: 44, 6: 44})
    g.flex.update({5: 24, 6: NARROW})
    g.table_rows(header, rows)
    g.finish(freeze_cols=2, landscape=True)


def _quota(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "等次配额")
    labels = dict(result.gradings)
    header = ["等次类别", "规则", "等次", "参评单位数", "允许/要求", "实际", "待党委研究占用", "说明"]
    g.title(title, len(header))
    center = {c: {"align": "center"} for c in (2, 3, 4, 5, 6)}
    rows = [([labels.get(q.grading, q.grading), q.rule, q.grade, q.n, q.allowed, q.actual, q.pending, q.note], center)
            for q in result.quota]
    g.table_rows(header, rows, autofilter=False)
    g.finish()


def _lists(book, st: _Styles, result: RunResult, title: str) -> None:
    """The scheme's lists (e.g. 约谈名单 with open rectification items), one table after another."""
    g = _Grid(book, st, "名单")
    width = max((4 + len(lst.columns) for lst in result.lists), default=4)
    g.title(title, width)
    for lst in result.lists:
        g.block([f"{lst.title}（{len(lst.entries)} 个）" + (f"：{lst.text}" if lst.text else "")], gap=0 if g.row == 1
                else 1, bold=True)
        graded = any(e.grade for e in lst.entries)
        header = ["单位代码", "单位名称", "乡镇（街道）", *(["等次"] if graded else []), *lst.columns]
        none = ["无", *[""] * (len(lst.columns) - 1)] if lst.columns else []  # a listed unit without matching rows
        rows = []
        for e in lst.entries:
            for line in e.rows or [none]:
                rows.append(([e.unit, e.name, e.township, *([e.grade] if graded else []), *line],
                             {0: {"align": "center"}, 3: {"align": "center"}}))
        if not rows:
            rows.append((["无", *[""] * (len(header) - 1)], {}))
        g.table_rows(header, rows, autofilter=False)
    g.finish()


def _items(book, st: _Styles, result: RunResult, title: str) -> None:
    """This period's tracked items (问题整改清单) with repeats flagged, then last period's open items not listed again."""
    g = _Grid(book, st, "整改事项")
    names = {u.code: u.unit.full_name for u in result.units}
    header = ["单位代码", "单位名称", "期间", "存在问题", "整改措施", "责任人", "整改时限", "整改情况", "往期已列入"]
    g.title(title, len(header))

    def rows(items):
        return [([i.unit, names.get(i.unit, ""), _period_label(i.period), i.problem, i.measure, i.owner, i.deadline,
                  i.status, i.repeated or ""], {8: BAD if i.repeated else {}, 7: {} if not i.open else PENDING})
                for i in items]

    g.table_rows(header, rows(result.items) or [(["本期没有整改事项", *[""] * 8], {})], autofilter=False)
    if result.carried:
        g.block([f"上期尚未完成、本期清单未再列入的整改事项（{len(result.carried)} 项），请核实整改情况："], bold=True)
        g.table_rows(header, rows(result.carried), autofilter=False)
    g.finish()


def _criterion_order(key: str) -> tuple[int, str]:
    m = re.fullmatch(r"c(\d+)", key)
    return (int(m.group(1)), key) if m else (10**6, key)


class _BallotLayout:
    """Where 测评明细 puts each ballot, and what it calls the items.

    Items every unit names alike (a fixed ballot: 评分) head their columns. Where each unit has its own
    criteria (系统 A: ten per village), the columns are headed 细则1 … and each unit's ballots follow a
    row naming its own criteria; the ballot rows of one unit stay together (``_Trace._mean``)."""

    def __init__(self, result: RunResult):
        self.keys = _ballot_keys(result)
        self.votes = any(b.votes for b in result.ballots)
        labels = result.item_labels
        used = list(dict.fromkeys(b.unit for b in result.ballots))
        named = [labels[u] for u in used if u in labels]
        shared = {k: named[0].get(k) for k in self.keys} if named else {}
        self.own = bool(named) and any(any(n.get(k) != shared[k] for k in self.keys) for n in named)
        self.names = [shared[k] if shared.get(k) and not self.own else f"细则{n}" if n < 10**6 else k
                      for n, k in map(_criterion_order, self.keys)]
        self.labels = labels if self.own else {}
        self.rows: list[int] = []  # ballot i → its sheet row
        self.named: dict[int, str] = {}  # sheet row → the unit whose criteria it names
        r, last = 2, None
        for b in result.ballots:
            if b.unit != last and b.unit in self.labels:
                self.named[r] = b.unit
                r += 1
            last = b.unit
            self.rows.append(r)
            r += 1


def _ballots(book, st: _Styles, result: RunResult, title: str) -> None:
    """One row per ballot from row 3, in ``result.ballots`` order; 合计 and 状态 after the items (``_Trace._mean``);
    a unit's own criteria in a row above its ballots (``_BallotLayout``)."""
    g = _Grid(book, st, BALLOTS)
    lay = _BallotLayout(result)
    keys = lay.keys
    votes = ["投票"] if lay.votes else []  # vote ballots: one text per ballot
    header = ["单位代码", "期间", "票号", *votes, *lay.names, "合计", "状态", "文件", "工作表", "行"]
    g.title(title, len(header))
    status_col = 3 + len(votes) + len(keys) + 1
    if votes:
        g.caps[3] = CAP
        g.flex[3] = 24
    g.flex[status_col + 1] = NARROW
    names = {u.code: u.unit.name for u in result.units}
    tone = {"bg_color": "#F2F2F2", "valign": "top"}
    named = {r: ([_Narrow(code), _Narrow(f"{names.get(code, code)}考核细则"), None, *([None] if votes else []),
                  *[_Narrow(lay.labels[code].get(k, "")) for k in keys], *[None] * 5],
                 {c: dict(tone) for c in range(len(header))}) for r, code in lay.named.items()}
    g.table_rows(header, _BallotRows(result.ballots, keys, bool(votes), status_col, named))
    g.finish(freeze_cols=3)


class _Narrow(str):
    """A text that wraps in its column and never widens it (a unit's criteria above its ballots)."""


class _BallotRows:
    """The rows of 测评明细, made again each time they are read: a county's ballots are not held twice.
    ``named``: sheet row → the row naming the criteria of the unit below (values, formats)."""

    def __init__(self, ballots: list, keys: list[str], votes: bool, status_col: int, named: dict | None = None):
        self.ballots, self.keys, self.votes, self.status_col = ballots, keys, votes, status_col
        self.named = named or {}
        self.fmts: dict[str, dict[int, dict]] = {}  # by status: the same format dicts for every ballot
        self.periods: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.ballots) + len(self.named)

    def __iter__(self):
        keys, votes, fmts, periods, named = self.keys, self.votes, self.fmts, self.periods, self.named
        r = 2
        for b in self.ballots:
            if r in named:
                yield named[r]
                r += 1
            r += 1
            period = periods.get(b.period)
            if period is None:
                period = periods[b.period] = _period_label(b.period)
            get = b.scores.get
            values = [b.unit, period, b.serial, *([b.votes] if votes else []), *[get(k) for k in keys],
                      b.total, b.status, b.file, b.sheet, b.row]
            fmt = fmts.get(b.status)
            if fmt is None:
                fmt = fmts[b.status] = {0: {"align": "center"},
                                        self.status_col: {"align": "center", **BALLOT_TONE.get(b.status, {})}}
            yield values, fmt


def _issues(book, st: _Styles, report: Report, title: str, names: dict[str, str] | None = None) -> None:
    g = _Grid(book, st, "问题清单")
    header = ["序号", "级别", "单位", "文件", "工作表", "单元格", "问题", "改正方法", "代码"]  # the code last
    g.title(title, len(header))
    names = names or {}
    rows = []
    for i, it in enumerate(report.issues, 1):
        unit = f"{it.unit} {names[it.unit]}" if it.unit in names else it.unit
        tone = BAD if it.severity is Severity.ERROR else PENDING
        values = [i, it.severity.label, unit, it.file, it.sheet, it.cell, it.message, it.hint, it.code]
        rows.append((values, {0: {"align": "center"}, 1: {"align": "center", **tone}, 5: {"align": "center"}}))
    g.table_rows(header, rows)
    if not report.issues:
        g.merged(g.row, 0, g.ncols - 1, "未发现问题", st(border=1, align="center"))
        g.table = (g.table[0], g.row)
        g.row += 1
    g.caps.update({6: 36, 7: 36})  # 问题, 改正方法 (the code is last)
    g.flex.update({3: NARROW, 6: NARROW, 7: NARROW})
    g.finish()


def _about(book, st: _Styles, result: RunResult, title: str, trace: _Trace) -> None:
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
        ("舍入规则", f"四舍五入，保留 {result.places} 位小数，" + ("每一级舍入" if rounding(result) == "each" else "最后一次舍入")),
        *trace.about(),
        *([("扫描读票", result.scan_note)] if result.scan_note else []),
        *_decision_pairs(result),
    ]
    head_fmt = st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
    g.string(g.row, 0, "项目", head_fmt)
    g.merged(g.row, 1, g.ncols - 1, "内容", head_fmt)
    g.head = g.row  # freeze below this header
    g.row += 1
    value_fmt = st(border=1, text_wrap=True, align="left")
    for key, value in pairs:
        g.put(g.row, 0, key, bold=True)
        g.merged(g.row, 1, g.ncols - 1, value, value_fmt, wrap=(g.line, 3))
        g.row += 1
    g.row += 1
    g.merged(g.row, 0, g.ncols - 1, "读取的文件", st(bold=True, font_size=12))
    g.row += 1
    rows = []
    for f in result.files:
        unit = f"{f.unit} {names[f.unit]}" if f.unit in names else f.unit
        tone = {} if f.status == "已读取" else BAD if f.status == "有错误" else MUTED
        rows.append(([f.path, f.sha256, result.form_titles.get(f.form_id, f.form_id), unit,
                      _period_label(f.period) if f.period else "", f.status],
                     {5: {"align": "center", **tone}}))
    files_head = g.table_rows(header, rows, autofilter=False)
    g.titles = (files_head, files_head)  # pages after the first continue the file list under its header
    g.caps[1] = 66  # a whole hash on one line, easy to compare; on two where the page is too narrow
    g.flex.update({0: NARROW, 1: 34, 2: 16})
    g.finish()


def _decision_pairs(result: RunResult) -> list[tuple[str, str]]:
    """说明's lines on the committee's decisions: those applied (with 会议/文号 and 日期) and those still open."""
    applied = [i.note for i in result.decisions if i.decided]
    still = [i.title for i in result.decisions if i.open]
    pairs = []
    if applied:
        pairs.append(("党委研究决定", "\n".join(f"{k}. {t}" for k, t in enumerate(applied, 1))))
    if still:
        pairs.append(("待党委研究事项", "\n".join(f"{k}. {t}" for k, t in enumerate(still, 1))
                      + f"\n（见党委研究事项_{result.period}.xlsx；党委研究后填写，放入本期表格文件夹重新计算）"))
    return pairs


def _chart_colour(gr: GradeResult | None, order: list[str]) -> str:
    if gr is None:
        return CHART_COLOURS[""]
    if not gr.grade:
        return CHART_COLOURS["pending" if gr.pending else "none"]
    tone = _grade_tone(gr, order)
    return CHART_COLOURS["good" if tone is GOOD else "bad" if tone is BAD else ""]


def _chart(book, g: _Grid, kind: str, title: str, rows: tuple[int, int], cols: tuple[int, int], colours: list[str],
           num_format: str, values: dict, categories: dict | None = None):
    """A one-series native chart over a table on 图表 (``g``); a point's colour follows its grade.

    The chart's cached values are given from the recorded rows: xlsxwriter reads them from its cell
    table, which constant_memory mode does not keep."""
    chart = book.add_chart({"type": kind})
    font = {"name": FONT, "size": 9}
    chart.add_series({
        "categories": [CHARTS, rows[0], cols[0], rows[1], cols[0]],
        "values": [CHARTS, rows[0], cols[1], rows[1], cols[1]],
        "categories_data": g.data(rows[0], rows[1], cols[0]),
        "values_data": g.data(rows[0], rows[1], cols[1]),
        "points": [{"fill": {"color": c}, "border": {"none": True}} for c in colours],
        "data_labels": {"value": True, "num_format": num_format, "font": font},
        "gap": 60,
    })
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 11, "bold": True}})
    chart.set_legend({"none": True})
    value_axis = {"num_font": font, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}, **values}
    category_axis = {"num_font": font, **(categories or {})}
    if kind == "bar":  # xlsxwriter's x axis of a bar chart is the horizontal one: the values
        chart.set_x_axis(value_axis)
        chart.set_y_axis(category_axis)
    else:
        chart.set_x_axis(category_axis)
        chart.set_y_axis(value_axis)
    return chart


CHART_ROW = 15  # points: a row of 图表 not otherwise set (xlsxwriter's default height)
CHART_HEAD = 32  # points a category's header row takes at most (a score label on two lines)
MAX_BARS = 40  # a category of more units is listed but not drawn: its bars would be too thin to read
PX = 4 / 3  # pixels per point


@dataclass
class _Category:
    """Units graded together (their first grading): one score chart, ranked by that grading."""

    gid: str
    label: str  # the grading's label
    types: list[str]  # the units' types, as the roster names them
    root: str  # the node their score is
    units: list[UnitResult]
    people: bool


def _categories(result: RunResult) -> list[_Category]:
    """The units of each first grading (系统 B: villages, secretaries, cadres, work teams; 系统 D: villages and
    offices), each with its own score node (``unit_root``); units without a grading form one category."""
    order = [gid for gid, _ in result.gradings]
    labels = dict(result.gradings)
    groups: dict[str, list[UnitResult]] = {}
    for u in result.units:
        first = next((gid for gid in order if gid in u.grades), "")
        groups.setdefault(first, []).append(u)
    out = []
    for gid, units in groups.items():
        scored = [u for u in units if u.ok and unit_root(result, u) in u.rounded]
        root = unit_root(result, scored[0]) if scored else (result.display[-1] if result.display else "")
        out.append(_Category(gid, labels.get(gid, ""), list(dict.fromkeys(u.unit.type for u in units)), root,
                             scored, any(u.unit.parent for u in units)))
    return out


@dataclass
class _Block:
    """A table on 图表 and the chart beside it: rows from ``start``, its header at ``head``, ``n`` data rows."""

    start: int
    head: int
    n: int
    kind: str  # "bars" (a category's scores) or "counts" (a grading's distribution)
    about: Any  # the _Category, or the grading's (id, label)
    height: float = 0.0  # the chart's height in points (0: not drawn)
    payload: list = field(default_factory=list)


class _ChartPages:
    """Vertical layout of 图表: which block starts a page, how tall each chart may be so it ends on its page.

    Rows are counted at the heights they print at: ``CHART_ROW`` for a table row, ``CHART_HEAD`` for a header."""

    def __init__(self) -> None:
        self.avail = page.printable_height(True) - 16  # points a block may take on one page
        self.used = 30.0  # points used on the current page: the title row on the first
        self.breaks: list[int] = []

    def place(self, g: _Grid, block: _Block, want: float) -> None:
        """Start a page before the block if it needs one (a category always does, but the first), size its chart,
        then leave empty rows so the next block starts below the chart."""
        table = CHART_HEAD + CHART_ROW * block.n
        if block.start > 1 and (block.kind == "bars" or self.used + max(table, want + 4) > self.avail):
            self.breaks.append(block.start)
            self.used = 0.0
        block.height = min(want, self.avail - self.used - 4) if want else 0.0
        extra = math.ceil(max(0.0, block.height + 4 - table) / CHART_ROW)
        g.row += extra + 1
        self.used += table + CHART_ROW * (extra + 1)


def _charts(book, st: _Styles, result: RunResult, title: str) -> None:
    """图表: per category of units (``_categories``) a table of scores with a bar chart beside it, best on top,
    a page each; then per grading how many units got each grade, as many to a page as fit. No chart crosses
    a page break (``_ChartPages``)."""
    g = _Grid(book, st, CHARTS)
    g.repeat = False
    label = result.node_labels.get
    cats = [c for c in _categories(result) if c.units]
    people = any(c.people for c in cats)
    g.ncols = 5 if people else 4
    g.string(0, 0, title, st(bold=True, font_size=st.size + 4))
    g.height(0, 30)
    g.row = 1
    if not cats:
        g.block(["没有算出得分的单位，无法绘图。"])
        g.finish()
        return
    pages, blocks = _ChartPages(), []
    for cat in cats:
        order = result.grade_orders.get(cat.gid, [])
        units = sorted(cat.units, key=lambda u: (-u.rounded[cat.root], _rank(u, cat.gid), u.code))
        header = ["排名", "姓名" if cat.people else "单位名称", *(["所属单位"] if people else []),
                  label(cat.root, cat.root), *([cat.label] if cat.gid else [])]
        rows = []
        for u in units:
            gr = u.grades.get(cat.gid)
            values = [gr.rank if gr else None, u.unit.name, *([u.unit.parent_name] if people else []),
                      u.rounded[cat.root], *([_grade_text(gr)] if cat.gid else [])]
            fmts = {0: {"align": "center"}}
            if cat.gid:
                fmts[len(values) - 1] = {"align": "center", **_grade_tone(gr, order)}
            rows.append((values, fmts))
        block = _Block(g.row, 0, len(units), "bars", cat, payload=units)
        block.head = g.table_rows(header, rows, autofilter=False)
        pages.place(g, block, max(210.0, 15 * len(units) + 70) if len(units) <= MAX_BARS else 0.0)
        blocks.append(block)
    for gid, glabel in result.gradings:
        counts = _grade_counts(result, gid)
        block = _Block(g.row, 0, len(counts), "counts", (gid, glabel), payload=counts)
        block.head = g.table_rows([glabel, "单位数"], [([k, n], {0: {"align": "center", **tone}, 1: {"align": "center"}})
                                                      for k, n, tone, _ in counts], autofilter=False)
        pages.place(g, block, 200.0)
        blocks.append(block)
    _draw_charts(book, g, result, blocks)
    g.finish()
    if pages.breaks:
        g.ws.set_h_pagebreaks(pages.breaks)


def _rank(u: UnitResult, gid: str) -> int:
    gr = u.grades.get(gid)
    return gr.rank if gr and gr.rank else 10**6


def _draw_charts(book, g: _Grid, result: RunResult, blocks: list[_Block]) -> None:
    """Each block's chart, right of the tables, as wide as the landscape page leaves (``_ChartPages`` gave heights)."""
    label = result.node_labels.get
    anchor = g.ncols + 1
    room = page.printable_width(True) - sum(map(page.column_points, g._widths()[:anchor]))
    width = int(max(320, min(640, room - 16)) * PX)
    for b in blocks:
        if b.kind == "bars":
            cat = b.about
            if not b.height:
                g.merged(b.head, anchor, anchor + 6, f"共 {b.n} 个，条形图从略，得分见左表。", g.st(italic=True))
                continue
            order = result.grade_orders.get(cat.gid, [])
            low = min(u.rounded[cat.root] for u in b.payload)
            chart = _chart(book, g, "bar", f"{'、'.join(cat.types)}：{label(cat.root, cat.root)}（按得分从高到低）",
                           (b.head + 1, b.head + b.n), (1, 3 if g.ncols == 5 else 2),
                           [_chart_colour(u.grades.get(cat.gid), order) for u in b.payload], g.st.num,
                           {"min": max(0, math.floor((low - 5) / 10) * 10), "num_format": "0"},
                           {"reverse": True, "crossing": "max"})  # the best on top, the value axis still below
        else:
            chart = _chart(book, g, "column", f"{b.about[1]}分布（单位数）", (b.head + 1, b.head + b.n), (0, 1),
                           [c for *_, c in b.payload], "0", {"min": 0, "major_unit": 1, "num_format": "0"})
        chart.set_size({"width": width, "height": int(b.height * PX)})
        g.ws.insert_chart(b.start, anchor, chart, {"x_offset": 10, "y_offset": 2, "object_position": 3})


def _grade_counts(result: RunResult, gid: str) -> list[tuple[str, int, dict, str]]:
    """(grade, units, cell tone, chart colour) for every grade of a grading, then pending and ungraded units."""
    order = result.grade_orders.get(gid, [])
    graded = [u.grades[gid] for u in result.units if gid in u.grades]
    names = list(dict.fromkeys([*order, *(gr.grade for gr in graded if gr.grade)]))
    out = [(k, sum(gr.grade == k for gr in graded), _grade_tone(GradeResult(gid, k), order),
            _chart_colour(GradeResult(gid, k), order)) for k in names]
    for text, test, key in (("待党委研究", lambda gr: not gr.grade and gr.pending, "pending"),
                            ("未评定", lambda gr: not gr.grade and not gr.pending, "none")):
        n = sum(1 for gr in graded if test(gr))
        if n:
            out.append((text, n, PENDING if key == "pending" else {}, CHART_COLOURS[key]))
    return out


def _date_text(when: str) -> str:
    try:
        d = datetime.fromisoformat(when)
    except (TypeError, ValueError):
        return when
    return f"{d.year}年{d.month}月{d.day}日"


def _public(book, st: _Styles, result: RunResult, title: str) -> None:
    g = _Grid(book, st, "公示")
    label = result.node_labels.get
    root = result.display[-1] if result.display else ""
    extra = _annual_periods(result)
    people, merged = result.has_people, result.mixed_gradings
    header = ["排名", "单位或人员" if people else "单位名称", "所属单位" if people else "党组织书记",
              *[f"{_period_label(p)}得分" for p in extra], *([label(root, root)] if root else []),
              *(["等次"] if merged else [glabel for _, glabel in result.gradings])]
    g.title(title, len(header))
    townships = {u.unit.township for u in result.units if u.unit.township}
    date = "　".join([*(townships if len(townships) == 1 else []), _date_text(result.computed_at)])
    g.merged(g.row, 0, g.ncols - 1, date, st(align="right"))
    g.row += 1
    first = 3 + len(extra) + (1 if root else 0)
    rows = []
    for i, u in enumerate(result.units, 1):
        values: list[Any] = [u.rank(result.gradings) or (i if u.ok and not result.gradings else None),
                             u.unit.label if people else u.unit.name,
                             u.unit.parent_name if people else u.unit.secretary]
        values += [u.by_period.get(p, {}).get(root) for p in extra] + ([u.rounded.get(root)] if root else [])
        if merged:
            values.append("\n".join(f"{glabel}：{_grade_text(u.grades[gid])}" for gid, glabel in result.gradings
                                     if gid in u.grades))
        else:
            values += [_grade_text(u.grades.get(gid)) for gid, _ in result.gradings]
        rows.append((values, {c: {"align": "center"} for c in (0, *range(first, len(header)))}))
    head = g.table_rows(header, rows, autofilter=False)
    for r in range(head + 1, g.row):
        g.height(r, 22)  # room to read a posted sheet
    g.block([PUBLIC_NOTE], font_size=st.size)
    g.finish(landscape=len(header) > 7)


# ---------------------------------------------------------------- public API


# A workbook of more rows than this is written row by row in xlsxwriter's constant_memory mode (each row out
# once the next starts, texts as inline strings): memory stays bounded for a province (6,000 villages:
# 300 MB instead of 880). Smaller ones are built in memory with shared strings: about a fifth faster, and a
# smaller file. What a reader sees is the same either way (tests/test_perf_equivalence.py).
ROW_BY_ROW_ROWS = 20_000


def _workbook(buf: io.BytesIO, tmpdir: str | None) -> xlsxwriter.Workbook:
    """A workbook written to ``buf``: through temporary files in ``tmpdir`` row by row, or in memory."""
    if tmpdir is None:
        return xlsxwriter.Workbook(buf, {"in_memory": True, **TEXT_OPTIONS})
    return xlsxwriter.Workbook(buf, {"constant_memory": True, "tmpdir": tmpdir, **TEXT_OPTIONS})


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


def _build(title: str, when: str, write, role: str, rows: int) -> bytes:
    """The workbook ``write`` fills, of about ``rows`` rows (``ROW_BY_ROW_ROWS`` decides how it is written)."""
    # The sheets' recorded rows and formula checks make many objects, none in a reference cycle: the cycle
    # collector would only walk them again and again, so it waits until the workbook is written.
    collecting = gc.isenabled()
    gc.disable()
    try:
        buf = io.BytesIO()
        with contextlib.ExitStack() as stack:
            tmpdir = None
            if rows > ROW_BY_ROW_ROWS:
                tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="villagescore-"))
            book = _workbook(buf, tmpdir)
            book.set_properties(_properties(title, when))
            write(book)
            _identity(book, role)
            book.close()
        return buf.getvalue()
    finally:
        if collecting:
            gc.enable()


def _identity(book, role: str) -> None:
    """A very hidden identity record, so that reading a folder never takes our own output for an input."""
    from villagescore import TEMPLATE_VERSION
    from villagescore.core.layout import IDENTITY_SHEET

    ws = book.add_worksheet(IDENTITY_SHEET)
    for r, (key, value) in enumerate((("tool", "villagescore"), ("role", role),
                                      ("template_version", TEMPLATE_VERSION))):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.very_hidden()


def build_summary(result: RunResult) -> bytes:
    """The summary workbook (汇总 … 说明) as .xlsx bytes."""
    head = f"{result.scheme_name} {_period_label(result.period)}"

    def write(book) -> None:
        st, trace = _Styles(book, result.places), _Trace(result)
        _summary(book, st, result, f"{head} 考评结果汇总", trace)
        _charts(book, st, result, f"{head} 图表")
        _scores(book, st, result, f"{head} 分项得分", trace)
        _evidence(book, st, result, f"{head} 得分依据")
        _quota(book, st, result, f"{head} 等次配额")
        if result.lists:
            _lists(book, st, result, f"{head} 名单")
        if result.items or result.carried:
            _items(book, st, result, f"{head} 整改事项")
        _ballots(book, st, result, f"{head} 测评明细")
        _issues(book, st, result.report, f"{head} 问题清单", {u.unit.code: u.unit.name for u in result.units})
        _about(book, st, result, f"{head} 说明", trace)

    rows = len(result.ballots) + 3 * len(result.units) + len(result.report.issues) + len(result.files)
    return _build(f"{head} 考评结果汇总", result.computed_at, write, "summary", rows)


def build_public(result: RunResult) -> bytes:
    """The 公示 version: ranks, unit names, secretaries, final scores and grades only, ready to print and post."""
    title = f"{result.scheme_name} {_period_label(result.period)} 考评结果公示"
    return _build(title, result.computed_at,
                  lambda book: _public(book, _Styles(book, result.places, 12), result, title), "public",
                  len(result.units))


def build_issue_list(report: Report, title: str = "问题清单") -> bytes:
    """A stand-alone 问题清单 workbook, the same sheet as in the summary."""
    return _build(title, "", lambda book: _issues(book, _Styles(book, 2), report, title), "issues",
                  len(report.issues))


__all__ = ["build_summary", "build_public", "build_issue_list"]
