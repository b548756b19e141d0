"""A form workbook recorded as calls and played on xlsxwriter when closed, reusing what equal workbooks wrote.

The blank forms of a period are thousands of workbooks of a few shapes: a form's workbooks for different units
differ only in their strings (unit name, criteria texts …). ``Book`` logs a workbook's calls (``Sheet`` for
each worksheet), keeping its cell strings apart; calls that differ only in cell strings (with the same strings
equal to each other, in the same places) make the same package but for ``xl/sharedStrings.xml``. So when a
``PackageCache`` knows the package of equal calls, closing a ``Book`` writes only the shared strings and takes
every other part as xlsxwriter wrote it then (``io/xlsx_private.py``: the one place that reaches xlsxwriter's
packager). ``repeat_copies`` makes a sheet of N identical printed ballots from the first one's rows.

Whatever path a workbook takes, its bytes are the bytes of playing every call on xlsxwriter
(``tests/test_forms_golden.py``).
"""

from __future__ import annotations

import io
import pickle
import re
import struct
import zipfile
from datetime import datetime
from typing import Any, Callable

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from villagescore.core import layout
from villagescore.io import xlsx_private as xp
from villagescore.io.cells import TEXT_OPTIONS, looks_rich, write_text

_SST_PART = xp.SHARED_STRINGS_PART
_TEXT_SAFE = 16383  # a cell string this long or shorter is never shortened by xlsxwriter (32,767 UTF-16 units)
_WORKBOOK_OPTIONS = {"in_memory": True, **TEXT_OPTIONS}


class Fmt(int):
    """A cell format of a ``Book``: the place of its ``add_format`` in the book's calls (an int of its own type,
    so that a call's key tells it from a number)."""

    __slots__ = ()


# Worksheet methods a form may call (each logged with its arguments, replayed on xlsxwriter's Worksheet),
# and the argument of those that put a cell string into the shared-string table.
_SHEET_METHODS = frozenset({
    "write_blank", "write_number", "set_row", "set_column", "data_validation",
    "freeze_panes", "protect", "set_paper", "set_landscape", "set_portrait", "set_margins", "center_horizontally",
    "fit_to_pages", "repeat_rows", "print_area", "set_footer", "activate", "set_h_pagebreaks", "very_hidden",
    "insert_image",
})
_CELL_TEXT = {"write_string": 2, "merge_range": 4}


class Sheet:
    """A worksheet of a ``Book``: each call is logged (method, arguments) for the book to replay on
    xlsxwriter's Worksheet when the workbook is closed. A cell string (``_CELL_TEXT``) is kept apart, in the
    book's list of cell strings, and left out of the call's arguments."""

    __slots__ = ("_log", "_n", "_texts")

    def __init__(self, log: list, texts: list[str], n: int):
        self._log, self._texts, self._n = log, texts, n

    def write_string(self, row: int, col: int, text: str, fmt: Fmt | None = None) -> None:
        self._texts.append(text)
        self._log.append((self._n, "write_string", (row, col, fmt), None))

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, text: str,
                    fmt: Fmt | None = None) -> None:
        self._texts.append(text)
        self._log.append((self._n, "merge_range", (first_row, first_col, last_row, last_col, fmt), None))

    def write_blank(self, row: int, col: int, blank: None, fmt: Fmt | None = None) -> None:
        self._log.append((self._n, "write_blank", (row, col, blank, fmt), None))

    def write_number(self, row: int, col: int, number: float, fmt: Fmt | None = None) -> None:
        self._log.append((self._n, "write_number", (row, col, number, fmt), None))

    def set_row(self, row: int, height: float) -> None:
        self._log.append((self._n, "set_row", (row, height), None))

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in _SHEET_METHODS:
            raise AttributeError(name)
        log, n = self._log, self._n
        return lambda *args, **kwargs: log.append((n, name, args, kwargs or None))

