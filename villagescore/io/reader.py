"""Reading workbooks: sniff the real format, refuse what cannot be read, return plain grids.

Clerks rename files by hand (.xlsx saved as .xls, a web page saved as .xls, a CSV named .xlsx), so
the format is taken from the first bytes, never from the extension. Anything that cannot be read
raises ``FileRefused`` with an issue code and a Chinese reason; nothing else escapes.

Before an .xlsx reaches python-calamine it is checked against zip bombs, and cells far outside
the readable area (e.g. one stray value in XFD1048576) are cut away, because calamine allocates a
dense grid from A1 to the farthest cell and would abort the whole process.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from villagescore.core.layout import IDENTITY_SHEET
from villagescore.core.normalize import clean_text
from villagescore.core.tables import column_letter

MAX_FILE = 100 * 1024 * 1024  # bytes on disk
MAX_UNZIPPED = 200 * 1024 * 1024  # all members of an .xlsx together
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MB
MAX_SHEETS = 200
MAX_ROWS = 10_000  # cells beyond these are not read (and reported in Workbook.trimmed)
MAX_COLS = 200

EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".et", ".ods"}
_SYSTEM_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RESAVE = "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交"


class FileRefused(Exception):
    """A file that cannot be read. ``code`` is an issue code, ``params`` its message parameters."""

    def __init__(self, code: str, params: dict[str, Any] | None = None):
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{code}: {self.params}")


def _refuse(reason: str) -> FileRefused:
    return FileRefused("file-unreadable", {"reason": reason})


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

    def visible(self) -> list[str]:
        return [s for s in self.sheet_order if s not in self.hidden and s != IDENTITY_SHEET]


# ------------------------------------------------------------------ files and folders


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_lock_or_system_file(path: Path) -> bool:
    """Office/WPS lock files (~$a.xlsx, .~lock.a.xlsx#), macOS ._ files, Thumbs.db, .DS_Store."""
    name = Path(path).name
    return name.startswith(("~$", ".~", "._")) or name.lower() in _SYSTEM_NAMES


def iter_workbook_files(folders: list[Path]) -> list[Path]:
    """Workbook files under ``folders`` (recursive, sorted), without lock files or dot-folders."""
    found: set[Path] = set()
    for folder in map(Path, folders):
        if folder.is_file():
            candidates = [folder]
        else:
            candidates = []
            for root, dirs, files in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
                candidates.extend(Path(root) / f for f in files)
        found.update(p for p in candidates if p.suffix.lower() in EXTENSIONS and not is_lock_or_system_file(p))
    return sorted(found)


# ------------------------------------------------------------------ format sniffing


def _sniff(data: bytes) -> str:
    if not data:
        raise _refuse("文件是空的（0 字节），可能没有保存完整")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data[:8] == _OLE:
        return _sniff_ole(data)
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text, e.g. Excel's "Unicode 文本"
        sample = sample[2:].replace(b"\x00", b"")
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    if controls > len(sample) // 100:
        raise _refuse("无法识别的文件类型，不是 Excel 或 WPS 表格")
    head = sample.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<head", b"<meta")) or b"<html" in head:
        raise _refuse("这是网页（HTML）文件，只是扩展名改成了表格；" + _RESAVE)
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in sample:
        raise _refuse("这是旧式“XML 表格”文件；" + _RESAVE)
    if head.startswith(b"mime-version"):
        raise _refuse("这是“单个文件网页”（.mht）；" + _RESAVE)
    if head.startswith(b"{\\rtf"):
        raise _refuse("这是 RTF 文档，不是表格")
    raise _refuse("这是 CSV 或纯文本文件，不是 Excel 工作簿；" + _RESAVE)


def _sniff_ole(data: bytes) -> str:
    """An OLE2 compound file: .xls, a Word .doc, or a password-protected .xlsx."""
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage") or has("EncryptionInfo"):
        raise FileRefused("password-protected", {})
    if has("WordDocument"):
        raise _refuse("这是 Word 文档，不是表格")
    if has("PowerPoint Document"):
        raise _refuse("这是 PowerPoint 演示文稿，不是表格")
    if has("Workbook") or has("Book"):
        return "xls"
    raise _refuse("无法识别的 Office 文件，不是 Excel 或 WPS 表格")


# ------------------------------------------------------------------ xlsx guards

_WORKSHEET = re.compile(r"(?:^|/)worksheets/[^/]+\.xml$", re.IGNORECASE)
_SHEET_DATA = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)sheetData\b[^>]*?(?:/>|>.*?</(?P=p)sheetData>)", re.DOTALL)
_ROW_OR_CELL = re.compile(
    rb"<(?:[\w.-]+:)?row\b(?P<row>[^>]*)>"
    rb"|<(?P<p>(?:[\w.-]+:)?)c\b(?P<cell>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)",
    re.DOTALL,
)
_R_ROW = re.compile(rb'(?:^|\s)r\s*=\s*["\'](\d+)')
_R_CELL = re.compile(rb'(?:^|\s)r\s*=\s*["\']([A-Za-z]{1,3})(\d+)')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


