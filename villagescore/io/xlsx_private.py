"""Every use of a library's private API, in this one module (``tests/test_xlsx_private.py`` checks each).

All of it is xlsxwriter's (pinned ``>=3.3,<3.4`` in pyproject.toml: checked on 3.3.0 and 3.3.1), and all of it is for speed: each use has a
public way to the same bytes, which the code takes whenever ``AVAILABLE`` says the private one is not there.
The test fails loudly when a new xlsxwriter changes what these rely on, before anyone notices a slow run.

* Shared strings of a known package (``io/replay.py``, the blank forms): a form's workbooks for different units
  differ only in their strings; once one is written, the next is the same zip but for its shared-strings part,
  which ``shared_strings_xml`` makes with xlsxwriter's own writer (``SharedStringTable``,
  ``_get_shared_string_index``, ``_sort_string_data``; ``SharedStrings``, ``_set_xml_writer``,
  ``_assemble_xml_file``); ``shared_string_count`` reads the table's count of a workbook written
  (``Workbook.str_table``).
* Direct cell writes (``io/summary/engine.py``): ``cell_writer`` gives ``Worksheet._write_string`` and its
  kin, the methods behind ``write_string`` … without the A1-notation wrapper (the same code, one call less
  per cell); ``flush_rows`` hands a sheet's last row over in constant_memory mode
  (``Worksheet._write_single_row``) so that formats get their index in the order the cells are written.
* Rows of plain values written as XML (``RowSink``, the summary's large tables in constant_memory mode):
  xlsxwriter spends most of a large sheet's time per cell (a cell record, then its XML when the row is
  done); a row of numbers, texts and blanks is written here as the very XML xlsxwriter would write for it,
  straight into the sheet's row data (``Worksheet.fh``, ``previous_row``, ``row_info``, ``_write_row``,
  ``_check_dimensions``, ``_escape_control_characters``, ``_escape_data``; ``Format._get_xf_index``); and the
  row records xlsxwriter keeps for rows written (``row_info``; ``row_sizes`` where nothing is drawn) let go.
"""

from __future__ import annotations

import io
import re
from typing import Any, Callable, Iterable

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.worksheet import Worksheet

from villagescore.io.cells import write_text

SHARED_STRINGS_PART = "xl/sharedStrings.xml"

_CELL_METHODS = ("write_string", "write_number", "write_blank", "write_formula")
_ROW_METHODS = ("_write_row", "_check_dimensions", "_escape_control_characters", "_escape_data")
_ROW_ATTRIBUTES = ("row_info", "row_sizes", "previous_row", "table", "constant_memory", "dim_colmin", "dim_colmax")


def _available() -> dict[str, bool]:
    """Each private name this module relies on, and whether this xlsxwriter has it."""
    try:
        sheet = Worksheet()
    except Exception:  # noqa: BLE001 - a constructor that changed: none of the attributes can be relied on
        sheet = None
    return {
        "Workbook.str_table": True,  # set in Workbook.__init__: checked by the test on a workbook
        **{f"SharedStringTable.{m}": hasattr(SharedStringTable, m)
           for m in ("_get_shared_string_index", "_sort_string_data")},
        **{f"SharedStrings.{m}": hasattr(SharedStrings, m) for m in ("_set_xml_writer", "_assemble_xml_file")},
        **{f"Worksheet._{m}": hasattr(Worksheet, f"_{m}") for m in _CELL_METHODS},
        "Worksheet._write_single_row": hasattr(Worksheet, "_write_single_row"),
        **{f"Worksheet.{m}": hasattr(Worksheet, m) for m in _ROW_METHODS},
        **{f"Worksheet.{a}": hasattr(sheet, a) for a in _ROW_ATTRIBUTES},
        "Format._get_xf_index": hasattr(Format, "_get_xf_index"),
    }


AVAILABLE = _available()
SHARED_STRINGS = all(v for k, v in AVAILABLE.items() if k.startswith(("Workbook", "SharedString")))
ROW_XML = all(v for k, v in AVAILABLE.items() if k.startswith(("Worksheet", "Format")))


# ------------------------------------------------------------------ shared strings (blank forms)


def shared_strings_xml(texts: Iterable[str]) -> str:
    """xl/sharedStrings.xml as xlsxwriter writes it for a workbook whose cells hold ``texts``, in this order (each
    one reference)."""
    table = SharedStringTable()
    for text in texts:
        table._get_shared_string_index(text)
    table._sort_string_data()
    writer = SharedStrings()
    writer.string_table = table
    fh = io.StringIO()
    writer._set_xml_writer(fh)
    writer._assemble_xml_file()
    return fh.getvalue()


def shared_string_count(wb: xlsxwriter.Workbook) -> int:
    """References to shared strings so far (one per cell string written)."""
    return wb.str_table.count


# ------------------------------------------------------------------ direct cell writes (the summary)


def cell_writer(ws: Worksheet, name: str) -> Callable[..., Any]:
    """``ws.<name>`` (write_string, write_number, write_blank, write_formula) without its A1-notation wrapper: the
    same code, taking (row, col, …) only."""
    return getattr(ws, f"_{name}", None) or getattr(ws, name)


def text_writer(ws: Worksheet) -> Callable[[int, int, str, Any], Any]:
    """``write_string`` without its A1 wrapper, keeping a text shaped like rich-text XML a text (``io.cells``)."""
    write = cell_writer(ws, "write_string")

    def text(r: int, c: int, value: str, fmt: Any) -> Any:
        return write_text(ws, r, c, value, fmt, write)

    return text