class PackageCache:
    """Packages already written, by the calls that made them (``Book._key``): the zip xlsxwriter wrote, in pieces
    (``_Zip``); at most ``limit`` (the oldest go first; 0 keeps none). One per run of the forms
    (``period_forms.write_period_forms``): worker processes start with the packages the run knew when they started."""

    def __init__(self, limit: int = 64):
        self.limit = limit
        self._zips: dict[bytes, _Zip] = {}

    def __len__(self) -> int:
        return len(self._zips)

    def __contains__(self, key: bytes | None) -> bool:
        return key is not None and key in self._zips

    def get(self, key: bytes | None) -> "_Zip | None":
        return None if key is None else self._zips.get(key)

    def keep(self, key: bytes, data: bytes) -> None:
        """Remember ``data``, a workbook as xlsxwriter writes it, as the package of the calls ``key``."""
        if self.limit <= 0:
            return
        try:
            pieces = _Zip(data)
        except (ValueError, zipfile.BadZipFile, struct.error):
            return
        while len(self._zips) >= self.limit:
            del self._zips[next(iter(self._zips))]
        self._zips[key] = pieces


class _Zip:
    """A package's zip in pieces: each member's local record (header and compressed bytes) as zipfile wrote it and
    its central directory record, so that a workbook of the same package but other cell strings is these pieces
    with a new shared-strings member, written by zipfile as xlsxwriter has it write every member, and the
    central directory's offsets moved (the zip format: local records, central records, end record)."""

    __slots__ = ("local", "central", "strings")
    _END = struct.Struct("<4s4H2LH")  # zipfile's end-of-central-directory record

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
        sig, _, _, _, count, size, start, comment = self._END.unpack_from(data, len(data) - self._END.size)
        if sig != b"PK\x05\x06" or comment or count != len(infos) or start + size + self._END.size != len(data):
            raise ValueError("not a plain zip as zipfile writes it")
        bounds = [i.header_offset for i in infos] + [start]
        self.local = [data[a:b] for a, b in zip(bounds, bounds[1:])]
        self.central, pos = [], start
        for _ in infos:
            n, m, k = struct.unpack_from("<3H", data, pos + 28)  # name, extra and comment lengths
            self.central.append(data[pos:pos + 46 + n + m + k])
            pos += 46 + n + m + k
        names = [i.filename for i in infos]
        self.strings = names.index(_SST_PART) if _SST_PART in names else None

    def with_strings(self, xml: str) -> bytes:
        """The package with ``xml`` as its shared strings."""
        local, central = list(self.local), list(self.central)
        if self.strings is not None:
            new = _Zip(_zip_of(_SST_PART, xml.encode("utf-8")))
            local[self.strings], central[self.strings] = new.local[0], new.central[0]
        out, records = bytearray(), []
        for piece, entry in zip(local, central):
            record = bytearray(entry)
            struct.pack_into("<L", record, 42, len(out))  # where its local record starts
            records.append(record)
            out += piece
        start = len(out)
        for record in records:
            out += record
        out += self._END.pack(b"PK\x05\x06", 0, 0, len(records), len(records), len(out) - start, start, 0)
        return bytes(out)


