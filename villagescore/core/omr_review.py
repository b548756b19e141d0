"""The review sheet of ballots read from scans (扫描核对), and how the clerk's answers reach the entry sheet.

``villagescore scan`` writes each unit's entry workbook with the values it is sure of and leaves every other
cell blank; what it was not sure of is listed on the workbook's second sheet, one row per question (or per
page it could not read), with a cut-out image and a 核对结果 cell for the clerk. When the workbook is read
back, ``apply_review`` writes each answer into the entry sheet's grid as if it had been typed there (a
score, an option, 作废 into 是否作废), so that every check of a typed ballot applies to it; a row without an
answer is an error, so nothing unconfirmed is ever counted. The clerk may also type into the entry sheet
directly: a blank answer is then taken as confirmed by what was typed; an answer that differs from it is an
error.

Pure: grids in (as the reader gives them), a grid and issues out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from villagescore.core.issues import Issue, issue
from villagescore.core.layout import _col
from villagescore.core.normalize import clean_text, is_blank
from villagescore.core.numbers import plain
from villagescore.core.omr import ANSWER_BLANK, ANSWER_VOID, PAGE_ANSWERS
from villagescore.core.scheme import Column
from villagescore.core.tables import column_letter, find_header, parse_table

REVIEW_SHEET = "扫描核对"
SHEET_KEY = "scan_sheet"  # identity key: the review sheet's name (its presence marks a workbook filled from scans)
READ_KEY, REVIEWED_KEY, FILES_KEY = "scan_read", "scan_review", "scan_files"  # identity keys for 说明
WHOLE = "整票"  # 代码 of a review row about a whole page (not read, or a serial seen twice)
VOID_KEY, SERIAL_KEY = "void", "serial"


def review_columns() -> list[Column]:
    """The review sheet's columns (its header row is row 4, as on every form)."""
    return [
        _col("seq", "序号", "integer"),
        _col("serial", "票号", "integer", required=True),
        _col("label", "项目"),
        _col("key", "代码", required=True),
        _col("cell", "录入表位置"),
        _col("seen", "判读情况"),
        _col("image", "扫描图像"),
        _col("answer", "核对结果"),
    ]


def allowed(col: Column | None, halves: bool) -> list[str]:
    """Answers for a review row about column ``col`` (None: a whole page)."""
    if col is None:
        return list(PAGE_ANSWERS)
    if col.type == "option":
        return [*col.options, ANSWER_BLANK, ANSWER_VOID]
    step = Decimal("0.5") if halves else Decimal(1)
    top, v, out = col.max or Decimal(0), col.min or Decimal(0), []
    while v <= top:
        out.append(plain(v))
        v += step
    return [*out, ANSWER_VOID]


def _same(a: Any, b: str) -> bool:
    """Whether a cell's raw value says the same as an answer (7, 7.0 and "7" alike)."""
    text = clean_text(a)
    if text == b:
        return True
    try:
        return Decimal(text) == Decimal(b)
    except (InvalidOperation, ValueError):
        return False


def _answer(raw: Any) -> str:
    text = clean_text(raw).replace(" ", "")
    try:
        return plain(Decimal(text))
    except (InvalidOperation, ValueError):
        return text


