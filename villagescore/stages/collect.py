"""Reading the folders: every workbook sorted by its identity record, and the office's own tables (without
an identity record) matched to a form by their header, with the unit and period found in the sheet.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

import pickle
import re
import sys
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import villagescore
from villagescore.core import layout
from villagescore.core.issues import Report, issue
from villagescore.core.normalize import clean_text, squash
from villagescore.core.periods import periods_in
from villagescore.core.records import FormData, InputFile, Setup
from villagescore.core.scheme import Column, Form, Scheme
from villagescore.core.tables import find_header
from villagescore.stages import Progress
from villagescore.io.batch import Prepare, read_workbooks
from villagescore.io.omr_files import is_printed_ballots
from villagescore.io.reader import OTHER_DATA, FileRefused, Workbook, iter_workbook_files, read_workbook
from villagescore.io.spool import Spool, spooled_rows

Listed = tuple[list[Path], list[Path]]  # the folders' workbooks and other data files (iter_workbook_files)


# ------------------------------------------------------------------ reading the folders

OWN_OUTPUT_ROLES = layout.OUTPUT_ROLES
_SUMMARY_SHEETS = {"汇总", "说明"}  # fallback for summaries written before they carried an identity


@dataclass
class Collected:
    forms: list[FormData] = field(default_factory=list)
    setup_paths: dict[str, Path] = field(default_factory=dict)
    files: list[InputFile] = field(default_factory=list)
    workbooks: dict[str, Workbook] = field(default_factory=dict)  # forms and foreign tables, until parsed
    foreign: list[str] = field(default_factory=list)  # workbooks without an identity record, to identify
    zones: dict[str, str] = field(default_factory=dict)  # file → index of the folder it came from
    zone_setup: dict[str, dict[str, Path]] = field(default_factory=dict)  # folder index → setup form → path
    decisions: dict[str, Workbook] = field(default_factory=dict)  # the committee's decision sheets, by name
    _at: tuple[int, dict[str, list[int]]] | None = field(default=None, repr=False, compare=False)

    def status(self, file: str, status: str) -> None:
        """Say why ``file`` was not counted (every entry of that name)."""
        if self._at is None or self._at[0] != len(self.files):  # positions by name, rebuilt when files were added
            index: dict[str, list[int]] = {}
            for i, f in enumerate(self.files):
                index.setdefault(f.path, []).append(i)
            self._at = (len(self.files), index)
        for i in self._at[1].get(file, ()):
            self.files[i] = replace(self.files[i], status=status)


def _zone_of(path: Path, roots: list[Path], inside: list[bool]) -> str:
    """Which of the folders given a file came from (its index as text): a township, when several are merged.

    ``path`` and ``roots`` (the folders) are resolved; ``inside``: for each folder whether it is the path's
    parent or one of its parents (the same for every file of a directory, worked out once per directory)."""
    for i, fr in enumerate(roots):
        if path == fr or inside[i]:
            return str(i)
    return ""


def _display_bases(roots: list[Path]) -> list[Path]:
    """For each folder given, the folder file names are shown from: its parent, or higher when two folders
    share a name (甲镇/2025Q1/… and 乙镇/2025Q1/…)."""
    bases = []
    for r in roots:
        parts, others = r.resolve().parts, [x.resolve().parts for x in roots if x.name == r.name and x != r]
        k = 1
        while k < len(parts) - 1 and any(o[-k:] == parts[-k:] for o in others):
            k += 1
        bases.append(r.parents[k - 1] if k <= len(r.parents) else r.resolve().parents[k - 1])
    return bases


def shown_name(path: Path, bases: list[Path]) -> str:
    """A file's name as checking shows it: from the first of ``bases`` it is under (its full path if none)."""
    for base in bases:
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def form_of(scheme: Scheme, wb: Workbook, name: str) -> FormData | None:
    """The form a workbook's identity record says it is (as ``collect`` records it), or None when it is no
    form of this scheme (a setup file, printable ballots, this tool's output, another scheme, no record)."""
    ident = wb.identity
    if not ident or ident.get("role", "") in ("setup", "print") or ident.get("role", "") in layout.OUTPUT_ROLES:
        return None
    if ident.get("scheme_id") != scheme.scheme.id:
        return None
    form_id = ident.get("form_id", "")
    try:
        scheme.form(form_id)
    except KeyError:
        return None
    sheet = ident.get("sheet") or (wb.sheet_order[0] if wb.sheet_order else "")
    meta = {sys.intern(k): sys.intern(v) for k, v in ident.items()}  # a county's forms share their keys and words
    return FormData(form_id, meta.get("unit_code") or None, meta.get("period", ""), name, sheet, wb.sha256, [], meta)