def _zip_of(name: str, data: bytes) -> bytes:
    """A zip of one member written as xlsxwriter writes each member of a workbook built in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    return buf.getvalue()


class Book:
    """One in-memory workbook: deterministic properties, cached formats (each over ``base``), identity sheet.

    The sheets' calls are logged and played on xlsxwriter when the workbook is closed; when ``cache`` knows the
    package of the same calls but for their cell strings, only those strings are played (for the shared-string
    table) and the other parts are the ones xlsxwriter wrote then. Without a cache every call is played."""

    def __init__(self, title: str, base: dict[str, Any] | None = None, cache: PackageCache | None = None):
        self.base = dict(base or {})
        self.cache = cache if cache is not None and cache.limit > 0 and xp.SHARED_STRINGS else None
        self._log: list[tuple[int, str, tuple, dict | None]] = [
            (-1, "set_properties", ({"title": title, "author": "", "company": "", "manager": "",
                                     "created": datetime(2000, 1, 1)},), None)]
        self._formats: dict[tuple, Fmt] = {}
        self._nfmt = 0
        self.sheets: list[Sheet] = []
        self._texts: list[str] = []  # the cell strings of the logged calls, in order
        self._keyed: tuple[int, bytes | None] = (-1, None)  # (log length, key) of the last _key()

    def add_sheet(self, name: str) -> Sheet:
        self._log.append((-1, "add_worksheet", (name,), None))
        sheet = Sheet(self._log, self._texts, len(self.sheets))
        self.sheets.append(sheet)
        return sheet

    def fmt(self, *styles: dict[str, Any], **props: Any) -> Fmt:
        merged = dict(self.base)
        for s in (*styles, props):
            merged.update(s)
        key = tuple(sorted(merged.items()))
        found = self._formats.get(key)
        if found is None:
            self._log.append((-1, "add_format", (merged,), None))
            found = self._formats[key] = Fmt(self._nfmt)
            self._nfmt += 1
        return found

    def banner(self, ws: Sheet, row: int, first: int, last: int, text: str, fmt: Fmt, height: float) -> None:
        if last > first:
            ws.merge_range(row, first, row, last, text, fmt)
        else:
            ws.write_string(row, first, text, fmt)
        ws.set_row(row, height)

    def identity(self, values: dict[str, str]) -> None:
        ws = self.add_sheet(layout.IDENTITY_SHEET)
        extra = [k for k in values if k not in layout.IDENTITY_KEYS]  # after the contract's keys (e.g. scan_*)
        for r, key in enumerate([*layout.IDENTITY_KEYS, *extra]):
            ws.write_string(r, 0, key)
            ws.write_string(r, 1, values.get(key, ""))
        ws.very_hidden()
        ws.protect()

    def _key(self) -> bytes | None:
        """The calls as bytes (pickled: equal bytes, equal arguments of the same types) with, in place of the
        cell strings, which of them are equal (each string's order of first use); None when the calls cannot
        be compared (an argument pickle does not take, or a string xlsxwriter would shorten)."""
        if self._keyed[0] == len(self._log):
            return self._keyed[1]
        first: dict[str, int] = {}
        pattern = [first.setdefault(t, len(first)) for t in self._texts]
        key = None  # never for a text xlsxwriter would take for rich-text XML: written apart (``close``)
        if not self._texts or (max(map(len, self._texts)) <= _TEXT_SAFE and not any(map(looks_rich, self._texts))):
            try:
                key = pickle.dumps((self._log, pattern), protocol=5)
            except (pickle.PicklingError, TypeError, AttributeError):
                key = None
        self._keyed = (len(self._log), key)
        return key

    def known(self) -> bool:
        """Whether the cache knows the package of the same calls but for their cell strings."""
        return self.cache is not None and self._key() in self.cache

    def close(self, *, keep: bool = True) -> bytes:
        """The workbook's bytes; with ``keep`` False its package is not remembered for later workbooks."""
        cache = self.cache
        key = self._key() if cache is not None else None
        known = cache.get(key) if cache is not None else None
        if known is not None:
            # A known package: its shared strings as xlsxwriter makes them of the cell strings the calls give (each
            # call one reference, in order; checked when the package was first written), the other members as they
            # were written then.
            return known.with_strings(xp.shared_strings_xml(self._texts))
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, _WORKBOOK_OPTIONS)
        sheets: list[Worksheet] = []
        formats: list[Format] = []
        texts = iter(self._texts)
        for n, name, args, kwargs in self._log:
            if n < 0:
                if name == "add_worksheet":
                    sheets.append(wb.add_worksheet(*args))
                elif name == "add_format":
                    formats.append(wb.add_format(*args))
                else:
                    getattr(wb, name)(*args)
                continue
            args = tuple([formats[a] if type(a) is Fmt else a for a in args])
            pos = _CELL_TEXT.get(name)
            if pos is not None:
                text = next(texts)
                if looks_rich(text):  # kept a text (io.cells): the cell written apart, the range merged blank
                    if name == "merge_range":
                        sheets[n].merge_range(*args[:pos], "", *args[pos:])
                    write_text(sheets[n], args[0], args[1], text, args[-1] if len(args) > pos else None)
                    continue
                args = (*args[:pos], text, *args[pos:])
            getattr(sheets[n], name)(*args, **(kwargs or {}))
        counted = xp.shared_string_count(wb) if cache is not None else -1
        wb.close()
        data = buf.getvalue()
        if cache is not None and keep and key is not None and counted == len(self._texts):
            cache.keep(key, data)  # remembered: every cell string went into the table, once per call
        return data

    def parts_of(self, data: bytes) -> None:
        """Remember ``data``, this book's workbook as xlsxwriter writes it (e.g. the ballots repeated by
        ``repeat_copies``), as the package of its calls."""
        key = self._key() if self.cache is not None else None
        if key is None or self.cache is None:
            return
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if _SST_PART not in z.namelist():
                return
            count = _SST_COUNT.search(z.read(_SST_PART).decode("utf-8"))
            if count is None or int(count.group(2)) != len(self._texts):
                return
        self.cache.keep(key, data)


