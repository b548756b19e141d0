"""Pre-scanning a workbook's bytes before python-calamine sees them: the format sniffed from the first bytes, and
a guard for each container.

calamine allocates a dense grid from A1 to the farthest cell (one stray value in XFD1048576 aborts the whole
process) and returns "" for a formula error or a formula without a stored result (silently), so:

* .xlsx/.xlsm (``guard_zip``): zip bombs, DTD/entity declarations, Strict Open XML and macros are checked; cells
  beyond MAX_ROWS × MAX_COLS are cut away; a declared dimension is ignored.
* .ods: the same zip checks; content beyond the limits is refused.
* .xls/.et (``scan_xls``): the OLE2 container and the BIFF records are walked: an open password (FILEPASS) and
  content beyond the limits are refused.

What a guard notes about a sheet (hidden rows, cached errors, formulas without a value, cells cut away) is its
``Scan``; ``io/reader.py`` loads the grids and puts the noted cells into them. Anything that cannot be read
raises ``FileRefused`` with an issue code and Chinese parameters.
"""

from __future__ import annotations

import functools
import html
import io
import itertools
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator

from defusedxml import ElementTree

from villagescore.core.issues import Issue, issue
from villagescore.core.normalize import CellProblem
from villagescore.core.tables import column_letter

MAX_FILE = 100 * 1024 * 1024  # bytes on disk
MAX_UNZIPPED = 200 * 1024 * 1024  # all members of an .xlsx/.ods together
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MB
MAX_SHEETS = 200
MAX_ROWS = 100_000  # cells beyond these are not read (cut away in .xlsx, refused elsewhere); a county roster
# with its criteria (10 rows a village) and ledger fits: 6,000 villages → 60,000 criteria rows
MAX_COLS = 200
MAX_PROBLEMS = 10_000  # noted problem cells per sheet

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DAMAGED = "文件已损坏或不完整，可能复制或下载时中断；请重新保存后提交"


class FileRefused(Exception):
    """A file that cannot be read. ``code`` is an issue code, ``params`` its message parameters."""

    def __init__(self, code: str, params: dict[str, Any] | None = None, *, sheet: str = "", cell: str = ""):
        self.code = code
        self.params = dict(params or {})
        self.sheet = sheet
        self.cell = cell
        super().__init__(f"{code}: {self.params} {sheet}{cell}")

    def issue(self, file: str, unit: str = "") -> Issue:
        return issue(self.code, file=file, sheet=self.sheet, cell=self.cell, unit=unit, **self.params)


def refuse(reason: str) -> FileRefused:
    return FileRefused("file-unreadable", {"reason": reason})


def too_large(sheet: str, row: int, col: int) -> FileRefused:
    return FileRefused("sheet-too-large", {"rows": MAX_ROWS, "cols": MAX_COLS}, sheet=sheet,
                       cell=f"{column_letter(col)}{row + 1}")


@dataclass
class Scan:
    """What the pre-scan noted about one sheet."""

    cut: str | None = None  # farthest cell cut away (.xlsx)
    hidden_rows: set[int] = field(default_factory=set)  # 1-based
    problems: dict[tuple[int, int], CellProblem] = field(default_factory=dict)  # 0-based (row, col)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # .ods; calamine gives the others

    def problem(self, row: int, col: int, code: str, value: str = "") -> None:
        if len(self.problems) < MAX_PROBLEMS and row < MAX_ROWS and col < MAX_COLS:
            self.problems[row, col] = CellProblem(code, value)


# ------------------------------------------------------------------ format sniffing


def sniff(data: bytes) -> str:
    if not data:
        raise refuse("文件是空的（0 字节），可能没有保存完整")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data[:8] == _OLE:
        return _sniff_ole(data)
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text, e.g. Excel's "Unicode 文本"
        sample = sample[2:].replace(b"\x00", b"")
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    if controls > len(sample) // 100:
        raise refuse("无法识别的文件类型，不是 Excel 或 WPS 表格")
    head = sample.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<head", b"<meta")) or b"<html" in head:
        raise refuse("这是网页（HTML）文件，只是扩展名改成了表格")
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in sample:
        raise refuse("这是旧式“XML 表格”文件")
    if head.startswith(b"mime-version"):
        raise refuse("这是“单个文件网页”（.mht）")
    if head.startswith(b"{\\rtf"):
        raise refuse("这是 RTF 文档，不是表格")
    raise refuse("这是 CSV 或纯文本文件，不是 Excel 工作簿")