def _own_output(wb: Workbook) -> bool:
    if wb.identity:
        return wb.identity.get("role", "") in OWN_OUTPUT_ROLES
    return _SUMMARY_SHEETS <= set(wb.sheet_order)


@dataclass
class Folders:
    """The folders a run reads, walked once: their workbooks (less those excluded) and other data files, each
    file's name as shown and the folder (township) it came from. Directories are resolved once each."""

    folders: list[Path]
    workbooks: list[Path]
    others: list[Path]
    exclude: set[Path]  # resolved
    bases: list[Path]  # the folders file names are shown from (``_display_bases``)
    roots: list[Path]  # the folders resolved
    _real_dirs: dict[Path, Path] = field(default_factory=dict, repr=False)
    _inside: dict[Path, list[bool]] = field(default_factory=dict, repr=False)

    def real(self, p: Path) -> Path:
        """``p.resolve()``, resolving each directory once: a file that is no symlink resolves to its name in
        its directory resolved."""
        if p.name in ("", ".", "..") or p.is_symlink():
            return p.resolve()
        d = self._real_dirs.get(p.parent)
        if d is None:
            d = self._real_dirs[p.parent] = p.parent.resolve()
        return d / p.name

    def zone(self, p: Path) -> str:
        rp = self.real(p)
        flags = self._inside.get(rp.parent)
        if flags is None:  # is each folder the parent or an ancestor of the resolved path
            flags = self._inside[rp.parent] = [fr == rp.parent or fr in rp.parent.parents for fr in self.roots]
        return _zone_of(rp, self.roots, flags)

    def name(self, p: Path) -> str:
        return shown_name(p, self.bases)


def list_folders(folders: list[Path], exclude: set[Path] | None = None, listed: Listed | None = None) -> Folders:
    """The folders' workbooks and other data files; ``exclude``: this run's own outputs; ``listed``: the files as
    ``iter_workbook_files`` lists them, when the caller has them already (to size a progress bar): a county's
    folders are not walked twice."""
    others: list[Path] = []
    if listed is None:
        found = iter_workbook_files(folders, others)
    else:
        found, others = listed[0], list(listed[1])
    out = Folders(folders, [], others, {p.resolve() for p in (exclude or set())}, _display_bases(folders),
                  [f.resolve() for f in folders])  # resolved once, not for every file
    names = {p.name for p in out.exclude}  # only a file of an output's name can be that output: the others are
    # not resolved here (a file system call for every file)
    out.workbooks = [p for p in found if p.name not in names or out.real(p) not in out.exclude]
    return out


@dataclass
class SetupFiles:
    """The workbooks in ``00_基础信息`` folders, read before any other: what they say (a ``Collected`` of their
    own) and the workbooks (path → Workbook or FileRefused), so that the setup is read from them once."""

    col: Collected
    books: dict[Path, Workbook | FileRefused]

    def read(self, path: Path) -> Workbook:
        """A setup file as read already (``read_workbook`` for one outside these folders)."""
        wb = self.books.get(path)
        if isinstance(wb, FileRefused):
            raise wb
        return wb if wb is not None else read_workbook(path)


def read_setup_files(scheme: Scheme, files: Folders) -> SetupFiles:
    """Phase one's reading: the workbooks in the ``00_基础信息`` folders, in this process."""
    first = [p for p in files.workbooks if p.parent.name == layout.SETUP_DIR]
    books = dict(read_workbooks(first, threshold=len(first) + 1))
    col: Collected = Collected()
    seen: dict[str, str] = {}
    for path, wb in books.items():
        _take(scheme, col, Report(), seen, path, files.name(path), files.zone(path), wb)
    return SetupFiles(col, books)


