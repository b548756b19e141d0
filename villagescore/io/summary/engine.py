"""The engine the summary's sheets are written with: a grid of recorded rows, measured, then written row by row.

A sheet function (``sheets.py``, ``charts.py``) records its title, header, table rows and text blocks on a
``Grid``; ``Grid.finish`` measures the columns from every value, plans the print layout (``io/page.py``), and
hands the rows to xlsxwriter in increasing order (``RowWriter``), each with its height. ``Styles`` caches the
formats (every one in the CJK font); ``Entry`` is a score cell (a number, or a formula with its cached value);
``build_workbook`` makes the workbook, lets a writer fill it and adds the identity sheet.

xlsxwriter's internals are used only through ``villagescore.io.xlsx_private``.
"""

from __future__ import annotations

import gc
import io
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from villagescore.core.numbers import round_half_up
from villagescore.io import page
from villagescore.io.cells import TEXT_OPTIONS, balanced_lines, display_width
from villagescore.io.xlsx_private import RowSink, cell_writer, flush_rows, text_writer

FONT = "宋体"
CAP = 40  # widest column, in Excel width units (≈ 20 CJK characters); longer text wraps
HEADER_CAP = 8  # a header label wider than this is set on lines of about equal width, broken between words
HEADER_WIDEST = 12  # the widest a header line may make its column
NARROW = 20  # a wrapping text column (a file path, a message) narrows to this when the sheet would not fit a page
LINE_HEIGHT = 13  # points per line of 10-point text
FOOTER = "&C第 &P 页，共 &N 页"
_NONE: dict = {}  # no extra format


def text_width(text: str) -> int:
    """Display width of the longest line: 2 units per CJK (wide) character, 1 otherwise."""
    if "\n" not in text:
        return display_width(text)
    return max(map(display_width, text.split("\n")))