def apply_review(cols: list[Column], entry: list[list[Any]], review: list[list[Any]], *, file: str, sheet: str,
                 unit: str = "", halves: bool = False) -> tuple[list[list[Any]], list[Issue], int]:
    """The entry sheet's grid with the review sheet's answers written in, the issues of the review, and the
    number of ballots (serials) it covers."""
    where = {"file": file, "sheet": REVIEW_SHEET, "unit": unit}
    rows, issues, _ = parse_table(review, review_columns(), file=file, sheet=REVIEW_SHEET, unit=unit,
                                  keep_if_only={"seq"})
    found = find_header(entry, cols)
    if found is None:
        return entry, issues, 0
    head, pos = found
    by_key = {c.key: c for c in cols}
    lines: dict[int, int] = {}  # serial → 0-based grid row
    for i in range(head + 1, len(entry)):
        cells = entry[i]
        p = pos.get(SERIAL_KEY)
        if p is not None and p < len(cells):
            try:
                lines.setdefault(int(Decimal(clean_text(cells[p]))), i)
            except (InvalidOperation, ValueError):
                continue
    grid = list(entry)
    changed: set[int] = set()

    def cell_of(r: int, key: str) -> str:
        return f"{column_letter(pos[key])}{r + 1}"

    def put(r: int, key: str, value: str) -> None:
        if r not in changed:
            grid[r] = list(grid[r])
            changed.add(r)
        row = grid[r]
        if len(row) <= pos[key]:
            row.extend([""] * (pos[key] + 1 - len(row)))
        row[pos[key]] = value

    serials: set[int] = set()
    voided = {int(rv.get("serial")) for rv in rows
              if rv.get("serial") is not None and _answer(rv.values.get("answer")) == ANSWER_VOID}
    for rv in rows:
        serial, key = rv.get("serial"), str(rv.get("key") or "")
        if serial is None or not key:
            continue
        serial = int(serial)
        serials.add(serial)
        at = rv.cell("answer")
        label = str(rv.get("label") or "")
        r = lines.get(serial)
        col = None if key == WHOLE else by_key.get(key)
        if r is None or (key != WHOLE and (col is None or key not in pos)):
            issues.append(issue("scan-review-unknown", **where, cell=rv.cell("key"), serial=serial, key=key))
            continue
        raw = grid[r][pos[key]] if key != WHOLE and pos[key] < len(grid[r]) else None
        typed = key != WHOLE and not is_blank(raw)
        answer = _answer(rv.values.get("answer"))
        if not answer:
            if not typed and serial not in voided:  # a ballot voided in another row needs nothing more
                hint_cell = cell_of(r, key) if key != WHOLE else f"第 {r + 1} 行"
                issues.append(issue("scan-review-pending", **where, cell=at, serial=serial, label=label,
                                    entry=hint_cell))
            continue
        options = allowed(col, halves)
        if answer not in options:
            shown = "、".join(options if len(options) <= 14 else [*options[:3], "…", *options[-4:]])
            issues.append(issue("scan-answer-invalid", **where, cell=at, value=answer, options=shown))
            continue
        if answer == ANSWER_VOID:
            if VOID_KEY in pos:
                put(r, VOID_KEY, "是")
            continue
        if answer == ANSWER_BLANK or answer == "不计入":
            if typed and answer == ANSWER_BLANK:
                issues.append(issue("scan-answer-conflict", **where, cell=at, value=answer, entry=cell_of(r, key),
                                    other=clean_text(raw)))
            continue
        if answer == "已录入":
            items = [k for k in pos if k not in (SERIAL_KEY, VOID_KEY)]
            if not any(pos[k] < len(grid[r]) and not is_blank(grid[r][pos[k]]) for k in items) and not (
                    VOID_KEY in pos and pos[VOID_KEY] < len(grid[r]) and clean_text(grid[r][pos[VOID_KEY]]) == "是"):
                issues.append(issue("scan-page-not-entered", **where, cell=at, serial=serial, entry=f"第 {r + 1} 行"))
            continue
        if typed:
            if not _same(raw, answer):
                issues.append(issue("scan-answer-conflict", **where, cell=at, value=answer, entry=cell_of(r, key),
                                    other=clean_text(raw)))
            continue
        put(r, key, answer)
    return grid, issues, len(serials)


# ------------------------------------------------------------------ what the scan leaves for the clerk


@dataclass
class ReviewItem:
    """One thing the reader was not sure of: a question of a ballot, or a whole page (``key`` WHOLE)."""

    serial: int
    key: str  # the entry column's key, or WHOLE
    label: str  # the item or person, or what the page is
    seen: str  # what the reader saw and why it is not sure (Chinese)
    answers: list[str] = field(default_factory=list)
    image: bytes = b""  # PNG or JPEG cut-out
    source: str = ""  # scan file and page, e.g. "扫描件/批次1.pdf 第 3 页"
    cell: str = ""  # where the answer goes on the entry sheet, e.g. "D7"


# ------------------------------------------------------------------ what compute's 说明 says about scans


def scan_summary(forms: list, periods: list[str]) -> tuple[list, str]:
    """(the scan files behind the entry workbooks read, as input-file records; a line for 说明) from the identity
    records of workbooks filled by ``scan`` (``forms``: the FormData read, of the periods computed)."""
    import json

    from villagescore.core.records import InputFile

    files: dict[str, tuple[str, set[str]]] = {}  # SHA-256 → (name, units)
    read = reviewed = books = 0
    for fd in forms:
        meta = fd.meta or {}
        if READ_KEY not in meta or fd.period not in periods:
            continue
        books += 1
        read += int(meta.get(READ_KEY) or 0) if str(meta.get(READ_KEY, "")).isdigit() else 0
        reviewed += int(meta.get(REVIEWED_KEY) or 0) if str(meta.get(REVIEWED_KEY, "")).isdigit() else 0
        try:
            listed = json.loads(meta.get(FILES_KEY) or "[]")
        except ValueError:
            listed = []
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, list) and len(item) == 2:
                name, sha = str(item[0]), str(item[1])
                files.setdefault(sha, (name, set()))[1].add(fd.unit or "")
    if not books:
        return [], ""
    records = [InputFile(f"扫描件：{name}", sha, "", next(iter(units)) if len(units) == 1 else "", "",
                         status=f"扫描件，已读入 {len(units)} 个单位的录入表")
               for sha, (name, units) in sorted(files.items(), key=lambda kv: kv[1][0])]
    note = (f"{books} 份录入表由扫描的测评票读入：共 {read + reviewed} 张票，机器读出 {read} 张，"
            f"经人工核对 {reviewed} 张；扫描件 {len(files)} 个，其 SHA-256 见下方“读取的文件”（扫描件本身不保存）")
    return records, note
