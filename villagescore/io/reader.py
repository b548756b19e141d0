"""Reading workbooks: sniff the real format, check it before parsing, return plain grids.

Clerks rename files by hand (.xlsx saved as .xls, a web page saved as .xls, a CSV named .xlsx), so
the format is taken from the first bytes, never from the extension. Anything that cannot be read
raises ``FileRefused`` with an issue code and Chinese parameters; nothing else escapes.

Every format is pre-scanned before python-calamine sees it (``io/guards.py``: zip bombs, DTDs, macros, content
beyond MAX_ROWS × MAX_COLS, passwords); this module loads what passes into grids.

In every format hidden rows, cached errors and formulas without a value are noted; noted cells go
into the grid as ``CellProblem`` values, so the table parser reports them on the cell like any other
bad value. Merged cells carry their value into every cell they cover. Macros are never run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from villagescore.core.issues import Issue, issue
from villagescore.core.layout import IDENTITY_SHEET
from villagescore.core.normalize import clean_text
from villagescore.io.atomic import os_reason
from villagescore.io.guards import (
    MAX_COLS,
    MAX_FILE,
    MAX_PROBLEMS,
    MAX_ROWS,
    MAX_SHEETS,
    FileRefused,
    Scan,
    guard_zip,
    refuse,
    scan_xls,
    sniff,
)

EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".et", ".ods"}
# Files a clerk may leave beside the workbooks that hold data we cannot read: reported, not read.
OTHER_DATA = {".csv": "CSV 文本", ".txt": "纯文本", ".doc": "Word 文档", ".docx": "Word 文档", ".wps": "WPS 文字文档",
              ".pdf": "PDF 文件", ".htm": "网页", ".html": "网页", ".mht": "网页", ".xlsb": "Excel 二进制工作簿",
              ".numbers": "Numbers 表格"}
_SYSTEM_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}


@dataclass
class Workbook:
    path: Path
    sha256: str
    format: str  # "xlsx", "xls" or "ods"
    sheets: dict[str, list[list[Any]]]  # name → rows from A1, at most MAX_ROWS × MAX_COLS
    sheet_order: list[str]
    hidden: set[str]  # hidden and very hidden sheets
    identity: dict[str, str] | None  # the _villagescore record, when written by this tool
    trimmed: dict[str, str] = field(default_factory=dict)  # sheet → farthest cell that was cut away
    hidden_rows: dict[str, list[int]] = field(default_factory=dict)  # sheet → hidden row numbers (1-based)
    macros: bool = False  # the file carries VBA/Basic code (never run)
    # what a reading worker made of a form's grids (``villagescore.stages.parse.ParsedForm``); the grids are then
    # dropped (``sheets`` empty)
    parsed: Any = None
    # sheet → merged ranges (first row, first column, last row, last column; 0-based, inclusive) within the limits:
    # their cells carry the top-left value (see ``_fill_merged``), which a form's entry area must not
    merged: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)

    def visible(self) -> list[str]:
        return [s for s in self.sheet_order if s not in self.hidden and s != IDENTITY_SHEET]


# ------------------------------------------------------------------ files and folders


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_lock_or_system_file(path: str | Path) -> bool:
    """Office/WPS lock files (~$a.xlsx, .~lock.a.xlsx#), macOS ._ files, Thumbs.db, .DS_Store."""
    name = Path(path).name
    return name.startswith(("~$", ".~", "._")) or name.lower() in _SYSTEM_NAMES


def iter_workbook_files(folders: list[Path], others: list[Path] | None = None) -> list[Path]:
    """Workbook files under ``folders`` (recursive, sorted), without lock files or dot-folders.

    ``others``, when given, receives the data files that are not workbooks (CSV, Word, PDF…; see
    ``OTHER_DATA``), so the caller can say they were not read.
    """
    found: dict[tuple[str, ...], Path] = {}  # by the path's parts as Path compares them (case-blind on Windows)
    rest: dict[tuple[str, ...], Path] = {}
    for folder in map(Path, folders):
        if folder.is_file():
            candidates = [(folder.parent, folder.name)]
        else:
            candidates = []
            for root, dirs, files in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
                base = Path(root)
                candidates.extend((base, f) for f in files)
        for base, name in candidates:
            suffix = os.path.splitext(name)[1].lower()
            if suffix not in EXTENSIONS and suffix not in OTHER_DATA or is_lock_or_system_file(name):
                continue
            p = base / name
            key = p.parts if os.path.normcase("A") == "A" else tuple(map(os.path.normcase, p.parts))
            (found if suffix in EXTENSIONS else rest)[key] = p
    if others is not None:
        others.extend(rest[k] for k in sorted(rest))
    return [found[k] for k in sorted(found)]


# ------------------------------------------------------------------ reading


def read_workbook(path: Path) -> Workbook:
    """Read every sheet of a workbook into grids of raw values; raise FileRefused when unreadable."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise refuse(f"文件超过 {MAX_FILE >> 20} MB，不像是填报表格")
        data = path.read_bytes()
    except FileRefused:
        raise
    except FileNotFoundError:
        raise refuse("文件不存在") from None
    except PermissionError:
        raise refuse("没有读取权限，或文件正在 Excel/WPS 中打开（请先关闭该文件）") from None
    except OSError as exc:
        raise refuse(f"读取文件出错（{os_reason(exc)}）") from None
    sha = hashlib.sha256(data).hexdigest()
    try:
        fmt = sniff(data)
        scans: dict[str, Scan] = {}
        macros = False
        if fmt == "zip":
            data, fmt, scans, macros = guard_zip(data)
        elif fmt == "xls":
            data, scans, macros = scan_xls(data)
        with _quiet_stderr():
            return _load(path, sha, fmt, data, scans, macros)
    except FileRefused:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine errors, and pyo3 panics (a BaseException)
        text = str(exc)
        if isinstance(exc, PasswordError) or "password" in text.lower() or "encrypt" in text.lower():
            raise FileRefused("password-protected", {}) from None
        # the reading library's own words are English ("Cell string index not found …"): not for the clerk
        raise refuse("文件内容已损坏或格式不受支持；请用 Excel 或 WPS 打开后另存为 .xlsx 再提交") from None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """calamine's panics on damaged files arrive here as exceptions, but Rust prints them to stderr
    first; keep that text from the clerk (single-threaded use)."""
    try:
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _fill_merged(grid: list[list[Any]], ranges: Iterable[tuple[int, int, int, int]]) -> None:
    """Give every cell a merged range covers the value of its top-left cell (within the grid)."""
    budget = MAX_ROWS * MAX_COLS
    for r0, c0, r1, c1 in ranges:
        if r0 >= len(grid) or c0 >= len(grid[r0]) or grid[r0][c0] in ("", None):
            continue
        r1, c1 = min(r1, len(grid) - 1), min(c1, len(grid[r0]) - 1)
        budget -= (r1 - r0 + 1) * (c1 - c0 + 1)
        if budget < 0:
            return
        top = grid[r0][c0]
        for r in range(r0, r1 + 1):
            row = grid[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if row[c] in ("", None):
                    row[c] = top


def _put(grid: list[list[Any]], row: int, col: int, value: Any) -> None:
    while len(grid) <= row:
        grid.append([])
    cells = grid[row]
    if len(cells) <= col:
        cells.extend([""] * (col + 1 - len(cells)))
    cells[col] = value


def _load(path: Path, sha: str, fmt: str, data: bytes, scans: dict[str, Scan], macros: bool) -> Workbook:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    order: list[str] = []
    hidden: set[str] = set()
    for meta in book.sheets_metadata:
        if meta.typ in (SheetTypeEnum.ChartSheet, SheetTypeEnum.Vba):
            continue  # no cells there
        order.append(meta.name)
        if meta.visible != SheetVisibleEnum.Visible:
            hidden.add(meta.name)
    if len(order) > MAX_SHEETS:
        raise refuse(f"工作表超过 {MAX_SHEETS} 个，内容异常")
    sheets: dict[str, list[list[Any]]] = {}
    hidden_rows: dict[str, list[int]] = {}
    merges: dict[str, list[tuple[int, int, int, int]]] = {}
    for name in order:
        sheet = book.get_sheet_by_name(name)
        grid = [row[:MAX_COLS] for row in sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)]
        scan = scans.get(name) or Scan()
        merged = scan.merged or [(a, b, c, d) for (a, b), (c, d) in (sheet.merged_cell_ranges or [])]
        _fill_merged(grid, merged)
        kept = [m for m in itertools.islice(merged, MAX_PROBLEMS) if m[0] < MAX_ROWS and m[1] < MAX_COLS]
        if kept:
            merges[name] = kept
        for (r, c), problem in scan.problems.items():
            _put(grid, r, c, problem)
        sheets[name] = grid
        if scan.hidden_rows:
            hidden_rows[name] = sorted(scan.hidden_rows)
    trimmed = {name: s.cut for name, s in scans.items() if s.cut}
    return Workbook(path, sha, fmt, sheets, order, hidden, _identity(sheets.get(IDENTITY_SHEET)), trimmed,
                    hidden_rows, macros, merged=merges)


def _identity(grid: list[list[Any]] | None) -> dict[str, str] | None:
    if not grid:
        return None
    record: dict[str, str] = {}
    for row in grid:
        key = clean_text(row[0]) if row else ""
        if key and key not in record:
            record[key] = clean_text(row[1]) if len(row) > 1 else ""
    return record if record.get("tool") == "villagescore" else None


# ------------------------------------------------------------------ issues about a workbook as a whole


def file_issues(wb: Workbook, file: str, used: Iterable[str], unit: str = "") -> list[Issue]:
    """Warnings about a workbook that was used: macros ignored, hidden sheets (read or not)."""
    used = set(used)
    out = [issue("macros-ignored", file=file, unit=unit)] if wb.macros else []
    for s in wb.sheet_order:
        if s in wb.hidden and s != IDENTITY_SHEET:
            out.append(issue("sheet-hidden", file=file, sheet=s, unit=unit,
                             effect="其中的数据已读取" if s in used else "其内容未读取"))
    return out


def sheet_issues(wb: Workbook, file: str, sheet: str, rows: Iterable[int], unit: str = "") -> list[Issue]:
    """Warnings about a sheet that was read: content cut away, records in hidden rows."""
    out = []
    if sheet in wb.trimmed:
        out.append(issue("sheet-trimmed", file=file, sheet=sheet, cell=wb.trimmed[sheet], unit=unit,
                         rows=MAX_ROWS, cols=MAX_COLS))
    hidden = set(wb.hidden_rows.get(sheet, ())) & set(rows)
    out += [issue("row-hidden", file=file, sheet=sheet, cell=str(r), unit=unit, row=r) for r in sorted(hidden)]
    return out


__all__ = [
    "Workbook", "FileRefused", "read_workbook", "sha256_of", "is_lock_or_system_file", "iter_workbook_files",
    "file_issues", "sheet_issues", "MAX_ROWS", "MAX_COLS", "OTHER_DATA",
]