def line_count(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide."""
    room = max((width - 1) * 1.1, 1)  # widths are in units of the 11-point default font; text is 10-point
    if "\n" not in text:
        return max(1, math.ceil(text_width(text) / room))
    return sum(max(1, math.ceil(text_width(line) / room)) for line in text.split("\n"))


class Narrow(str):
    """A text that wraps in its column and never widens it (a unit's criteria above its ballots)."""


class Rows:
    """A table's rows (values, {column: extra format}) made by ``make()`` each time they are read (``Grid.finish``
    reads them twice), or kept once made when they are few (``KEEP``): a province's tables are not held whole."""

    KEEP = 20_000

    def __init__(self, n: int, make):
        self.n, self.make = n, make
        self._kept: list | None = None

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        if self._kept is not None:
            return iter(self._kept)
        if self.n <= self.KEEP:
            self._kept = list(self.make())
            return iter(self._kept)
        return iter(self.make())


@dataclass
class Entry:
    """A score cell: the number shown (a formula's cached value) and, when traceable, its formula."""

    value: Decimal | Fraction
    formula: str = ""  # without the leading "="; only cell references, numbers and our own words
    model: Fraction | None = None  # the exact value the cell holds, for formulas over it
    note: str = ""  # why a value stands where a formula was expected (a cell comment)
    places: int | None = None  # round the shown value to this many decimals; None keeps it whole


class Styles:
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
            keep = True
        except TypeError:  # an unhashable property value: no shortcut
            keep = False
        if kind == "blank":
            style = self(border=1, **fmt)
        elif kind == "int":
            style = self(border=1, num_format="0", **fmt)
        elif kind == "text":
            style = self(border=1, text_wrap=True, **fmt)
        else:
            style = self(border=1, num_format=self.num, **fmt)
        if keep:
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


class Grid:
    """One worksheet: a title row, a bordered table, free text blocks below, print setup.

    The workbook is written in xlsxwriter's constant_memory mode, where a sheet's rows must reach xlsxwriter
    in increasing order and a row's height before the next row starts, while the column widths (and the
    heights of wrapped rows, which need the widths) depend on the whole content. So the sheet functions
    only record rows here, as light entries (the values and their extra format dicts, or a re-iterable
    of such rows for a large table); ``finish`` measures the columns, then writes every row in order,
    each with its height, and the sheet's settings.
    """

    def __init__(self, book: xlsxwriter.Workbook, st: Styles, name: str, log: list[str] | None = None):
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
        self.drawings = True  # may hold charts or cell comments (placed by row heights when the workbook closes)
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
        self._add(r, ("rec", c, [value], {0: fmt} if fmt else fmt))  # no formats: the empty dict

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
        self.heading = math.ceil(text_width(text) * (self.st.size + 4) / 11) + 2
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
                value = Entry(value, places=self.st.places)
            if value is None or value == "":
                out.append("")
            elif isinstance(value, Entry):
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
                width = text_width(value)
            elif cls is Decimal:
                width = number(value, places)[1]
            elif value is None or cls is Narrow:
                continue
            elif isinstance(value, bool):
                width = 2  # 是 / 否
            elif isinstance(value, Decimal):
                width = number(value, places)[1]
            elif isinstance(value, Entry):
                width = number(value.value, value.places)[1]
            elif isinstance(value, int):
                width = len(str(value))
            else:
                text = str(value)
                if not text:
                    continue
                width = text_width(text)
            old = get(c)
            if old is None or width > old:
                widths[c] = width

    def _widths(self) -> list[float]:
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
                        width = min(text_width(label), HEADER_WIDEST)
                        if width > heads.get(col, -1):
                            heads[col] = width
        scale = self.scale
        self.widths = {c: w if scale == 1 else math.ceil(w * scale) for c, w in raw.items()}
        heads = {c: w if scale == 1 else math.ceil(w * scale) for c, w in heads.items()}
        widths: list[float] = [min(max(max(self.widths.get(c, 0), 4) + 2, heads.get(c, 0) + 1), self.caps.get(c, CAP))
                               for c in range(self.ncols)]
        short = self.heading - sum(widths)
        return [w + math.ceil(short / len(widths)) for w in widths] if short > 0 else widths

    def finish(self, *, freeze_cols: int = 0, landscape: bool = True) -> None:
        ws, widths = self.ws, page.shrink(self._widths(), self.flex, landscape=landscape)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        self.plan = page.plan(widths, keys=self.keys or freeze_cols, landscape=landscape)
        self._fit_spans(self.plan)
        writer = RowWriter(self, widths)
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


class RowWriter:
    """Writes a sheet's recorded rows into xlsxwriter, one row at a time in increasing order, each row's
    height set while it is the current row (``Grid.finish``)."""

    def __init__(self, g: Grid, widths: list[float]):
        self.g, self.ws, self.st, self.widths = g, g.ws, g.st, widths
        ws = g.ws
        self.string_, self.number_ = text_writer(ws), cell_writer(ws, "write_number")
        self.blank_, self.formula_ = cell_writer(ws, "write_blank"), cell_writer(ws, "write_formula")
        self.spans: dict[tuple[int, int, float], float] = {}
        # a table cell's wrapped text: lines need more than one line once its width passes the column's room
        self.room = [max((self._span(c, c, g.line) - 1) * 1.1, 1) for c in range(len(widths))]
        self.cell = g.st.cell
        self.last = -1
        # rows of plain values go to the sheet as XML (xlsx_private.RowSink), the others through xlsxwriter's methods
        self.sink = RowSink(ws, drawings=g.drawings) if RowSink.usable(ws) else None
        self._fmts: dict | None = None  # the row formats whose cell styles ``_styles`` holds
        self._styles: dict[tuple[int, str], str] = {}
        self._texts: dict[str, tuple[str | None, int]] = {}
        self.letters = [xl_col_to_name(c) for c in range(max(len(widths), g.ncols) + 1)]

    def _span(self, c1: int, c2: int, line: float) -> float:
        """Width of columns c1..c2 in units of the text's font (``_lines``)."""
        span = self.spans.get((c1, c2, line))
        if span is None:
            span = self.spans[(c1, c2, line)] = sum(self.widths[c1:c2 + 1]) / (line / LINE_HEIGHT)
        return span

    def row(self, r: int, values: list | None, fmts: dict | None, *, alone: bool = False) -> None:
        """Row r: a bulk table record (values, fmts) and/or the entries recorded for r, in call order."""
        if self.sink is not None:
            entries = () if alone else self.g.entries.get(r, ())
            if values is None and len(entries) == 1 and entries[0][0] == "rec" and entries[0][1] == 0:
                values, fmts, entries = entries[0][2], entries[0][3], ()
            self.sink.begin(r)  # the rows before are written first: formats get their index in row order
            if values is not None and not entries and self._plain(r, values, fmts):
                self.last = r
                return
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
        n = line_count(text, self._span(c1, c2, line))
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
                    n = line_count(value, self._span(c, c, line))
                else:
                    width = text_width(value)
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
                value = Entry(value, places=places)
            if value is None or value == "":
                self.blank_(r, c, None, cell("blank", fmt))
            elif isinstance(value, Entry):
                self._number(r, c, value, fmt)
            elif isinstance(value, int):
                number_(r, c, value, cell("int", fmt))
            else:
                text = str(value)
                string_(r, c, text, cell("text", fmt))
                need = max(need, self._wrap(text, c, c, line, 3))
        return need

    def _style(self, fmts: dict | None, c: int, kind: str) -> str:
        """The XML style attribute of a cell of ``kind`` in column c of a row formatted by ``fmts``; remembered
        while the rows share the same ``fmts`` object (a table's rows often do, e.g. ballots of one status)."""
        if fmts is not self._fmts:
            self._fmts, self._styles = fmts, {}  # holds ``fmts``: its id is never another dict's meanwhile
        key = (c, kind)
        found = self._styles.get(key)
        if found is None:
            fmt = fmts.get(c, _NONE) if fmts else _NONE
            sink = self.sink
            assert sink is not None  # rows go to the sink (``_plain``) only where there is one
            found = self._styles[key] = sink.style(self.cell(kind, fmt))
        return found

    def _text(self, text: str) -> tuple[str | None, int]:
        """A text's cell XML after its style (``RowSink.text``) and its display width."""
        found = self._texts.get(text)
        if found is None:
            sink = self.sink
            assert sink is not None  # rows go to the sink (``_plain``) only where there is one
            tail = sink.text_tail(text)
            found = self._texts[text] = (tail, -1 if "\n" in text else text_width(text))
        return found

    def _plain(self, r: int, values: list, fmts: dict | None) -> bool:
        """Row r of ``values`` from column 0 written as XML (``RowSink``), as ``_record`` would write it through
        xlsxwriter's methods; False (nothing written) when a cell needs them (a formula, a comment, a text
        shaped like rich-text XML)."""
        sink, st = self.sink, self.st
        assert sink is not None
        places, line, room, nroom, letters = st.places, self.g.line, self.room, len(self.room), self.letters
        style, number = self._style, st.number
        n = str(r + 1)
        cells: list[str] = []
        need = 0.0
        for c, value in enumerate(values):
            cls = value.__class__
            if cls is str and value:
                tail, width = self._text(value)
                if tail is None:
                    return False
                cells.append(f'<c r="{letters[c]}{n}"{style(fmts, c, "text")}{tail}')
                if width < 0:
                    k = line_count(value, self._span(c, c, line))
                else:
                    fit = room[c] if c < nroom else max((self._span(c, c, line) - 1) * 1.1, 1)
                    k = 1 if width <= fit else max(1, math.ceil(width / fit))
                if k > 1 and line * k + 3 > need:
                    need = line * k + 3
                continue
            if cls is Decimal:
                cells.append(f'<c r="{letters[c]}{n}"{style(fmts, c, "num")}><v>{number(value, places)[0]:.16G}</v></c>')
                continue
            if isinstance(value, bool):
                value = "是" if value else "否"
            if isinstance(value, Decimal):
                value = Entry(value, places=places)
            ref = letters[c] + n
            if value is None or value == "":
                x = sink.blank(ref, style(fmts, c, "blank"))
            elif isinstance(value, Entry):
                if value.note:  # a cell comment: xlsxwriter's own methods
                    return False
                shown = number(value.value, value.places)[0]
                if value.formula:
                    xf = sink.formula(ref, style(fmts, c, "num"), value.formula, shown)
                    if xf is None:
                        return False
                    x = xf
                else:
                    x = sink.number(ref, style(fmts, c, "num"), shown)
            elif isinstance(value, int):
                x = sink.number(ref, style(fmts, c, "int"), value)
            else:
                text = str(value)
                tail, _ = self._text(text)
                if tail is None:
                    return False
                x = f'<c r="{ref}"{style(fmts, c, "text")}{tail}'
                need = max(need, self._wrap(text, c, c, line, 3))
            cells.append(x)
        if not cells:
            return False
        sink.row(r, 0, len(values) - 1, cells, need or self.g.heights.get(r))
        return True

    def _number(self, r: int, c: int, e: Entry, fmt: dict[str, Any]) -> None:
        shown = self.st.number(e.value, e.places)[0]
        style = self.cell("num", fmt)
        if e.formula:
            self.formula_(r, c, "=" + e.formula, style, shown)
        else:
            self.number_(r, c, shown, style)
        if e.note:
            assert self.g.drawings, f"a cell comment on {self.g.name}, a sheet said to have none"
            self.ws.write_comment(r, c, e.note, {"x_scale": 2, "y_scale": 1.5, "font_name": FONT})
            self.g.log.append(f"{self.g.name}!{xl_rowcol_to_cell(r, c)}：{e.note}")

    def done(self) -> None:
        """Hand the last row over now, not when the workbook closes: formats get their index in the order
        the cells are written, as when every sheet was written at close in sheet order."""
        if self.last >= 0:
            flush_rows(self.ws, self.last + 1)


# ---------------------------------------------------------------- the workbook


def _workbook(buf: io.BytesIO, tmpdir: str) -> xlsxwriter.Workbook:
    """A workbook written to ``buf`` row by row, in xlsxwriter's constant_memory mode (each row out once the next
    starts, texts as inline strings, through temporary files in ``tmpdir``): memory stays bounded however many
    rows, and rows of plain values go out as XML (``RowWriter``)."""
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


def build_workbook(title: str, when: str, write, role: str) -> bytes:
    """The workbook ``write`` fills, with its properties and the identity sheet."""
    # The sheets' recorded rows and formula checks make many objects, none in a reference cycle: the cycle
    # collector would only walk them again and again, so it waits until the workbook is written.
    collecting = gc.isenabled()
    gc.disable()
    try:
        buf = io.BytesIO()
        with tempfile.TemporaryDirectory(prefix="villagescore-") as tmpdir:
            book = _workbook(buf, tmpdir)
            book.set_properties(_properties(title, when))
            write(book)
            identity_sheet(book, role)
            book.close()
        return buf.getvalue()
    finally:
        if collecting:
            gc.enable()


def identity_sheet(book, role: str) -> None:
    """A very hidden identity record, so that reading a folder never takes our own output for an input."""
    from villagescore import TEMPLATE_VERSION
    from villagescore.core.layout import IDENTITY_SHEET

    ws = book.add_worksheet(IDENTITY_SHEET)
    for r, (key, value) in enumerate((("tool", "villagescore"), ("role", role),
                                      ("template_version", TEMPLATE_VERSION))):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.very_hidden()