def collect(scheme: Scheme, files: Folders, report: Report, progress: Progress | None = None,
            setup_files: SetupFiles | None = None, parser: Prepare | None = None, spool: Spool | None = None
            ) -> Collected:
    """Phase two's reading: every workbook of the folders, sorted by its identity record.

    Lock files and this tool's own outputs are skipped quietly; workbooks without an identity record are kept in
    ``foreign`` for ``identify_foreign`` (which needs the roster).

    ``setup_files`` (phase one's, taken over: their grids are let go) are not read again. ``parser``: what each
    reading worker does with a workbook once read (``parse.FormParser``: a form parsed against the setup of phase
    one), or None. The files are recorded in the same order and the same way either way.

    ``spool``: where the rows a worker parsed and sent back pickled (``ParsedForm.blob``) are kept, unread, until
    their unit is scored; without one they are read back at once.
    """
    out = Collected()
    early: dict[Path, Workbook | FileRefused] = {}
    if setup_files is not None:
        early = setup_files.books
        for path, wb in early.items():  # read: a setup file's grids are not needed again (a county's are large)
            if isinstance(wb, Workbook) and (wb.identity or {}).get("role") == "setup":
                early[path] = replace(wb, sheets={})
    seen: dict[str, str] = {}
    rest = read_workbooks([p for p in files.workbooks if p not in early], prepare=parser)
    for path in files.workbooks:  # in this order, however many processes read them
        wb = early.pop(path) if path in early else next(rest)[1]
        if isinstance(wb, Workbook) and wb.parsed is not None and wb.parsed.blob is not None:
            _unpack(wb.parsed, spool)
        name = files.name(path)
        if progress:
            progress(name)
        _take(scheme, out, report, seen, path, name, files.zone(path), wb)
    for path in files.others:
        if path.resolve() not in files.exclude:
            name = files.name(path)
            if is_printed_ballots(path):  # readable ballots printed by template (io/omr_pdf.py)
                out.files.append(InputFile(name, "", status="打印用，未计入"))
                continue
            report.add(issue("file-not-workbook", file=name, kind=OTHER_DATA[path.suffix.lower()]))
            out.files.append(InputFile(name, "", status="不是工作簿，未读取"))
    return out


# identity keys only parsing reads (the form, its unit and period are FormData's own fields)
PARSED_AWAY = frozenset({"tool", "role", "scheme_id", "scheme_version", "template_version", "sheet", "seed", "drawn",
                         "unit_name", "form_id", "unit_code", "period"})


class Parsed:
    """What is kept of a workbook parsed where it was read: the parsed form and the file's path (a county's
    workbooks are many: no grids, no identity record)."""

    __slots__ = ("path", "parsed")
    sheets: dict = {}  # no grids (shared, never changed)

    def __init__(self, path: str, parsed):
        self.path, self.parsed = path, parsed


def _unpack(parsed, spool: Spool | None) -> None:
    """A form's rows sent back pickled: into the spool as they are (read back when first used), or read now."""
    if spool is not None:
        parsed.rows, parsed.tally = spooled_rows(spool, parsed.blob)
    else:
        parsed.rows, parsed.tally = pickle.loads(parsed.blob)
    parsed.blob = None