def _trim_sheet(xml: bytes) -> tuple[bytes, str | None]:
    """Drop cells beyond MAX_ROWS × MAX_COLS; return (xml, farthest cut cell or None)."""
    m = _SHEET_DATA.search(xml)
    if not m:
        return xml, None
    state = {"row": 0, "col": -1, "cut": None}

    def visit(c: re.Match[bytes]) -> bytes:
        if c.group("row") is not None:
            r = _R_ROW.search(c.group("row"))
            state["row"] = int(r.group(1)) if r else state["row"] + 1
            state["col"] = -1
            return c.group(0)
        ref = _R_CELL.search(c.group("cell"))
        if ref:
            state["row"], state["col"] = int(ref.group(2)), _col_index(ref.group(1))
        else:
            state["col"] += 1
        if state["row"] <= MAX_ROWS and state["col"] < MAX_COLS:
            return c.group(0)
        state["cut"] = f"{column_letter(state['col'])}{state['row']}"
        return b""

    data = _ROW_OR_CELL.sub(visit, m.group(0))
    if state["cut"] is None:
        return xml, None
    return xml[: m.start()] + data + xml[m.end():], state["cut"]


def _guard_xlsx(data: bytes) -> tuple[bytes, str, dict[str, str]]:
    """Check an OOXML/ODF zip; return (bytes for calamine, format, member → cut cell)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse("文件已损坏或不完整（压缩包无法打开），可能复制或下载时中断；请重新保存后提交") from None
    sheets = [i for i in infos if _WORKSHEET.search(i.filename)]
    if sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise _refuse(f"文件解压后超过 {MAX_UNZIPPED >> 20} MB，内容异常")
    if len(sheets) > MAX_SHEETS:
        raise _refuse(f"工作表超过 {MAX_SHEETS} 个，内容异常")
    if any(i.file_size > (1 << 20) and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        raise _refuse("文件压缩比异常（可能是恶意构造的文件）")
    members: dict[str, bytes] = {}
    try:  # reading every member checks its CRC and never inflates beyond the declared size
        for i in infos:
            members[i.filename] = zf.read(i)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and "encrypt" in str(exc).lower():
            raise FileRefused("password-protected", {}) from None
        raise _refuse("文件已损坏（压缩包内容校验失败）；请重新保存后提交") from None
    if "mimetype" in members:
        if b"opendocument.spreadsheet" not in members["mimetype"][:100]:
            raise _refuse("这是 OpenDocument 文字或演示文件，不是表格")
        fmt = "ods"
    elif "xl/workbook.xml" in members or sheets:
        fmt = "xlsx"
    elif "xl/workbook.bin" in members:
        raise _refuse("这是 Excel 二进制工作簿（.xlsb）；" + _RESAVE)
    elif any(n.startswith("word/") for n in members):
        raise _refuse("这是 Word 文档（.docx），不是表格")
    elif any(n.startswith("ppt/") for n in members):
        raise _refuse("这是 PowerPoint 演示文稿，不是表格")
    else:
        raise _refuse("这是普通压缩包，不是 Excel 工作簿；请解压后提交其中的表格")
    cut: dict[str, str] = {}
    if fmt == "xlsx":
        for i in sheets:
            members[i.filename], far = _trim_sheet(members[i.filename])
            if far:
                cut[i.filename] = far
    if not cut:
        return data, fmt, {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in infos:
            z.writestr(i.filename, members[i.filename])
    return out.getvalue(), fmt, cut


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_names_by_member(data: bytes) -> dict[str, str]:
    """Worksheet member path → sheet name, from workbook.xml and its relationships."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # only used to name trimmed sheets; fall back to member paths
        return {}
    targets = {e.get("Id"): e.get("Target", "") for e in rels.iter() if _local(e.tag) == "Relationship"}
    out = {}
    for e in book.iter():
        if _local(e.tag) == "sheet":
            rid = next((v for k, v in e.attrib.items() if _local(k) == "id"), "")
            target = targets.get(rid, "")
            out[target.lstrip("/") if target.startswith("/") else "xl/" + target] = e.get("name", "")
    return out


