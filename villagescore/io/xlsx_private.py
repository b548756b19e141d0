"""Every use of a library's private API, in this one module (``tests/test_xlsx_private.py`` checks each).

All of it is xlsxwriter's (pinned ``>=3.1,<4`` in pyproject.toml), and all of it is for speed: each use has a
public way to the same bytes, which the code takes whenever ``AVAILABLE`` says the private one is not there.
The test fails loudly when a new xlsxwriter changes what these rely on, before anyone notices a slow run.

* Package reuse (``io/replay.py``, the blank forms): a form's workbooks for different units differ only in
  their strings. ``package_workbook`` returns a Workbook whose packager (``Workbook._get_packager``,
  ``Packager._create_package``, ``Packager.filenames``, ``Packager._write_shared_strings_file``) either hands
  over every part it wrote, or writes the parts of an equal package given to it and only the shared strings
  anew; ``add_shared_string`` and ``shared_string_count`` reach the shared-string table (``Workbook.str_table``,
  ``SharedStringTable._get_shared_string_index`` and ``count``).
* Direct cell writes (``io/summary/engine.py``): ``cell_writer`` gives ``Worksheet._write_string`` and its
  kin, the methods behind ``write_string`` … without the A1-notation wrapper (the same code, one call less
  per cell); ``flush_rows`` hands a sheet's last row over in constant_memory mode
  (``Worksheet._write_single_row``) so that formats get their index in the order the cells are written.
"""

from __future__ import annotations

import io
from typing import Any, Callable

import xlsxwriter
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStringTable
from xlsxwriter.worksheet import Worksheet

from villagescore.io.cells import write_text

SHARED_STRINGS_PART = "xl/sharedStrings.xml"
# (part name, binary, its bytes or text; None for the shared strings, written anew each time)
Parts = tuple[tuple[str, bool, "str | bytes | None"], ...]

_CELL_METHODS = ("write_string", "write_number", "write_blank", "write_formula")


def _available() -> dict[str, bool]:
    """Each private name this module relies on, and whether this xlsxwriter has it."""
    return {
        "Packager._create_package": hasattr(Packager, "_create_package"),
        "Packager.filenames": hasattr(Packager(), "filenames"),
        "Packager._write_shared_strings_file": hasattr(Packager, "_write_shared_strings_file"),
        "Workbook._get_packager": hasattr(xlsxwriter.Workbook, "_get_packager"),
        "Workbook.str_table": True,  # set in Workbook.__init__: checked by the test on a workbook
        "SharedStringTable._get_shared_string_index": hasattr(SharedStringTable, "_get_shared_string_index"),
        **{f"Worksheet._{m}": hasattr(Worksheet, f"_{m}") for m in _CELL_METHODS},
        "Worksheet._write_single_row": hasattr(Worksheet, "_write_single_row"),
    }


AVAILABLE = _available()
PACKAGE_REUSE = all(v for k, v in AVAILABLE.items() if k.startswith(("Packager", "Workbook", "SharedString")))


# ------------------------------------------------------------------ package reuse (blank forms)


class _Packager(Packager):
    """xlsxwriter's packager; with the parts of an equal package known, only the shared strings are written."""

    def __init__(self, parts: Parts | None, keep: Callable[[Parts], None] | None):
        super().__init__()
        self._parts, self._keep = parts, keep

    def _create_package(self):  # type: ignore[no-untyped-def]
        if self._parts is None:
            files = super()._create_package()
            if self._keep is not None:
                self._keep(tuple((name, binary, None if name == SHARED_STRINGS_PART else handle.getvalue())
                                 for handle, name, binary in files))
            return files
        for name, binary, data in self._parts:
            if data is None:
                self._write_shared_strings_file()  # appends its part, as in a full package
            else:
                self.filenames.append(((io.BytesIO if binary else io.StringIO)(data), name, binary))
        return self.filenames


class _Workbook(xlsxwriter.Workbook):
    package: tuple[Parts | None, Callable[[Parts], None] | None] = (None, None)

    def _get_packager(self) -> Packager:
        return _Packager(*self.package)


def package_workbook(buf: io.BytesIO, options: dict[str, Any], parts: Parts | None = None) -> xlsxwriter.Workbook:
    """A Workbook writing into ``buf``. With ``parts`` (an equal package's, as ``on_package`` handed them over) its
    close writes those parts and only the shared strings anew (fill the table with ``add_shared_string``).
    Without ``PACKAGE_REUSE``: xlsxwriter's own Workbook (``parts`` must then be None)."""
    if not PACKAGE_REUSE:
        assert parts is None
        return xlsxwriter.Workbook(buf, options)
    wb = _Workbook(buf, options)
    wb.package = (parts, None)
    return wb


def on_package(wb: xlsxwriter.Workbook, keep: Callable[[Parts], None]) -> None:
    """Have the close of a ``package_workbook`` (written in full) pass every part it writes to ``keep``."""
    if isinstance(wb, _Workbook) and wb.package[0] is None:
        wb.package = (None, keep)


def add_shared_string(wb: xlsxwriter.Workbook, text: str) -> None:
    """Put ``text`` in the workbook's shared-string table, as a cell holding it would."""
    wb.str_table._get_shared_string_index(text)


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


__all__ = ["AVAILABLE", "PACKAGE_REUSE", "SHARED_STRINGS_PART", "package_workbook", "on_package", "add_shared_string",
           "shared_string_count", "cell_writer", "text_writer", "flush_rows"]