def _sniff_ole(data: bytes) -> str:
    """An OLE2 compound file: .xls/.et, a Word .doc, or a password-protected .xlsx."""
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage") or has("EncryptionInfo"):
        raise FileRefused("password-protected", {})
    if has("WordDocument"):
        raise refuse("这是 Word 文档，不是表格")
    if has("PowerPoint Document"):
        raise refuse("这是 PowerPoint 演示文稿，不是表格")
    if has("Workbook") or has("Book"):
        return "xls"
    try:
        _ole_stream(data, ())  # walks the container: a cut-off file fails here
    except (ValueError, struct.error):
        raise refuse(_DAMAGED) from None
    raise refuse("无法识别的 Office 文件，不是 Excel 或 WPS 表格")


# ------------------------------------------------------------------ .xlsx / .ods (zip) guards

# calamine opens worksheets only under xl/worksheets/, finding a part by its name in any case
_WORKSHEET = re.compile(r"^/?xl/worksheets/(?!_rels/)", re.IGNORECASE)
_SHEET_DATA = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)sheetData\b[^>]*?(?:/>|>.*?</(?P=p)sheetData>)", re.DOTALL)
_ROW_OR_CELL = re.compile(
    rb"<(?:[\w.-]+:)?row\b(?P<row>[^>]*)>"
    rb"|<(?P<p>(?:[\w.-]+:)?)c\b(?P<cell>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)",
    re.DOTALL,
)
_R_ROW = re.compile(rb'(?:^|\s)r\s*=\s*["\'](\d+)')
_R_CELL = re.compile(rb'(?:^|\s)r\s*=\s*["\']([A-Za-z]{1,3})(\d+)')
_T_ATTR = re.compile(rb'(?:^|\s)t\s*=\s*["\'](\w+)')
_HIDDEN = re.compile(rb'(?:^|\s)hidden\s*=\s*["\'](?:1|true)["\']')
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)<")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?ref\s*=\s*[\"'](?:[^\"':]*:)?([A-Za-z]{1,3})(\d+)[\"'][^>]*>")
_DTD = [w.encode(enc) for w in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be")]
_STRICT = b"purl.oclc.org/ooxml/spreadsheetml/main"
_SST_HEAD = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*>")
_COUNTS = re.compile(rb'\s(?:unique)?[cC]ount\s*=\s*["\'](\d+)["\']')


# A sheet needs the careful per-cell visit only when one of these shows up; most filled forms have none.
_NEEDS_VISIT = re.compile(rb'<(?:[\w.-]+:)?f[\s>/]|\st\s*=\s*["\']e["\']|\shidden\s*=')
# Substrings one of which every _NEEDS_VISIT match contains: checked first, since the alternation
# without a literal prefix scans slowly (most sheets contain none of them).
_VISIT_HINTS = (b"<f", b":f", b"hidden", b'"e"', b"'e'", b'"e\'', b"'e\"")
_ROW_REF = re.compile(rb'<row\s[^>]*?\br\s*=\s*["\'](\d+)')
_CELL_REF = re.compile(rb'<c\s[^>]*?\br\s*=\s*["\']([A-Za-z]{1,3})\d')


def _needs_visit(data: bytes) -> bool:
    return any(h in data for h in _VISIT_HINTS) and _NEEDS_VISIT.search(data) is not None


def _has_dtd(body: bytes) -> bool:
    """A DTD or entity declaration (ASCII/UTF-8 or UTF-16); each contains "<!" or "<\\0!"."""
    return (b"<!" in body or b"<\x00!" in body) and any(w in body for w in _DTD)


def _beyond(last: str) -> re.Pattern[bytes]:
    """A cell reference of a column after ``last`` (two letters, as for MAX_COLS = 200: GR), in any case."""
    assert len(last) == 2
    a, b = last[0].upper(), last[1].upper()
    after = lambda ch: f"{chr(ord(ch) + 1)}-Z{chr(ord(ch) + 1).lower()}-z" if ch != "Z" else "^\\s\\S"
    return re.compile(rf'<c r="(?:[A-Za-z]{{3}}|[{after(a)}][A-Za-z]|[{a}{a.lower()}][{after(b)}])\d'.encode())


_FAR_ROW = re.compile(rb'<row r="(\d{6,})"')  # six digits or more: perhaps beyond MAX_ROWS
_FAR_COL = _beyond(column_letter(MAX_COLS - 1))  # column_letter counts from 0: GR


def _plain_sheet(data: bytes) -> bool:
    """True when a sheet has no formula, error cell, hidden row or unreferenced cell, and stays within
    the limits: then the per-cell visit cannot find anything and is skipped (the scans run in C)."""
    if not data.startswith(b"<sheetData") or _needs_visit(data):
        return False  # namespace prefixes, formulas, errors or hidden rows: look at every cell
    if data.count(b'<row r="') != data.count(b"<row ") + data.count(b"<row>") or \
            data.count(b'<c r="') != data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/>"):
        return False  # a row or cell whose reference is not first, or missing: look at every one
    if any(int(r) > MAX_ROWS for r in _FAR_ROW.findall(data)):
        return False
    return _FAR_COL.search(data) is None


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


def _xml_text(raw: bytes) -> str:
    return html.unescape(re.sub(rb"<[^>]+>", b"", raw).decode("utf-8", "replace")).strip()


def _scan_sheet(xml: bytes) -> tuple[bytes, Scan, bool]:
    """Note hidden rows, cached errors and formulas without a value; cut cells beyond the limits.

    Returns (xml, scan, changed). A declared dimension beyond the limits is dropped (never trusted).
    """
    scan = Scan()
    changed = False
    d = _DIMENSION.search(xml)
    if d and (int(d.group(2)) > MAX_ROWS or _col_index(d.group(1)) >= MAX_COLS):
        xml, changed = xml[: d.start()] + xml[d.end():], True
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start >= 0 and end > start and _plain_sheet(xml[start:end]):
        return xml, scan, changed
    m = _SHEET_DATA.search(xml)
    if not m:
        return xml, scan, changed
    state = {"row": 0, "col": -1}

    def visit(c: re.Match[bytes]) -> bytes:
        if c.group("row") is not None:
            attrs = c.group("row")
            r = _R_ROW.search(attrs)
            state["row"] = int(r.group(1)) if r else state["row"] + 1
            state["col"] = -1
            if _HIDDEN.search(attrs) and state["row"] <= MAX_ROWS:
                scan.hidden_rows.add(state["row"])
            return c.group(0)
        attrs = c.group("cell")
        ref = _R_CELL.search(attrs)
        if ref:
            state["row"], state["col"] = int(ref.group(2)), _col_index(ref.group(1))
        else:
            state["col"] += 1
        row, col = state["row"], state["col"]
        if row > MAX_ROWS or col >= MAX_COLS:
            scan.cut = f"{column_letter(col)}{row}"
            return b""
        body = c.group("body") or b""
        t = _T_ATTR.search(attrs)
        kind = t.group(1) if t else b"n"
        v = _VALUE.search(body)
        if kind == b"e":
            scan.problem(row - 1, col, "formula-error", _xml_text(v.group(1)) if v else "#错误")
        elif _FORMULA.search(body) and not (v and (v.group(1).strip() or kind in (b"str", b"inlineStr"))):
            scan.problem(row - 1, col, "formula-no-value")
        return c.group(0)

    data = _ROW_OR_CELL.sub(visit, m.group(0))
    if scan.cut is None:
        return xml, scan, changed
    return xml[: m.start()] + data + xml[m.end():], scan, True


def _trim_sheet(xml: bytes) -> tuple[bytes, str | None]:
    """Drop cells beyond MAX_ROWS × MAX_COLS; return (xml, farthest cut cell or None)."""
    out, scan, _ = _scan_sheet(xml)
    return out, scan.cut


# The parts of an .xlsx python-calamine opens (it finds a part by its name in any case): each is inflated with
# its size and CRC checked and scanned for DTDs; the other parts, which nothing reads, only pass the checks on
# the zip directory (sizes, ratios, names).
_READ_PARTS = frozenset({"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml", "xl/styles.xml"})
_READ_FOLDERS = ("xl/worksheets/", "/xl/worksheets/", "xl/tables/", "/xl/tables/")


def _is_read(name: str) -> bool:
    low = name.lower()
    return low in _READ_PARTS or low.startswith(_READ_FOLDERS)


def _part(members: dict[str, bytes], name: str) -> tuple[str, bytes]:
    """(member name, bytes) of the part ``name`` as calamine finds it (any case); ("", b"") when missing."""
    if name in members:
        return name, members[name]
    low = name.lower()
    found = next((n for n in members if n.lower() == low), "")
    return found, members.get(found, b"")


def guard_zip(data: bytes) -> tuple[bytes, str, dict[str, Scan], bool]:
    """Check an OOXML/ODF zip; return (bytes for calamine, format, sheet → scan, has macros)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise refuse("文件已损坏或不完整（压缩包无法打开），可能复制或下载时中断；请重新保存后提交") from None
    sheets = [i for i in infos if _WORKSHEET.search(i.filename)]
    if sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise refuse(f"文件解压后超过 {MAX_UNZIPPED >> 20} MB，内容异常")
    if len(sheets) > MAX_SHEETS:
        raise refuse(f"工作表超过 {MAX_SHEETS} 个，内容异常")
    if len({i.filename.lower() for i in infos}) != len(infos):  # which copy would calamine read? never guess
        raise refuse("文件内容异常（压缩包中有重名的部件），可能是恶意构造的文件")
    if any(i.file_size > (1 << 20) and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        raise refuse("文件压缩比异常（可能是恶意构造的文件）")
    ods = any(i.filename == "mimetype" for i in infos)
    members: dict[str, bytes] = {}
    try:  # reading a member checks its CRC and never inflates beyond the declared size
        for i in infos:
            if ods or _is_read(i.filename):
                body = _inflate(data, i)
                members[i.filename] = zf.read(i) if body is None else body
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and "encrypt" in str(exc).lower():
            raise FileRefused("password-protected", {}) from None
        raise refuse("文件已损坏（压缩包内容校验失败）；请重新保存后提交") from None
    for name, body in members.items():
        if name.lower().endswith((".xml", ".rels", ".vml")) and _has_dtd(body):
            raise refuse("文件内部含有不允许的 XML 声明（DTD/实体），可能是恶意构造的文件")
    names = [i.filename for i in infos]
    if ods:
        if b"opendocument.spreadsheet" not in members["mimetype"][:100]:
            raise refuse("这是 OpenDocument 文字或演示文件，不是表格")
        if b"encryption-data" in members.get("META-INF/manifest.xml", b""):
            raise FileRefused("password-protected", {})
        macros = any(n.startswith(("Basic/", "Scripts/")) and not n.endswith("/") for n in names)
        return data, "ods", _scan_ods(members.get("content.xml", b"")), macros
    book_name, book_xml = _part(members, "xl/workbook.xml")
    if book_name or sheets:
        if _STRICT in book_xml[:4096]:
            raise refuse("这是“Strict Open XML 电子表格”格式，本工具不能读取；"
                          "请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后提交")
    elif "xl/workbook.bin" in names:
        raise refuse("这是 Excel 二进制工作簿（.xlsb）")
    elif any(n.startswith("word/") for n in names):
        raise refuse("这是 Word 文档（.docx），不是表格")
    elif any(n.startswith("ppt/") for n in names):
        raise refuse("这是 PowerPoint 演示文稿，不是表格")
    else:
        raise refuse("这是普通压缩包，不是 Excel 工作簿；请解压后提交其中的表格")
    macros = any(n.lower().endswith("vbaproject.bin") for n in names)
    by_member = _sheet_names_by_member(members)
    scans: dict[str, Scan] = {}
    changed = False
    sst_name, strings = _part(members, "xl/sharedStrings.xml")
    head = _SST_HEAD.search(strings[:4096])
    if head and any(int(n) > len(strings) // 8 + 1 for n in _COUNTS.findall(head.group(0))):
        # calamine reserves memory for the strings the header counts: an impossible count is dropped
        members[sst_name] = strings[:head.start()] + _COUNTS.sub(b"", head.group(0)) + strings[head.end():]
        changed = True
    for i in sheets:
        members[i.filename], scan, ch = _scan_sheet(members[i.filename])
        scans[by_member.get(i.filename.lstrip("/").lower(), i.filename)] = scan
        changed |= ch
    if not changed:
        return data, "xlsx", scans, macros
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in infos:
            z.writestr(i.filename, members[i.filename] if i.filename in members else zf.read(i))
    return out.getvalue(), "xlsx", scans, macros


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's local file header


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes, the way ``ZipFile.read`` returns them, without its per-member overhead.

    Only for a plain stored or deflated member whose local header agrees with the directory and
    whose content inflates to exactly the declared size with the declared CRC; None in every other
    case, and the caller lets ``ZipFile.read`` decide (and raise its own errors).
    """
    if info.flag_bits & 0x61 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None  # encrypted, compressed patched data, strong encryption: zipfile's business
    off = info.header_offset
    if off < 0 or off + _LOCAL_HEADER.size > len(data):
        return None
    head = _LOCAL_HEADER.unpack_from(data, off)
    if head[0] != b"PK\x03\x04":
        return None
    start = off + _LOCAL_HEADER.size
    try:
        name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        return None
    if data[start:start + head[10]] != name:
        return None
    start += head[10] + head[11]
    raw = data[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        body = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            body = inflater.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
            return None
    if len(body) != info.file_size or zlib.crc32(body) != info.CRC:
        return None
    return body


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_names_by_member(members: dict[str, bytes]) -> dict[str, str]:
    """Worksheet member path (lower case) → sheet name, from workbook.xml and its relationships."""
    book = _part(members, "xl/workbook.xml")[1]
    rels = _part(members, "xl/_rels/workbook.xml.rels")[1]
    if not book or not rels:
        return {}
    return {path.lower(): name for path, name in _sheet_names(book, rels).items()}


@functools.lru_cache(maxsize=256)
def _sheet_names(book_xml: bytes, rels_xml: bytes) -> dict[str, str]:
    """Cached: the forms of one kind carry the same workbook.xml and relationships."""
    try:
        book = ElementTree.fromstring(book_xml)
        rels = ElementTree.fromstring(rels_xml)
    except Exception:  # malformed: scans stay keyed by member path (calamine will likely refuse the file)
        return {}
    targets = {e.get("Id"): e.get("Target", "") for e in rels.iter() if _local(e.tag) == "Relationship"}
    out = {}
    for e in book.iter():
        if _local(e.tag) == "sheet":
            rid = next((v for k, v in e.attrib.items() if _local(k) == "id"), "")
            t = targets.get(rid, "")  # resolved as calamine does
            out[t[1:] if t.startswith("/xl/") else t if t.startswith("xl/") else "xl/" + t] = e.get("name", "")
    return out


_ODS = re.compile(
    rb"<table:table(?P<table>\s[^>]*)?>|</table:table-row>|(?P<end></table:table\s*>)"
    rb"|<table:table-row\b(?P<row>[^>]*?)(?P<closed>/?)>"
    rb"|<table:(?:covered-)?table-cell\b(?P<cell>[^>]*?)(?:/>|>(?P<body>.*?)</table:(?:covered-)?table-cell>)",
    re.DOTALL,
)
_ODS_ATTRS: dict[bytes, re.Pattern[bytes]] = {}


def _attr(attrs: bytes, name: bytes) -> bytes | None:
    pat = _ODS_ATTRS.get(name)
    if pat is None:
        pat = _ODS_ATTRS[name] = re.compile(rb"(?:^|\s)" + re.escape(name) + rb'\s*=\s*"([^"]*)"')
    m = pat.search(attrs)
    return m.group(1) if m else None


def _count(attrs: bytes, name: bytes) -> int:
    raw = _attr(attrs, name)
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1 << 31 else 1


def _scan_ods(xml: bytes) -> dict[str, Scan]:
    """Walk content.xml: refuse content beyond the limits; note hidden rows, errors and merged cells.

    A table left open is refused: calamine loops for ever on it.
    """
    scans: dict[str, Scan] = {}
    scan, name = Scan(), ""
    row = top = col = opened = 0
    rows, hidden, content = 1, False, False
    for m in _ODS.finditer(xml):
        tok = m.group(0)
        if m.group("end"):
            opened = max(opened - 1, 0)
        elif tok.startswith(b"</"):
            if hidden and content:
                scan.hidden_rows.update(range(top + 1, min(top + rows, MAX_ROWS) + 1))
            row = top + rows
        elif m.group("row") is not None:
            attrs = m.group("row")
            top, rows, col = row, _count(attrs, b"table:number-rows-repeated"), 0
            hidden, content = _attr(attrs, b"table:visibility") in (b"collapse", b"filter"), False
            if m.group("closed"):
                row = top + rows
        elif m.group("cell") is not None:
            attrs, body = m.group("cell"), m.group("body") or b""
            cols = _count(attrs, b"table:number-columns-repeated")
            if b"office:value-type" in attrs or b"table:formula" in attrs or b"<text:" in body:
                content = True
                last_r, last_c = top + rows - 1, col + cols - 1
                if last_r >= MAX_ROWS:
                    raise too_large(name, max(top, MAX_ROWS), col)
                if last_c >= MAX_COLS:
                    raise too_large(name, top, max(col, MAX_COLS))
                error = _attr(attrs, b"calcext:value-type") == b"error"
                if error or (b"table:formula" in attrs and b"office:value-type" not in attrs):
                    text = _xml_text(body) if error else ""
                    cells = itertools.product(range(top, last_r + 1), range(col, last_c + 1))
                    for r, c in itertools.islice(cells, MAX_PROBLEMS):
                        scan.problem(r, c, "formula-error" if error else "formula-no-value", text)
                span_r = _count(attrs, b"table:number-rows-spanned")
                span_c = _count(attrs, b"table:number-columns-spanned")
                if span_r > 1 or span_c > 1:
                    scan.merged.append((top, col, top + span_r - 1, col + span_c - 1))
            col += cols
        else:  # a new table (sheet)
            opened += 1
            name = html.unescape((_attr(m.group("table") or b"", b"table:name") or b"").decode("utf-8", "replace"))
            scan = scans.setdefault(name, Scan())
            row = top = col = 0
            rows, hidden, content = 1, False, False
            if len(scans) > MAX_SHEETS:
                raise refuse(f"工作表超过 {MAX_SHEETS} 个，内容异常")
    if opened:
        raise refuse(_DAMAGED)
    return scans


# ------------------------------------------------------------------ .xls / .et (OLE2 + BIFF) guards

_END = 0xFFFFFFFA  # sector numbers from here on mark ends and free sectors


def _ole_stream(data: bytes, names: tuple[str, ...]) -> tuple[bytes, list[int], int] | None:
    """The first stream named in ``names`` from an OLE2 compound file, with where it lies in ``data``.

    Returns (stream, file offset of each block, block size), or None when there is no such stream;
    raises ValueError or struct.error when the container is damaged.
    """
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise ValueError("sector size")
    size = 1 << shift
    nfat, dir_start, _, cutoff, minifat_start, _, difat_start, ndifat = struct.unpack_from("<8I", data, 44)
    nsec = len(data) // size - 1

    def at(i: int) -> int:
        if i >= nsec:
            raise ValueError("sector out of file")
        return (i + 1) * size

    def ints(i: int) -> tuple[int, ...]:
        return struct.unpack_from(f"<{size // 4}I", data, at(i))

    def chain(start: int, table: list[int]) -> list[int]:
        out: list[int] = []
        while start < _END:
            if start >= len(table) or len(out) > len(table):
                raise ValueError("broken or looping chain")
            out.append(start)
            start = table[start]
        return out

    difat = list(struct.unpack_from("<109I", data, 76))
    for _ in range(min(ndifat, nsec)):
        if difat_start >= _END:
            break
        *more, difat_start = ints(difat_start)
        difat += more
    fat = [x for s in difat[:nfat] if s < _END for x in ints(s)]
    directory = b"".join(data[at(s):at(s) + size] for s in chain(dir_start, fat))
    entries = [directory[k:k + 128] for k in range(0, len(directory) - 127, 128)]
    if not entries:
        raise ValueError("no directory")
    for want in names:
        for e in entries:
            n = min(struct.unpack_from("<H", e, 64)[0], 64)
            if e[66] != 2 or e[:max(n - 2, 0)].decode("utf-16-le", "replace").lower() != want.lower():
                continue
            start, length = struct.unpack_from("<II", e, 116)
            if length > len(data):
                raise ValueError("stream longer than file")
            if length >= cutoff:
                offsets, block = [at(s) for s in chain(start, fat)], size
            else:  # a small stream lives in 64-byte blocks of the mini stream (the root entry's chain)
                root = [at(s) for s in chain(struct.unpack_from("<I", entries[0], 116)[0], fat)]
                minifat = [x for s in chain(minifat_start, fat) for x in ints(s)]
                offsets, block = [], 64
                for m in chain(start, minifat):
                    if m * 64 // size >= len(root):
                        raise ValueError("mini stream too short")
                    offsets.append(root[m * 64 // size] + m * 64 % size)
            stream = b"".join(data[o:o + block] for o in offsets)
            if len(stream) < length:
                raise ValueError("short stream")
            return stream[:length], offsets, block
    return None


_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                0x2A: "#N/A"}
# cell records holding a value: FORMULA, MULRK, RSTRING, LABELSST, NUMBER, LABEL, BOOLERR, RK (not BLANK/MULBLANK)
_BIFF_CELLS = {0x0006, 0x00BD, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E}


def _records(stream: bytes, pos: int) -> Iterator[tuple[int, int, bytes]]:
    """(position, type, body) of each BIFF record from ``pos``."""
    while pos + 4 <= len(stream):
        rtype, size = struct.unpack_from("<HH", stream, pos)
        if pos + 4 + size > len(stream):
            return
        yield pos, rtype, stream[pos + 4:pos + 4 + size]
        pos += 4 + size


def scan_xls(data: bytes) -> tuple[bytes, dict[str, Scan], bool]:
    """Walk the BIFF records of an .xls/.et: refuse a password and content beyond the limits; note the rest.

    Returns (bytes for calamine, sheet → scan, has macros). calamine reserves memory for the rows ×
    columns a DIMENSIONS record declares and for the strings an SST record counts, so DIMENSIONS are
    blanked (they only size that reservation) and an impossible SST count is refused.
    """
    try:
        found = _ole_stream(data, ("Workbook", "Book"))
    except (ValueError, struct.error):
        raise refuse(_DAMAGED) from None
    if found is None:
        raise refuse("无法识别的 Office 文件，不是 Excel 或 WPS 表格")
    stream, offsets, block = found
    out = bytearray(data)
    sheets: list[tuple[int, str]] = []
    biff8 = None
    for _, rtype, body in _records(stream, 0):
        if rtype == 0x0809 and biff8 is None and len(body) >= 2:
            biff8 = struct.unpack_from("<H", body)[0] >= 0x0600
        elif rtype == 0x002F:  # FILEPASS: the rest of the stream is encrypted
            raise FileRefused("password-protected", {})
        elif rtype == 0x00FC and len(body) >= 8 and struct.unpack_from("<I", body, 4)[0] > len(stream) // 3:
            raise refuse(_DAMAGED)  # more shared strings counted than the stream could hold
        elif rtype == 0x0085 and len(body) >= 8:  # BOUNDSHEET: offset, visibility, type, name
            n = body[6]
            if not biff8:
                name = body[7:7 + n].decode("gbk", "replace")
            elif body[7] & 1:
                name = body[8:8 + 2 * n].decode("utf-16-le", "replace")
            else:
                name = body[8:8 + n].decode("latin-1")
            sheets.append((struct.unpack_from("<I", body)[0], name.replace("\x00", "")))
        elif rtype == 0x000A:
            break
    if len(sheets) > MAX_SHEETS:
        raise refuse(f"工作表超过 {MAX_SHEETS} 个，内容异常")
    scans: dict[str, Scan] = {}
    for start, name in sheets:
        scan = scans.setdefault(name, Scan())
        depth = 0
        for pos, rtype, body in _records(stream, start):
            depth += (rtype == 0x0809) - (rtype == 0x000A)  # embedded chart substreams nest BOF … EOF
            if depth <= 0:
                break
            if rtype == 0x0200:  # DIMENSIONS: never trusted
                for k in range(pos + 4, pos + 4 + len(body)):
                    out[offsets[k // block] + k % block] = 0
            elif rtype == 0x0208 and len(body) >= 14:  # ROW: fDyZero marks a hidden row
                r = struct.unpack_from("<H", body)[0]
                if struct.unpack_from("<H", body, 12)[0] & 0x20 and r < MAX_ROWS:
                    scan.hidden_rows.add(r + 1)
            elif rtype in _BIFF_CELLS and len(body) >= 6:
                r, c = struct.unpack_from("<HH", body)
                last = struct.unpack_from("<H", body, len(body) - 2)[0] if rtype == 0x00BD else c
                if r >= MAX_ROWS:
                    raise too_large(name, r, c)
                if max(c, last) >= MAX_COLS:
                    raise too_large(name, r, max(c, min(last, MAX_COLS)))
                if rtype == 0x0006 and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:
                    scan.problem(r, c, "formula-error", _BIFF_ERRORS.get(body[8], "#错误"))
                elif rtype == 0x0205 and len(body) >= 8 and body[7] == 1:
                    scan.problem(r, c, "formula-error", _BIFF_ERRORS.get(body[6], "#错误"))
    return bytes(out), scans, "_VBA_PROJECT_CUR".encode("utf-16-le") in data