# ------------------------------------------------------------------ reading


def read_workbook(path: Path) -> Workbook:
    """Read every sheet of a workbook into grids of raw values; raise FileRefused when unreadable."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise _refuse(f"文件超过 {MAX_FILE >> 20} MB，不像是填报表格")
        data = path.read_bytes()
    except FileRefused:
        raise
    except FileNotFoundError:
        raise _refuse("文件不存在") from None
    except PermissionError:
        raise _refuse("没有读取权限，或文件正在 Excel/WPS 中打开（请先关闭该文件）") from None
    except OSError as exc:
        raise _refuse(f"读取文件出错（{exc.strerror or exc}）") from None
    sha = hashlib.sha256(data).hexdigest()
    fmt = _sniff(data)
    cut: dict[str, str] = {}
    if fmt == "zip":
        data, fmt, cut = _guard_xlsx(data)
    try:
        return _load(path, sha, fmt, data, cut)
    except FileRefused:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine errors, and pyo3 panics (a BaseException)
        text = str(exc)
        if isinstance(exc, PasswordError) or "password" in text.lower() or "encrypt" in text.lower():
            raise FileRefused("password-protected", {}) from None
        raise _refuse(f"文件内容已损坏或格式不受支持（{text[:200]}）；{_RESAVE}") from None


def _load(path: Path, sha: str, fmt: str, data: bytes, cut_members: dict[str, str]) -> Workbook:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    order: list[str] = []
    hidden: set[str] = set()
    for meta in book.sheets_metadata:
        if meta.typ in (SheetTypeEnum.ChartSheet, SheetTypeEnum.Vba):
            continue  # no cells there
        order.append(meta.name)
        if meta.visible != SheetVisibleEnum.Visible:
            hidden.add(meta.name)
    sheets: dict[str, list[list[Any]]] = {}
    for name in order:
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=MAX_ROWS)
        sheets[name] = [row[:MAX_COLS] for row in grid]
    trimmed = {}
    if cut_members:
        names = _sheet_names_by_member(data)
        trimmed = {names.get(member, member): far for member, far in cut_members.items()}
    return Workbook(path, sha, fmt, sheets, order, hidden, _identity(sheets.get(IDENTITY_SHEET)), trimmed)


def _identity(grid: list[list[Any]] | None) -> dict[str, str] | None:
    if not grid:
        return None
    record: dict[str, str] = {}
    for row in grid:
        key = clean_text(row[0]) if row else ""
        if key and key not in record:
            record[key] = clean_text(row[1]) if len(row) > 1 else ""
    return record if record.get("tool") == "villagescore" else None


__all__ = [
    "Workbook", "FileRefused", "read_workbook", "sha256_of", "is_lock_or_system_file", "iter_workbook_files",
    "MAX_ROWS", "MAX_COLS",
]