def _take(scheme: Scheme, out: Collected, report: Report, seen: dict[str, str], path: Path, name: str, zone: str,
          wb: Workbook | FileRefused) -> None:
    """Record one workbook read: a form, a setup file, a foreign table, or why it is not counted."""
    out.zones[name] = zone
    if isinstance(wb, FileRefused):
        report.add(wb.issue(name))
        out.files.append(InputFile(name, "", status="无法读取"))
        return
    if _own_output(wb):
        out.files.append(InputFile(name, wb.sha256, status="本工具输出的文件，已跳过"))
        return
    ident = wb.identity
    if wb.sha256 in seen:
        if ident and ident.get("role") == "setup":
            out.zone_setup.setdefault(zone, {}).setdefault(ident.get("form_id", ""), path)
        else:  # the same setup copied per period is normal
            report.add(issue("duplicate-file", file=name, other=seen[wb.sha256]))
        out.files.append(InputFile(name, wb.sha256, status="重复，未计入"))
        return
    seen[wb.sha256] = name
    if not ident:
        out.workbooks[name] = wb
        out.foreign.append(name)
        out.files.append(InputFile(name, wb.sha256, status="已跳过"))
        return
    role, form_id = ident.get("role", ""), ident.get("form_id", "")
    if role == "setup":
        out.setup_paths.setdefault(form_id, path)
        out.zone_setup.setdefault(zone, {}).setdefault(form_id, path)
        out.files.append(InputFile(name, wb.sha256, form_id, status="基础信息"))
        return
    if role == layout.DECISIONS_ROLE:  # the committee's decisions: read after the forms (io/decision_sheet.py)
        out.decisions[name] = wb
        out.files.append(InputFile(name, wb.sha256, role, "", ident.get("period", ""), status="党委研究事项"))
        return
    if role == "print":
        out.files.append(InputFile(name, wb.sha256, form_id, ident.get("unit_code", ""),
                                   ident.get("period", ""), status="打印用，未计入"))
        return
    if ident.get("scheme_id") != scheme.scheme.id:
        report.add(issue("file-other-scheme", file=name, found=ident.get("scheme_id", ""),
                         expected=scheme.scheme.id))
        out.files.append(InputFile(name, wb.sha256, form_id, status="其他方案，未计入"))
        return
    if ident.get("template_version") != villagescore.TEMPLATE_VERSION:
        report.add(issue("template-version", file=name, found=ident.get("template_version", ""),
                         expected=villagescore.TEMPLATE_VERSION))
    fd = form_of(scheme, wb, name)
    if fd is None:
        report.add(issue("file-unknown", file=name))
        out.files.append(InputFile(name, wb.sha256, status="已跳过"))
        return
    if wb.parsed is not None:
        # parsed where it was read: only the parsed form is kept (and where the file is, to read it again if the
        # setup turns out to be another), and of the identity record what checking reads after parsing
        # (a Parsed stands in for the Workbook: checking reads only its path, parsed form and empty sheets)
        out.workbooks[name] = Parsed(str(wb.path), wb.parsed)  # type: ignore[assignment]
        fd.meta = {k: v for k, v in fd.meta.items() if k not in PARSED_AWAY}
    else:
        out.workbooks[name] = wb
    out.forms.append(fd)
    out.files.append(InputFile(name, wb.sha256, form_id, fd.unit or "", fd.period))


# ------------------------------------------------------------------ tables the office made itself

_UNIT_LABELS = {squash(x) for x in ("单位代码", "代码", "单位名称", "单位", "名称", "村名", "村(社区)", "村(社区)名称",
                                    "村", "社区", "村(社区)代码")}


def units_named(text: str, setup: Setup) -> set[str]:
    """Units whose name (longest first) or code (as a whole word) appears in ``text``."""
    found = set()
    for u in sorted(setup.units, key=lambda u: -len(u.name)):
        if u.name and u.name in text:
            found.add(u.code)
            text = text.replace(u.name, "\x00")
    for u in setup.units:
        if (len(u.code) >= 4 or not u.code.isdigit()) and re.search(
                rf"(?<![A-Za-z0-9]){re.escape(u.code)}(?![A-Za-z0-9])", text, re.IGNORECASE):
            found.add(u.code)
    return found


def _match_form(scheme: Scheme, setup: Setup, grid: list[list]) -> tuple[Form, set[str] | None, int] | None:
    """(form, units whose criteria the header carries or None, 0-based header row) of the best-matching form."""
    best: tuple[tuple[Fraction, int], Form, set[str] | None, int] | None = None
    for form in scheme.forms:
        options: list[tuple[list[Column], set[str] | None]]  # (the columns, the units whose criteria they carry)
        if form.kind == "score_ballot" and form.items == "criteria":
            options = [(layout.entry_columns(scheme, form, cs), {code}) for code, cs in setup.criteria.items() if cs]
        else:
            options = [(layout.entry_columns(scheme, form), None)]
        for cols, units in options:
            found = find_header(grid, cols)
            if found is None or len(found[1]) < 2 or not {c.key for c in cols if c.required} <= found[1].keys():
                continue
            key = (Fraction(len(found[1]), len(cols)), len(found[1]))
            if best is None or key > best[0]:
                best = (key, form, units, found[0])
            elif key == best[0] and best[1] is form and units and best[2] is not None:
                best[2].update(units)  # the same criteria in several units: the unit comes from elsewhere
    return None if best is None else best[1:]