def flush_rows(ws: Worksheet, row: int) -> None:
    """In constant_memory mode, write out the rows before ``row`` now rather than when the workbook closes."""
    flush = getattr(ws, "_write_single_row", None)
    if ws.constant_memory and flush is not None:
        flush(row)


# ------------------------------------------------------------------ rows of plain values as XML (the summary)

_LEADING_SPACE, _TRAILING_SPACE = re.compile(r"^\s"), re.compile(r"\s$")  # xlsxwriter's: xml:space="preserve"
_TEXT_MAX = 16383  # a text this long or shorter is never cut by xlsxwriter (32,767 UTF-16 units)
PLAIN_FUNCTIONS = frozenset({"ROUND", "AVERAGEIFS"})  # functions xlsxwriter writes as they are
_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


class RowSink:
    """Rows of one constant_memory worksheet written as XML, for rows of plain cells (numbers, texts, blanks).

    The caller makes each cell's XML from ``style`` (a format's attribute) and ``number``, ``text`` or
    ``blank``, then hands the row to ``row``; rows written otherwise (formulas, merges, comments, through
    xlsxwriter's methods) may come before and after, in increasing row order as constant_memory mode wants.
    """

    def __init__(self, ws: Worksheet, *, drawings: bool = True):
        assert ws.constant_memory and ROW_XML
        self.ws = ws
        self._styles: dict[int, str] = {}
        # xlsxwriter keeps every row's height twice (``row_info`` to write the row, ``row_sizes`` to place drawings
        # and comments at close); for a row written, the first is let go, and on a sheet without drawings the second
        self._sizes = not drawings
        self._kept = 0  # rows below this let go

    @staticmethod
    def usable(ws: Worksheet) -> bool:
        return ROW_XML and bool(ws.constant_memory)

    def style(self, fmt: Format) -> str:
        """The cell attribute naming ``fmt`` (its index given on first use, as a cell written with it would)."""
        found = self._styles.get(id(fmt))
        if found is None:
            found = self._styles[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return found

    @staticmethod
    def number(ref: str, style: str, value: float | int) -> str:
        return f'<c r="{ref}"{style}><v>{value:.16G}</v></c>'

    @staticmethod
    def blank(ref: str, style: str) -> str:
        return f'<c r="{ref}"{style}/>'

    def formula(self, ref: str, style: str, formula: str, value: float) -> str | None:
        """The cell of a formula (without its leading "=") and its cached value, or None when xlsxwriter's own
        methods must write it: one that ``Worksheet._prepare_formula`` would change (an array formula, a
        function Excel knows as a future or dynamic one) calls a function other than ``PLAIN_FUNCTIONS``."""
        if formula.startswith(("{", "=")) or "_xlfn." in formula or value.__class__ is not float or any(
                name not in PLAIN_FUNCTIONS for name in _CALL.findall(formula)):
            return None
        return f'<c r="{ref}"{style}><f>{self.ws._escape_data(formula)}</f><v>{value}</v></c>'

    def text(self, ref: str, style: str, text: str) -> str | None:
        """The cell of a text, or None when xlsxwriter's own methods must write it (too long, or shaped like
        rich-text XML, see ``io.cells``)."""
        tail = self.text_tail(text)
        return None if tail is None else f'<c r="{ref}"{style}{tail}'

    def text_tail(self, text: str) -> str | None:
        """A text cell's XML after its style attribute (``f'<c r="{ref}"{style}{tail}'``), or None as ``text``."""
        if len(text) > _TEXT_MAX:
            return None
        ws = self.ws
        string = ws._escape_control_characters(text)
        if string.startswith("<r>") and string.endswith("</r>"):
            return None
        space = ' xml:space="preserve"' if _LEADING_SPACE.search(string) or _TRAILING_SPACE.search(string) else ""
        return f' t="inlineStr"><is><t{space}>{ws._escape_data(string)}</t></is></c>'

    def begin(self, r: int) -> None:
        """Row ``r`` is next: every row before it is handed over (the one pending written by xlsxwriter)."""
        ws = self.ws
        if r > ws.previous_row:
            ws._write_single_row(r)
        self._forget(r)

    def row(self, r: int, first: int, last: int, cells: list[str], height: float | None) -> None:
        """Row ``r`` (after ``begin(r)``) holding ``cells`` (XML, columns ``first``..``last`` in order), ``height``
        points high (None: the default)."""
        ws = self.ws
        assert r == ws.previous_row and not ws.table.get(r), "rows in increasing order, each written once"
        ws._check_dimensions(r, first)
        ws._check_dimensions(r, last)
        if height:
            ws.set_row(r, height)
        ws._write_row(r, None, ws.row_info.get(r))
        ws.fh.write("".join(cells))
        ws.fh.write("</row>")
        ws.previous_row = r + 1  # nothing of this row is left for xlsxwriter to write
        self._forget(r + 1)

    def _forget(self, upto: int) -> None:
        """Let go xlsxwriter's records of the rows before ``upto``, all written."""
        info, sizes = self.ws.row_info, self.ws.row_sizes if self._sizes else None
        for k in range(self._kept, upto):
            info.pop(k, None)
            if sizes is not None:
                sizes.pop(k, None)
        self._kept = max(self._kept, upto)


__all__ = ["AVAILABLE", "SHARED_STRINGS", "SHARED_STRINGS_PART", "shared_strings_xml", "shared_string_count", "cell_writer", "text_writer", "flush_rows", "ROW_XML", "RowSink"]