_SHEET_XML = "xl/worksheets/sheet1.xml"
_ROW_XML = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_NUMBER = re.compile(r'(<row r="|<c r="[A-Z]+)(\d+)"')
_MERGE_XML = re.compile(r'<mergeCells count="\d+">((?:<mergeCell ref="[A-Z]+\d+:[A-Z]+\d+"/>)*)</mergeCells>')
_MERGE_REF = re.compile(r'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"/>')
_SST_COUNT = re.compile(r'(<sst [^>]*?count=")(\d+)(")')


def repeat_copies(data: bytes, copies: int, page: int, last: int) -> bytes | None:
    """The workbook of ``copies`` identical ballots of ``page`` rows, from one where only the first ballot
    and the others' 票号 (the merged cell ending in column ``last``) were written: the first ballot's rows
    and merges repeated in the sheet XML with their row numbers moved, each with its own 票号, and the
    shared-string count of a full write. The same package, part for part, as writing every cell (checked by
    tests/test_forms_golden.py); None when the sheet is not laid out as expected (write every cell)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    if _SHEET_XML not in parts or _SST_PART not in parts:
        return None
    xml = parts[_SHEET_XML].decode("utf-8")
    head, sep, rest = xml.partition("<sheetData>")
    body, sep2, tail = rest.partition("</sheetData>")
    rows = [(int(m.group(1)), m.group(0)) for m in _ROW_XML.finditer(body)]
    if not sep or not sep2 or "".join(x for _, x in rows) != body or [r for r, _ in rows[:page]] != \
            list(range(1, page + 1)):
        return None
    col = xl_col_to_name(last - 1)
    spans = f' spans="1:{last + 1}" '
    first = rows[:page]
    if any(spans not in x.partition(">")[0] for _, x in first):  # every row of a ballot spans every column
        return None
    # the other ballots' 票号: one merged cell each, in row 2 of its page
    serial = re.compile(rf'<c r="{col}(\d+)" s="(\d+)" t="s"><v>(\d+)</v></c>')
    found = {int(m.group(1)): (m.group(2), m.group(3)) for _, x in rows[page:] for m in serial.finditer(x)}
    own = serial.search(first[1][1])
    if own is None or own.group(1) != "2" or sorted(found) != [k * page + 2 for k in range(1, copies)] or \
            any(s != own.group(2) for s, _ in found.values()):
        return None
    template = "".join(x for _, x in first).replace("{", "{{").replace("}", "}}")
    template = template.replace(own.group(0), f'<c r="{col}{{1}}" s="{own.group(2)}" t="s"><v>{{{page}}}</v></c>', 1)
    template = _ROW_NUMBER.sub(lambda m: f'{m.group(1)}{{{int(m.group(2)) - 1}}}"', template)
    copies_xml = [template.format(*range(k * page + 1, (k + 1) * page + 1), found[k * page + 2][1] if k else
                                  own.group(3)) for k in range(copies)]
    merges = _MERGE_XML.search(tail)
    if merges is None:
        return None
    refs = [(a, int(r1), b, int(r2)) for a, r1, b, r2 in _MERGE_REF.findall(merges.group(1))]
    mine = [m for m in refs if m[3] <= page]
    if refs[:len(mine)] != mine or len(refs) != len(mine) + copies - 1:
        return None
    merged = "".join(f'<mergeCell ref="{a}{r1 + k * page}:{b}{r2 + k * page}"/>'
                     for k in range(copies) for a, r1, b, r2 in mine)
    tail = (tail[:merges.start()] + f'<mergeCells count="{len(mine) * copies}">{merged}</mergeCells>'
            + tail[merges.end():])
    expected = f'<dimension ref="A1:{xl_col_to_name(last)}{copies * page}"/>'
    if expected not in head:
        return None
    parts[_SHEET_XML] = (head + sep + "".join(copies_xml) + sep2 + tail).encode("utf-8")
    strings = parts[_SST_PART].decode("utf-8")
    per_copy = copies_xml[0].count(' t="s">')  # string cells of one ballot, its 票号 among them
    count = _SST_COUNT.search(strings)
    if count is None:
        return None
    strings = (strings[:count.start(2)] + str(int(count.group(2)) + (copies - 1) * (per_copy - 1))
               + strings[count.end(2):])
    parts[_SST_PART] = strings.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        for info in infos:  # the same entries as xlsxwriter writes them (in memory: dated 1 Jan 1980)
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = info.compress_type
            z.writestr(entry, parts[info.filename])
    return buf.getvalue()