def _foreign_unit(setup: Setup, grid: list[list], head: int, sheet: str, name: str,
                  candidates: set[str] | None) -> tuple[str | None, str]:
    """The unit of a foreign sheet and how it was found: a unit column, the title, sheet or file name."""
    by_text = {clean_text(x): u.code for u in setup.units for x in (u.code, u.name)}
    cols = [i for i, v in enumerate(grid[head]) if squash(clean_text(v)) in _UNIT_LABELS]
    in_column = {by_text[t] for row in grid[head + 1:] for i in cols if i < len(row)
                 if (t := clean_text(row[i])) in by_text}
    title = " ".join(clean_text(c) for row in grid[:head] for c in row if isinstance(c, str))
    sources = [("表内单位列", in_column), ("表格标题", units_named(title, setup)),
               ("工作表名", units_named(sheet, setup)), ("文件名", units_named(name, setup))]
    for how, units in sources:
        units = units & candidates if candidates is not None else units
        if len(units) == 1:
            return units.pop(), how
    if candidates is not None and len(candidates) == 1:
        return next(iter(candidates)), "考核细则"
    return None, ""


def identify_foreign(scheme: Scheme, setup: Setup, col: Collected, report: Report) -> None:
    """Accept sheets without our identity record whose header carries a form's labels (see ``_match_form``).

    The unit comes from a unit column, the title rows, the sheet name or the file name; the period
    from the title, sheet or file name, else the period computed (``resolve_foreign``).
    """
    names = {u.code: u.name for u in setup.units}
    for name in col.foreign:
        wb = col.workbooks[name]
        found = []
        for sheet in wb.visible():
            grid = wb.sheets[sheet]
            match = _match_form(scheme, setup, grid)
            if match is None:
                continue
            form, candidates, head = match
            found.append(form.id)
            unit, how = None, ""
            if form.scope == "unit":
                unit, how = _foreign_unit(setup, grid, head, sheet, name, candidates)
                if unit is None:
                    report.add(issue("foreign-unit-unknown", file=name, sheet=sheet, form=form.title))
                    continue
            title = " ".join(clean_text(c) for row in grid[:head] for c in row if isinstance(c, str))
            period, phow = "", "表中未注明，按本次计算的期间"
            for where, text in (("表格标题", title), ("工作表名", sheet), ("文件名", name)):
                periods = periods_in(clean_text(text))
                if len(periods) == 1:
                    period, phow = periods.pop(), f"依据{where}"
                    break
            unit_how = f"{names[unit]}（{unit}），依据{how}" if unit else "各行的单位代码"
            col.forms.append(FormData(form.id, unit, period, name, sheet, wb.sha256, [],
                                      {"foreign": "1", "unit_how": unit_how, "period_how": phow}))
        if any(fd.file == name for fd in col.forms):
            col.status(name, "自制表格，按表头识别")
        elif found:
            col.status(name, "自制表格，无法确定单位，未计入")
        else:
            report.add(issue("file-unknown", file=name))
            del col.workbooks[name]


def resolve_foreign(scheme: Scheme, col: Collected, periods: list[str], report: Report) -> None:
    """Give foreign sheets without a period the period computed (when there is one); say how each was read."""
    for fd in [f for f in col.forms if f.meta.get("foreign")]:
        title = scheme.form(fd.form_id).title
        if not fd.period:
            if len(periods) != 1:
                report.add(issue("foreign-period-unknown", file=fd.file, sheet=fd.sheet, unit=fd.unit or "",
                                 form=title, periods="、".join(periods)))
                col.forms.remove(fd)
                continue
            fd.period = periods[0]
        report.add(issue("foreign-identified", file=fd.file, sheet=fd.sheet, unit=fd.unit or "", form=title,
                         unit_how=fd.meta["unit_how"], period=f"{fd.period}，{fd.meta['period_how']}"))


def is_inside(path: Path, folders: list[Path]) -> bool:
    p = path.resolve()
    for f in folders:
        fr = f.resolve()
        if p == fr or fr in p.parents:
            return True
    return False
